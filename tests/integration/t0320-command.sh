# t0320-command: the guard through site commands from the inventory, templated and
# quoted like steps; the same invariants as on every other backend.
. "$TOP/tests/integration/lib.sh"

mkdir -p site
cat > site/guard.sh <<'SH'
#!/bin/sh
# A site's own guard: one file per node holds "CORDONED DRAINED REASON".
f="$(dirname "$0")/$2.state"
case "$1" in
cordon) echo "1 0 $3" > "$f" ;;
drain) read -r c d r < "$f"; echo "1 1 $r" > "$f" ;;
uncordon) echo "0 0" > "$f" ;;
state) [ -f "$f" ] && cat "$f" || echo "0 0" ;;
esac
echo "$1 $2 $3" >> "$(dirname "$0")/calls.log"
SH
chmod +x site/guard.sh
cat > inv.yaml <<I
defaults:
  transport: lab
  scheduler: command
  cordon_command: $WORK/site/guard.sh cordon {{node}} {{reason}}
  drain_command: $WORK/site/guard.sh drain {{node}}
  uncordon_command: $WORK/site/guard.sh uncordon {{node}}
  state_command: $WORK/site/guard.sh state {{node}}
nodes:
  - match: 'c[1-3]'
I
"$RBX" lab inject c1 persistence=off >/dev/null
expect_exit "a run through site commands (exit 0)" 0 run persistence-clock-bounce --node c1 --inventory inv.yaml
check "cordon, drain and uncordon ran, in order, with the run's reason" "grep -c . site/calls.log | grep -qx 4 && sed -n 2p site/calls.log | grep -q '^cordon c1 rbx:' && tail -n 1 site/calls.log | grep -q '^uncordon c1'"
check "the node is back" "[ \"\$(cat site/c1.state)\" = '0 0' ]"
"$RBX" lab inject c2 persistence=broken >/dev/null
expect_exit "a failed run (exit 1)" 1 run persistence-clock-bounce --node c2 --inventory inv.yaml
check "leaves the node cordoned, its reason naming the run" "grep -qE '^1 [01] rbx:[^ ]+ persistence-clock-bounce FAILED\$' site/c2.state"
echo "1 1 bios update" > site/c3.state
"$RBX" lab inject c3 persistence=off >/dev/null
expect_exit "someone else's cordon is not taken over (exit 3)" 3 run persistence-clock-bounce --node c3 --inventory inv.yaml
check "and their reason is shown" "contains \"\$OUT\" 'bios update'"
"$RBX" lab reset c1 >/dev/null
"$RBX" lab inject c1 persistence=off >/dev/null
expect_exit "a node whose reason has shell in it is still quoted" 0 plan persistence-clock-bounce --node 'c1' --inventory inv.yaml
check "the plan shows the commands, values beside them" "contains \"\$OUT\" 'guard.sh cordon \"\${RBX_NODE}\" \"\${RBX_REASON}\"  (with RBX_NODE=c1 RBX_REASON=rbx:{{run.id}} persistence-clock-bounce)'"

# A template inside quotes in a site command: the value arrives whole, whatever the quoting.
sed "s#^  cordon_command: .*#  cordon_command: echo \"reason={{reason}} on {{node}}\" > $WORK/site/quoted.txt; $WORK/site/guard.sh cordon {{node}} \"{{reason}}\"#" inv.yaml > inv-q.yaml
"$RBX" lab inject c3 persistence=off >/dev/null
echo "0 0" > site/c3.state
expect_exit "a run whose cordon command quotes its templates" 0 run persistence-clock-bounce --node c3 --inventory inv-q.yaml
check "got the reason and the node whole inside \"...\"" "grep -qE '^reason=rbx:[^ ]+ persistence-clock-bounce on c3\$' site/quoted.txt"
