#!/bin/bash
# vswctl's bash completion (ctl/vswctl.bash-completion), run as bash runs
# it (COMP_WORDS, COMP_CWORD, then the completion function): commands,
# global and command options, switch and port names from the running
# database, and table and column names for the generic commands; and TAB
# in an interactive bash in tmux.
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

note "in an interactive bash (tmux): a TAB completes"
command -v tmux >/dev/null || { fail "tmux is not installed"; exit 1; }
sess="vswcomp$$"
T_ON_EXIT+=("tmux kill-session -t $sess")
tmux new-session -d -s "$sess" -x 160 -y 40 \
    "ip netns exec $sw env PATH=$PATH VSW_STATE_DIR=$T_DIR/$sw/state \
     VSW_RUN_DIR=$T_DIR/$sw/run bash --norc --noprofile -i" \
    || die "tmux did not start"
sleep 0.5
tmux send-keys -t "$sess" ". $script" Enter
tmux send-keys -t "$sess" "vswctl del-sw" Tab
sleep 0.5
tmux send-keys -t "$sess" "be" Tab
completed() { tmux capture-pane -p -t "$sess" | grep -q "vswctl del-switch beta"; }
wait_for 5 completed \
    || fail "TAB did not complete: $(tmux capture-pane -p -t "$sess" | grep vswctl | tail -2)"
tmux kill-session -t "$sess"

exit $T_FAILED
