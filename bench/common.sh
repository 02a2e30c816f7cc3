# shellcheck shell=sh
# bench/common.sh - what the sh benches share, sourced with $top set: one command on a
# fresh clone (the Debian packages, the build), a work dir, and runbooks of N steps.
# bench_setup GROUP...  sets rbx (RBX_BIN, or the release build), work and RBX_STATE_DIR.

bench_setup() {
	rbx=${RBX_BIN:-$top/build/release/rbx} # RBX_BIN: another build to compare
	"$top/scripts/deps.sh" build "$@" && make -s -C "$top" rbx >/dev/null || exit 2
	[ -x "$rbx" ] || { echo "no rbx at $rbx" >&2; exit 2; }
	# State on the project's own disk, not tmpfs, so fdatasync costs what it costs.
	work=$(mktemp -d "$top/build/bench.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	export RBX_STATE_DIR="$work/state" NO_COLOR=1
}

# bench_runbook NAME STEPS CMD PROOF: $work/NAME.yaml, behind the guard, with STEPS
# read-only steps running CMD and PROOF as its verify and rollback (YAML scalars, as is).
bench_runbook() {
	{
		printf 'name: %s\ntitle: %s steps\nsubsystem: gpu-hardware\nsummary: Benchmark.\n' "$1" "$2"
		printf 'trigger: {summary: bench}\nguard: {cordon: true, drain: true}\nprocedure:\n'
		_i=1
		while [ "$_i" -le "$2" ]; do
			printf '  - {name: step %d, ssh: %s, mutates: false}\n' "$_i" "$3"
			_i=$((_i + 1))
		done
		printf 'verify:\n  - {name: proof, ssh: %s}\nrollback:\n  - {name: none, ssh: %s}\n' "$4" "$4"
		printf 'references: [bench]\n'
	} > "$work/$1.yaml"
}
