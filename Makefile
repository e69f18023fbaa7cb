# Layanan Online Disdukcapil — build, run and test.
#
#   make run     install what is missing, build, start the local stack
#   make test    the whole suite (unit + end-to-end)
#   make stop    stop the local stack
#   make deps    install the missing Debian packages (root), or print the line
#   make deb     the Debian packages (debian/) into build/deb/, lintian
#   make bench   benchmarks (not tests)
#   make fuzz    each libFuzzer harness for FUZZ_SECONDS (60) seconds
#   make SANITIZE=address ...   ASan/UBSan builds of the module and scheduler
#
# Here: the Debian packages, the build of the module, `make run`/`make stop`
# (the local stack of stack/, in var/). The scheduler's and the shared code's
# builds are in scheduler/scheduler.mk and domain/domain.mk, the tests and
# benchmarks in tests/tests.mk, the fuzzers in tests/fuzz/fuzz.mk.

SHELL      := /bin/bash
BUILD      := build
CC         ?= cc
SANITIZE   ?=
PYTHON     := /usr/bin/python3

# Everything the build, the tests and `make run` need, from Debian 12.
DEB_PACKAGES := \
    build-essential pkg-config \
    nginx nginx-dev libssl-dev libpcre2-dev zlib1g-dev \
    libhiredis-dev libpq-dev libjansson-dev libyaml-dev libsystemd-dev \
    libcurl4-openssl-dev libqrencode-dev \
    libcmocka-dev \
    postgresql-15 postgresql-client-15 redis-server redis-tools redis-sentinel \
    python3 python3-pytest python3-pytest-xdist python3-psycopg2 python3-redis \
    python3-jsonschema python3-yaml \
    apache2-utils openssl valgrind faketime wrk hyperfine \
    clang-16 libclang-rt-16-dev libfuzzer-16-dev \
    dpkg-dev debhelper fakeroot lintian \
    chromium chromium-driver python3-selenium zbar-tools
# npm (for axe-core) from Debian, unless one is installed already (a
# Node.js of nodesource carries its own, and conflicts with Debian's)
DEB_PACKAGES += $(if $(shell command -v npm),,npm)

CFLAGS_BASE := -std=gnu11 -Wall -Wextra -Werror -O2 -g -D_GNU_SOURCE
ifeq ($(SANITIZE),address)
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
                  -fno-omit-frame-pointer
endif
# EXTRA_*: debian/rules adds Debian's build flags (dpkg-buildflags: hardening)
EXTRA_CFLAGS  ?=
EXTRA_LDFLAGS ?=
CFLAGS  := $(CFLAGS_BASE) $(SANITIZE_FLAGS) $(EXTRA_CFLAGS) -Idomain
LDFLAGS := $(SANITIZE_FLAGS) $(EXTRA_LDFLAGS)

DOMAIN_SRC := $(wildcard domain/*.c)
DOMAIN_HDR := $(wildcard domain/*.h)

# --- the nginx module, built against Debian's nginx source tree ------------

NGX_SRC    := /usr/share/nginx/src
NGX_BUILD  := $(BUILD)/nginx$(if $(SANITIZE),-$(SANITIZE))
MODULE     := $(BUILD)/ngx_http_dukcapil_module$(if $(SANITIZE),-$(SANITIZE)).so
MODULE_SRC := $(wildcard ngx_dukcapil_module/*.c ngx_dukcapil_module/*.h \
                         ngx_dukcapil_module/lua/*.lua) $(DOMAIN_SRC) $(DOMAIN_HDR)

# nginx adds -W -Wall -Werror itself; -Wextra is what we add for our code.
NGX_CC_OPT := -g -O2 -fstack-protector-strong -Wformat \
              -Werror=format-security -fPIC -D_FORTIFY_SOURCE=2 -Wextra \
              -Wno-unused-parameter -Wno-missing-field-initializers \
              $(SANITIZE_FLAGS)
NGX_LD_OPT := -Wl,-z,relro -Wl,-z,now -fPIC $(SANITIZE_FLAGS)

.PHONY: all module scheduler clean deps deb-deps print-deps run stop deb

all: module scheduler

module: $(MODULE)

# the directories: a file added or removed changes the source list
$(NGX_BUILD)/objs/Makefile: config ngx_dukcapil_module/lua/*.lua ngx_dukcapil_module domain
	@test -f $(NGX_SRC)/conf_flags || { \
	    echo "nginx source missing: apt-get install nginx-dev"; exit 1; }
	rm -rf $(NGX_BUILD) && mkdir -p $(BUILD)
	cp -a $(NGX_SRC) $(NGX_BUILD)
	cd $(NGX_BUILD) && . ./conf_flags && ./configure "$${NGX_CONF_FLAGS[@]}" \
	    --with-cc-opt='$(NGX_CC_OPT)' --with-ld-opt='$(NGX_LD_OPT)' \
	    --add-dynamic-module=$(CURDIR) > configure.log 2>&1 \
	    || { tail -30 configure.log; exit 1; }

$(MODULE): $(NGX_BUILD)/objs/Makefile $(MODULE_SRC)
	$(MAKE) -s -C $(NGX_BUILD) -f objs/Makefile modules
	@# a new inode: a running nginx keeps its mapping of the old file
	cp $(NGX_BUILD)/objs/ngx_http_dukcapil_module.so $@.tmp && mv -f $@.tmp $@

clean:
	rm -rf $(BUILD)

# --- the Debian packages (debian/) ------------------------------------------

# dpkg-buildpackage writes its packages beside the source tree: the tree
# (tracked and new files, as git sees them) is copied to a folder of its own
# under /tmp, and the packages, .changes and .buildinfo come back to
# build/deb/. lintian must find no error and no warning (the overrides in
# debian/ say why each remaining tag is right).
DEB_OUT := $(BUILD)/deb

deb:
	@command -v dpkg-buildpackage >/dev/null || { \
	    echo "deb: dpkg-buildpackage missing: make deps"; exit 1; }
	@set -e; rm -rf $(DEB_OUT); mkdir -p $(DEB_OUT); \
	work=$$(mktemp -d /tmp/dukcapil-deb-XXXXXX); \
	trap 'rm -rf "$$work"' EXIT; \
	mkdir "$$work/dukcapil"; \
	if git rev-parse --git-dir >/dev/null 2>&1; then \
	    git ls-files -co --exclude-standard -z \
	        | tar --null --ignore-failed-read -T - -cf - 2>/dev/null \
	        | tar -xf - -C "$$work/dukcapil"; \
	else \
	    tar --exclude=./build --exclude=./var --exclude=./.git -cf - . \
	        | tar -xf - -C "$$work/dukcapil"; \
	fi; \
	echo "deb: dpkg-buildpackage -us -uc -b in $$work (log: $(DEB_OUT)/build.log)"; \
	( cd "$$work/dukcapil" && DEB_BUILD_OPTIONS="parallel=2 $$DEB_BUILD_OPTIONS" \
	        dpkg-buildpackage -us -uc -b ) \
	    > $(DEB_OUT)/build.log 2>&1 \
	    || { tail -40 $(DEB_OUT)/build.log; exit 1; }; \
	cp "$$work"/*.deb "$$work"/*.changes "$$work"/*.buildinfo $(DEB_OUT)/; \
	ls $(DEB_OUT)/*.deb; \
	if command -v lintian >/dev/null; then \
	    echo "deb: lintian"; \
	    lintian --fail-on error,warning --info --pedantic $(DEB_OUT)/*.changes; \
	else echo "deb: lintian missing (make deps): not checked"; fi

# --- what to install --------------------------------------------------------

print-deps:
	@echo $(DEB_PACKAGES)

# axe-core, injected by the portal's browser tests (tests/e2e/test_portal_*)
AXE_VERSION := 4.11.0
AXE         := $(BUILD)/npm/node_modules/axe-core/axe.min.js

deps: deb-deps $(AXE)

$(AXE):
	@command -v npm >/dev/null || { echo "npm missing: apt-get install npm"; exit 1; }
	npm install --no-audit --no-fund --silent --prefix $(BUILD)/npm \
	    axe-core@$(AXE_VERSION)

deb-deps:
	@installed=$$(dpkg-query -W -f='$${Package}\t$${db:Status-Abbrev}\n' \
	        $(DEB_PACKAGES) 2>/dev/null | awk -F'\t' '$$2 ~ /^ii/ {print $$1}'); \
	missing=; \
	for p in $(DEB_PACKAGES); do \
	    grep -qxF "$$p" <<<"$$installed" || missing="$$missing $$p"; \
	done; \
	[ -n "$$missing" ] || exit 0; \
	if [ "$$(id -u)" != 0 ]; then \
	    echo "Missing Debian packages. As root, run:"; \
	    echo "  apt-get install -y$$missing"; \
	    exit 1; \
	fi; \
	echo "deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y --no-install-recommends $$missing </dev/null \
	    || { apt-get update </dev/null && \
	         apt-get install -y --no-install-recommends $$missing </dev/null; }

# --- the local stack (stack/): PostgreSQL, Redis, nginx, scheduler in var/ ---

DUKCAPIL_HTTP_PORT  ?= 8080
DUKCAPIL_REDIS_PORT ?= 6380
DUKCAPIL_PG_PORT    ?= 5433
DUKCAPIL_OPS_USER   ?= petugas
export DUKCAPIL_OPS_PASSWORD

run: deps
	$(MAKE) module scheduler
	@$(PYTHON) -m stack start var \
	    --http-port $(DUKCAPIL_HTTP_PORT) --redis-port $(DUKCAPIL_REDIS_PORT) \
	    --pg-port $(DUKCAPIL_PG_PORT) --ops-user $(DUKCAPIL_OPS_USER)

stop:
	@if [ -f var/stack.json ]; then $(PYTHON) -m stack stop var; \
	 else echo "stop: no local stack in var/"; fi

-include domain/domain.mk
-include scheduler/scheduler.mk
-include tests/tests.mk
-include tests/fuzz/fuzz.mk

# the scheduler and the shared code follow .clang-format (14); the module
# follows nginx's own layout by hand
.PHONY: format-check
format-check:
	clang-format-14 --dry-run --Werror domain/*.c domain/*.h scheduler/*.c \
	    scheduler/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c \
	    tests/fuzz/*.h
