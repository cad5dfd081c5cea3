#!/bin/bash
# Kernel lab, step 1: the kernel and its modules.
#
# Fetches Debian's 6.1 kernel image, the matching headers and kbuild, and
# Debian's linux-source-6.1 of the same version (pinned below), all with
# apt, and builds netdevsim out of tree (Debian's kernel does not enable
# it), with vsw's patch netdevsim-flower.patch (a simulated flower offload).  Everything is cached in $VSW_LAB_CACHE (default /var/cache/vsw-lab)
# and reused while the versions stay the same.
#
# Prints "KVER=<uname -r of the guest>" and "KDIR=<cache dir of that
# version>" on stdout; progress goes to stderr.  Exits 77 when the package
# registry cannot supply a matching set (the lab is then skipped), 1 on any
# other failure.  Needs root (apt-get install of the headers).
set -euo pipefail

PIN_ABI=6.1.0-56            # uname -r is $PIN_ABI-amd64
PIN_VERSION=6.1.192-2       # Debian package version of that kernel

CACHE=${VSW_LAB_CACHE:-/var/cache/vsw-lab}
log() { echo "lab: $*" >&2; }
unavailable() { log "UNAVAILABLE: $*"; exit 77; }

available() {   # available PKG VERSION
    apt-cache show "$1=$2" >/dev/null 2>&1
}

set_ok() {      # set_ok ABI VERSION: the whole set can be had
    available "linux-image-$1-amd64-unsigned" "$2" \
        && available "linux-headers-$1-amd64" "$2" \
        && available linux-source-6.1 "$2"
}

abi=$PIN_ABI
ver=$PIN_VERSION
if ! set_ok "$abi" "$ver"; then
    [ -f /var/lib/apt/lists/lock ] || apt-get update -qq >&2 || true
fi
if ! set_ok "$abi" "$ver"; then
    # Fall back to the newest set the registry serves whose image, headers
    # and source versions all match.
    src_ver=$(apt-cache policy linux-source-6.1 \
              | sed -n 's/^ *Candidate: //p')
    [ -n "$src_ver" ] && [ "$src_ver" != "(none)" ] \
        || unavailable "the package registry has no linux-source-6.1"
    fallback=""
    for img in $(apt-cache search --names-only \
                 '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' \
                 | awk '{print $1}' | sort -V -r); do
        a=${img#linux-image-}; a=${a%-amd64-unsigned}
        if set_ok "$a" "$src_ver"; then
            fallback=$a
            break
        fi
    done
    [ -n "$fallback" ] || unavailable "no linux-image-6.1.0-*-amd64-unsigned matches linux-source-6.1 $src_ver"
    log "pinned kernel $PIN_ABI ($PIN_VERSION) is no longer served;" \
        "using the newest matching set: $fallback ($src_ver)"
    abi=$fallback
    ver=$src_ver
fi

kver="$abi-amd64"
kdir="$CACHE/$ver"
mkdir -p "$kdir/debs"

if [ ! -f "$kdir/vmlinuz" ] || [ ! -d "$kdir/root/lib/modules/$kver" ]; then
    log "fetching linux-image-$kver-unsigned $ver"
    (cd "$kdir/debs" && apt-get download -q \
        "linux-image-$kver-unsigned=$ver" >&2 2>/dev/null) \
        || unavailable "apt-get download linux-image-$kver-unsigned=$ver failed"
    rm -rf "$kdir/root"
    dpkg-deb -x "$kdir"/debs/linux-image-"$kver"-unsigned_*.deb "$kdir/root"
    depmod -b "$kdir/root" "$kver"     # The package leaves that to postinst.
    cp "$kdir/root/boot/vmlinuz-$kver" "$kdir/vmlinuz"
    rm -f "$kdir"/debs/linux-image-*.deb
fi

# netdevsim carries vsw's own patch (a simulated flower offload:
# tests/lab/netdevsim-flower.patch); a changed patch means a new build.
patch_file="$(cd "$(dirname "$0")" && pwd)/netdevsim-flower.patch"
patch_sum=$(sha256sum "$patch_file" | cut -d' ' -f1)
if [ ! -f "$kdir/netdevsim/netdevsim.ko" ] \
   || [ "$(cat "$kdir/netdevsim/patch.sha256" 2>/dev/null)" != "$patch_sum" ]
then
    if ! dpkg-query -W -f='${Version}' "linux-headers-$kver" 2>/dev/null \
            | grep -qx "$ver"; then
        log "installing linux-headers-$kver $ver (to build netdevsim)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "linux-headers-$kver=$ver" >&2 \
            || unavailable "apt-get install linux-headers-$kver=$ver failed"
    fi
    if [ ! -d "$kdir/netdevsim-src" ]; then
        log "fetching linux-source-6.1 $ver (for drivers/net/netdevsim)"
        (cd "$kdir/debs" && apt-get download -q "linux-source-6.1=$ver" \
            >&2 2>/dev/null) \
            || unavailable "apt-get download linux-source-6.1=$ver failed"
        tmp=$(mktemp -d "$kdir/src.XXXXXX")
        dpkg-deb --fsys-tarfile "$kdir"/debs/linux-source-6.1_*.deb \
            | tar -x -C "$tmp" ./usr/src/linux-source-6.1.tar.xz
        tar -xJf "$tmp/usr/src/linux-source-6.1.tar.xz" -C "$tmp" \
            linux-source-6.1/drivers/net/netdevsim
        mv "$tmp/linux-source-6.1/drivers/net/netdevsim" "$kdir/netdevsim-src"
        rm -rf "$tmp" "$kdir"/debs/linux-source-*.deb
    fi
    log "building netdevsim against linux-headers-$kver"
    rm -rf "$kdir/netdevsim.build"
    cp -r "$kdir/netdevsim-src" "$kdir/netdevsim.build"
    (cd "$kdir/netdevsim.build" && patch -s -p4 < "$patch_file") >&2 \
        || { log "tests/lab/netdevsim-flower.patch does not apply"; exit 1; }
    make -s -C "/usr/src/linux-headers-$kver" M="$kdir/netdevsim.build" \
        CONFIG_NETDEVSIM=m modules >&2
    mkdir -p "$kdir/netdevsim"
    cp "$kdir/netdevsim.build/netdevsim.ko" "$kdir/netdevsim/"
    echo "$patch_sum" > "$kdir/netdevsim/patch.sha256"
    rm -rf "$kdir/netdevsim.build"
fi

echo "KVER=$kver"
echo "KDIR=$kdir"
