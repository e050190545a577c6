#!/bin/sh
# tlspolicyctl report --maillog and --tlsrpt from the command line: exit
# statuses (0; 1 a TLSRPT file refused; 2 a Postfix log unreadable; 64 no
# input), the refusal on standard error naming the file, and both sections
# in the text and in the one JSON object. Run by "make check".
set -u
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
ctl="$top_builddir/ctl/tlspolicyctl"
data="$srcdir/tests/data"
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
passed=0
failed=0

# run WANT_STATUS COMMAND...: the status; output in $out, errors in $err
run() {
	want=$1; shift
	"$@" >"$out" 2>"$err"
	got=$?
	if [ "$got" -eq "$want" ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: exit $got, want $want: $*"
		sed 's/^/    | /' "$out" "$err"
	fi
}

# has FILE TEXT: a line of FILE holds TEXT
has() {
	if grep -qF -- "$2" "$1"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: no \"$2\" in:"
		sed 's/^/    | /' "$1"
	fi
}

run 0 "$ctl" report --maillog "$data/maillog/postfix-tls.maillog.gz" \
	--tlsrpt "$data/tlsrpt/rfc8460-example.eml" "$data/audit-sample.jsonl"
has "$out" "tlspolicy audit report"
has "$out" "  sessions  6; 5 failed before the milter saw a message"
has "$out" "In words, beside the audit log:"
has "$out" "  127.0.0.2: no message in the audit log; 1 session failed: the client spoke plaintext to the implicit-TLS (wrapper-mode) port (1)"
has "$out" "Organisation Company-X (contact sts-reporting@company-x.example)"
has "$out" "    mx2.mail.company-y.example        203.0.113.56     starttls-not-supported          200  https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported"

run 1 "$ctl" report --json --tlsrpt "$data/tlsrpt" --maillog "$data/maillog/postfix-tls.maillog"
has "$err" "tlspolicyctl report: $data/tlsrpt/broken-count-string.json: policies[0].summary.total-failure-session-count: not a whole number"
has "$err" "tlspolicyctl report: $data/tlsrpt/oversized.json.gz: unpacks to more than 4194304 bytes: too big"
if python3 - "$out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
tr, ml = doc["tlsrpt"], doc["maillog"]
assert (tr["files"], tr["reports"], tr["duplicates"], tr["refused_count"]) == (5, 1, 2, 2), tr
assert [p["failed"] for p in tr["policies"]] == [303], tr["policies"]
assert (ml["sessions"], ml["failed"]) == (6, 5), ml
assert doc["records"] == 0
PY
then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: the JSON report"; fi

run 2 "$ctl" report --maillog "$data/maillog/no-such-file" "$data/audit-sample.jsonl"
has "$err" "tlspolicyctl report: $data/maillog/no-such-file: No such file or directory"
run 64 "$ctl" report --json
has "$err" "tlspolicyctl report: no audit log, --maillog or --tlsrpt given"
run 0 "$ctl" report --help
has "$out" "--tlsrpt PATH"

echo "test-report-logs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
