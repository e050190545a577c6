#!/bin/bash
# End-to-end tests of tlspolicy-milter against a real, private Postfix on
# 127.0.0.1 (tests/e2e/postfix-lib.sh), with real STARTTLS, implicit TLS and
# client certificates, driven by swaks and a python client. Every scenario of
# the milter issue: require/prefer/skip/exempt/testing/tempfail/quarantine/tag,
# per-recipient enforcement, STARTTLS without a second EHLO, certificates,
# forged headers, reload under traffic, a broken reload, the milter killed.
# The scenarios are those of tests/e2e/milter-checks.sh (shared with
# t-sendmail.sh); this file has what is Postfix's own.
#
# Run by "make check" (srcdir, top_builddir from the Makefile). Needs root.
# Prints "end-to-end (Postfix): N passed, M failed" and exits non-zero if
# anything failed or the instance could not be started. Stops everything it
# started.
#
# What differs on Postfix (3.7):
#   - the milter's replies reach the client exactly as set;
#   - a refused message has no queue id yet (Postfix assigns it after RCPT);
#   - {daemon_name} is milter_macro_daemon_name: mx.e2e.test on every
#     listener but the second STARTTLS one (alt.e2e.test), so implicit TLS is
#     told by the listener's service (implicit_tls = smtps, TLS macros at
#     connect on the wrappermode port);
#   - no names of a client certificate Postfix could not verify;
#   - quarantine = the hold queue; a hostile HELO name is passed on;
#   - milter down (milter_default_action=tempfail): "451 4.7.1" at MAIL FROM.
# shellcheck disable=SC2317  # the extra_* hooks are called by run_scenarios
set -u
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
milter_bin=$(cd "$top_builddir" && pwd)/milter/tlspolicy-milter
# shellcheck source=postfix-lib.sh
. "$srcdir/tests/e2e/postfix-lib.sh"
# shellcheck source=milter-checks.sh
. "$srcdir/tests/e2e/milter-checks.sh"

MTA=pf
MTA_NAME=Postfix
IMPLICIT_LISTENER=smtps
LISTENER_STARTTLS=mx.e2e.test
LISTENER_IMPLICIT=mx.e2e.test
LISTENER_ALT=alt.e2e.test
CERT_UNTRUSTED_GOT=none
MILTER_DOWN_HOW=milter_default_action=tempfail
MILTER_DOWN_REPLY="451 4.7.1 Service unavailable - try again later"
# Postfix sends the milter's reply to RCPT TO as it is.
rcpt_reply() { transcript_has "$1 $3"; }

W=$(mktemp -d /var/tmp/tlspolicy-e2e.XXXXXX) || give_up "cannot create a work directory"
trap cleanup EXIT
trap 'exit 130' INT TERM

extra_require_plain() {
	check "audit: the refused message has one record, no queue id, the reply sent" audit_ok \
		'[(r["queue_id"], r["outcome"], r["tls"]["how"], r["rcpts"][0]["refused"], r["rcpts"][0]["reply"][:9]) for r in R if r["sender"] == "<a@secure.e2e.test>"] == [(None, "rejected", "none", True, "530 5.7.0")]'
}

extra_quarantine() {
	check "action=quarantine: in Postfix's hold queue" \
		bash -c "postqueue -c '$PF_CONF_DIR' -p | grep -q '^$PF_LAST_QUEUEID!'"
}

# Postfix passes any HELO name on: the milter must log and record it safely.
# Not at RCPT TO (it has no macro for it): with early_events = no, none.
extra_hostile_helo() {
	send plain -- --ehlo 'evil"helo\x\\ session=forged' --from hostile@skip.e2e.test
	check "hostile HELO: delivered" delivered
	if [ "$EARLY_EVENTS" = no ]; then
		check "early_events = no: Postfix passes no HELO name at RCPT TO, none recorded" audit_ok \
			'[r["client"]["helo"] for r in R if r["queue_id"] == "'"$E2E_LAST_QUEUEID"'"] == [None]'
		return
	fi
	check "audit: hostile HELO kept exactly, as valid JSON" audit_ok \
		'[r["client"]["helo"] for r in R if r["queue_id"] == "'"$E2E_LAST_QUEUEID"'"] == ["evil\"helo\\x\\\\ session=forged"]'
	check "syslog line: hostile HELO escaped, no forged field" \
		milter_line_has "queue_id=\"$E2E_LAST_QUEUEID\"" 'helo="evil\"helo\\x\\\\ session=forged"'
}

# unix_milter DIR CONF: a milter in the foreground on unix:DIR/milter.sock
# with the config line CONF too; its pid in upid. False, its log shown, if
# it did not start.
unix_milter() {
	local d=$1
	mkdir -p "$d"
	chmod 755 "$d"
	printf 'allow_root = yes\nsocket_group = postfix\naudit_log = none\nstats_file =\nhostname = mx.e2e.test\n%s\n%s\n' \
		"$2" "$(early_events_conf)" >"$d/milter.conf"
	"$milter_bin" -F -p "unix:$d/milter.sock" -f "$W/policy.conf" -c "$d/milter.conf" >"$d/milter.log" 2>&1 &
	upid=$!
	mta wait_listen "unix:$d/milter.sock" 10 && return 0
	cat "$d/milter.log"
	kill "$upid" 2>/dev/null
	wait "$upid" 2>/dev/null
	upid=
	return 1
}

# Over a unix: socket there is no Nagle, so the milter negotiates DATA away
# (three replies a message, not four): it must decide at RCPT TO and add its
# header at end of message all the same. Run last, with the inet: milter
# gone (scenario milter_down).
unix_socket_checks() {
	local d=$W/unix upid lines
	if ! unix_milter "$d" ""; then
		not_ok "unix: socket: the milter did not start"
		return
	fi
	pf_postconf "smtpd_milters = unix:$d/milter.sock"
	pf_reload
	sleep 1
	send plain -- --from a@secure.e2e.test
	check "unix: socket: require sender, plaintext: 530 5.7.0 at RCPT TO" \
		transcript_has "530 5.7.0 Must issue a STARTTLS command first"
	send starttls -- --from a@secure.e2e.test
	check "unix: socket: the same over STARTTLS: delivered" delivered
	check "unix: socket: with our header" header_has "result=pass"
	lines=$(grep -c "session=" "$d/milter.log")
	check "unix: socket: both decisions logged by that milter" test "$lines" -ge 2
	kill -9 "$upid"
	wait "$upid" 2>/dev/null
}

# strip_header = mta with the header_checks line of contrib/postfix: Postfix
# removes the copy of the result header a client sends (header_checks apply
# to the message as received), before the milter could see it, and keeps
# the header the milter adds (header_checks never see milter headers).
strip_header_checks() {
	local d=$W/strip upid f
	if ! unix_milter "$d" "strip_header = mta"; then
		not_ok "strip_header = mta: the milter did not start"
		return
	fi
	printf '/^X-TLS-Policy[[:blank:]]*:/ IGNORE\n' >"$d/header_checks"
	pf_postconf "smtpd_milters = unix:$d/milter.sock" "header_checks = regexp:$d/header_checks"
	pf_reload
	sleep 1
	send starttls -- --from a@secure.e2e.test --add-header "X-TLS-Policy: forged result=pass"
	check "strip_header = mta: delivered" delivered
	f=$(delivered_file)
	check "strip_header = mta: one result header, the milter's, the forged copy gone" \
		bash -c "[ \$(grep -ci '^X-TLS-Policy:' '$f') -eq 1 ] && grep -qi '^X-TLS-Policy: mx.e2e.test;' '$f' && ! grep -q forged '$f'"
	check "strip_header = mta: Postfix removed it, not the milter" \
		bash -c "grep -q 'session=' '$d/milter.log' && ! grep -q 'forged X-TLS-Policy' '$d/milter.log'"
	kill -9 "$upid"
	wait "$upid" 2>/dev/null
	pf_postconf "header_checks ="
	pf_reload
}

refusals_at_start
setup_instance 'inet:127.0.0.1:%s'
run_scenarios
unix_socket_checks
strip_header_checks
finish
