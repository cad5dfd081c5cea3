#!/bin/sh
# Installs every Debian package that building, running and testing vsw needs.
# Called by the README's commands and by .ci/run; safe to run again (apt is
# idempotent).  Needs root.  Set VSW_NO_LAB=1 to skip the kernel-lab packages.
set -eu

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: must run as root (apt-get install)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

build="build-essential cmake pkg-config python3 autoconf automake libtool
       openvswitch-source libssl-dev libcap-ng-dev libunbound-dev
       libnl-3-dev libnl-route-3-dev libnl-genl-3-dev libnftnl-dev libmnl-dev
       libmicrohttpd-dev libcmocka-dev linux-libc-dev"
run="iproute2 nftables ethtool procps kmod"
test="iputils-ping iperf3 tcpdump jq curl psmisc strace clang libclang-rt-14-dev"
# The kernel lab (tests/lab): QEMU, the guest's busybox, initramfs tools.
# Its kernel packages are fetched by tests/lab/prepare.sh, pinned.
lab="qemu-system-x86 busybox-static cpio xz-utils gzip"

pkgs="$build $run $test"
if [ "${VSW_NO_LAB:-0}" != 1 ]; then
    pkgs="$pkgs $lab"
fi

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done

if [ -n "$missing" ]; then
    echo "install-deps.sh: installing:$missing"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "install-deps.sh: all packages present"
