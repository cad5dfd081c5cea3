#!/bin/bash
# Kernel lab, step 2: the guest's root file system, as an initramfs.
#
# usage: initramfs.sh KVER KDIR BUILD_DIR OUT
#
# Holds busybox, the kernel modules the lab tests need (with their
# dependencies, resolved by the host's kmod against the guest's module
# tree) plus netdevsim, iproute2 (ip, tc, bridge, devlink), nft, ethtool,
# kmod, the OVSDB tools and vsw's own build outputs with every shared
# library they use, the lab helpers, and the lab's init and tests.
set -euo pipefail

kver=$1 kdir=$2 build=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d /tmp/vsw-lab-root.XXXXXX)
trap 'rm -rf "$root"' EXIT

MODULES="virtio_pci virtio_net tun vhost_net bridge 8021q veth dummy
         cls_flower cls_u32 cls_matchall act_mirred act_gact act_vlan
         act_police sch_ingress sch_htb sch_tbf nf_tables nft_chain_nat
         nft_reject_inet nft_ct nft_limit nft_meta_bridge nft_dup_netdev psample"
TOOLS="ip tc bridge devlink nft ethtool kmod timeout"

mkdir -p "$root"/{bin,sbin,lib,lib64,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lab,var}
ln -s ../run "$root/var/run"

# busybox: the shell and the usual commands.
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done

# Dynamically linked programs, with their libraries.
copy_prog() {   # copy_prog PATH [DEST_DIR]
    local src=$1 dest=${2:-$root/usr/bin}
    cp -L "$src" "$dest/"
    ldd "$src" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
        mkdir -p "$root$(dirname "$lib")"
        [ -e "$root$lib" ] || cp -L "$lib" "$root$lib"
    done
}
for t in $TOOLS; do
    p=$(command -v "$t") || { echo "lab: $t not found" >&2; exit 1; }
    rm -f "$root/bin/$t"        # Prefer the real one over busybox's.
    copy_prog "$p"
done
for m in modprobe insmod rmmod lsmod depmod modinfo; do
    rm -f "$root/bin/$m"
    ln -s ../usr/bin/kmod "$root/sbin/$m"
done
# vsw and the OVSDB tools, and the lab helpers, from the build.
for p in vswitchd vswctl ovsdb-server ovsdb-tool ovsdb-client \
         lab-vhost lab-rss lab-flower; do
    [ -x "$build/bin/$p" ] && copy_prog "$build/bin/$p"
done

# Kernel modules: the list above and their dependencies, plus netdevsim.
mods=$root/lib/modules/$kver
mkdir -p "$mods/extra"
cp "$kdir/root/lib/modules/$kver"/modules.{order,builtin,builtin.modinfo} \
    "$mods/" 2>/dev/null || true
for m in $MODULES; do
    deps=$(modprobe -d "$kdir/root" -S "$kver" --show-depends "$m") \
        || { echo "lab: module $m not in $kver" >&2; exit 1; }
    echo "$deps" | awk '$1 == "insmod" {print $2}'
done | sort -u | while read -r ko; do
    rel=${ko#"$kdir/root"}
    mkdir -p "$root$(dirname "$rel")"
    cp "$ko" "$root$rel"
done
cp "$kdir/netdevsim/netdevsim.ko" "$mods/extra/"
depmod -b "$root" "$kver"

# The lab itself.
cp "$here/guest/init" "$root/init"
chmod +x "$root/init"
cp "$here/guest/lib.sh" "$root/lab/"
cp -r "$here/tests" "$here/bench" "$root/lab/"
printf "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"
: > "$root/etc/resolv.conf"

(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) \
    | gzip -1 > "$out"
