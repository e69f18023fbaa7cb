# tests/fuzz/: libFuzzer harnesses (clang-16, with ASan and UBSan). Included
# by the top-level Makefile, which defines BUILD, DOMAIN_SRC and DOMAIN_HDR.
#
#   make fuzz                    each harness for FUZZ_SECONDS (60) seconds
#   make fuzz FUZZ_SECONDS=300 FUZZ_NAMES="config code"
#   make fuzz-build              the harnesses only, in build/fuzz/
#
# A harness reads its seeds from tests/fuzz/corpus/<name>/, which a run
# never writes: what it finds goes to build/fuzz/corpus-<name>/, kept from
# run to run, and a crash, leak or timeout to build/fuzz/artifacts-<name>/
# (keep that input in tests/fuzz/corpus/<name>/ once the bug is fixed).
# `make test` runs each for FUZZ_TEST_SECONDS so that a crash fails CI.

FUZZ_CC           := clang-16
FUZZ_SECONDS      ?= 60
FUZZ_TEST_SECONDS ?= 10
FUZZ_NAMES        ?= flat_json validators code book_answer courier_csv config \
                     token
FUZZ_DIR          := $(BUILD)/fuzz

FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -D_GNU_SOURCE \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer -Idomain -Ischeduler -Itests/fuzz

# the longest input each harness is given: a request body is at most 16 KB
# (a booking's is ~200 bytes), a call decides 32 bookings of a line each
FUZZ_MAX_LEN_flat_json   := 4096
FUZZ_MAX_LEN_validators  := 512
FUZZ_MAX_LEN_code        := 64
FUZZ_MAX_LEN_book_answer := 2048
FUZZ_MAX_LEN_courier_csv := 8192
FUZZ_MAX_LEN_config      := 4096
FUZZ_MAX_LEN_token       := 128

# what each harness links besides domain/
FUZZ_SOBJ      := $(FUZZ_DIR)/obj/scheduler
FUZZ_SCHED_HDR := scheduler/status.h scheduler/import_csv.h scheduler/config.h \
                  scheduler/config_secret.h scheduler/notify_text.h \
                  scheduler/net_address.h
$(FUZZ_DIR)/fuzz_flat_json:   FUZZ_LIBS := -ljansson
$(FUZZ_DIR)/fuzz_courier_csv: FUZZ_OBJ := $(FUZZ_SOBJ)/import_csv.o \
                                          $(FUZZ_SOBJ)/log.o
$(FUZZ_DIR)/fuzz_courier_csv: $(FUZZ_SOBJ)/import_csv.o $(FUZZ_SOBJ)/log.o
FUZZ_CONFIG_OBJ := $(FUZZ_SOBJ)/config.o $(FUZZ_SOBJ)/config_secret.o \
                   $(FUZZ_SOBJ)/net_address.o \
                   $(FUZZ_SOBJ)/notify_text.o $(FUZZ_SOBJ)/log.o
$(FUZZ_DIR)/fuzz_config:      FUZZ_OBJ := $(FUZZ_CONFIG_OBJ)
$(FUZZ_DIR)/fuzz_config:      FUZZ_LIBS := -lyaml -ljansson
$(FUZZ_DIR)/fuzz_config:      $(FUZZ_CONFIG_OBJ)

FUZZ_BIN        := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_DOMAIN_OBJ := $(DOMAIN_SRC:%.c=$(FUZZ_DIR)/obj/%.o)

# the code under test is built once with the harnesses' flags (coverage
# counters and sanitizers in it too), then linked into each harness
$(FUZZ_DIR)/obj/domain/%.o: domain/%.c $(DOMAIN_HDR) tests/fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/obj/scheduler/%.o: scheduler/%.c $(DOMAIN_HDR) $(FUZZ_SCHED_HDR) \
                               scheduler/log.h tests/fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_DOMAIN_OBJ) \
                    $(DOMAIN_HDR) $(FUZZ_SCHED_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_OBJ) $(FUZZ_DOMAIN_OBJ) \
	    $(FUZZ_LIBS) -lcrypto

.PHONY: fuzz fuzz-build

fuzz-build: $(FUZZ_BIN)

# Every harness runs even after one has failed; then the target fails.
fuzz: fuzz-build
	@rc=0; $(foreach n,$(FUZZ_NAMES),bash tests/fuzz/run.sh \
	    $(FUZZ_DIR)/fuzz_$(n) $(FUZZ_SECONDS) $(FUZZ_MAX_LEN_$(n)) || rc=1;) \
	exit $$rc
