#!/bin/bash
# End-to-end tests of tlspolicy-milter against a real, private Sendmail on
# 127.0.0.1 (tests/e2e/sendmail-lib.sh), with real STARTTLS, implicit TLS
# (DaemonPortOptions M=s) and client certificates, driven by swaks and a
# python client: the scenarios of t-postfix.sh (require/prefer/skip/exempt/
# testing/tempfail/quarantine/tag, per-recipient enforcement, STARTTLS
# without a second EHLO, certificates, forged headers, reload under traffic,
# a broken reload, dry run, the milter killed), plus what differs on
# Sendmail: {verify} and full-DN/xtext certificate macros, an issuer CN with
# spaces (+20), implicit TLS told by listener name, a second STARTTLS
# listener, the quarantine (hf files, mailq -qQ), the client host name and
# {client_resolve}, and no confMILTER_MACROS_* needed (smfi_setsymlist).
#
# Needs root and Sendmail unpacked by tests/e2e/install-sendmail.sh (the
# sendmail packages would remove Postfix). Run by "make check" (srcdir,
# top_builddir from the Makefile), after t-postfix.sh. Prints
# "end-to-end (Sendmail): N passed, M failed" and exits non-zero if anything
# failed or Sendmail could not be started. Stops everything it started.
#
# What Sendmail 8.17.1.9 sends the milter here (it honours smfi_setsymlist;
# measured with a macro-dumping milter asking for the same lists):
#   connect  j=mx.e2e.test _="localhost [127.0.0.1]" {daemon_name}=MTA|MTA-ALT|
#            MTA-SSL {daemon_port} {daemon_addr} {client_addr}=127.0.0.1
#            {client_name}=localhost {client_ptr}=localhost {client_resolve}=OK;
#            from 127.0.0.2 (no PTR): {client_name}="[127.0.0.2]",
#            {client_resolve}=FAIL.  No TLS macro at connect, even on M=s.
#   helo     STARTTLS: twice, the first without TLS macros; M=s: once, with.
#            {tls_version}=TLSv1.3 {cipher}=TLS_AES_256_GCM_SHA384
#            {cipher_bits}=256 {verify}=NO|OK|FAIL, and {cert_subject}
#            {cert_issuer} {cn_subject} {cn_issuer}: "" without a client
#            certificate; DN "/O=tlspolicy+20e2e/CN=client.e2e.test" and CN
#            "client.e2e.test" / issuer CN "tlspolicy+20e2e+20CA" (xtext, in
#            the CN macros too) for the trusted one; the rogue self-signed
#            one gives {verify}=FAIL with its names.
#   envfrom  i (a new queue id after STARTTLS) {mail_addr} + the TLS macros
#            (so STARTTLS with no second EHLO is seen here)
#   envrcpt  i {rcpt_addr} + the TLS macros;  eom: i {msg_id}
#   IPv6 (listener MTA-V6 on ::1): {client_addr}={daemon_addr}=
#            "IPv6:0:0:0:0:0:0:0:1", _="localhost [IPv6:0:0:0:0:0:0:0:1]";
#            the connect callback's sockaddr is ::1.
#   confTLS_SRV_OPTIONS `V' (no client certificate requested): {verify}=NOT.
#   STARTTLS before any EHLO is accepted: the first HELO then has TLS.
#
# What clients get (Sendmail's own formatting, not the milter's):
#   - the milter's reply is sent as set, except that for 450/550 (also
#     250/252/553) at RCPT TO Sendmail inserts "<rcpt>... " before the text
#     (err.c fmtmsg): "550 5.7.1 <rcpt@remote.e2e.test>... TLSv1.3 required
#     ...", "450 4.7.0 <rcpt@...>... Must issue ..."; 530 comes verbatim.
#   - milter down with F=T: "451 4.3.2 Please try again later" at MAIL FROM
#     in plaintext, "454 4.7.0 Please try again later" to STARTTLS.
#   - a HELO name with characters other than letters, digits and "-.[]:"
#     gets "501 5.0.0 Invalid domain name" from Sendmail itself.
#   - quarantine: the queue file is renamed qfID -> hfID with a line
#     "qTLS policy: <reason>"; `mailq -qQ` lists it; it is never delivered.
#
# Known milter problems (checks named [M1], [M2]: they fail until fixed):
#   M1  STARTTLS before any EHLO on a listener NOT in implicit_tls is recorded
#       as via=implicit (TLS first seen at the first HELO, no plaintext HELO
#       before it); it should be via=starttls: implicit_tls names the
#       implicit listeners, every other listener's TLS came from STARTTLS.
#   M2  {verify}=NOT (Sendmail did not ask for a certificate) is taken as
#       "unknown": recorded verify=unknown and the reply says "got an
#       unverified one"; no certificate was presented, so it is "none".
set -u
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
milter_bin=$(cd "$top_builddir" && pwd)/milter/tlspolicy-milter
. "$srcdir/tests/e2e/sendmail-lib.sh"

T0=$(date +%s)
passed=0
failed=0
milter_pid=
W=$(sm_mkworkdir) || { echo "cannot create a work directory"; echo "end-to-end (Sendmail): 0 passed, 1 failed"; exit 1; }

cleanup() {
	[ -n "$milter_pid" ] && kill "$milter_pid" 2>/dev/null && wait "$milter_pid" 2>/dev/null
	sm_stop
	if [ "$failed" -eq 0 ] && [ -z "${KEEP_E2E:-}" ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { passed=$((passed + 1)); echo "ok   $*"; }
not_ok() {
	failed=$((failed + 1)); echo "FAIL $*"
	[ -n "${SM_LAST_TRANSCRIPT:-}" ] && sed 's/^/     | /' "$SM_LAST_TRANSCRIPT" | tail -15
	tail -5 "$W/milter.log" | sed 's/^/     m /'
}
# Known milter problem: the check runs (and fails) until it is fixed.
# known_bug ID NAME COMMAND...: like check, but says which report it is.
known_bug() { local id=$1 name=$2; shift 2; check "$name [$id]" "$@"; }
# check NAME COMMAND...: one assertion
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
give_up() {
	echo "$*"
	failed=$((failed + 1))
	echo "end-to-end (Sendmail): $passed passed, $failed failed"
	exit 1
}
wait_for() { local t=$1; shift; local i; for i in $(seq $((t * 10))); do "$@" && return 0; sleep 0.1; done; return 1; }
transcript_has() { grep -qF -- "$1" "$SM_LAST_TRANSCRIPT"; }
delivered() { sm_wait_sink "X-E2E-Id: $SM_LAST_ID" 15 >/dev/null 2>&1; }
delivered_file() { sm_sink_file_for "X-E2E-Id: $SM_LAST_ID" 2>/dev/null; }
milter_log_has() { wait_for 10 grep -qF -- "$1" "$W/milter.log"; }
# milter_line_has A B: some log line has both
milter_line_has() { wait_for 10 bash -c 'grep -F -- "$1" "$3" | grep -qF -- "$2"' _ "$1" "$2" "$W/milter.log"; }
# the decision line of the last message (by its Sendmail queue id) has TEXT
# (waits for the line to appear, then checks once: a wrong value fails fast)
record_has() {
	wait_for 10 grep -qF -- "queue_id=\"$SM_LAST_QUEUEID\"" "$W/milter.log" &&
		grep -F -- "queue_id=\"$SM_LAST_QUEUEID\"" "$W/milter.log" | grep -qF -- "$1"
}
# sender_record_has SENDER TEXT: the decision line of SENDER (a refused
# message has no queue id the client could see) has TEXT
sender_record_has() {
	wait_for 10 grep -qF -- "sender=\"$1\"" "$W/milter.log" &&
		grep -F -- "sender=\"$1\"" "$W/milter.log" | grep -qF -- "$2"
}
header_has() { local f; delivered && f=$(delivered_file) && grep -i '^X-TLS-Policy:' "$f" | grep -qF -- "$1"; }
# Sendmail's own reply format: for 450/550 (also 250/252/553) at RCPT it
# inserts "<rcpt>... " before the text (err.c fmtmsg); not for 530 or 451.
rcpt_reply() { transcript_has "$1 <$2>... $3"; }
held() { [ "$(sm_hold_count)" -gt "$holds" ]; }
hold_reason_is() { sm_hold_reason "$SM_LAST_QUEUEID" | grep -q "^$1"; }
hold_list_has() { sm_hold_list | grep -q "$1"; }
not_delivered() { sleep 1; ! sm_sink_grep "X-E2E-Id: $SM_LAST_ID" >/dev/null; }
swaks_rc() { local want=$1; shift; "$@"; [ "$SM_LAST_RC" -eq "$want" ]; }
# audit_ok EXPR: a python expression over R (every audit record) holds.
# Every line must be valid JSON of schema version 1, or it fails anyway.
audit_ok() { wait_for 10 python3 "$W/audit_ok.py" "$W/audit/audit.jsonl" "$1"; }
write_audit_checker() {
	cat > "$W/audit_ok.py" <<'PY'
import json, re, sys
R = []
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    assert r["v"] == 1, r
    R.append(r)
sys.exit(0 if eval(sys.argv[2], {"R": R, "re": re}) else 1)
PY
}
status_has() { kill -USR2 "$milter_pid"; wait_for 10 grep -qE -- "$1" "$W/status"; }

write_policy() {
	cat > "$W/policy.conf" <<POLICY
# generated by t-sendmail.sh
default                      skip
sender:secure.e2e.test       require
sender:v13.e2e.test          require   min_version=TLSv1.3
rcpt:vault.e2e.test          require
rcpt:postmaster@remote.e2e.test exempt
sender:cert.e2e.test         require   cert_subject=client.e2e.test
sender:verify.e2e.test       require   verify=yes
client:127.0.0.2             exempt
sender:pref.e2e.test         prefer
sender:skip.e2e.test         skip
sender:test.e2e.test         require   mode=testing
sender:temp.e2e.test         require   action=tempfail
sender:quar.e2e.test         require   action=quarantine
sender:tag.e2e.test          require   action=tag
sender:load.e2e.test         prefer
sender:issuer.e2e.test       require   cert_issuer="tlspolicy e2e CA"
client:::1                   require
sender:rogue.e2e.test        require   cert_subject=rogue.e2e.test
$1
POLICY
}

start_milter() {
	"$milter_bin" -F -p "inet:$milter_port@127.0.0.1" -f "$W/policy.conf" -c "$W/milter.conf" "$@" \
		>>"$W/milter.log" 2>&1 &
	milter_pid=$!
	sm_wait_listen "$milter_port" 10
}

# ---- refusals at start ----------------------------------------------------------
[ -x "$milter_bin" ] || give_up "no milter binary at $milter_bin: build first"
check "as root without -u or allow_root the daemon refuses to start" \
	bash -c "'$milter_bin' -F -p inet:1@127.0.0.1 -f '$srcdir/tests/data/good.policy' -a none 2>&1 | grep -q 'refusing to run as root'"
check "a policy with errors stops the daemon at start, every error named" \
	bash -c "'$milter_bin' -F --allow-root -p inet:1@127.0.0.1 -f '$srcdir/tests/data/bad.policy' -a none 2>&1 | grep -c 'bad.policy:[0-9]*: ' | grep -qx 5"

# ---- set up ------------------------------------------------------------------
milter_port=$(sm_free_port)
sm_setup "$W" "inet:$milter_port@127.0.0.1" || give_up "cannot set up Sendmail (see above)"
write_policy ""
mkdir -p "$W/audit"
write_audit_checker
printf 'implicit_tls = MTA-SSL\nhostname = mx.e2e.test\nallow_root = yes\naudit_log = %s\nstats_file = %s\nstats_interval = 0\n' \
	"$W/audit/audit.jsonl" "$W/status" > "$W/milter.conf"
start_milter || { cat "$W/milter.log"; give_up "cannot start the milter"; }
sm_start || give_up "cannot start Sendmail (see above)"
echo "# Sendmail $(sm_sendmail -d0.1 -bt </dev/null 2>/dev/null | sed -n 's/^Version //p' | head -1) on 127.0.0.1: STARTTLS $SM_PORT_STARTTLS, implicit TLS (M=s) $SM_PORT_IMPLICIT, work dir $W"

# ---- require, plaintext vs STARTTLS vs implicit TLS --------------------------
sm_swaks_plain -- --from a@secure.e2e.test
check "require sender, plaintext: 530 5.7.0 at RCPT TO" \
	transcript_has "530 5.7.0 Must issue a STARTTLS command first: TLS required for mail from secure.e2e.test"
check "require sender, plaintext: swaks sees the RCPT refused" test "$SM_LAST_RC" -eq 24
# Postfix has no queue id yet at RCPT; Sendmail assigned one at MAIL FROM ({i}).
check "audit: the refused message has one record, Sendmail's queue id, the reply sent" audit_ok \
	'[(bool(re.match(r"^[0-9A-Za-z]{14}$", r["queue_id"] or "")), r["outcome"], r["tls"]["how"], r["rcpts"][0]["refused"], r["rcpts"][0]["reply"][:9]) for r in R if r["sender"] == "<a@secure.e2e.test>"] == [(True, "rejected", "none", True, "530 5.7.0")]'
check "require sender, plaintext: Sendmail logs the milter's reject" \
	wait_for 5 sm_log_grep -q "Milter: to=<rcpt@remote.e2e.test>, reject=530 5.7.0 Must issue a STARTTLS"
sm_swaks_starttls -- --from a@secure.e2e.test
check "require sender, STARTTLS: accepted" test "$SM_LAST_RC" -eq 0
check "require sender, STARTTLS: delivered" delivered
check "require sender, STARTTLS: header says starttls and pass" header_has "via=starttls"
check "require sender, STARTTLS: header result" header_has "result=pass"
check "audit: accepted record with queue id, TLS, rule, schema fields" audit_ok \
	'[(r["outcome"], r["tls"]["how"], r["tls"]["version"], r["rcpts"][0]["result"], r["rcpts"][0]["decided_by"].endswith("policy.conf:3"), r["sender_domain"], r["rcpts"][0]["domain"], r["policy"]["generation"], bool(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", r["time"]))) for r in R if r["queue_id"] == "'"$SM_LAST_QUEUEID"'"] == [("accepted", "starttls", "TLSv1.3", "pass", True, "secure.e2e.test", "remote.e2e.test", 1, True)]'
check "require sender, STARTTLS: record has Sendmail's {verify}=NO as none" record_has "via=starttls cipher=\"TLS_AES_256_GCM_SHA384\" bits=256 verify=none"
check "require sender, STARTTLS: record has listener MTA" record_has 'listener="MTA"'
sm_swaks_implicit -- --from a@secure.e2e.test
check "require sender, implicit TLS: delivered" delivered
check "require sender, implicit TLS: header says implicit" header_has "via=implicit"
check "audit: implicit TLS recorded" audit_ok '[r["tls"]["how"] for r in R if r["queue_id"] == "'"$SM_LAST_QUEUEID"'"] == ["implicit"]'
check "require sender, implicit TLS: log record says implicit" \
	milter_line_has "queue_id=\"$SM_LAST_QUEUEID\"" "via=implicit"
check "require sender, implicit TLS: record has listener MTA-SSL" record_has 'listener="MTA-SSL"'
sm_swaks_starttls --port "$SM_PORT_STARTTLS2" -- --from a@secure.e2e.test
check "STARTTLS on a second listener (MTA-ALT): delivered" delivered
check "STARTTLS on a second listener: not taken for implicit" record_has 'listener="MTA-ALT" tls="TLSv1.3" via=starttls'

# ---- TLS version -------------------------------------------------------------
sm_swaks_starttls --tls-version tlsv1_2 -- --from a@v13.e2e.test
check "min_version=TLSv1.3 with a TLS 1.2 client: 550 naming both" \
	rcpt_reply "550 5.7.1" rcpt@remote.e2e.test "TLSv1.3 required for mail from v13.e2e.test, got TLSv1.2"
sm_swaks_starttls --tls-version tlsv1_3 -- --from a@v13.e2e.test
check "min_version=TLSv1.3 with TLS 1.3: delivered" delivered

# ---- per-recipient enforcement -----------------------------------------------
sm_swaks_plain -- --from a@other.e2e.test --to x@vault.e2e.test,y@remote.e2e.test
check "required recipient refused in plaintext" transcript_has "530 5.7.0 Must issue a STARTTLS command first: TLS required for mail to vault.e2e.test"
check "the other recipient of the message is delivered" delivered
f=$(delivered_file)
check "only the unrequired recipient got it" \
	bash -c "grep '^X-Rcpt-Args:' '$f' | grep -q 'y@remote.e2e.test' && ! grep '^X-Rcpt-Args:' '$f' | grep -q 'x@vault.e2e.test'"
sm_swaks_plain -- --from a@secure.e2e.test --to postmaster@remote.e2e.test
check "exempt postmaster gets plaintext mail from a require sender" delivered
check "exempt postmaster: header result=exempt" header_has "result=exempt"

# ---- STARTTLS then MAIL with no second EHLO -----------------------------------
sm_starttls_noehlo -- --from a@secure.e2e.test
check "STARTTLS, no second EHLO: client did EHLO, STARTTLS, MAIL" \
	bash -c "[ \$(grep -c '^ *[-~]> EHLO' '$SM_LAST_TRANSCRIPT') -eq 1 ] && grep -q '~> MAIL FROM' '$SM_LAST_TRANSCRIPT'"
check "STARTTLS, no second EHLO: counts as TLS, delivered" delivered
check "STARTTLS, no second EHLO: header says starttls" header_has "via=starttls"

# ---- STARTTLS before any EHLO (Sendmail accepts it) ----------------------------
# The milter sees connect without TLS, then a first HELO that already has
# TLS: the shape of implicit TLS, on a listener (MTA) that is not in
# implicit_tls.
cat > "$W/starttls-first.py" <<'PY'
import socket, ssl, sys
port, mid = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=20)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode()
        print("<-", l.rstrip())
        if l[3:4] != "-":
            return l
def cmd(c, want):
    print("~>" if isinstance(s, ssl.SSLSocket) else "->", c.splitlines()[0])
    s.sendall(c.encode() + b"\r\n")
    l = reply()
    if not l.startswith(want):
        sys.exit(1)
reply()
cmd("STARTTLS", "220")
ctx = ssl.create_default_context()
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
s = ctx.wrap_socket(s)
f = s.makefile("rb")
cmd("EHLO client.e2e.test", "250")
cmd("MAIL FROM:<a@secure.e2e.test>", "250")
cmd("RCPT TO:<rcpt@remote.e2e.test>", "250")
cmd("DATA", "354")
cmd("Subject: e2e %s\r\nX-E2E-Id: %s\r\n\r\nbody\r\n." % (mid, mid), "250")
cmd("QUIT", "221")
PY
SM_LAST_ID=$(sm_new_id)
SM_LAST_TRANSCRIPT=$W/transcripts/starttls-first-$SM_LAST_ID.log
python3 "$W/starttls-first.py" "$SM_PORT_STARTTLS" "$SM_LAST_ID" > "$SM_LAST_TRANSCRIPT" 2>&1
SM_LAST_QUEUEID=$(sed -n 's/.*250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p' "$SM_LAST_TRANSCRIPT")
check "STARTTLS before EHLO: Sendmail accepts the session, delivered" delivered
check "STARTTLS before EHLO: header result=pass" header_has "result=pass"
known_bug M1 "STARTTLS before EHLO on listener MTA (not in implicit_tls): recorded as starttls" \
	header_has "via=starttls"

# ---- client certificates ({verify}, {cn_*}, {cert_*} in xtext) -----------------
sm_swaks_starttls --cert trusted -- --from a@cert.e2e.test
check "cert_subject with the right client certificate: delivered" delivered
check "cert_subject: header records the subject" header_has 'subject="client.e2e.test"'
check "audit: certificate recorded" audit_ok '[(r["tls"]["verify"], r["tls"]["subject"], r["tls"]["issuer"]) for r in R if r["queue_id"] == "'"$SM_LAST_QUEUEID"'"] == [("ok", "client.e2e.test", "tlspolicy e2e CA")]'
check "trusted certificate: {verify}=OK recorded as verify=ok" record_has 'verify=ok subject="client.e2e.test"'
check "trusted certificate: issuer CN decoded from xtext (+20)" record_has 'issuer="tlspolicy e2e CA"'
sm_swaks_starttls --cert untrusted -- --from a@cert.e2e.test
check "cert_subject with an untrusted certificate: 550 (Sendmail says {verify}=FAIL)" \
	rcpt_reply "550 5.7.1" rcpt@remote.e2e.test "verified client certificate required for mail from cert.e2e.test, got an unverified one"
sm_swaks_starttls --cert none -- --from a@cert.e2e.test
check "cert_subject with no certificate: refused" swaks_rc 24 true
check "cert_subject with no certificate: says none" \
	rcpt_reply "550 5.7.1" rcpt@remote.e2e.test "verified client certificate required for mail from cert.e2e.test, got none"
sm_swaks_starttls --cert trusted -- --from a@verify.e2e.test
check "verify=yes with a trusted certificate: delivered" delivered
sm_swaks_starttls --cert untrusted -- --from a@verify.e2e.test
check "verify=yes with an untrusted certificate: refused" transcript_has "550 5.7.1"
# Sendmail, unlike Postfix, passes the names of a certificate it could not
# verify ({verify}=FAIL): they must never satisfy cert_subject.
sm_swaks_starttls --cert untrusted -- --from a@rogue.e2e.test
check "cert_subject naming the untrusted certificate's own CN: still refused" \
	rcpt_reply "550 5.7.1" rcpt@remote.e2e.test "verified client certificate required for mail from rogue.e2e.test, got an unverified one"
check "untrusted certificate: recorded as verify=fail with its (unverified) names" \
	milter_line_has 'sender="<a@rogue.e2e.test>"' 'verify=fail subject="rogue.e2e.test" issuer="rogue.e2e.test"'
sm_swaks_implicit --cert trusted -- --from a@cert.e2e.test
check "cert_subject over implicit TLS with the right certificate: delivered" delivered
sm_swaks_starttls --cert trusted -- --from a@issuer.e2e.test
check "cert_issuer with spaces (xtext +20 from Sendmail): delivered" delivered
sm_swaks_starttls --cert untrusted -- --from a@issuer.e2e.test
check "cert_issuer with the rogue certificate: refused" transcript_has "550 5.7.1"

# ---- exempt client, prefer, skip, testing, tempfail, quarantine, tag ------------
sm_swaks_plain -- --from a@secure.e2e.test --local-interface 127.0.0.2
check "exempt client (127.0.0.2) in plaintext from a require sender: delivered" delivered
check "exempt client: header result=exempt" header_has "result=exempt"
check "exempt client: Sendmail gives no verified name ([127.0.0.2], {client_resolve}=FAIL)" \
	record_has 'client="127.0.0.2" client_name=""'

# ---- IPv6 client (Sendmail: {client_addr}="IPv6:0:0:0:0:0:0:0:1") -------------
if [ -n "$SM_PORT_IPV6" ]; then
	sm_smtp_py plain --port "$SM_PORT_IPV6" -- --server ::1 --from a@skip.e2e.test
	check "client:::1 require, plaintext over IPv6: 530 naming the client" \
		transcript_has "530 5.7.0 Must issue a STARTTLS command first: TLS required for client ::1"
	check "IPv6: the record has the address as ::1 and listener MTA-V6" \
		milter_line_has 'client="::1" client_name="localhost" helo="client.e2e.test" listener="MTA-V6" tls=none sender="<a@skip.e2e.test>"' 'refused=yes'
	sm_smtp_py starttls --port "$SM_PORT_IPV6" -- --server ::1 --from a@skip.e2e.test
	check "client:::1 require, STARTTLS over IPv6: delivered" delivered
	check "IPv6 STARTTLS: header says starttls and pass" header_has "result=pass"
else
	echo "# no IPv6 loopback on this machine: the IPv6 client checks do not run"
fi

sm_swaks_plain -- --from a@pref.e2e.test
check "prefer in plaintext: delivered" delivered
check "prefer in plaintext: recorded as unmet" header_has "result=unmet-prefer"
sm_swaks_plain -- --from a@skip.e2e.test
check "skip: delivered, result=skip" header_has "result=skip"
sm_swaks_plain -- --from a@test.e2e.test
check "mode=testing in plaintext: delivered" delivered
check "audit: testing recorded as a failure that was not acted on" audit_ok \
	'[(r["outcome"], x["result"], x["action"], x["testing"], x["refused"]) for r in R for x in r["rcpts"] if r["sender"] == "<a@test.e2e.test>"] == [("accepted", "fail", "reject", True, False)]'
check "mode=testing: logged as a testing failure" milter_log_has 'sender="<a@test.e2e.test>" rcpt="<rcpt@remote.e2e.test>" level=require result=fail action=reject testing=yes'
sm_swaks_plain -- --from a@temp.e2e.test
check "action=tempfail: 450 4.7.0" rcpt_reply "450 4.7.0" rcpt@remote.e2e.test "Must issue a STARTTLS command first: TLS required for mail from temp.e2e.test"
check "audit: tempfailed record" audit_ok \
	'[(r["outcome"], r["rcpts"][0]["reply"][:9]) for r in R if r["sender"] == "<a@temp.e2e.test>"] == [("tempfailed", "450 4.7.0")]'
holds=$(sm_hold_count)
sm_swaks_plain -- --from a@quar.e2e.test
check "action=quarantine: accepted" test "$SM_LAST_RC" -eq 0
check "action=quarantine: held by Sendmail (hf queue file)" wait_for 10 held
check "action=quarantine: the queue file carries the reason" \
	hold_reason_is "TLS policy: TLS required for mail from quar.e2e.test"
check "action=quarantine: mailq -qQ lists it" hold_list_has "$SM_LAST_QUEUEID"
check "action=quarantine: the held message carries the result header" \
	grep -q '^H??X-TLS-Policy: mx.e2e.test; tls=none; result=fail action=quarantine' "$SM_QUEUE_DIR/hf$SM_LAST_QUEUEID"
check "action=quarantine: not delivered" not_delivered
check "action=quarantine: logged" milter_log_has "outcome=quarantined"
check "audit: quarantined record" audit_ok \
	'[r["outcome"] for r in R if r["sender"] == "<a@quar.e2e.test>"] == ["quarantined"]'

# ---- abort, a session without a message, hostile input -----------------------
sm_swaks_plain -- --from abort@skip.e2e.test --quit-after RCPT
check "audit: a message abandoned after RCPT TO is recorded as aborted" audit_ok \
	'[r["outcome"] for r in R if r["sender"] == "<abort@skip.e2e.test>"] == ["aborted"]'
sm_swaks_plain -- --ehlo nomessage.e2e.test --quit-after EHLO
check "audit: a session without a message gets one record" audit_ok \
	'[(r["outcome"], r["rcpts"], r["sender"]) for r in R if r["client"]["helo"] == "nomessage.e2e.test"] == [("no-message", [], None)]'
# Sendmail refuses a HELO name with anything but letters, digits and "-.[]:"
# (501 5.0.0 Invalid domain name), so the hostile string comes in the
# envelope sender instead: a quoted local part with a quote, a backslash, a
# space and a fake key=value.
sm_swaks_plain -- --ehlo 'evil"helo\x\\ session=forged' --from hostile@skip.e2e.test --quit-after EHLO
check "hostile HELO: Sendmail itself refuses it before the milter sees it" \
	transcript_has "501 5.0.0 Invalid domain name"
sm_swaks_plain -- --from '"evil\"x\\ session=forged"@skip.e2e.test'
check "hostile sender: delivered" delivered
check "audit: hostile sender kept exactly, as valid JSON" audit_ok \
	'[r["sender"] for r in R if r["queue_id"] == "'"$SM_LAST_QUEUEID"'"] == ["<\"evil\\\"x\\\\ session=forged\"@skip.e2e.test>"]'
check "syslog line: hostile sender escaped, no forged field" \
	milter_line_has "queue_id=\"$SM_LAST_QUEUEID\"" 'sender="<\"evil\\\"x\\\\ session=forged\"@skip.e2e.test>"'
sm_swaks_plain -- --from a@tag.e2e.test
check "action=tag: delivered" delivered
check "action=tag: header records the failure" header_has "result=fail action=tag"

# ---- forged header -----------------------------------------------------------
sm_swaks_starttls -- --from a@secure.e2e.test --add-header "X-TLS-Policy: forged result=pass"
check "forged header: delivered" delivered
f=$(delivered_file)
check "forged header: exactly one result header, ours" \
	bash -c "[ \$(grep -ci '^X-TLS-Policy:' '$f') -eq 1 ] && ! grep -q forged '$f'"
check "forged header: removal logged" milter_log_has "removed=1 forged X-TLS-Policy"

# ---- audit log rotation, loss when it cannot be written, status ----------------
mv "$W/audit/audit.jsonl" "$W/audit/audit.jsonl.1"
kill -USR2 "$milter_pid"
sm_swaks_starttls -- --from rotated@secure.e2e.test
check "after SIGUSR2 records go to a new file" audit_ok '[r["sender"] for r in R] == ["<rotated@secure.e2e.test>"]'
check "status file: counters" status_has "^decisions_refused=[1-9]"
check "status file: nothing lost yet" status_has "^audit_lost=0$"
check "tlspolicyctl status shows the counters" \
	bash -c "'$top_builddir/policy/tlspolicyctl' status --status '$W/status' | grep -q '^decisions_pass=[1-9]'"
ctl="$top_builddir/policy/tlspolicyctl"
"$ctl" report "$W/audit/audit.jsonl.1" > "$W/report.txt" 2>&1
check "tlspolicyctl report: a testing domain is not ready to enforce" \
	grep -q 'sender domain test.e2e.test: 1 of 1 message; not ready to enforce' "$W/report.txt"
gzip -c "$W/audit/audit.jsonl.1" > "$W/audit.jsonl.1.gz"
check "tlspolicyctl report reads rotated gzip logs: the same report" \
	bash -c "diff <('$ctl' report --json '$W/audit/audit.jsonl.1' | sed 's/\"files\":[^]]*]//; s/\"first_skipped\":[^,]*//') <('$ctl' report --json '$W/audit.jsonl.1.gz' | sed 's/\"files\":[^]]*]//; s/\"first_skipped\":[^,]*//')"
rm -rf "$W/audit"
kill -USR2 "$milter_pid"
sm_swaks_starttls -- --from lost@secure.e2e.test
check "audit log directory gone: mail still delivered" delivered
check "audit log directory gone: the loss is counted" status_has "^audit_lost=[1-9]"
check "audit log directory gone: warned" milter_log_has "records lost so far"
mkdir -p "$W/audit"
kill -USR2 "$milter_pid"

# ---- reload under traffic, then a broken reload --------------------------------
sm_wait_queue_empty 20 >/dev/null
before=$(sm_sink_count)
smtp-source -l 512 -m 200 -s 10 -f sender@load.e2e.test -t rcpt@remote.e2e.test \
	"127.0.0.1:$SM_PORT_STARTTLS" >"$W/load.out" 2>&1 &
load_pid=$!
for i in 1 2 3 4 5; do
	write_policy "sender:reload$i.e2e.test require"
	kill -USR1 "$milter_pid"
	sleep 0.3
done
wait "$load_pid"; load_rc=$?
sm_wait_sink . 60 $((before + 200)) >/dev/null
sm_wait_queue_empty 30 >/dev/null
check "reload under traffic: smtp-source saw no error" test "$load_rc" -eq 0 -a ! -s "$W/load.out"
check "reload under traffic: all 200 messages delivered" test "$(( $(sm_sink_count) - before ))" -eq 200
check "audit: exactly one record per message under load" audit_ok \
	'len([r for r in R if r["sender"] == "<sender@load.e2e.test>"]) == 200 and len(set(r["queue_id"] for r in R if r["sender"] == "<sender@load.e2e.test>")) == 200'
check "status file: reloads counted" status_has "^reloads=5$"
check "reload under traffic: five generations loaded" milter_log_has "generation 6 in force"
sm_swaks_plain -- --from a@reload5.e2e.test
check "the reloaded rule is in force" transcript_has "530 5.7.0"
printf 'sender:broken.e2e.test requir\n' >> "$W/policy.conf"
broken_line=$(wc -l < "$W/policy.conf")
kill -USR1 "$milter_pid"
check "a broken policy is refused on reload" milter_log_has "reload failed: keeping policy generation 6"
check "the error names file and line" milter_log_has "policy.conf:$broken_line: sender:broken.e2e.test: unknown level"
sm_swaks_plain -- --from a@reload5.e2e.test
check "after a bad reload the old policy stays in force" transcript_has "530 5.7.0"
sm_swaks_starttls -- --from a@secure.e2e.test
check "after a bad reload mail still flows" delivered

# ---- a graceful stop: nothing leaks, no sanitizer report ------------------------
kill "$milter_pid"; wait "$milter_pid"; stop_rc=$?
check "SIGTERM stops the milter cleanly" test "$stop_rc" -eq 0
check "the milter's log has no sanitizer or leak report" \
	bash -c "! grep -qE 'Sanitizer|runtime error|LeakSanitizer' '$W/milter.log'"

# ---- client host name rules: Sendmail's {client_name} + {client_resolve} -------
write_policy "client:localhost             require"
start_milter || give_up "cannot restart the milter"
sm_swaks_plain -- --from a@skip.e2e.test
check "client:localhost (verified PTR, {client_resolve}=OK) applies" \
	transcript_has "530 5.7.0 Must issue a STARTTLS command first: TLS required for client localhost"
sm_swaks_plain -- --from a@skip.e2e.test --local-interface 127.0.0.2
check "client name rule does not match [127.0.0.2] (exempt there): delivered" delivered

# ---- Sendmail not asking for a client certificate: {verify}=NOT ----------------
# confTLS_SRV_OPTIONS `V': no certificate is requested, so none is presented.
sm_stop
SM_EXTRA_MC="define(\`confTLS_SRV_OPTIONS', \`V')dnl"
sm_start || give_up "cannot restart Sendmail without client certificate requests"
sm_swaks_starttls --cert trusted -- --from not@verify.e2e.test
check "{verify}=NOT: verify=yes refused (never counts as verified)" transcript_has "550 5.7.1"
known_bug M2 "{verify}=NOT (no certificate requested): reply says none was presented" \
	rcpt_reply "550 5.7.1" rcpt@remote.e2e.test "verified client certificate required for mail from verify.e2e.test, got none"
known_bug M2 "{verify}=NOT: recorded as verify=none, not unknown" \
	sender_record_has "<not@verify.e2e.test>" "verify=none"
sm_stop
SM_EXTRA_MC=
sm_start || give_up "cannot restart Sendmail"

# ---- dry run -------------------------------------------------------------------
# SIGKILL: the graceful stop was checked above, and libmilter takes ~5 s to
# notice SIGTERM (its accept loop's poll timeout).
kill -9 "$milter_pid"; wait "$milter_pid" 2>/dev/null
write_policy ""
start_milter --dry-run || give_up "cannot restart the milter"
sm_swaks_plain -- --from a@secure.e2e.test
check "dry run: a require sender in plaintext is delivered" delivered
check "dry run: recorded as testing" milter_log_has 'sender="<a@secure.e2e.test>" rcpt="<rcpt@remote.e2e.test>" level=require result=fail action=reject testing=yes'

# ---- the milter killed ---------------------------------------------------------
kill -9 "$milter_pid"; wait "$milter_pid" 2>/dev/null; milter_pid=
sm_wait_queue_empty 20 >/dev/null
before=$(sm_sink_count)
sm_swaks_plain -- --from a@skip.e2e.test
check "milter down: Sendmail tempfails (F=T): 451 4.3.2" transcript_has "451 4.3.2 Please try again later"
check "milter down: nothing was accepted" test "$SM_LAST_RC" -ne 0
sleep 1
check "milter down: nothing delivered, nothing queued" test "$(sm_sink_count)" -eq "$before" -a "$(sm_queue_count)" -eq 0
sm_swaks_starttls -- --from a@skip.e2e.test
check "milter down: STARTTLS sessions are tempfailed too" test "$SM_LAST_RC" -ne 0

# ---- nothing left behind ---------------------------------------------------------
sm_stop
check "sm_stop leaves no process of the instance" test -z "$(sm__ns_pids "$SM_MNTNS")"
check "sm_stop closes every listener" \
	bash -c "! grep -qE ':($(printf '%04X|%04X|%04X|%04X|%04X' "$SM_PORT_STARTTLS" "$SM_PORT_STARTTLS2" "$SM_PORT_IMPLICIT" "$SM_PORT_SINK" "${SM_PORT_IPV6:-0}")) 0+:0000 0A' /proc/net/tcp /proc/net/tcp6"

echo "# $(( $(date +%s) - T0 )) s"
echo "end-to-end (Sendmail): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
