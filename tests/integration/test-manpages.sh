#!/bin/bash
# The man pages the build makes (vsw.conf.db(5) from schema/vswitch.md,
# vswctl(8) and vswitchd(8) from docs/man/): each renders without a warning
# (groff -ww) and with man -l; vsw.conf.db(5) is what the schema reference
# says now (made again and compared) and names every table and column of
# the schema; vswctl(8) names every command and global option vswctl has,
# vswitchd(8) every option vswitchd has.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
command -v groff >/dev/null || skip "groff is not installed"
command -v man >/dev/null || skip "man is not installed"
top=$(cd "$(dirname "$0")/../.." && pwd)
man="$VSW_BIN/../man"
[ -d "$man" ] || die "no man pages in $man (the build makes them)"

# text PAGE: the page as a person reads it, one word per line.
text() { MANWIDTH=200 man -l "$man/$1" 2>/dev/null | tr -s ' \t' '\n\n'; }

for page in vsw.conf.db.5 vswctl.8 vswitchd.8 vsw-ifup.8; do
    out=$(groff -ww -z -t -man "$man/$page" 2>&1)
    [ -z "$out" ] || fail "groff -ww warns about $page: $(echo "$out" | head -3)"
    [ "$(text "$page" | wc -l)" -gt 50 ] || fail "man -l $page shows next to nothing"
done

note "vsw.conf.db(5) is the schema reference, whole"
python3 "$top/scripts/md2man.py" "$top/schema/vswitch.md" "$T_DIR/fresh.5" \
    vsw.conf.db 5 "vsw's configuration database"
cmp -s "$T_DIR/fresh.5" "$man/vsw.conf.db.5" \
    || fail "vsw.conf.db.5 is older than schema/vswitch.md (rebuild)"
words=$(text vsw.conf.db.5)
vswctl --tables | while read -r table columns; do
    for w in "$table" $columns; do
        grep -qix -- "$w\|$w[.,;:)]*" <<< "$words" \
            || echo "vsw.conf.db(5) does not name $table's $w"
    done
done > "$T_DIR/missing"
[ -s "$T_DIR/missing" ] && fail "$(head -5 "$T_DIR/missing")"

note "vswctl(8) names every command and option"
words=$(text vswctl.8 | sed 's/[].,;:)[(]*$//; s/^[[(]*//; s/=.*//')
for c in $(vswctl --commands | cut -d, -f2) appctl vhost-exec; do
    grep -qx -- "$c" <<< "$words" || fail "vswctl(8) does not name command $c"
done
for o in $(vswctl --options | grep -- '^--' | sed 's/=.*//'); do
    grep -qx -- "$o" <<< "$words" || fail "vswctl(8) does not name option $o"
done
assert_contains "exit codes" "usage error" "$(text vswctl.8 | tr '\n' ' ')"

note "vswitchd(8) names every option"
words=$(text vswitchd.8 | sed 's/[].,;:)[(]*$//; s/^[[(`]*//; s/=.*//')
for o in $(ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" "$VSW_BIN/vswitchd" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    grep -qx -- "$o" <<< "$words" || fail "vswitchd(8) does not name option $o"
done

exit $T_FAILED
