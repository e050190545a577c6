#!/bin/sh
# End-to-end test of the tlspolicyctl command line: exit codes, the check
# summary, every error of a bad file, and explain's verdicts and replies.
# Run by "make check" (srcdir and top_builddir come from the Makefile).
set -u
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
ctl="$top_builddir/ctl/tlspolicyctl"
good="$srcdir/tests/data/good.policy"
bad="$srcdir/tests/data/bad.policy"
out=$(mktemp)
trap 'rm -rf "$out" "$out.policy" "$out.d" "$out.d.status"' EXIT
passed=0
failed=0

# expect, check_that
. "$srcdir/tests/expect-lib.sh"

expect 0 "OK: 19 rules (sender 7, rcpt 4, client address 5, client name 2); default level prefer" -- \
	"$ctl" check -f "$good"
expect 2 "$bad:3: sender:bank.example: unknown level \"requir\"" \
	"$bad:4: sender:.bank.example: min_version: unknown TLS version \"TLSv1.4\"" \
	"$bad:5: client:192.0.2.1/24: address has bits set after the prefix length" \
	"$bad:6: sender:new.example: exempt is allowed only on client: and rcpt:" \
	"$bad:7: rcpt:legal.example.org: attributes are not allowed on skip rules" \
	"$bad: 5 errors; policy refused" -- \
	"$ctl" check -f "$bad"
expect 0 "OK: 16 rules" ", dest 1)" -- "$ctl" check -f "$srcdir/contrib/policy.example"
expect 2 "cannot open: No such file or directory" -- "$ctl" check -f /nonexistent/policy
expect 1 "530 5.7.0 Must issue a STARTTLS command first: TLS required for mail from bank.example" \
	"good.policy:5  sender:bank.example require min_version=TLSv1.2" \
	"milter does   reject" -- \
	"$ctl" explain -f "$good" --client 203.0.113.5 --sender a@bank.example --rcpt b@example.com
expect 0 "result        pass" "TLSv1.3 via implicit" -- \
	"$ctl" explain -f "$good" --client 203.0.113.5 --sender a@bank.example --rcpt b@example.com \
	--tls-version TLSv1.3 --cipher TLS_AES_256_GCM_SHA384 --bits 256 --implicit
expect 1 "FAIL  256-bit cipher required for mail to legal.example.org, got 128-bit" \
	"SMTP reply    550 5.7.1 TLSv1.2 required for mail from bank.example, got TLSv1.1" \
	"result        exempt" -- \
	"$ctl" explain -f "$good" --client 203.0.113.5 --sender a@bank.example \
	--rcpt b@legal.example.org --rcpt postmaster@example.org \
	--tls-version TLSv1.1 --bits 128
# The milter's recipient_delimiter: postmaster-x is postmaster's mailbox
# where "-" delimits extensions, and not where the default "+" does.
expect 0 "result        exempt" "decided by    " -- \
	"$ctl" explain -f "$good" --client 203.0.113.5 --sender a@bank.example \
	--rcpt postmaster-x@example.org --recipient-delimiter=-
expect 1 "result        fail" -- \
	"$ctl" explain -f "$good" --client 203.0.113.5 --sender a@bank.example \
	--rcpt postmaster-x@example.org
expect 0 "accept (testing mode: would have rejected)" "(not sent) 530 5.7.0" -- \
	"$ctl" explain -f "$good" --client 203.0.113.5 --sender a@bank.example --rcpt b@c.example --dry-run
expect 0 "result        pass" "verify ok, subject mx.partner.example" -- \
	"$ctl" explain -f "$good" --client 192.0.2.9 --sender a@x.example --rcpt b@c.example \
	--tls-version TLSv1.3 --cert-subject mx.partner.example --cert-issuer "Partner CA"
expect 1 "got an unverified one" -- \
	"$ctl" explain -f "$good" --client 192.0.2.9 --sender a@x.example --rcpt b@c.example \
	--tls-version TLSv1.3 --cert-subject mx.partner.example --verify FAIL
expect 1 "client address is not an IP address" "tempfail" -- \
	"$ctl" explain -f "$good" --client bogus --sender a@x.example --rcpt b@c.example
expect 2 "policy refused" -- "$ctl" explain -f "$bad" --client 192.0.2.1 --sender a@x.example --rcpt b@c.example
# Address forms the MTAs accept and deliver to the mailbox inside: the
# rules of that mailbox apply; what no MTA reads as an address tempfails.
expect 1 "good.policy:7  rcpt:legal.example.org require" "TLS required for mail to legal.example.org" -- \
	"$ctl" explain -f "$good" --client 203.0.113.5 --sender a@x.example \
	--rcpt '<"CEO"@legal.example.org(boss)>'
expect 1 "good.policy:5  sender:bank.example require" -- \
	"$ctl" explain -f "$good" --client 203.0.113.5 \
	--sender '<@r1.example,@r2.example:a(x)@bank.example>' --rcpt b@c.example
expect 1 "recipient address cannot be read" "tempfail" -- \
	"$ctl" explain -f "$good" --client 203.0.113.5 --sender a@x.example --rcpt '<b@legal.example.org'
expect 1 "sender address cannot be read" "tempfail" -- \
	"$ctl" explain -f "$good" --client 203.0.113.5 --sender '<a@bank.example>junk' --rcpt b@c.example
# ... but only where a rule could have matched it.
printf 'sender:bank.example require\ndefault prefer\n' >"$out.policy"
expect 0 "result        unmet-prefer" -- \
	"$ctl" explain -f "$out.policy" --client 203.0.113.5 --sender a@x.example --rcpt '<b@c.example;>'
rm -f "$out.policy"
# The outbound half (dest:, starttls=off) and include: check's warnings
# and notes, explain --dest.
mkdir -p "$out.d/imported"
cat >"$out.d/main.policy" <<'EOF'
dest:bank.example     require  min_version=TLSv1.2 verify=yes
dest:.bank.example    require  verify=yes cert_subject=*.bank.example
dest:partner.example  require  verify=dane
client:198.51.100.7   skip     starttls=off
client:192.0.2.0/24   skip     starttls=off
rcpt:legal.example    require
default               require
include imported/*.policy
EOF
printf '%s\n' 'dest:bank.example prefer' \
	'dest:new.example require verify=yes cert_subject=mx1.new.example,*.MX.new.example mode=testing' \
	>"$out.d/imported/sts.policy"
expect 0 "$out.d/imported/sts.policy:1: note: dest:bank.example is shadowed by $out.d/main.policy:1" \
	"$out.d/main.policy:4: warning: client:198.51.100.7 has starttls=off, but $out.d/main.policy:6 (rcpt:legal.example require) would still require TLS" \
	"$out.d/main.policy:5: warning: client:192.0.2.0/24 has starttls=off, but $out.d/main.policy:6" \
	"OK: 8 rules (sender 0, rcpt 1, client address 2, client name 0, dest 4); default level require; 2 files" -- \
	"$ctl" check -f "$out.d/main.policy"
# The default rule never applies where a client rule matched: no warning.
if grep -q "main.policy:7" "$out"; then
	echo "FAIL: check warns of the default rule"; failed=$((failed + 1)); sed 's/^/    | /' "$out"
else
	passed=$((passed + 1))
fi
expect 0 "Destination www.Bank.example" "main.policy:2  dest:.bank.example require cert_subject=\"*.bank.example\"" \
	"applies as    a subdomain of bank.example" "a server certificate that verifies" \
	"Destination bank.example" "main.policy:1  dest:bank.example require min_version=TLSv1.2 verify=yes" \
	"TLS version TLSv1.2 or later" \
	"sts.policy:2  dest:new.example require cert_subject=\"mx1.new.example,*.mx.new.example\" mode=testing" \
	"naming mx1.new.example" "or *.mx.new.example (any one label in place of *)" "mode          testing: not enforced" \
	"DANE only (RFC 7672)" "rule          none: the MTA's own default for outbound TLS applies" -- \
	"$ctl" explain -f "$out.d/main.policy" --dest www.Bank.example --dest bank.example \
	--dest new.example --dest partner.example --dest elsewhere.example
# Inbound, a starttls=off client rule is a skip rule that says what it is;
# the default rule does not apply where a client rule matched.
expect 0 "main.policy:4  client:198.51.100.7 skip starttls=off" "result        skip" -- \
	"$ctl" explain -f "$out.d/main.policy" --client 198.51.100.7 --sender a@x.example --rcpt b@bank.example
expect 64 "not a domain name: empty label" -- "$ctl" explain -f "$out.d/main.policy" --dest a..example
expect 64 "--dest goes alone" -- "$ctl" explain -f "$out.d/main.policy" --dest a.example --client 192.0.2.1
# An error in an included file: its FILE:LINE, and the whole set is refused.
printf 'dest:x.example exempt\n' >"$out.d/imported/bad.policy"
expect 2 "$out.d/imported/bad.policy:1: dest:x.example: exempt is not allowed on dest: rules" \
	"policy refused" -- "$ctl" check -f "$out.d/main.policy"
rm -rf "$out.d"
expect 0 "Usage: tlspolicyctl COMMAND" "Exit status:" \
	"  check     validate a policy file" "  status    print the running daemon's counters" -- \
	"$ctl" --help
# Every command has its own manual: synopsis, options, exit status.
for cmd in check explain report status apply; do
	expect 0 "Usage: tlspolicyctl $cmd" "Options:" "-h, --help" "Exit status:" -- "$ctl" $cmd --help
done
expect 0 "--tls-version V" "--dry-run" "1 at least one refused" "--dest DOMAIN" -- "$ctl" explain --help
expect 0 "-f, --policy POLICY" "2 it has errors" -- "$ctl" check --help
expect 0 "--status FILE" -- "$ctl" status --help
expect 64 "missing command" -- "$ctl"
expect 64 "unknown command: frobnicate" -- "$ctl" frobnicate
expect 64 "explain needs --client, --sender and at least one --rcpt" -- "$ctl" explain -f "$good" --client 192.0.2.1
expect 64 "TLS options need --tls-version" -- \
	"$ctl" explain -f "$good" --client 192.0.2.1 --sender a@b.example --rcpt c@d.example --bits 128
expect 64 "--bits takes a number" -- \
	"$ctl" explain -f "$good" --client 192.0.2.1 --sender a@b.example --rcpt c@d.example --tls-version TLSv1.2 --bits lots
expect 64 "tlspolicyctl check: unknown option: --sender" "Try 'tlspolicyctl check --help'." -- \
	"$ctl" check -f "$good" --sender a@b.example
expect 64 "tlspolicyctl check: option needs a value: -f" -- "$ctl" check -f
expect 64 "tlspolicyctl status: unexpected argument: extra" -- "$ctl" status extra
expect 64 "tlspolicyctl explain: unknown option: --status" -- \
	"$ctl" explain --status x --client 192.0.2.1 --sender a@b.example --rcpt c@d.example
expect 2 "is tlspolicy-milter running" -- "$ctl" status --status /nonexistent/status
# status --prometheus: the metric samples of the status file as Prometheus
# text (tests/test-daemon.sh compares it with the daemon's metrics file).
expect 0 "--prometheus" "metrics_file" -- "$ctl" status --help
printf 'pid=1\npolicy_generation=4\ntlspolicy_up=1\ntlspolicy_policy_generation=4\ntlspolicy_sessions_total{tls="starttls"}=7\n' >"$out.d.status"
expect 0 'tlspolicy_up 1' 'tlspolicy_policy_generation 4' 'tlspolicy_sessions_total{tls="starttls"} 7' \
	'tlspolicy_sessions_total{tls="none"} 0' '# TYPE tlspolicy_sessions_total counter' -- \
	"$ctl" status --status "$out.d.status" --prometheus
expect 0 "policy_generation=4" -- "$ctl" status --status "$out.d.status"
check_no_samples() { ! "$ctl" status --status "$out.d.status" | grep -q tlspolicy_; }
if check_no_samples; then passed=$((passed + 1)); else echo "FAIL: status shows the metric samples"; failed=$((failed + 1)); fi
printf 'pid=1\ntlspolicy_up=1\ntlspolicy_messages_total{outcome="accepted"}=12x\n' >"$out.d.status"
expect 2 "$out.d.status:3: tlspolicy_messages_total{outcome=\"accepted\"}: not a number" -- \
	"$ctl" status --status "$out.d.status" --prometheus
printf 'pid=1\npolicy_generation=4\n' >"$out.d.status"
expect 2 "has no metrics" -- "$ctl" status --status "$out.d.status" --prometheus

# An audit log whose name ends in a lone UTF-8 lead byte (0xC2): the report
# names it escaped, never the raw byte, and reads nothing past the end of the
# name (the ASan build in CI stops at the first byte read past it).
mkdir "$out.d"
c2=$(printf 'audit\302')
cp "$srcdir/tests/data/audit-sample.jsonl" "$out.d/$c2"
expect 0 "  files     $out.d/audit" "  records   13" -- "$ctl" report "$out.d/$c2"
if LC_ALL=C grep -q "$(printf '\302')" "$out"; then
	echo "FAIL: the raw byte 0xC2 reached the terminal"; failed=$((failed + 1))
else
	passed=$((passed + 1))
fi

# report --html: the page to standard output or whole into a file; never
# with --json; an unwritable place is a write error (2) and leaves nothing.
sample="$srcdir/tests/data/audit-sample.jsonl"
expect 0 "<!DOCTYPE html>" "<b data-k=\"messages\">13</b>" "</html>" -- "$ctl" report --html - "$sample"
expect 0 "1 line skipped" -- "$ctl" report --html "$out.d/page.html" "$sample"
expect 0 "<b data-k=\"messages\">13</b>" -- cat "$out.d/page.html"
expect 64 "--json and --html exclude each other" -- "$ctl" report --json --html x "$sample"
expect 64 "option needs a value: --html" -- "$ctl" report --html
expect 2 "$out.d/none/page.html: No such file or directory" -- \
	"$ctl" report --html "$out.d/none/page.html" "$sample"
if [ "$(ls "$out.d" | grep -c page)" -ne 1 ]; then
	echo "FAIL: report --html left a temporary file"; failed=$((failed + 1))
else
	passed=$((passed + 1))
fi

echo "tlspolicyctl: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
