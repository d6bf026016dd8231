# tests/xen/pool/lab-power.sh: the pool lab's power switch, sourced by
# suite.sh on xen-a.  lab-power-off cuts xen-b's power (its QEMU killed,
# as IPMI would) and lab-power-on boots it again; when Xen's watchdog
# reboots xen-b, the lab notices and says why, and lab-power-on brings it
# back.  Failover checks build on exactly these.

power_state() { lab-power status xen-b | head -n 1 | cut -d' ' -f1; }
peer_boot() { ssh xen-b 'echo $XDC_LAB_BOOT'; }

check "lab-power status xen-b says up" eval '[ "$(power_state)" = up ]'
boot0=$(peer_boot)

t0=$(now)
check "lab-power-off xen-b returns once xen-b is off" lab-power-off xen-b
note "power cut in $(since "$t0") s"
check "xen-b's power state is off" eval '[ "$(power_state)" = off ]'
check "ssh xen-b fails once its power is cut" \
	eval '! ssh -o ConnectTimeout=3 xen-b true'

t0=$(now)
check "lab-power-on xen-b returns once xen-b's dom0 is up" lab-power-on xen-b
figure "xen-b powered on again, dom0 up: $(since "$t0") s"
check "xen-b answers over ssh in its next boot" \
	eval '[ "$(peer_boot)" = $((boot0 + 1)) ]'

# Xen's watchdog for dom0: armed with a 5 s timeout, and never petted
# again (closing /dev/watchdog without the magic 'V' leaves it running).
check "xen_wdt armed on xen-b" \
	ssh xen-b 'modprobe xen_wdt timeout=5 && echo 1 >/dev/watchdog'
t0=$(now)
check "the lab notices that Xen's watchdog rebooted xen-b" \
	eval 'lab-power wait xen-b off 90 &&
	    lab-power status xen-b | grep -q "Watchdog timer fired"'
note "xen-b off $(since "$t0") s after its watchdog was armed: $(lab-power status xen-b | tail -n 1)"
t0=$(now)
check "lab-power-on xen-b boots it again after the watchdog" lab-power-on xen-b
note "xen-b up again after $(since "$t0") s"
check "xen-b answers over ssh in the boot after that" \
	eval '[ "$(peer_boot)" = $((boot0 + 2)) ]'
check "xl list on xen-b works after its reboots and shows only Domain-0" \
	only_dom0 xen-b
