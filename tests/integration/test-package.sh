#!/bin/bash
# The Debian package: `dpkg-buildpackage -b -us -uc` on a copy of this
# source (reusing the build's Open vSwitch library through VSW_OVS_BUILD,
# so that the test does not build it again), lintian without errors, and
# the package's contents: the daemon and tool, vsw's own OVSDB tools out of
# PATH, the schema, the systemd unit (enabled, Type=notify, before
# libvirtd), the libvirt hook in libvirt's hook directory, QEMU's scripts,
# man pages, bash completion, the tmpfiles and logrotate rules, and the
# maintainer scripts (stop on remove, the database kept; purge removes
# it).  The extracted programs run, the extracted man pages render.
#
# Then a real `dpkg -i`, `dpkg -r` and `dpkg -P` in a throw-away root: this
# machine's / seen through an overlay whose writes land in the test's
# directory, in a mount namespace of its own, chrooted into; there the
# installed vswitchd runs (in a network namespace of its own, with the
# OVSDB tools the package put in /usr/libexec/vsw) and vswctl drives it.
#
# What this cannot prove here: systemd starting the unit (this machine's
# PID 1 is not systemd: the unit is checked with systemd-analyze by
# test-systemd.sh, and the package's postinst only enables it here).
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
for t in dpkg-buildpackage dh lintian dpkg-deb; do
    command -v $t >/dev/null || skip "$t is not installed (dpkg-dev, debhelper, lintian)"
done
top=$(cd "$(dirname "$0")/../.." && pwd)
ovs="$VSW_BIN/../ovs/src/ovs"
if [ ! -f "$ovs/lib/.libs/libopenvswitch.a" ]; then
    # A build that reused another's Open vSwitch (VSW_OVS_BUILD).
    ovs=$(sed -n 's/^VSW_OVS_BUILD:PATH=//p' "$VSW_BIN/../CMakeCache.txt" 2>/dev/null)
fi
[ -f "$ovs/lib/.libs/libopenvswitch.a" ] || die "no built Open vSwitch for $VSW_BIN"

note "build the package"
src="$T_DIR/vsw"
mkdir -p "$src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard \
     | grep -zv '^build' | xargs -0 cp --parents -t "$src") \
    || die "cannot copy the source"
t=$(date +%s)
(cd "$src" && VSW_OVS_BUILD="$ovs" DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck" \
     dpkg-buildpackage -b -us -uc) > "$T_DIR/build.log" 2>&1 \
    || die "dpkg-buildpackage failed: $(tail -20 "$T_DIR/build.log")"
note "dpkg-buildpackage took $(( $(date +%s) - t )) s"
deb=$(ls "$T_DIR"/vsw_*.deb 2>/dev/null | head -1)
[ -f "$deb" ] || die "no vsw_*.deb made"
note "made $(ls "$T_DIR"/*.deb | xargs -n1 basename | tr '\n' ' ')"

note "lintian: no errors"
lintian --no-tag-display-limit "$deb" > "$T_DIR/lintian" 2>&1
grep '^E:' "$T_DIR/lintian" && fail "lintian errors: $(grep '^E:' "$T_DIR/lintian" | head -5)"
note "lintian's warnings: $(grep -c '^W:' "$T_DIR/lintian")"

note "contents"
contents=$(dpkg-deb -c "$deb" | awk '{print $6, $7, $8}')
for f in ./usr/sbin/vswitchd ./usr/sbin/vswctl ./usr/sbin/vsw-ifup \
         ./usr/sbin/vsw-ifdown ./usr/libexec/vsw/ovsdb-server \
         ./usr/libexec/vsw/ovsdb-tool ./usr/libexec/vsw/vsw-libvirt-hook \
         ./usr/share/vsw/vswitch.ovsschema ./usr/share/vsw/rbac-vswitchd.json \
         ./usr/libexec/vsw/cluster.sh \
         ./usr/share/man/man8/vswctl.8.gz ./usr/share/man/man8/vswitchd.8.gz \
         ./usr/share/man/man5/vsw.conf.db.5.gz \
         ./usr/share/bash-completion/completions/vswctl \
         ./usr/lib/tmpfiles.d/vsw.conf ./etc/logrotate.d/vsw \
         ./etc/vsw/hooks.d/ ./usr/share/doc/vsw/copyright; do
    grep -q "^$f\( \|$\)" <<< "$contents" || fail "the package lacks $f"
done
grep -q '^./etc/libvirt/hooks/qemu.d/vsw -> /usr/libexec/vsw/vsw-libvirt-hook' \
    <<< "$contents" || fail "the libvirt hook is not in libvirt's hook directory"
grep -q 'systemd/system/vswitchd.service' <<< "$contents" \
    || fail "the package lacks the systemd unit"
grep -q '^./usr/sbin/ovsdb' <<< "$contents" \
    && fail "OVSDB tools in PATH: they would clash with Open vSwitch's"

note "the package's control data"
dpkg-deb -e "$deb" "$T_DIR/control"
info=$(dpkg-deb -I "$deb")
assert_contains "depends on its libraries" "libmicrohttpd" "$info"
assert_contains "depends on nftables" "nftables" "$info"
for s in postinst prerm postrm; do
    [ -f "$T_DIR/control/$s" ] || { fail "no $s"; continue; }
    sh -n "$T_DIR/control/$s" || fail "$s does not parse"
done
assert_contains "postinst enables the unit" "deb-systemd-helper" \
    "$(cat "$T_DIR/control/postinst")"
assert_contains "postinst makes the directories" "systemd-tmpfiles" \
    "$(cat "$T_DIR/control/postinst")"
assert_contains "prerm stops vswitchd" "deb-systemd-invoke stop" \
    "$(cat "$T_DIR/control/prerm" 2>/dev/null)"
assert_contains "purge removes the database" "rm -rf /var/lib/vsw" \
    "$(cat "$T_DIR/control/postrm")"

note "the unpacked programs and pages"
root="$T_DIR/root"
dpkg-deb -x "$deb" "$root"
assert_contains "vswctl runs" "vswctl (vsw)" "$("$root/usr/sbin/vswctl" --version)"
assert_contains "vswitchd runs" "vsw virtual switch daemon" \
    "$("$root/usr/sbin/vswitchd" --help)"
unit=$(find "$root" -name vswitchd.service | head -1)
assert_contains "Type=notify" "Type=notify" "$(cat "$unit")"
assert_contains "ExecStart under /usr/sbin" "ExecStart=/usr/sbin/vswitchd" "$(cat "$unit")"
assert_contains "before libvirtd" "libvirtd.service" "$(grep ^Before= "$unit")"
out=$(MANWIDTH=80 man -l "$root/usr/share/man/man8/vswctl.8.gz" 2>&1 | head -3)
assert_contains "man vswctl" "VSWCTL(8)" "$out"
assert_contains "tmpfiles: /run/vsw" "/run/vsw" "$(cat "$root/usr/lib/tmpfiles.d/vsw.conf")"

note "dpkg -i, -r and -P in a throw-away root"
command -v unshare >/dev/null || { fail "unshare is missing"; exit 1; }
grep -qw overlay /proc/filesystems || { fail "no overlayfs"; exit 1; }
mkdir -p "$T_DIR/ovl/upper" "$T_DIR/ovl/work" "$T_DIR/ovl/root"
cp "$deb" "$T_DIR/ovl/vsw.deb"
cat > "$T_DIR/ovl/inside.sh" <<'EOF'
#!/bin/sh
# Run chrooted in the throw-away root; prints what it finds.
set -u
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
dpkg -i /tmp/vsw.deb >/tmp/dpkg-i.log 2>&1 && echo "installed" \
    || { echo "dpkg -i failed:"; tail -5 /tmp/dpkg-i.log; }
dpkg -s vsw | grep -q "Status: install ok installed" && echo "status ok"
vswctl --version
[ -L /etc/systemd/system/multi-user.target.wants/vswitchd.service ] \
    && echo "unit enabled"
[ -x "$(readlink -f /etc/libvirt/hooks/qemu.d/vsw)" ] && echo "libvirt hook linked"
stat -c 'var-lib-vsw %a' /var/lib/vsw
stat -c 'run-vsw %a' /run/vsw
MANWIDTH=80 man vswctl 2>/dev/null | head -1
bash -c '. /usr/share/bash-completion/completions/vswctl; complete -p vswctl'
# The installed daemon, in a network namespace of its own.
unshare --net sh -c '
    ip link set lo up
    vswitchd --state-dir /tmp/st --run-dir /tmp/rn --detach --pidfile \
        --log-file -vconsole:off || exit 1
    vswctl --run-dir /tmp/rn --state-dir /tmp/st --timeout 20 --wait \
        add-switch pkg0 --type private && echo "switch made by the installed daemon"
    vswctl --run-dir /tmp/rn --state-dir /tmp/st --format=json list-switches
    vswctl --run-dir /tmp/rn --state-dir /tmp/st appctl exit >/dev/null
    sleep 0.5'
echo db > /var/lib/vsw/conf.db
dpkg -r vsw >/tmp/dpkg-r.log 2>&1 && echo "removed"
[ -e /usr/sbin/vswitchd ] || echo "vswitchd gone"
[ -e /var/lib/vsw/conf.db ] && echo "database kept"
dpkg -P vsw >/tmp/dpkg-p.log 2>&1 && echo "purged"
[ -e /var/lib/vsw ] || echo "database purged"
EOF
chmod 755 "$T_DIR/ovl/inside.sh"
seen=$(unshare --mount --propagation private sh -c '
    o=$1
    mount -t overlay overlay \
        -o lowerdir=/,upperdir=$o/upper,workdir=$o/work $o/root || exit 1
    mount -t proc proc $o/root/proc
    mount --rbind /dev $o/root/dev
    mount --rbind /sys $o/root/sys
    mount -t tmpfs tmpfs $o/root/tmp
    mount -t tmpfs tmpfs $o/root/run
    cp $o/vsw.deb $o/inside.sh $o/root/tmp/
    chroot $o/root /tmp/inside.sh' - "$T_DIR/ovl" 2>&1)
note "inside: $(echo "$seen" | tr '\n' ';' | cut -c1-400)"
for want in installed "status ok" "vswctl (vsw)" "unit enabled" \
            "libvirt hook linked" "var-lib-vsw 750" "run-vsw 755" "VSWCTL(8)" \
            "complete -F _vswctl vswctl" "switch made by the installed daemon" \
            '"name":"pkg0"' removed "vswitchd gone" "database kept" purged \
            "database purged"; do
    assert_contains "throw-away root: $want" "$want" "$seen"
done
[ -e /usr/sbin/vswitchd ] && fail "the package reached the real root"

exit $T_FAILED
