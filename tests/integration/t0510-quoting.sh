# t0510-quoting: values never become code. A lab run puts a hostile parameter and
# capture through each shell context a runbook may use; nothing runs but the steps.
. "$TOP/tests/integration/lib.sh"

cat > q.yaml <<'Y'
name: q
title: Quoting contexts
subsystem: provisioning
summary: Every context a value can land in.
trigger: {summary: test}
params:
  v: {description: a value}
guard: {none: read-only}
procedure:
  - name: capture the value back
    mutates: false
    ssh: printf '%s' {{params.v}}
    capture: c
  - name: here-document
    mutates: false
    ssh: |
      cat <<EOF > heredoc.out
      {{params.v}}
      EOF
  - name: here-document with tabs stripped, of a capture
    mutates: false
    ssh: "cat <<-EOF > heredoc2.out\n\t{{captures.c}}\n\tEOF"
  - name: case pattern inside $(...)
    mutates: false
    ssh: x="$(case a in a) printf '%s' {{params.v}};; esac)"; printf '%s' "$x" > case.out
  - name: after the case, inside "..."
    mutates: false
    ssh: x="$(case a in a) ;; esac)"; printf '%s' "{{params.v}}" > dq.out
  - name: single quotes
    mutates: false
    ssh: printf '%s' '{{captures.c}}' > sq.out
verify:
  - {name: done, ssh: 'true'}
references: [https://example.invalid]
Y
S="$RBX_STATE_DIR/lab/nodes/q1/scratch"
for v in '$(echo > PWNED)' '`echo > PWNED`' "'; echo > PWNED; '" '"; echo > PWNED; "' 'a
b$(echo > PWNED)'; do
	expect_exit "a run with a hostile value succeeds" 0 run "$WORK/q.yaml" --node q1 --lab --param "v=$v"
	check "no value ran as code" "[ ! -e '$S/PWNED' ]"
	printf '%s\n' "$v" > want.nl
	printf '%s' "$v" > want
	check "the here-document holds the value" "cmp '$S/heredoc.out' want.nl"
	check "the <<- here-document holds the capture" "cmp '$S/heredoc2.out' want.nl"
	check "the case branch printed the value" "cmp '$S/case.out' want"
	check "\"...\" after the case printed the value" "cmp '$S/dq.out' want"
	check "'...' printed the capture" "cmp '$S/sq.out' want"
done

# What rbx cannot write a reference into is refused at load time.
sed 's/cat <<EOF > heredoc.out/cat <<'"'"'EOF'"'"' > heredoc.out/' q.yaml > quoted.yaml
expect_exit "a template in a quoted here-document is refused (exit 2)" 2 lint "$WORK/quoted.yaml"
check "with its position and why" "contains \"\$OUT\$ERR\" 'quoted.yaml:[0-9]*:[0-9]*:.*quoted here-document'"
expect_exit "and rbx run refuses it too" 2 run "$WORK/quoted.yaml" --node q1 --lab --param v=x
