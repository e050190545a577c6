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
# The shared scenarios are in tests/e2e/milter-checks.sh; this file has the
# Sendmail setup, expectations and scenarios (the extra_* functions).
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
# Two Sendmail behaviours the milter handles (they were bugs once):
#   - STARTTLS before any EHLO, on a listener without M=s, is STARTTLS: the
#     milter reads {daemon_flags} rather than guessing from the first HELO.
#   - {verify}=NOT (Sendmail did not ask for a certificate) is "none".
# shellcheck disable=SC2317  # the extra_* hooks are called by run_scenarios
set -u
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
milter_bin=$(cd "$top_builddir" && pwd)/milter/tlspolicy-milter
# shellcheck source=sendmail-lib.sh
. "$srcdir/tests/e2e/sendmail-lib.sh"
# shellcheck source=milter-checks.sh
. "$srcdir/tests/e2e/milter-checks.sh"

MTA=sm
MTA_NAME=Sendmail
IMPLICIT_LISTENER="MTA-SSL"
LISTENER_STARTTLS=MTA
LISTENER_IMPLICIT="MTA-SSL"
LISTENER_ALT="MTA-ALT"
CERT_UNTRUSTED_GOT="an unverified one"
MILTER_DOWN_HOW=F=T
MILTER_DOWN_REPLY="451 4.3.2 Please try again later"
# Sendmail's own reply format: for 450/550 (also 250/252/553) at RCPT it
# inserts "<rcpt>... " before the text (err.c fmtmsg); not for 530 or 451.
rcpt_reply() { transcript_has "$1 <$2>... $3"; }

W=$(sm_mkworkdir) || give_up "cannot create a work directory"
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- require, plaintext vs STARTTLS vs implicit TLS --------------------------
extra_require_plain() {
	# Postfix has no queue id yet at RCPT; Sendmail assigned one at MAIL FROM ({i}).
	check "audit: the refused message has one record, Sendmail's queue id, the reply sent" audit_ok \
		'[(bool(re.match(r"^[0-9A-Za-z]{14}$", r["queue_id"] or "")), r["outcome"], r["tls"]["how"], r["rcpts"][0]["refused"], r["rcpts"][0]["reply"][:9]) for r in R if r["sender"] == "<a@secure.e2e.test>"] == [(True, "rejected", "none", True, "530 5.7.0")]'
	check "require sender, plaintext: Sendmail logs the milter's reject" \
		wait_for 5 sm_log_grep -q "Milter: to=<rcpt@remote.e2e.test>, reject=530 5.7.0 Must issue a STARTTLS"
}
extra_require_starttls() {
	check "require sender, STARTTLS: record has Sendmail's {verify}=NO as none" record_has "via=starttls cipher=\"TLS_AES_256_GCM_SHA384\" bits=256 verify=none"
}

# ---- STARTTLS before any EHLO (Sendmail accepts it) ----------------------------
# The milter sees connect without TLS, then a first HELO that already has
# TLS: the shape of implicit TLS, on a listener (MTA) that is not in
# implicit_tls.
extra_noehlo() {
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
	E2E_LAST_ID=$(sm_new_id)
	E2E_LAST_TRANSCRIPT=$SM_TRANSCRIPT_DIR/starttls-first-$E2E_LAST_ID.log
	python3 "$W/starttls-first.py" "$SM_PORT_STARTTLS" "$E2E_LAST_ID" > "$E2E_LAST_TRANSCRIPT" 2>&1
	E2E_LAST_RC=$?
	E2E_LAST_QUEUEID=$(sm__transcript_queueid "$E2E_LAST_TRANSCRIPT")
	check "STARTTLS before EHLO: Sendmail accepts the session, delivered" delivered
	check "STARTTLS before EHLO: header result=pass" header_has "result=pass"
	check "STARTTLS before EHLO on listener MTA (not in implicit_tls): recorded as starttls" \
		header_has "via=starttls"
}

# ---- client certificates ({verify}, {cn_*}, {cert_*} in xtext) -----------------
extra_cert_trusted() {
	check "trusted certificate: {verify}=OK recorded as verify=ok" record_has 'verify=ok subject="client.e2e.test"'
	check "trusted certificate: issuer CN decoded from xtext (+20)" record_has 'issuer="tlspolicy e2e CA"'
}
# Sendmail, unlike Postfix, passes the names of a certificate it could not
# verify ({verify}=FAIL).
extra_cert_rogue() {
	check "untrusted certificate: recorded as verify=fail with its (unverified) names" \
		milter_line_has 'sender="<a@rogue.e2e.test>"' 'verify=fail subject="rogue.e2e.test" issuer="rogue.e2e.test"'
}

# ---- exempt client; IPv6 client ({client_addr}="IPv6:0:0:0:0:0:0:0:1") --------
extra_exempt_client() {
	check "exempt client: Sendmail gives no verified name ([127.0.0.2], {client_resolve}=FAIL)" \
		record_has 'client="127.0.0.2" client_name=""'
	if [ -z "$SM_PORT_IPV6" ]; then
		echo "# no IPv6 loopback on this machine: the IPv6 client checks do not run"
		return
	fi
	send py-plain --port "$SM_PORT_IPV6" -- --server ::1 --from a@skip.e2e.test
	check "client:::1 require, plaintext over IPv6: 530 naming the client" \
		transcript_has "530 5.7.0 Must issue a STARTTLS command first: TLS required for client ::1"
	check "IPv6: the record has the address as ::1 and listener MTA-V6" \
		milter_line_has 'client="::1" client_name="localhost" helo="client.e2e.test" listener="MTA-V6" tls=none sender="<a@skip.e2e.test>"' 'refused=yes'
	send py-starttls --port "$SM_PORT_IPV6" -- --server ::1 --from a@skip.e2e.test
	check "client:::1 require, STARTTLS over IPv6: delivered" delivered
	check "IPv6 STARTTLS: header says starttls and pass" header_has "result=pass"
}

# ---- quarantine: hf queue files, mailq -qQ ---------------------------------------
hold_reason_is() { sm_hold_reason "$E2E_LAST_QUEUEID" | grep -q "^$1"; }
hold_list_has() { sm_hold_list | grep -q "$1"; }
extra_quarantine() {
	check "action=quarantine: the queue file carries the reason" \
		hold_reason_is "TLS policy: TLS required for mail from quar.e2e.test"
	check "action=quarantine: mailq -qQ lists it" hold_list_has "$E2E_LAST_QUEUEID"
	check "action=quarantine: the held message carries the result header" \
		grep -q '^H??X-TLS-Policy: mx.e2e.test; tls=none; result=fail action=quarantine' "$SM_QUEUE_DIR/hf$E2E_LAST_QUEUEID"
}

# Sendmail refuses a HELO name with anything but letters, digits and "-.[]:"
# (501 5.0.0 Invalid domain name): the milter never sees it (the hostile
# string comes in the envelope sender instead: scenario_hostile_sender).
extra_hostile_helo() {
	send plain -- --ehlo 'evil"helo\x\\ session=forged' --from hostile@skip.e2e.test --quit-after EHLO
	check "hostile HELO: Sendmail itself refuses it before the milter sees it" \
		transcript_has "501 5.0.0 Invalid domain name"
}

extra_graceful_stop() {
	# ---- client host name rules: Sendmail's {client_name} + {client_resolve} ---
	write_policy "client:localhost             require"
	start_milter || give_up "cannot restart the milter"
	send plain -- --from a@skip.e2e.test
	check "client:localhost (verified PTR, {client_resolve}=OK) applies" \
		transcript_has "530 5.7.0 Must issue a STARTTLS command first: TLS required for client localhost"
	send plain -- --from a@skip.e2e.test --local-interface 127.0.0.2
	check "client name rule does not match [127.0.0.2] (exempt there): delivered" delivered

	# ---- Sendmail not asking for a client certificate: {verify}=NOT ------------
	# confTLS_SRV_OPTIONS `V': no certificate is requested, so none is presented.
	sm_stop
	SM_EXTRA_MC="define(\`confTLS_SRV_OPTIONS', \`V')dnl"
	sm_start || give_up "cannot restart Sendmail without client certificate requests"
	send starttls --cert trusted -- --from not@verify.e2e.test
	check "{verify}=NOT: verify=yes refused (never counts as verified)" transcript_has "550 5.7.1"
	check "{verify}=NOT (no certificate requested): reply says none was presented" \
		rcpt_reply "550 5.7.1" rcpt@remote.e2e.test "verified client certificate required for mail from verify.e2e.test, got none"
	check "{verify}=NOT: recorded as verify=none, not unknown" \
		sender_record_has "<not@verify.e2e.test>" "verify=none"
	sm_stop
	SM_EXTRA_MC=
	sm_start || give_up "cannot restart Sendmail"
}

# ---- nothing left behind ---------------------------------------------------------
extra_milter_down() {
	sm_stop
	check "sm_stop leaves no process of the instance" test -z "$(sm__ns_pids "$SM_MNTNS")"
	check "sm_stop closes every listener" \
		bash -c "! grep -qE ':($(printf '%04X|%04X|%04X|%04X|%04X' "$SM_PORT_STARTTLS" "$SM_PORT_STARTTLS2" "$SM_PORT_IMPLICIT" "$SM_PORT_SINK" "${SM_PORT_IPV6:-0}")) 0+:0000 0A' /proc/net/tcp /proc/net/tcp6"
}

refusals_at_start
setup_instance 'inet:%s@127.0.0.1'
echo "# Sendmail $(sm_sendmail -d0.1 -bt </dev/null 2>/dev/null | sed -n 's/^Version //p' | head -1) on 127.0.0.1: STARTTLS $SM_PORT_STARTTLS, implicit TLS (M=s) $SM_PORT_IMPLICIT, work dir $W"
run_scenarios
finish
