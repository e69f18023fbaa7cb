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
