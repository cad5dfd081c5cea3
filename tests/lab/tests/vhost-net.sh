# vhost-net: /dev/vhost-net opened and a vnet-hdr tap accepted as the
# backend of both queues (VHOST_SET_OWNER ... VHOST_NET_SET_BACKEND).
. /lab/lib.sh
load tun vhost_net
[ -c /dev/vhost-net ] || die "/dev/vhost-net missing after modprobe"
command -v lab-vhost >/dev/null || die "lab-vhost helper not in the image"
lab-vhost vhtap0 || fail "vhost-net refused the tap"
finish
