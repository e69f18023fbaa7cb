# domain/: the plain-C library shared by the nginx module and the scheduler,
# and its cmocka unit tests. Included by the top-level Makefile, which
# defines BUILD, CC, CFLAGS and SANITIZE_FLAGS.

DOMAIN_SRC := $(wildcard domain/*.c)
DOMAIN_HDR := $(wildcard domain/*.h)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))

# Each test links the domain sources directly rather than a library, so a
# sanitizer build of the tests instruments the code under test too.
$(BUILD)/unit/test_%: tests/unit/test_%.c $(DOMAIN_SRC) $(DOMAIN_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SANITIZE_FLAGS) -Idomain -o $@ $< $(DOMAIN_SRC) \
	    $(LDFLAGS) -lcmocka -lcrypto $(UNIT_LIBS)

# dk_flat_json is checked against the module's JSON parser
$(BUILD)/unit/test_flat_json: UNIT_LIBS := -ljansson

.PHONY: unit-test unit-valgrind

# Runs every test even after a failure, then fails if any did.
unit-test: $(UNIT_BIN)
	@rc=0; for t in $(UNIT_BIN); do $$t || rc=1; done; exit $$rc

unit-valgrind: $(UNIT_BIN)
	@rc=0; for t in $(UNIT_BIN); do \
	    valgrind -q --error-exitcode=99 --leak-check=full $$t || rc=1; \
	done; exit $$rc
