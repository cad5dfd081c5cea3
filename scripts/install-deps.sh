#!/bin/sh
# Installs every Debian package that building, running and testing vsw needs.
# Called by the README's commands and by .ci/run; safe to run again (apt is
# idempotent).  Needs root.  Set VSW_NO_LAB=1 to skip the kernel-lab packages.
# VSW_BENCH=1 adds the peers of bench/run (Open vSwitch from Debian), whose
# service is not started by the installation (bench/run runs its own).
set -eu

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: must run as root (apt-get install)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive

build="build-essential cmake pkg-config python3 autoconf automake libtool
       openvswitch-source libssl-dev libcap-ng-dev libunbound-dev
       libnl-3-dev libnl-route-3-dev libnl-genl-3-dev libnftnl-dev libmnl-dev
       libmicrohttpd-dev libcmocka-dev libxml2-dev linux-libc-dev"
run="iproute2 nftables ethtool procps kmod"
# prometheus for its promtool (the stats endpoint's /metrics is checked by
# it; its service is not started, see below); chromium and tesseract-ocr
# look at the status page as a person would; libvirt's daemon runs a real
# domain through vsw's hook (the test starts its own libvirtd); groff and
# man render the man pages; dpkg-dev, debhelper and lintian build and
# check the Debian package; tmux types TAB into an interactive bash;
# systemd's systemd-analyze checks the unit; openssl makes the clustered
# database's certificates (test-cluster-tls.sh).
test="iputils-ping iperf3 tcpdump jq curl psmisc strace clang libclang-rt-14-dev
      openssl
      python3-jsonschema prometheus chromium tesseract-ocr
      libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
      groff-base man-db dpkg-dev debhelper fakeroot lintian tmux systemd"
# The kernel lab (tests/lab): QEMU, the guest's busybox, initramfs tools.
# Its kernel packages are fetched by tests/lab/prepare.sh, pinned.
lab="qemu-system-x86 busybox-static cpio xz-utils gzip patch"
# bench/run's peers.
bench="openvswitch-switch"

pkgs="$build $run $test"
if [ "${VSW_NO_LAB:-0}" != 1 ]; then
    pkgs="$pkgs $lab"
fi
if [ "${VSW_BENCH:-0}" = 1 ]; then
    pkgs="$pkgs $bench"
fi

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done

if [ -n "$missing" ]; then
    echo "install-deps.sh: installing:$missing"
    apt-get update -qq
    # No package's service is started by the installation (Open vSwitch's
    # would take the host's default database and sockets).
    guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        guard=/usr/sbin/policy-rc.d
    fi
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    rc=$?
    [ -n "$guard" ] && rm -f "$guard"
    [ $rc -eq 0 ] || exit $rc
fi
echo "install-deps.sh: all packages present"
