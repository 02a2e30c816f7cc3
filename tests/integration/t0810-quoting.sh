# t0810-quoting: the quoting proof. Random values (bytes 1-255, half of them the bytes
# shells treat specially) go through rbx's shell templates in every quoting context the
# loader accepts (bare, in a word, '...', "...", $(...), nested, here-documents) and
# through a real shell, dash and bash; the bytes printed must be the value's, each one
# (tests/tools/quoteproof.c). The contexts rbx cannot quote are refused when the
# runbook loads. The long run (100,000 values) is in docs/reliability.md.
. "$TOP/tests/integration/lib.sh"

n=${QUOTE_VALUES:-400}
for sh in /bin/sh /bin/bash; do
	"$TOP/$BUILD/tests/quoteproof" "$sh" "$n" "$$" > "proof.$(basename $sh)" 2>&1
	rc=$?
	check "$sh ($(readlink -f $sh)): $n values, every context, printed back byte for byte (exit $rc)" \
		"[ $rc -eq 0 ] && grep -q '^$sh: $n values x [0-9]* contexts = [0-9]* renderings printed back byte for byte\$' 'proof.$(basename $sh)' || { head -n 20 'proof.$(basename $sh)'; false; }"
done
check "(it has contexts to prove: at least ten)" "grep -q 'x 1[0-9] contexts' proof.sh"

# The contexts it refuses, refused when the runbook loads: file:line:col, exit 2.
mkdir -p refused
refuse() { # NAME REASON, the step's command on stdin
	{
		sed -n '1,/^procedure:/p' "$TOP/runbooks/gpu-fault.yaml"
		printf '  - name: the context\n    ssh: |\n'
		sed 's/^/      /'
		sed -n '/^procedure:/,$p' "$TOP/runbooks/gpu-fault.yaml" | sed 1d
	} > refused/gpu-fault.yaml
	"$RBX" lint refused/gpu-fault.yaml > lint.out 2>&1
	rc=$?
	check "$1 is refused at load time (exit $rc)" "[ $rc -eq 2 ] && grep -q 'refused/gpu-fault.yaml:[0-9]*:[0-9]*: error: .*$2' lint.out || { cat lint.out; false; }"
}
# (Each command from a file, not a pipe: a function in a pipeline runs in a subshell,
# and its checks would not count.)
echo 'echo ${X:-{{node}}}' > c1
refuse 'a template in ${...}' 'inside \${...} cannot be quoted safely' < c1
echo 'echo $(( {{node}} + 1 ))' > c2
refuse 'a template in $((...))' 'arithmetic evaluates values' < c2
echo 'echo `echo {{node}}`' > c3
refuse 'a template in `...`' 'cannot be quoted reliably' < c3
printf "cat <<'EOF'\n{{node}}\nEOF\n" > c4
refuse "a template in a quoted here-document" 'would not be expanded' < c4
