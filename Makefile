# xdc — a declarative data-centre reconciler for Xen.
#
# One plain Makefile. Sources are listed by role, in the order data flows:
# schema (YAML -> desired model) -> planner -> drivers -> reconciler (CLI).

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
DATADIR	?= $(PREFIX)/share
# bash-completion's directory, moved under DATADIR; its default without it.
BASHCOMPDIR ?= $(shell pkg-config --define-variable=datadir=$(DATADIR) \
	    --variable=completionsdir bash-completion 2>/dev/null || \
	    echo $(DATADIR)/bash-completion/completions)
BUILD	?= build
VERSION	 = 0.1.0

CC	?= cc
CSTD	 = -std=c11 -D_GNU_SOURCE
WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wcast-qual -Wformat=2
ifneq ($(CI),)
WARN	+= -Werror
endif
OPT	?= -O2 -g
CFLAGS	?= $(OPT)
XCFLAGS	 = $(CSTD) $(WARN) -I. -MMD -MP -DXDC_VERSION=\"$(VERSION)\"

# pkg-config modules, by the role that needs them; scripts/deps names the
# Debian package of each. make reads pkg-config once, when it parses this
# file, and on a fresh machine that is before any -dev package is there: so
# the targets a user types (all, demo, test, check, fuzz, bench, check-xen)
# first run `scripts/deps GROUP`, then build in a sub-make, which parses
# this file again and sees the packages just installed. Rules they reach
# only through that sub-make may use PKG_CFLAGS and PKG_LIBS as they are.
SCHEMA_PKGS	= yaml-0.1
PLANNER_PKGS	= jansson
DRIVER_PKGS	= jansson yajl xenlight xenstore xencontrol xentoollog libnl-route-3.0
POOL_PKGS	= libcurl jansson yajl
RECONCILER_PKGS	= libgit2 xlutil gpgme
TEST_PKGS	= cmocka
PKGS		= $(SCHEMA_PKGS) $(PLANNER_PKGS) $(DRIVER_PKGS) $(POOL_PKGS) \
		  $(RECONCILER_PKGS)
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	:= $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# The loop's git fetch runs in a thread of its own (reconciler/source_fetch.c).
THREAD_LIBS	 = -pthread

# What every layer uses: errors, arenas, diagnostics.
BASE_SRCS	= base/error.c base/arena.c base/strtab.c base/diag.c base/ev.c \
		  base/file.c
# The desired model and its loader.
SCHEMA_SRCS	= $(BASE_SRCS) schema/model.c \
		  schema/values.c schema/kinds.c schema/load.c schema/load_value.c \
		  schema/load_files.c schema/check.c \
		  schema/label_index.c schema/cache.c

# Desired model + observed state -> ordered plan.
PLANNER_SRCS	= planner/plan.c planner/diff.c planner/diffnet.c \
		  planner/place.c planner/place_nk.c planner/sla.c planner/pool.c \
		  planner/own.c planner/scope.c planner/output.c \
		  planner/output_text.c planner/query.c
# The driver interface and the drivers.
SIM_SRCS	= drivers/sim.c drivers/sim_pool.c drivers/sim_apply.c \
		  drivers/sim_file.c drivers/sim_file_events.c \
		  drivers/sim_file_write.c drivers/json_split.c
DRIVER_SRCS	= drivers/observed.c drivers/compose.c $(SIM_SRCS) drivers/xen.c \
		  drivers/xen_config.c drivers/xen_observe.c drivers/xen_log.c \
		  drivers/xen_domain.c drivers/xen_event.c drivers/xen_migrate.c \
		  drivers/xen_migrate_wire.c drivers/xen_migrate_recv.c \
		  drivers/wdt.c drivers/net.c drivers/net_apply.c \
		  drivers/net_link.c drivers/net_mark.c drivers/obs_json.c \
		  drivers/obs_read.c drivers/obs_read_dom.c \
		  drivers/obs_read_host.c
# The pool's shared view through etcd: the client, and the agent.
POOL_SRCS	= pool/etcd_json.c pool/etcd_json_decode.c pool/etcd_json_events.c \
		  pool/etcd.c pool/etcd_kv.c pool/etcd_range.c pool/etcd_watch.c \
		  pool/record.c \
		  pool/agent.c pool/agent_view.c pool/agent_cas.c \
		  pool/agent_fence.c
# The command line.
RECONCILER_SRCS	= reconciler/cli.c reconciler/cli_driver.c reconciler/exec.c \
		  reconciler/statedir.c reconciler/session.c \
		  reconciler/cmd_validate.c reconciler/cmd_plan.c \
		  reconciler/cmd_apply.c reconciler/cmd_show.c reconciler/cmd_sim.c \
		  reconciler/source.c reconciler/source_fetch.c \
		  reconciler/source_read.c reconciler/source_verify.c \
		  reconciler/verify.c reconciler/verify_tool.c \
		  reconciler/verify_gpg.c reconciler/verify_ssh.c \
		  reconciler/backoff.c \
		  reconciler/status.c reconciler/status_json.c \
		  reconciler/status_prom.c \
		  reconciler/log.c reconciler/watch.c reconciler/cycle.c \
		  reconciler/cycle_load.c reconciler/cycle_action.c \
		  reconciler/cycle_record.c \
		  reconciler/loop.c reconciler/member.c reconciler/cmd_run.c \
		  reconciler/cmd_status.c \
		  reconciler/import.c reconciler/import_xl.c reconciler/cmd_import.c \
		  reconciler/teardown.c reconciler/reap.c reconciler/saved_plan.c \
		  reconciler/cmd_destroy.c reconciler/cmd_gc.c reconciler/cmd_migrate.c
MAIN_SRCS	= reconciler/main.c

LIB_SRCS	= $(SCHEMA_SRCS) $(PLANNER_SRCS) $(DRIVER_SRCS) $(POOL_SRCS) \
		  $(RECONCILER_SRCS)
LIB_OBJS	= $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJS	= $(MAIN_SRCS:%.c=$(BUILD)/%.o)
XDC		= $(BUILD)/xdc
LIBXDC		= $(BUILD)/libxdc.a

# cmocka unit tests mirror the source tree: tests/schema/test_load.c tests
# schema/load.c.
UNIT_SRCS	= tests/base/test_ev.c tests/base/test_file.c \
		  tests/base/test_arena.c tests/base/test_strtab.c \
		  tests/schema/test_values.c tests/schema/test_load.c \
		  tests/schema/test_rules.c tests/schema/test_cache.c \
		  tests/schema/test_label_index.c \
		  tests/drivers/test_sim.c tests/drivers/test_sim_file.c \
		  tests/drivers/test_sim_observe.c \
		  tests/planner/test_diff.c tests/planner/test_place.c \
		  tests/planner/test_sla.c tests/planner/test_order.c \
		  tests/planner/test_property.c tests/planner/test_pool.c \
		  tests/planner/test_scope.c tests/planner/test_migrate.c \
		  tests/planner/test_query.c tests/planner/test_own.c \
		  tests/planner/test_ring.c \
		  tests/drivers/test_xen_config.c tests/drivers/test_obs_json.c \
		  tests/drivers/test_wdt.c tests/drivers/test_compose.c \
		  tests/drivers/test_json_split.c tests/drivers/test_obs_read.c \
		  tests/drivers/test_obs_pieces.c \
		  tests/reconciler/test_backoff.c tests/reconciler/test_source.c \
		  tests/reconciler/test_status.c tests/drivers/test_net.c \
		  tests/reconciler/test_import.c tests/pool/test_etcd_json.c \
		  tests/pool/test_etcd_json_events.c \
		  tests/pool/test_etcd_json_events_watch.c tests/pool/test_etcd.c \
		  tests/pool/test_etcd_range.c \
		  tests/pool/test_record.c \
		  tests/reconciler/test_verify.c \
		  tests/reconciler/test_statedir.c tests/reconciler/test_session.c \
		  tests/reconciler/test_exec.c tests/reconciler/test_saved_plan.c
UNIT_BINS	= $(UNIT_SRCS:%.c=$(BUILD)/%)

.PHONY: all deps test unit golden golden-update cli check check-net check-loop \
	check-verify check-ci \
	schema-json completion install-check check-crash check-longrun check-etcd \
	check-pool fuzz fuzz-run check-fresh \
	format install uninstall clean demo bench
all:
	@scripts/deps build
	@$(MAKE) --no-print-directory $(XDC)

deps:
	@scripts/deps build

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBXDC): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(XDC): $(MAIN_OBJS) $(LIBXDC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(THREAD_LIBS)

$(BUILD)/tests/%: tests/%.c $(LIBXDC)
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(PKG_CFLAGS) $(shell pkg-config --cflags $(TEST_PKGS)) \
	    $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBXDC) $(PKG_LIBS) $(THREAD_LIBS) \
	    $(shell pkg-config --libs $(TEST_PKGS))

# `make test`: every unit test, then every golden file.
test:
	@scripts/deps test
	@$(MAKE) --no-print-directory $(XDC) $(UNIT_BINS)
	@$(MAKE) --no-print-directory unit golden cli check-loop check-verify \
	    schema-json completion install-check check-etcd check-ci \
	    check-pool

# Behaviours of the command line, end to end on the simulated pool.
cli: $(XDC)
	@tests/cli/run XDC=$(XDC)

unit: $(UNIT_BINS)
	@tests/run-unit $(UNIT_BINS)

golden: $(XDC)
	@tests/golden XDC=$(XDC)

golden-update: $(XDC)
	@tests/golden --update XDC=$(XDC)

# docs/xdc.schema.json, the editors' schema, against xdc validate.
schema-json: $(XDC)
	@tests/schema-json/run XDC=$(XDC)

# contrib/xdc.bash-completion, sourced into bash.
completion: $(XDC)
	@tests/completion/run XDC=$(XDC)

# make install into a temporary DESTDIR: the installed files.
install-check: $(XDC)
	@tests/install/run

# xdc run: real inotify, a local git repository, signals, two agents.
check-loop: $(XDC)
	@tests/loop/run XDC=$(XDC)

# docs/ci.md's GitLab CI and GitHub Actions recipes, read from the file
# and run end to end against the simulated pool.
check-ci: $(XDC)
	@tests/ci/run XDC=$(XDC)

# Signed commits and tags (SPEC §10): keys made, commits signed with SSH
# and OpenPGP, plan and apply against each.
check-verify: $(XDC)
	@tests/verify/run XDC=$(XDC)

# The etcd client against a real etcd-server that tests/etcd/run starts
# (and stops) on loopback ports of its own.
ETCD_LIVE	= $(BUILD)/tests/etcd/test_live
check-etcd: $(ETCD_LIVE)
	@tests/etcd/run $(ETCD_LIVE)

# Three sim agents, each with its own pool file, on a real etcd-server
# that tests/pool/run starts: converge, one copy, a rollout under
# min_running, failover with fencing and the watchdog, an agent cut off,
# etcd restarted, a rejoin, a lease revoked behind a live agent's back
# (SPEC §8).
check-pool: $(XDC)
	@tests/pool/run XDC=$(XDC)

# SIGKILL an apply at random instants on a simulated pool of 200 VMs: the
# pool stays whole and a re-run converges (tests/crash/run).
check-crash: $(XDC)
	@tests/crash/run XDC=$(XDC)

# xdc run for 1000 cycles of changes and faults, under valgrind (no error,
# no leak) and plain (no RSS growth): tests/longrun/run. Not in `make
# test`: it takes minutes; `make check` runs 100 cycles.
CYCLES	?= 1000
check-longrun: $(XDC)
	@tests/longrun/run XDC=$(XDC) CYCLES=$(CYCLES)

# Networks on real bridges, as root, in a network namespace of its own
# (not in `make test`: it needs root; CI runs it).
check-net:
	@scripts/deps build net
	@$(MAKE) --no-print-directory $(XDC)
	@tests/net/run XDC=$(XDC)

# `make check`: the tests again under ASan/UBSan, then valgrind, then a short
# fuzz run of the loader.
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	    -fno-sanitize-recover=all
# CI runs `make test` as its first step: CHECK_DEPS= there skips running it
# a second time.
CHECK_DEPS ?= test
check: $(CHECK_DEPS)
	@scripts/deps check
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/san \
	    CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" \
	    $(BUILD)/san/xdc $(UNIT_SRCS:%.c=$(BUILD)/san/%) \
	    $(BUILD)/san/tests/etcd/test_live
	@ASAN_OPTIONS=detect_leaks=1 tests/run-unit $(UNIT_SRCS:%.c=$(BUILD)/san/%)
	@ASAN_OPTIONS=detect_leaks=1 tests/etcd/run $(BUILD)/san/tests/etcd/test_live
	@ASAN_OPTIONS=detect_leaks=1 tests/golden XDC=$(BUILD)/san/xdc
	@ASAN_OPTIONS=detect_leaks=1 tests/cli/run XDC=$(BUILD)/san/xdc
	@ASAN_OPTIONS=detect_leaks=1 tests/loop/run XDC=$(BUILD)/san/xdc IDLE=1
	@ASAN_OPTIONS=detect_leaks=1 tests/verify/run XDC=$(BUILD)/san/xdc
	@ASAN_OPTIONS=detect_leaks=1 tests/ci/run XDC=$(BUILD)/san/xdc
	@tests/run-unit --valgrind $(UNIT_BINS)
	@tests/golden --valgrind XDC=$(XDC)
	@$(MAKE) --no-print-directory check-crash
	@$(MAKE) --no-print-directory check-longrun CYCLES=100
	@$(MAKE) --no-print-directory fuzz-run FUZZ_SECONDS=$(FUZZ_SECONDS)

# libFuzzer targets, built with clang: the loader, the sim driver's pool
# file reader, the status file's reader and the etcd client's decoders,
# each with its seed corpus and dictionary under tests/fuzz.
FUZZ_NAMES	= load sim status etcd
FUZZ		= $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_SECONDS	?= 30
FUZZ_FLAGS	= $(CSTD) -I. -DXDC_VERSION=\"$(VERSION)\" -O1 -g \
		  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# $(call fuzz_link,PKGS): the target from its prerequisites.
fuzz_link	= clang $(FUZZ_FLAGS) $(shell pkg-config --cflags $(1)) \
		  -o $@ $^ $(shell pkg-config --libs $(1))
fuzz:
	@scripts/deps fuzz
	@$(MAKE) --no-print-directory $(FUZZ)
$(BUILD)/fuzz/fuzz_load: tests/fuzz/fuzz_load.c $(SCHEMA_SRCS)
	@mkdir -p $(@D)
	$(call fuzz_link,$(SCHEMA_PKGS))
$(BUILD)/fuzz/fuzz_sim: tests/fuzz/fuzz_sim.c $(SCHEMA_SRCS) \
    drivers/observed.c drivers/obs_json.c drivers/obs_read.c \
    drivers/obs_read_dom.c drivers/obs_read_host.c $(SIM_SRCS) pool/record.c
	@mkdir -p $(@D)
	$(call fuzz_link,$(SCHEMA_PKGS) jansson yajl)
$(BUILD)/fuzz/fuzz_status: tests/fuzz/fuzz_status.c $(BASE_SRCS) \
    reconciler/status.c reconciler/status_json.c reconciler/status_prom.c \
    reconciler/verify.c reconciler/verify_tool.c reconciler/verify_gpg.c \
    reconciler/verify_ssh.c
	@mkdir -p $(@D)
	$(call fuzz_link,jansson libgit2 gpgme)
$(BUILD)/fuzz/fuzz_etcd: tests/fuzz/fuzz_etcd.c $(BASE_SRCS) pool/etcd_json.c \
    pool/etcd_json_decode.c pool/etcd_json_events.c
	@mkdir -p $(@D)
	$(call fuzz_link,jansson yajl)
# Each target runs FUZZ_SECONDS over its seeds (every regression input
# among them) and what earlier runs found; the chatter goes to a log, the
# verdict and last lines are shown.
fuzz-run: fuzz
	@pass=0; fail=0; for t in $(FUZZ_NAMES); do \
	    seeds=tests/fuzz/corpus-$$t; dict=tests/fuzz/json.dict; \
	    if [ $$t = load ]; then \
	        seeds=tests/fuzz/corpus; dict=tests/fuzz/yaml.dict; fi; \
	    log=$(BUILD)/fuzz/$$t.log; mkdir -p $(BUILD)/fuzz/corpus-$$t; \
	    echo "fuzzing $$t for $(FUZZ_SECONDS) s (log: $$log)"; \
	    if $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	        -max_len=65536 -dict=$$dict \
	        -artifact_prefix=$(BUILD)/fuzz/$$t- \
	        $(BUILD)/fuzz/corpus-$$t $$seeds >$$log 2>&1; \
	    then tail -n 1 $$log; pass=$$((pass + 1)); \
	    else tail -n 60 $$log; fail=$$((fail + 1)); fi; \
	done; echo "fuzz: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

# Apply examples/lab to a simulated pool, then show a second apply is empty.
demo:
	@scripts/deps build
	@$(MAKE) --no-print-directory $(XDC)
	@scripts/demo

# README's two commands, as a newcomer runs them: on a fresh Debian 12 root
# (debootstrap, cached under /var/cache/xdc-fresh), with only
# build-essential, git and ca-certificates added, in a chroot, as root.
# Needs root; tests/fresh/run says what it does and how long each step took.
check-fresh:
	@scripts/deps fresh
	@tests/fresh/run

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

install: $(XDC)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSTEMDDIR) \
	    $(DESTDIR)$(DATADIR)/xdc $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(XDC) $(DESTDIR)$(BINDIR)/xdc
	install -m 0644 docs/man/xdc.1 $(DESTDIR)$(MANDIR)/man1/xdc.1
	install -m 0644 docs/man/xdc.yaml.5 $(DESTDIR)$(MANDIR)/man5/xdc.yaml.5
	install -m 0644 docs/xdc.schema.json $(DESTDIR)$(DATADIR)/xdc/xdc.schema.json
	install -m 0644 contrib/xdc.bash-completion $(DESTDIR)$(BASHCOMPDIR)/xdc
	sed 's|/usr/local/bin/xdc|$(BINDIR)/xdc|' contrib/xdc.service \
	    >$(DESTDIR)$(SYSTEMDDIR)/xdc.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/xdc.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/xdc $(DESTDIR)$(MANDIR)/man1/xdc.1 \
	    $(DESTDIR)$(MANDIR)/man5/xdc.yaml.5 $(DESTDIR)$(SYSTEMDDIR)/xdc.service \
	    $(DESTDIR)$(DATADIR)/xdc/xdc.schema.json $(DESTDIR)$(BASHCOMPDIR)/xdc
	@rmdir $(DESTDIR)$(DATADIR)/xdc 2>/dev/null || true

clean:
	rm -rf $(BUILD)

-include tests/xen-lab/lab.mk
-include bench/bench.mk
-include $(LIB_OBJS:.o=.d) $(MAIN_OBJS:.o=.d)
