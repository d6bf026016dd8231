# tests/xen-lab/lab.mk: the Xen lab's part of the build, included by the
# top-level Makefile.  See docs/xen-lab.md.
#
#   make check-xen   boot Xen 4.17 under QEMU and run tests/xen/suite.sh in
#                    dom0; the exit code is the suite's
#   make xen-shell   the same lab, with an interactive dom0 shell
#   make check-xen-pool
#                    two Xen hosts (xen-a, xen-b) and etcd, and the pool
#                    suite tests/xen/pool/suite.sh in xen-a's dom0
#   make xen-pool-shell
#                    the same pool, with a shell in xen-a's dom0
#   make xen-tests   only build the Xen test programs
#   make xen-show-speed [XDC_BEFORE=old/xdc]
#                    50 paused guests, and xdc show timed against xl list
#                    and xl list -l (tests/xen/show-speed.sh): figures only

# The Xen integration test programs, linked against the real toolstack
# libraries; they run only inside the lab's dom0.
XEN_TEST_PKGS	= xenlight xenstore xencontrol xentoollog
XEN_TEST_SRCS	= tests/xen/test_libxl_smoke.c tests/xen/test_xen_driver.c \
		  tests/xen/test_pool_migrate.c
XEN_TEST_BINS	= $(XEN_TEST_SRCS:%.c=$(BUILD)/%)
XEN_LAB_OUT	= $(BUILD)/xen-lab
# What tests/xen-lab/run needs to know: the binaries it puts on dom0's PATH
# and where the run's share and logs go.
XEN_LAB_ENV	= XDC=$(XDC) XDC_LAB_BINS="$(XEN_TEST_BINS)" \
		  XDC_LAB_OUT=$(XEN_LAB_OUT)

XEN_POOL_OUT	= $(BUILD)/xen-lab-pool
XEN_POOL_ENV	= XDC=$(XDC) XDC_LAB_BINS="$(XEN_TEST_BINS)" \
		  XDC_LAB_OUT=$(XEN_POOL_OUT)

.PHONY: check-xen xen-shell xen-tests check-xen-pool xen-pool-shell \
	xen-show-speed

xen-tests: $(XEN_TEST_BINS)

# More specific than the top Makefile's $(BUILD)/tests/% (cmocka and
# libxdc), so this rule wins for tests/xen/.
$(BUILD)/tests/xen/%: tests/xen/%.c
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -MMD -MP \
	    $(shell pkg-config --cflags $(XEN_TEST_PKGS)) $(CFLAGS) \
	    $(LDFLAGS) -o $@ $< $(shell pkg-config --libs $(XEN_TEST_PKGS))

# The xen driver's own test drives drivers/xen.c directly, and the pool's
# plans it with the planner, so they link libxdc like the unit tests do
# (an explicit rule beats the pattern).
$(BUILD)/tests/xen/test_xen_driver $(BUILD)/tests/xen/test_pool_migrate: \
    $(BUILD)/tests/xen/%: tests/xen/%.c $(LIBXDC)
	@mkdir -p $(@D)
	$(CC) $(XCFLAGS) $(PKG_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< \
	    $(LIBXDC) $(PKG_LIBS)

# Dependencies first (libxen-dev to build, QEMU and friends to boot), then
# the binaries, then the lab.
# The console shows one line per check; the whole log is on the share, and
# printed here when something failed.
XEN_SUITE_LOG	= $(XEN_LAB_OUT)/share/out/suite/suite.log
check-xen:
	@scripts/deps build lab
	@$(MAKE) --no-print-directory $(XDC) $(XEN_TEST_BINS)
	@$(XEN_LAB_ENV) tests/xen-lab/run tests/xen/suite.sh; rc=$$?; \
	if [ $$rc -ne 0 ] && [ -f $(XEN_SUITE_LOG) ]; then \
		echo "---- $(XEN_SUITE_LOG)"; cat $(XEN_SUITE_LOG); \
	fi; exit $$rc

# 50 guests of 96 MiB need more than the lab's default 3 GiB.
XEN_SHOW_MEM	= 6144
# XDC_BEFORE=path/to/another/xdc: timed too, as xdc-before, and its
# observation compared with this build's.
XEN_SHOW_BEFORE	= $(XEN_LAB_OUT)/xdc-before
xen-show-speed:
	@scripts/deps build lab
	@$(MAKE) --no-print-directory $(XDC)
	@rm -f $(XEN_SHOW_BEFORE); mkdir -p $(XEN_LAB_OUT)
	@if [ -n "$(XDC_BEFORE)" ]; then cp $(XDC_BEFORE) $(XEN_SHOW_BEFORE); fi
	@XDC=$(XDC) XDC_LAB_OUT=$(XEN_LAB_OUT) \
	    XDC_LAB_BINS="$(if $(XDC_BEFORE),$(XEN_SHOW_BEFORE))" \
	    XDC_LAB_MEM=$${XDC_LAB_MEM:-$(XEN_SHOW_MEM)} \
	    tests/xen-lab/run tests/xen/show-speed.sh

xen-shell:
	@scripts/deps build lab
	@$(MAKE) --no-print-directory $(XDC) $(XEN_TEST_BINS)
	@$(XEN_LAB_ENV) tests/xen-lab/run --shell

# The pool: the same images, two hosts.  The suite's whole log and its
# figures are on the share.
XEN_POOL_LOG	= $(XEN_POOL_OUT)/share/out/pool/suite.log
check-xen-pool:
	@scripts/deps build lab
	@$(MAKE) --no-print-directory $(XDC) $(XEN_TEST_BINS)
	@$(XEN_POOL_ENV) tests/xen-lab/run --pool tests/xen/pool/suite.sh; rc=$$?; \
	if [ $$rc -ne 0 ] && [ -f $(XEN_POOL_LOG) ]; then \
		echo "---- $(XEN_POOL_LOG)"; cat $(XEN_POOL_LOG); \
	fi; exit $$rc

xen-pool-shell:
	@scripts/deps build lab
	@$(MAKE) --no-print-directory $(XDC) $(XEN_TEST_BINS)
	@$(XEN_POOL_ENV) tests/xen-lab/run --pool --shell
