#!/bin/sh
# tlspolicyctl import from files: MTA-STS policy bodies (postfix-mta-sts-
# resolver's good and broken examples, tests/data/mta-sts/) and STARTTLS
# Everywhere lists (the real, expired one and a synthetic unexpired one,
# tests/data/starttls-everywhere/): the rules written, the FILE:LINE errors,
# all-or-nothing output, and that check accepts what import writes.
# No network: --fetch is tested against servers in tests/dns/t-dns.sh.
# Run by "make check" (srcdir and top_builddir come from the Makefile).
set -u
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
ctl="$top_builddir/ctl/tlspolicyctl"
sts="$srcdir/tests/data/mta-sts"
stle="$srcdir/tests/data/starttls-everywhere"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out="$work/out"
passed=0
failed=0

# expect, check_that
. "$srcdir/tests/expect-lib.sh"

# ---- MTA-STS bodies -------------------------------------------------------
expect 0 "dest:good.loc require verify=yes cert_subject=mail.loc" \
	"# good.loc: MTA-STS policy from $sts/good.txt, mode enforce, max_age 86400: expires " \
	"dest:testing.loc require verify=yes cert_subject=mail.loc mode=testing" \
	"# none.loc: mode none: no rule" -- \
	"$ctl" import --mta-sts good.loc="$sts/good.txt" Testing.LOC.="$sts/testing.txt" \
	none.loc="$sts/valid-none.txt"
check_that "mode none gives no dest: rule" sh -c "! grep -q '^dest:none.loc' '$out'"
check_that "three domains, two rules" test "$(grep -c '^dest:' "$out")" -eq 2

# Every broken body refused with FILE:LINE, nothing written.
expect 1 "$sts/bad-policy1.txt:1: not a \"key: value\" line" \
	"$sts/bad-policy2.txt: no \"mx:\" line" \
	"$sts/bad-policy5.txt:4: max_age: not a number" \
	"$sts/bad-policy6.txt:4: max_age: 31557601 is more than 31557600 seconds" \
	"$sts/bad-policy7.txt: no \"mode:\" line" \
	"$sts/bad-policy8.txt:2: mode: not enforce, testing or none" \
	"tlspolicyctl import: refused; nothing written" -- \
	"$ctl" import --mta-sts good.loc="$sts/good.txt" b1.loc="$sts/bad-policy1.txt" \
	b2.loc="$sts/bad-policy2.txt" b5.loc="$sts/bad-policy5.txt" b6.loc="$sts/bad-policy6.txt" \
	b7.loc="$sts/bad-policy7.txt" b8.loc="$sts/bad-policy8.txt"
check_that "a refused import writes no rule" sh -c "! grep -q '^dest:' '$out'"

# -o: written whole; a refused run leaves the previous file as it was.
expect 0 -- "$ctl" import -o "$work/imported.policy" --mta-sts good.loc="$sts/good.txt"
check_that "-o wrote the rule" grep -q '^dest:good.loc require' "$work/imported.policy"
cp "$work/imported.policy" "$work/before"
expect 1 "refused; nothing written" -- \
	"$ctl" import -o "$work/imported.policy" --mta-sts b7.loc="$sts/bad-policy7.txt"
check_that "a refused run keeps the old file" cmp -s "$work/before" "$work/imported.policy"
check_that "no temporary file left" test "$(ls "$work" | grep -c 'imported.policy.')" -eq 0

# A domain twice, not a domain, not DOMAIN=FILE, a missing file.
expect 1 "GOOD.loc: imported twice (one rule per domain)" -- \
	"$ctl" import --mta-sts good.loc="$sts/good.txt" GOOD.loc="$sts/testing.txt"
expect 1 "a b: character not allowed in a domain name" -- \
	"$ctl" import --mta-sts "a b=$sts/good.txt"
expect 1 "good.loc: not DOMAIN=FILE" -- "$ctl" import --mta-sts good.loc
expect 1 "/nonexistent: No such file or directory" -- "$ctl" import --mta-sts x.loc=/nonexistent
# A file name with a line end stays in its comment line: no rule from it.
nl="$work/a
dest:evil.example skip"
cp "$sts/good.txt" "$nl"
expect 0 "# good.loc: MTA-STS policy from $work/a?dest:evil.example skip, mode enforce" -- \
	"$ctl" import --mta-sts "good.loc=$nl"
check_that "no rule from a file name" sh -c "! grep -q '^dest:evil' '$out'"
# A body over 64 KiB is refused before it is parsed.
head -c 70000 /dev/zero | tr '\0' '#' >"$work/big.txt"
expect 1 "$work/big.txt: more than 65536 bytes: refused" -- \
	"$ctl" import --mta-sts big.loc="$work/big.txt"

# ---- STARTTLS Everywhere ---------------------------------------------------
# The real list: expired in 2020, so every rule is testing, with a warning.
expect 0 "policy.json: warning: the list expired on 2020-06-03T17:25:12Z" \
	"dest:comcast.net require verify=yes cert_subject=mx1.comcast.net,mx2.comcast.net mode=testing" \
	"dest:eff.org require verify=yes cert_subject=*.eff.org mode=testing" \
	"dest:aol.com require verify=yes cert_subject=*.am0.yahoodns.net,mta5.am0.yahoodns.net" \
	"mode enforce: the list expired 2020-06-03T17:25:12Z: testing only" -- \
	"$ctl" import --starttls-everywhere "$stle/policy.json"
check_that "926 domains, 926 rules" test "$(grep -c '^dest:' "$out")" -eq 926
check_that "no enforced rule from an expired list" \
	test "$(grep '^dest:' "$out" | grep -vc ' mode=testing$')" -eq 0
# The synthetic unexpired list: enforce, testing, an alias, ".x" as "*.x".
expect 0 "dest:enforce.example require verify=yes cert_subject=mx1.enforce.example,*.mail.enforce.example" \
	"dest:testing.example require verify=yes cert_subject=mx.testing.example mode=testing" \
	"dest:aliased.example require verify=yes cert_subject=*.mx.hosted.example,mx.hosted.example" \
	"mode enforce, alias hosted: the list expires 2100-01-01T00:00:00Z" -- \
	"$ctl" import --starttls-everywhere "$stle/unexpired.json"
check_that "an unexpired list gives no warning" sh -c "! grep -q warning '$out'"
check_that "enforce rules stay enforced" sh -c "grep '^dest:enforce.example' '$out' | grep -vq mode="
# Broken lists.
printf '{"version": "0.1", "expires": 4102444800, "policies": {"a.example": {"policy-alias": "nope"}}}' >"$work/alias.json"
expect 1 "alias.json: policies: a.example: its policy-alias is not in policy-aliases" -- \
	"$ctl" import --starttls-everywhere "$work/alias.json"
printf '{"version": "0.1", "expires": 4102444800, "policies": {"a.example": {"mode": "enforce", "mxs": ["x\\ny.example"]}}}' >"$work/mx.json"
expect 1 "mx.json: policies: a.example: character not allowed in a domain name" -- \
	"$ctl" import --starttls-everywhere "$work/mx.json"
printf '{"version": "0.1",\n "expires": 1,\n "policies": {,}}' >"$work/syntax.json"
expect 1 "syntax.json:3: not JSON" -- "$ctl" import --starttls-everywhere "$work/syntax.json"
printf '[[[[[[[[[[[[]]]]]]]]]]]]' >"$work/deep.json"
expect 1 "deep.json:1: not JSON: nesting too deep" -- \
	"$ctl" import --starttls-everywhere "$work/deep.json"
printf '{"version": "1.0", "policies": {}}' >"$work/v1.json"
expect 1 "v1.json: not a STARTTLS Everywhere list of version 0.1" -- \
	"$ctl" import --starttls-everywhere "$work/v1.json"

# ---- round trip: check accepts what import writes ----------------------------
"$ctl" import -o "$work/sts.policy" --mta-sts good.loc="$sts/good.txt" \
	testing.loc="$sts/testing.txt" none.loc="$sts/valid-none.txt" >/dev/null 2>&1
expect 0 "sts.policy: OK: 2 rules (sender 0, rcpt 0, client address 0, client name 0, dest 2)" -- \
	"$ctl" check -f "$work/sts.policy"
"$ctl" import -o "$work/stle.policy" --starttls-everywhere "$stle/policy.json" >/dev/null 2>&1
expect 0 "stle.policy: OK: 926 rules (sender 0, rcpt 0, client address 0, client name 0, dest 926)" -- \
	"$ctl" check -f "$work/stle.policy"
"$ctl" import -o "$work/unexpired.policy" --starttls-everywhere "$stle/unexpired.json" >/dev/null 2>&1
expect 0 "OK: 3 rules" -- "$ctl" check -f "$work/unexpired.policy"
expect 0 "naming *.mx.hosted.example (any one label in place of *)" -- \
	"$ctl" explain -f "$work/unexpired.policy" --dest aliased.example
# ... and export: what import writes becomes the MTAs' tables.
expect 0 "enforce.example	secure match=mx1.enforce.example:.mail.enforce.example" \
	"aliased.example	secure match=.mx.hosted.example:mx.hosted.example" \
	"dest:testing.example: mode=testing: not enforced, no entry" -- \
	"$ctl" export --postfix --site-level may -f "$work/unexpired.policy"
expect 1 "unexpired.policy:6: dest:enforce.example: Sendmail cannot express several or wildcard" -- \
	"$ctl" export --sendmail -f "$work/unexpired.policy"
expect 0 "dest:zumbi.xyz: mode=testing: not enforced, no entry" -- \
	"$ctl" export --postfix --site-level may -f "$work/stle.policy"
check_that "the expired list exports no entry" \
	sh -c "! '$ctl' export --postfix --site-level may -f '$work/stle.policy' 2>/dev/null | grep -q '^[^#]'"
# Included from a policy written by hand, whose rule for the same domain wins.
printf 'dest:comcast.net require verify=dane\ninclude stle.policy\n' >"$work/hand.policy"
expect 0 "hand.policy: OK: 926 rules" "note: dest:comcast.net is shadowed by $work/hand.policy:1" -- \
	"$ctl" check -f "$work/hand.policy"

# ---- usage -----------------------------------------------------------------
expect 64 "nothing to import" -- "$ctl" import
expect 64 "no DOMAIN given" -- "$ctl" import --fetch
expect 64 "--mta-sts and --fetch exclude each other" -- "$ctl" import --mta-sts --fetch x
expect 64 "unexpected argument: stray" -- "$ctl" import --starttls-everywhere x.json stray
expect 64 "--timeout: not 1 to 600 seconds: 0" -- "$ctl" import --timeout 0 --fetch x.example
expect 0 "Usage: tlspolicyctl import" "--starttls-everywhere LIST.json" -- "$ctl" import --help

echo "test-import: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
