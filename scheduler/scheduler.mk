# dukcapil-scheduler: included by the top-level Makefile, which defines
# BUILD, CC, CFLAGS, LDFLAGS and DOMAIN_SRC.

SCHED_BIN  := $(BUILD)/dukcapil-scheduler
SCHED_SRC  := $(wildcard scheduler/*.c)
SCHED_HDR  := $(wildcard scheduler/*.h)
SCHED_LUA  := $(wildcard scheduler/lua/*.lua)
SCHED_GEN  := $(BUILD)/scheduler/dk_lua.h
SCHED_LIBS := -lpq -lhiredis -lyaml -ljansson -lsystemd -lcrypto -lcurl

.PHONY: scheduler

scheduler: $(SCHED_BIN)

# The Lua scripts stay files that can be read and tried with redis-cli
# --eval; they are built in as C strings so that nothing is read at run time.
$(SCHED_GEN): $(SCHED_LUA) scheduler/scheduler.mk
	@mkdir -p $(@D)
	@{ echo "/* generated from scheduler/lua by scheduler.mk: do not edit */"; \
	  for f in $(SCHED_LUA); do \
	    echo "static const char dk_lua_$$(basename $$f .lua)[] ="; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$$/\\n"/' $$f; \
	    echo "    ;"; \
	  done; } > $@.tmp && mv $@.tmp $@

$(SCHED_BIN): $(SCHED_SRC) $(SCHED_HDR) $(SCHED_GEN) $(DOMAIN_SRC) $(wildcard domain/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ischeduler -I$(BUILD)/scheduler \
	    -I$$(pg_config --includedir) \
	    -o $@ $(SCHED_SRC) $(DOMAIN_SRC) $(LDFLAGS) $(SCHED_LIBS)

# Unit tests of the scheduler's pure parts (tests/unit/): each links the
# files it tests, besides domain/, instead of the pattern rule of domain.mk.
SCHED_UNIT_CONFIG := scheduler/config.c scheduler/config_secret.c \
                     scheduler/net_address.c \
                     scheduler/notify_text.c scheduler/log.c

$(BUILD)/unit/test_notify_text: tests/unit/test_notify_text.c \
        scheduler/notify_text.c scheduler/notify_text.h $(DOMAIN_SRC) $(DOMAIN_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ischeduler -o $@ $< scheduler/notify_text.c \
	    $(DOMAIN_SRC) $(LDFLAGS) -lcmocka -lcrypto -ljansson

$(BUILD)/unit/test_notify_policy: tests/unit/test_notify_policy.c \
        scheduler/notify_policy.c scheduler/notify_policy.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ischeduler -o $@ $< scheduler/notify_policy.c \
	    $(LDFLAGS) -lcmocka

$(BUILD)/unit/test_config_notify: tests/unit/test_config_notify.c \
        $(SCHED_UNIT_CONFIG) $(SCHED_HDR) $(DOMAIN_SRC) $(DOMAIN_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ischeduler -o $@ $< $(SCHED_UNIT_CONFIG) \
	    $(DOMAIN_SRC) $(LDFLAGS) -lcmocka -lcrypto -ljansson -lyaml

$(BUILD)/unit/test_config_redis: tests/unit/test_config_redis.c \
        $(SCHED_UNIT_CONFIG) $(SCHED_HDR) $(DOMAIN_SRC) $(DOMAIN_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Ischeduler -o $@ $< $(SCHED_UNIT_CONFIG) \
	    $(DOMAIN_SRC) $(LDFLAGS) -lcmocka -lcrypto -ljansson -lyaml
