# `make bench`: how fast xdc validates, plans and applies a data centre,
# against libyaml's bare parse of the same files.
#
# Included by the top Makefile.  The tools are built with the same CC,
# CFLAGS and warnings as xdc itself, so the floor is compiled as well as the
# thing measured against it.  bench/run does the measuring (a few minutes,
# most of it callgrind and the 100,000-VM plans); see bench/README.md for
# what it prints and the variables it reads (BENCH_LARGE=0 and so on, which
# may be given on the make command line).

BENCH_DIR	= $(BUILD)/bench
YAMLFLOOR	= $(BENCH_DIR)/yamlfloor
BENCH_GEN	= $(BENCH_DIR)/gen
BENCH_PUBLISH	= $(BENCH_DIR)/publish
BENCH_YAML_CFLAGS := $(shell pkg-config --cflags yaml-0.1 2>/dev/null)
BENCH_YAML_LIBS	:= $(shell pkg-config --libs yaml-0.1 2>/dev/null)

.PHONY: bench-tools

bench-tools: $(YAMLFLOOR) $(BENCH_GEN)

$(YAMLFLOOR): bench/yamlfloor.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(BENCH_YAML_CFLAGS) $(CFLAGS) $(LDFLAGS) \
	    -o $@ $< $(BENCH_YAML_LIBS)

$(BENCH_GEN): bench/gen.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) $(CFLAGS) $(LDFLAGS) -o $@ $<

# To measure another binary, set BENCH_XDC, not XDC: overriding XDC would
# retarget the top Makefile's link rule at that path.  A stand-in for
# trying the bench out: make bench BENCH_XDC=$(BUILD)/bench/yamlfloor
BENCH_XDC	?= $(XDC)

# Packages first, then the binaries in a sub-make that sees their
# pkg-config flags (the top Makefile says why).
# bench/cycle's pool row also needs bench/publish, and etcd, curl and
# python3 (scripts/deps test); without them it skips that row.
bench:
	@scripts/deps bench
	@$(MAKE) --no-print-directory $(BENCH_XDC) $(YAMLFLOOR) $(BENCH_GEN) \
	    $(BENCH_PUBLISH)
	@XDC=$(BENCH_XDC) YAMLFLOOR=$(YAMLFLOOR) GEN=$(BENCH_GEN) \
	    BENCH_DIR=$(BENCH_DIR) bench/run
	@if [ "$${BENCH_CYCLE:-1}" != 0 ]; then \
	    XDC=$(BENCH_XDC) YAMLFLOOR=$(YAMLFLOOR) GEN=$(BENCH_GEN) \
	    PUBLISH=$(BENCH_PUBLISH) BENCH_DIR=$(BENCH_DIR) bench/cycle; fi

# `make bench-pool-view`: an agent's plan with 1,000 published hosts in
# etcd against the pool view with none (bench/pool-view; not in `make
# bench`: filling the pool of 100,000 VMs alone takes a minute or two).
# The records come from bench/publish, which writes them with the agent's
# own code, so it links libxdc. BENCH_POOL_VIEW passes arguments to the
# script: make bench-pool-view BENCH_POOL_VIEW="QUICK=1".
.PHONY: bench-pool-view

$(BENCH_PUBLISH): bench/publish.c $(LIBXDC)
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< \
	    $(LIBXDC) $(PKG_LIBS) $(THREAD_LIBS)

bench-pool-view:
	@scripts/deps bench test
	@$(MAKE) --no-print-directory $(BENCH_XDC) $(BENCH_GEN) $(BENCH_PUBLISH)
	@bench/pool-view XDC=$(BENCH_XDC) GEN=$(BENCH_GEN) \
	    PUBLISH=$(BENCH_PUBLISH) $(BENCH_POOL_VIEW)
