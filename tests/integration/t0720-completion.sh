# t0720-completion: `rbx completion bash`, generated from the command table, loaded into
# a real bash: `complete -p rbx` names it, and the candidates for subcommands, options,
# --format choices, runbook names, node names from the inventory and run ids are right.
. "$TOP/tests/integration/lib.sh"

mkdir -p bin && ln -s "$RBX" bin/rbx # the script calls rbx by name, as a user's shell would
cat > inv.yaml <<'Y'
nodes:
  - match: 'gpu[01-03]'
    host: 127.0.0.1
Y
export RBX_INVENTORY="$WORK/inv.yaml"
"$RBX" run gpu-job-pending --node n44 --lab --yes >/dev/null 2>&1
run_id=$(ls "$RBX_STATE_DIR/runs" | sed 's/\.jsonl$//' | head -n 1)
"$RBX" completion bash > rbx.bash
# complete WORDS...: the candidates bash offers for the last word, sorted, on one line.
complete_words() {
	PATH="$WORK/bin:$PATH" bash -c '
		source ./rbx.bash
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_rbx
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"' _ "$@"
}
check "the script is valid bash" "bash -n rbx.bash"
check "complete -p rbx names its function" "bash -c 'source ./rbx.bash; complete -p rbx' | grep -qx 'complete -F _rbx rbx'"
check "subcommands: 'ro' gives roll" "[ \"\$(complete_words rbx ro)\" = roll ]"
check "subcommands: 'r' gives every r command" "[ \"\$(complete_words rbx r)\" = 'resume roll rules run runs' ]"
check "every command of the table is offered" "for c in \$('$RBX' --help 2>&1 | awk '/^  [a-z]/ {print \$1}'); do complete_words rbx '' | tr ' ' '\n' | grep -qx \$c || { echo missing \$c; exit 1; }; done"
check "options of run: '--no' gives --node" "[ \"\$(complete_words rbx run gpu-fault --no)\" = --node ]"
check "options of lint: '--f' gives --format" "[ \"\$(complete_words rbx lint --f)\" = --format ]"
check "--format choices of lint" "[ \"\$(complete_words rbx lint --format '')\" = 'github json sarif text' ]"
check "--format choices of graph" "[ \"\$(complete_words rbx graph gpu-fault --format '')\" = 'dot mermaid' ]"
check "runbook names for run: 'gpu-f' gives gpu-fault" "[ \"\$(complete_words rbx run gpu-f)\" = gpu-fault ]"
check "runbook names for plan: 'nccl' gives nccl-hang" "[ \"\$(complete_words rbx plan nccl)\" = nccl-hang ]"
check "node names from the inventory for --node" "[ \"\$(complete_words rbx run gpu-fault --node gpu)\" = 'gpu01 gpu02 gpu03' ]"
check "run ids for resume" "[ -n '$run_id' ] && [ \"\$(complete_words rbx resume 2026)\" = '$run_id' ] || [ \"\$(complete_words rbx resume '')\" = '$run_id' ]"
check "run ids for log" "complete_words rbx log '' | grep -qw '$run_id'"
check "files for --junit of test" "touch junit-out.xml && [ \"\$(complete_words rbx test --junit junit-o)\" = junit-out.xml ]"
"$RBX" completion zsh > rbx.zsh
check "zsh: the same, through bashcompinit" "head -n 2 rbx.zsh | grep -q 'bashcompinit' && grep -q '^complete -F _rbx rbx' rbx.zsh"
expect_exit "an unknown shell is refused" 2 completion fish
expect_exit "an unknown list is refused" 2 completion --list widgets
