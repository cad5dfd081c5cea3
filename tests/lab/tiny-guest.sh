#!/bin/bash
# A tiny VM for the host-side tests that need a real guest behind a vNIC
# (QEMU's script=vsw-ifup, a domain started by libvirtd): the lab's kernel
# (prepare.sh) and an initramfs of busybox and the virtio-net drivers.
#
# usage: tiny-guest.sh OUT_DIR
#
# Writes OUT_DIR/vmlinuz and OUT_DIR/initrd.gz.  Exits 77 when the lab's
# kernel cannot be had (prepare.sh), 1 on other failures.
#
# The guest's init reads its orders from the kernel command line:
#   vsw.ip=ADDR/LEN   eth0's address;  vsw.ping=ADDR  whom to ping
#   vsw.ip2=ADDR/LEN  the address of a NIC that appears later (hot-plug)
#   vsw.then=poweroff|stay
# and writes "VSW-GUEST: ..." lines on its console (ttyS0): "ping ADDR ok"
# or "ping ADDR FAILED", and "eth1 ok" once a hot-plugged NIC answers.
set -euo pipefail

out=$1
here=$(cd "$(dirname "$0")" && pwd)
set +e
prep=$("$here/prepare.sh")
rc=$?
set -e
[ $rc -eq 77 ] && exit 77
[ $rc -ne 0 ] && { echo "tiny-guest: preparing the lab's kernel failed" >&2; exit 1; }
eval "$prep"        # KVER, KDIR

root=$(mktemp -d /tmp/vsw-tiny-guest.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,modules} "$out"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done

# virtio-net and what it needs, in load order.
for m in virtio_pci virtio_net; do
    modprobe -d "$KDIR/root" -S "$KVER" --show-depends "$m" \
        | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' > "$root/modules/order.host"
while read -r ko; do
    cp "$ko" "$root/modules/"
    basename "$ko" >> "$root/modules/order"
done < "$root/modules/order.host"
rm "$root/modules/order.host"

cat > "$root/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for ko in $(cat /modules/order); do
    insmod "/modules/$ko" 2>/dev/null
done
arg() { sed -n "s/.*vsw\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
say() { echo "VSW-GUEST: $*" > /dev/ttyS0; }
ip link set lo up
for i in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; sleep 0.1; done
ip addr add "$(arg ip)" dev eth0
ip link set eth0 up
peer=$(arg ping)
ok=no
for i in $(seq 60); do
    ping -c 1 -W 1 "$peer" >/dev/null 2>&1 && { ok=yes; break; }
done
[ $ok = yes ] && say "ping $peer ok" || say "ping $peer FAILED"
[ "$(arg then)" = poweroff ] && poweroff -f
ip2=$(arg ip2)
while :; do
    if [ -n "$ip2" ] && [ -e /sys/class/net/eth1 ]; then
        ip addr add "$ip2" dev eth1
        ip link set eth1 up
        say "eth1 up"
        ip2=""
    fi
    sleep 1
done
EOF
chmod 755 "$root/init"
cp "$KDIR/vmlinuz" "$out/vmlinuz"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) \
    | gzip -1 > "$out/initrd.gz"
