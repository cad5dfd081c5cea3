#!/bin/bash
# vswctl's bash completion (ctl/vswctl.bash-completion), run as bash runs
# it (COMP_WORDS, COMP_CWORD, then the completion function): commands,
# global and command options, switch and port names from the running
# database, and table and column names for the generic commands.
. "$(dirname "$0")/lib.sh" || { echo "FAIL: cannot load lib.sh"; exit 1; }
script="$(dirname "$0")/../../ctl/vswctl.bash-completion"

sw=$(new_netns sw)
start_vswitchd "$sw"
vswctl_in "$sw" --wait add-switch alpha --type private \
    -- add-switch beta --type private || die "add-switch"
vswctl_in "$sw" --wait add-port alpha port1 -- add-port beta port2 \
    || die "add-port"

# complete WORD...: what completing the last word offers (sorted, one line).
complete_() {
    in_ns "$sw" bash -c '
        . "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
        _vswctl
        printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort -u | tr "\n" " " | sed "s/ $//"' \
        - "$script" "$@"
}

assert_contains "commands" "add-port add-switch" "$(complete_ vswctl add-)"
assert_eq "a command's options" "--mac= --may-exist --mtu=" \
    "$(complete_ vswctl add-port alpha p9 --m)"
assert_contains "global options" "--timeout=" "$(complete_ vswctl --ti)"
assert_eq "switch names" "alpha" "$(complete_ vswctl del-switch al)"
assert_eq "switch names, for list-ports" "alpha beta" \
    "$(complete_ vswctl list-ports '')"
assert_eq "port names" "port1 port2" "$(complete_ vswctl del-port port)"
assert_eq "del-port's optional switch, or the port" "alpha" \
    "$(complete_ vswctl del-port al)"
assert_eq "no name made up for a new port" "" \
    "$(complete_ vswctl add-port alpha '')"
assert_eq "tables" "Port" "$(complete_ vswctl list Po)"
assert_eq "records of a table" "port1 port2" "$(complete_ vswctl get port '')"
assert_contains "columns of a table" "adopted" \
    "$(complete_ vswctl get port port1 ad)"
assert_eq "after --, a new command" "show" \
    "$(complete_ vswctl list-ports -- sho)"

exit $T_FAILED
