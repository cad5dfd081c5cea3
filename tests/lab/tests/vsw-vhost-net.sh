# vsw's vhost-net ports on a kernel with vhost_net: vswitchd makes a
# multiqueue vnet-hdr tap, and "vswctl vhost-exec" receives one tap queue
# fd and one /dev/vhost-net fd per queue over the fd socket (SCM_RIGHTS)
# and runs a program with them, which drives each queue through
# VHOST_SET_OWNER ... VHOST_NET_SET_BACKEND, as QEMU does with vhostfds=.
. /lab/lib.sh
load tun vhost_net bridge
export VSW_STATE_DIR=/tmp/vsw/state VSW_RUN_DIR=/tmp/vsw/run
vswitchd --detach --pidfile --log-file || die "vswitchd did not start"
vswctl --wait add-switch sw0 --type private || die "add-switch"
vswctl --wait add-port sw0 vh0 --kind vhost-net --queues 2 \
    || die "add-port vhost-net"
assert_eq "kind in use" vhost-net "$(vswctl get port vh0 status:kind)"
ip -d link show vh0

out=$(vswctl vhost-exec vh0 -- lab-vhost --fds {tapfds} {vhostfds} 2>&1)
echo "$out"
assert_contains "both queue pairs driven by vhost-net" \
    "2 queue(s) accepted" "$out"
held=$(vswctl vhost-exec vh0 -- sh -c \
       'ls /sys/class/net/vh0/queues | grep -c "^tx-"; echo {queues}')
assert_eq "queues attached while the fds are held, and {queues}" \
    "2 2" "$(echo $held)"

out=$(vswctl vhost-exec nosuch0 -- true 2>&1) && fail "unknown port accepted"
assert_contains "unknown port" 'no port named "nosuch0"' "$out"
vswctl appctl exit
finish
