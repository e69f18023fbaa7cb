# tests/tests.mk: the test suite and the benchmarks. Included by the
# top-level Makefile (targets deps, module, scheduler, unit-test and $(PYTHON)
# come from it and its other fragments).
#
#   make test    deps, build module + ASan module + scheduler + unit tests,
#                run the unit tests, the module's layer check, each fuzzer
#                for FUZZ_TEST_SECONDS (tests/fuzz/fuzz.mk), then the
#                end-to-end tests
#   make lint    the module's layers: no include or call circle among its
#                files, none over 600 lines (tests/lint/layers.py)
#   make e2e     the end-to-end tests only (pytest -q tests/e2e)
#   make portal-test   the pages' browser tests only
#                (tests/e2e/test_portal_*.py, test_petugas_pages.py,
#                test_layar.py: headless Chromium, axe-core; screenshots
#                under build/screenshots/)
#   make bench   run what tests/bench/ holds

SHELL  := /bin/bash
BUILD  ?= build

# The ASan/UBSan build of the module, beside (not over) the normal one.
ASAN_MODULE := $(BUILD)/ngx_http_dukcapil_module-address.so

.PHONY: test lint e2e portal-test module-asan bench

module-asan:
	$(MAKE) SANITIZE=address MODULE=$(ASAN_MODULE) module

test: deps
	$(MAKE) module scheduler unit-test lint
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_TEST_SECONDS)
	$(MAKE) module-asan
	$(MAKE) e2e DUKCAPIL_REQUIRE_ASAN=1 DUKCAPIL_ASAN_MODULE=$(CURDIR)/$(ASAN_MODULE)

lint:
	$(PYTHON) tests/lint/layers.py

# Two test files at a time (pytest-xdist, a file's tests on one worker, so a
# file's module-scoped servers stay its own): the tests mostly wait on
# their servers, so two share the 2 cores well. E2E_JOBS=0: one at a time.
E2E_JOBS ?= 2
E2E_XDIST = $(if $(filter-out 0 1,$(E2E_JOBS)),-n $(E2E_JOBS) --dist loadfile)

e2e:
	DUKCAPIL_REQUIRE_ASAN=$(DUKCAPIL_REQUIRE_ASAN) \
	DUKCAPIL_ASAN_MODULE=$(DUKCAPIL_ASAN_MODULE) \
	    $(PYTHON) -m pytest -q $(E2E_XDIST) tests/e2e

portal-test: $(AXE)
	$(MAKE) module scheduler
	$(PYTHON) -m pytest -q tests/e2e/test_portal_*.py \
	    tests/e2e/test_petugas_pages.py tests/e2e/test_layar.py

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
