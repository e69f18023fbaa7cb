# tests/tests.mk: dependencies, the test suite, the local stack, benchmarks.
# Included by the top-level Makefile (targets module, scheduler, unit-test come
# from it and its other fragments). `make -f tests/tests.mk print-deps` works
# alone, for .ci/run before make's other inputs are usable.
#
#   make deps    install the missing Debian packages (root), or print the line
#   make test    deps, build module + ASan module + scheduler + unit tests,
#                run the unit tests, then the end-to-end tests
#   make e2e     the end-to-end tests only (pytest -q tests/e2e)
#   make run     deps, build, start the local stack in var/ and print its URLs
#   make stop    stop the local stack (PostgreSQL fast, Redis with its AOF)
#   make bench   run what tests/bench/ holds

SHELL  := /bin/bash
BUILD  ?= build
PYTHON := /usr/bin/python3

# Everything the build, the tests and `make run` need, from Debian 12.
DEB_PACKAGES := \
    build-essential pkg-config \
    nginx nginx-dev libssl-dev libpcre2-dev zlib1g-dev \
    libhiredis-dev libpq-dev libjansson-dev libyaml-dev libsystemd-dev \
    libcmocka-dev \
    postgresql-15 postgresql-client-15 redis-server redis-tools \
    python3 python3-pytest python3-psycopg2 python3-redis \
    apache2-utils valgrind faketime wrk hyperfine

# The ASan/UBSan build of the module, beside (not over) the normal one.
ASAN_MODULE := $(BUILD)/ngx_http_dukcapil_module-address.so

DUKCAPIL_HTTP_PORT  ?= 8080
DUKCAPIL_REDIS_PORT ?= 6380
DUKCAPIL_PG_PORT    ?= 5433
DUKCAPIL_OPS_USER   ?= petugas
export DUKCAPIL_OPS_PASSWORD

.PHONY: deps print-deps test e2e module-asan run stop bench

print-deps:
	@echo $(DEB_PACKAGES)

deps:
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

module-asan:
	$(MAKE) SANITIZE=address MODULE=$(ASAN_MODULE) module

test: deps
	$(MAKE) module scheduler unit-test
	$(MAKE) module-asan
	$(MAKE) e2e DUKCAPIL_REQUIRE_ASAN=1 DUKCAPIL_ASAN_MODULE=$(CURDIR)/$(ASAN_MODULE)

e2e:
	DUKCAPIL_REQUIRE_ASAN=$(DUKCAPIL_REQUIRE_ASAN) \
	DUKCAPIL_ASAN_MODULE=$(DUKCAPIL_ASAN_MODULE) \
	    $(PYTHON) -m pytest -q tests/e2e

run: deps
	$(MAKE) module scheduler
	@$(PYTHON) tests/stack.py start var \
	    --http-port $(DUKCAPIL_HTTP_PORT) --redis-port $(DUKCAPIL_REDIS_PORT) \
	    --pg-port $(DUKCAPIL_PG_PORT) --ops-user $(DUKCAPIL_OPS_USER)

stop:
	@if [ -f var/stack.json ]; then $(PYTHON) tests/stack.py stop var; \
	 else echo "stop: no local stack in var/"; fi

bench: deps
	$(MAKE) module scheduler
	@found=0; \
	for f in tests/bench/*; do \
	    [ -f "$$f" ] || continue; \
	    case "$$f" in \
	    *.py) found=1; echo "== $$f"; $(PYTHON) "$$f" || exit 1 ;; \
	    *.sh) found=1; echo "== $$f"; bash "$$f" || exit 1 ;; \
	    *) if [ -x "$$f" ]; then found=1; echo "== $$f"; "$$f" || exit 1; fi ;; \
	    esac; \
	done; \
	[ $$found = 1 ] || echo "bench: tests/bench/ holds no benchmark yet"
