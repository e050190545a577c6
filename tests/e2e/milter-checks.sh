# shellcheck shell=bash disable=SC2154  # srcdir, top_builddir, milter_bin: set by the test script
# tests/e2e/milter-checks.sh -- the end-to-end scenarios of tlspolicy-milter
# that every MTA runs, and the assertion helpers, for t-postfix.sh and
# t-sendmail.sh.  A test script sources its MTA harness (postfix-lib.sh,
# sendmail-lib.sh) and this file, sets what differs, then:
#
#     W=...; trap cleanup EXIT; trap 'exit 130' INT TERM
#     refusals_at_start
#     setup_instance 'inet:127.0.0.1:%s'   # the milter socket, in MTA syntax
#     run_scenarios                          # the shared scenarios in order
#     finish                                 # summary line, exit status
#
# Set by the test script (before run_scenarios):
#   MTA          harness prefix: pf | sm (the client is ${MTA}_swaks_plain, ...)
#   MTA_NAME     Postfix | Sendmail ("end-to-end (MTA_NAME): N passed, M failed")
#   srcdir top_builddir milter_bin W
#   IMPLICIT_LISTENER  the milter's implicit_tls (the implicit TLS listener)
#   LISTENER_STARTTLS LISTENER_IMPLICIT LISTENER_ALT
#                the listener name ({daemon_name}) the milter records for
#                the STARTTLS, implicit TLS and second STARTTLS listener
#   CERT_UNTRUSTED_GOT  what a cert_subject reply says about an untrusted
#                (self-signed) client certificate: "none" when the MTA does
#                not pass its names, "an unverified one" when it does
#   MILTER_DOWN_HOW MILTER_DOWN_REPLY
#                why and how the MTA tempfails a session when the milter is
#                down (check name; the text the transcript must have)
#   rcpt_reply CODE RCPT TEXT   (function) the client got the milter's
#                CODE reply TEXT to RCPT TO:<RCPT>, in the MTA's format
#   extra_NAME   (functions, optional) the MTA's own checks, run by
#                run_scenarios right after the shared scenario NAME (see
#                run_scenarios for the names; hostile_helo has no shared part)
#
# E2E_EARLY_EVENTS=no (tests/e2e/t-early-events.sh) runs the milter with
# early_events = no: no connect, HELO or MAIL events, everything read at RCPT
# TO; implicit TLS is then told by the listener's port (implicit_tls), the
# scenarios that do not depend on the events are left out, and a session
# without a recipient has no record.
#
# Output: one "ok   NAME" or "FAIL NAME" line per check (a failure adds the
# tail of the client transcript and of the milter log), "# ..." notes, and
# last "end-to-end (MTA_NAME): N passed, M failed"; finish exits non-zero if
# anything failed, give_up when the instance cannot be run at all.

EARLY_EVENTS=${E2E_EARLY_EVENTS:-yes}
passed=0
failed=0
milter_pid=
T0=$(date +%s)

# ---------------------------------------------------------------------------
# the MTA harness

# mta NAME ARGS...: the harness function ${MTA}_NAME (sink_count, hold_count,
# queue_count, wait_queue_empty, stop, start, ...).
mta() { "${MTA}_$1" "${@:2}"; }
# send plain|starttls|implicit|noehlo [OPTS] [--] [ARGS...]: a client session
# (swaks; noehlo: the python client with no EHLO after STARTTLS).  Its id,
# transcript, exit code and queue id are in E2E_LAST_ID, E2E_LAST_TRANSCRIPT,
# E2E_LAST_RC, E2E_LAST_QUEUEID.
send() {
	local kind=$1
	shift
	case $kind in
		noehlo) "${MTA}_starttls_noehlo" "$@" ;;
		py-*) "${MTA}_smtp_py" "${kind#py-}" "$@" ;;
		*) "${MTA}_swaks_$kind" "$@" ;;
	esac
}
# mta_var NAME: the value of the harness variable ${MTA^^}_NAME.
mta_var() { local v=${MTA^^}_$1; printf '%s' "${!v:-}"; }

cleanup() {
	[ -n "$milter_pid" ] && kill "$milter_pid" 2>/dev/null && wait "$milter_pid" 2>/dev/null
	mta stop
	if [ "$failed" -eq 0 ] && [ -z "${KEEP_E2E:-}" ]; then rm -rf "$W"; else echo "kept $W"; fi
}

# ---------------------------------------------------------------------------
# assertions

ok() { passed=$((passed + 1)); echo "ok   $*"; }
not_ok() {
	failed=$((failed + 1)); echo "FAIL $*"
	[ -n "${E2E_LAST_TRANSCRIPT:-}" ] && sed 's/^/     | /' "$E2E_LAST_TRANSCRIPT" | tail -15
	tail -5 "$W/milter.log" | sed 's/^/     m /'
}
# check NAME COMMAND...: one assertion
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
# Known milter problem: the check runs (and fails) until it is fixed.
summary() { echo "end-to-end ($MTA_NAME$([ "$EARLY_EVENTS" = yes ] || echo ', early_events = no')): $passed passed, $failed failed"; }
give_up() {
	echo "$*"
	failed=$((failed + 1))
	summary
	exit 1
}
finish() {
	echo "# $(( $(date +%s) - T0 )) s"
	summary
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}
wait_for() { local t=$1; shift; local i; for i in $(seq $((t * 10))); do "$@" && return 0; sleep 0.1; done; return 1; }
transcript_has() { grep -qF -- "$1" "$E2E_LAST_TRANSCRIPT"; }
swaks_rc() { local want=$1; shift; "$@"; [ "$E2E_LAST_RC" -eq "$want" ]; }
delivered() { mta wait_sink "X-E2E-Id: $E2E_LAST_ID" 15 >/dev/null 2>&1; }
delivered_file() { mta sink_file_for "X-E2E-Id: $E2E_LAST_ID" 2>/dev/null; }
not_delivered() { sleep 1; ! mta sink_grep "X-E2E-Id: $E2E_LAST_ID" >/dev/null; }
header_has() { local f; delivered && f=$(delivered_file) && grep -i '^X-TLS-Policy:' "$f" | grep -qF -- "$1"; }
milter_log_has() { wait_for 10 grep -qF -- "$1" "$W/milter.log"; }
# milter_line_has A B: some log line has both
# shellcheck disable=SC2016  # $1..$3 are the inner shell's
milter_line_has() { wait_for 10 bash -c 'grep -F -- "$1" "$3" | grep -qF -- "$2"' _ "$1" "$2" "$W/milter.log"; }
# record_has TEXT: the decision line of the last message (by its queue id)
# has TEXT (waits for the line to appear, then checks once: a wrong value
# fails fast)
record_has() {
	wait_for 10 grep -qF -- "queue_id=\"$E2E_LAST_QUEUEID\"" "$W/milter.log" &&
		grep -F -- "queue_id=\"$E2E_LAST_QUEUEID\"" "$W/milter.log" | grep -qF -- "$1"
}
# sender_record_has SENDER TEXT: the decision line of SENDER (a refused
# message may have no queue id the client could see) has TEXT
sender_record_has() {
	wait_for 10 grep -qF -- "sender=\"$1\"" "$W/milter.log" &&
		grep -F -- "sender=\"$1\"" "$W/milter.log" | grep -qF -- "$2"
}
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
# metric SAMPLE: its value in the metrics file (the Prometheus text), 0 if
# it is not there; metric_is SAMPLE VALUE: it has VALUE once a SIGUSR2 has
# written the file (a session is counted when it ends, after the client's
# QUIT: written again until then).
metric() { awk -v s="$1" '$1 == s { v = $2 } END { print v + 0 }' "$W/tlspolicy.prom" 2>/dev/null; }
metric_now() { kill -USR2 "$milter_pid"; sleep 0.2; test "$(metric "$1")" "$2" "$3"; }
metric_is() { wait_for 10 metric_now "$1" -eq "$2"; }

# ---------------------------------------------------------------------------
# the milter

# write_policy EXTRA-LINE: the test policy (line 3 is the secure.e2e.test rule)
write_policy() {
	cat > "$W/policy.conf" <<POLICY
# generated by ${0##*/}
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
	mta wait_listen "$milter_port" 10
}

# stop_milter_hard: SIGKILL the running milter, if any.  SIGKILL because
# libmilter takes ~5 s to notice SIGTERM (its accept loop's poll timeout);
# the graceful stop has its own check.
stop_milter_hard() {
	[ -n "$milter_pid" ] || return 0
	kill -9 "$milter_pid"; wait "$milter_pid" 2>/dev/null; milter_pid=
}

# ---------------------------------------------------------------------------
# set up

refusals_at_start() {
	[ -x "$milter_bin" ] || give_up "no milter binary at $milter_bin: build first"
	check "as root without -u or allow_root the daemon refuses to start" \
		bash -c "'$milter_bin' -F -p inet:1@127.0.0.1 -f '$srcdir/tests/data/good.policy' -a none 2>&1 | grep -q 'refusing to run as root'"
	check "a policy with errors stops the daemon at start, every error named" \
		bash -c "'$milter_bin' -F --allow-root -p inet:1@127.0.0.1 -f '$srcdir/tests/data/bad.policy' -a none 2>&1 | grep -c 'bad.policy:[0-9]*: ' | grep -qx 5"
}

# early_events_conf: the config line of E2E_EARLY_EVENTS (none by default)
early_events_conf() { [ "$EARLY_EVENTS" = yes ] || echo "early_events = no"; }
# early_events_implicit: ", PORT" of the implicit TLS listener without the
# connect event, where only the listener tells
early_events_implicit() { [ "$EARLY_EVENTS" = yes ] || printf ', %s' "$(mta_var PORT_IMPLICIT)"; }

# setup_instance SOCKET-FORMAT: the MTA with the milter at a free port
# (SOCKET-FORMAT: printf format of the MTA's milter socket, %s the port)
setup_instance() {
	# in this shell, not $(...): the harness remembers the ports it handed out
	mta free_port >"$W/milter.port" || give_up "no free port"
	read -r milter_port <"$W/milter.port"
	# shellcheck disable=SC2059  # the format is the argument
	mta setup "$W" "$(printf "$1" "$milter_port")" || give_up "cannot set up $MTA_NAME (see above)"
	write_policy ""
	mkdir -p "$W/audit"
	write_audit_checker
	printf 'implicit_tls = %s\nhostname = mx.e2e.test\nallow_root = yes\naudit_log = %s\nstats_file = %s\nstats_interval = 0\nmetrics_file = %s\n%s\n' \
		"$IMPLICIT_LISTENER$(early_events_implicit)" "$W/audit/audit.jsonl" "$W/status" \
		"$W/tlspolicy.prom" "$(early_events_conf)" > "$W/milter.conf"
	start_milter || { cat "$W/milter.log"; give_up "cannot start the milter"; }
	mta start || give_up "cannot start $MTA_NAME (see above)"
}

# ---------------------------------------------------------------------------
# the scenarios, in the order run_scenarios runs them

# ---- require, plaintext vs STARTTLS vs implicit TLS --------------------------
scenario_require_plain() {
	send plain -- --from a@secure.e2e.test
	check "require sender, plaintext: 530 5.7.0 at RCPT TO" \
		transcript_has "530 5.7.0 Must issue a STARTTLS command first: TLS required for mail from secure.e2e.test"
	check "require sender, plaintext: swaks sees the RCPT refused" test "$E2E_LAST_RC" -eq 24
}
scenario_require_starttls() {
	send starttls -- --from a@secure.e2e.test
	check "require sender, STARTTLS: accepted" test "$E2E_LAST_RC" -eq 0
	check "require sender, STARTTLS: delivered" delivered
	check "require sender, STARTTLS: header says starttls and pass" header_has "via=starttls"
	check "require sender, STARTTLS: header result" header_has "result=pass"
	check "audit: accepted record with queue id, TLS, rule, schema fields" audit_ok \
		'[(r["outcome"], r["tls"]["how"], r["tls"]["version"], r["rcpts"][0]["result"], r["rcpts"][0]["decided_by"].endswith("policy.conf:3"), r["sender_domain"], r["rcpts"][0]["domain"], r["policy"]["generation"], bool(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", r["time"]))) for r in R if r["queue_id"] == "'"$E2E_LAST_QUEUEID"'"] == [("accepted", "starttls", "TLSv1.3", "pass", True, "secure.e2e.test", "remote.e2e.test", 1, True)]'
	check "require sender, STARTTLS: record has listener $LISTENER_STARTTLS" record_has "listener=\"$LISTENER_STARTTLS\""
}
scenario_require_implicit() {
	send implicit -- --from a@secure.e2e.test
	check "require sender, implicit TLS: delivered" delivered
	check "require sender, implicit TLS: header says implicit" header_has "via=implicit"
	check "audit: implicit TLS recorded" audit_ok '[r["tls"]["how"] for r in R if r["queue_id"] == "'"$E2E_LAST_QUEUEID"'"] == ["implicit"]'
	check "require sender, implicit TLS: log record says implicit" \
		milter_line_has "queue_id=\"$E2E_LAST_QUEUEID\"" "via=implicit"
	check "require sender, implicit TLS: record has listener $LISTENER_IMPLICIT" record_has "listener=\"$LISTENER_IMPLICIT\""
}
scenario_second_listener() {
	send starttls --port "$(mta_var PORT_STARTTLS2)" -- --from a@secure.e2e.test
	check "STARTTLS on a second listener ($LISTENER_ALT): delivered" delivered
	check "STARTTLS on a second listener: not taken for implicit" record_has "listener=\"$LISTENER_ALT\" tls=\"TLSv1.3\" via=starttls"
}

# ---- TLS version -------------------------------------------------------------
scenario_tls_version() {
	send starttls --tls-version tlsv1_2 -- --from a@v13.e2e.test
	check "min_version=TLSv1.3 with a TLS 1.2 client: 550 naming both" \
		rcpt_reply "550 5.7.1" rcpt@remote.e2e.test "TLSv1.3 required for mail from v13.e2e.test, got TLSv1.2"
	send starttls --tls-version tlsv1_3 -- --from a@v13.e2e.test
	check "min_version=TLSv1.3 with TLS 1.3: delivered" delivered
}

# ---- per-recipient enforcement -----------------------------------------------
scenario_per_recipient() {
	local f form
	send plain -- --from a@other.e2e.test --to x@vault.e2e.test,y@remote.e2e.test
	check "required recipient refused in plaintext" transcript_has "530 5.7.0 Must issue a STARTTLS command first: TLS required for mail to vault.e2e.test"
	check "the other recipient of the message is delivered" delivered
	f=$(delivered_file)
	check "only the unrequired recipient got it" \
		bash -c "grep '^X-Rcpt-Args:' '$f' | grep -q 'y@remote.e2e.test' && ! grep '^X-Rcpt-Args:' '$f' | grep -q 'x@vault.e2e.test'"
	# The MTA takes these forms for the mailbox inside; so must the rules.
	for form in 'x@vault.e2e.test(a comment)' '"x"@vault.e2e.test' 'x@vault\.e2e.test'; do
		send plain -- --from a@other.e2e.test --to "$form"
		check "a required recipient written $form: still refused" \
			transcript_has "530 5.7.0 Must issue a STARTTLS command first: TLS required for mail to vault.e2e.test"
	done
	# Not plainly one mailbox: the MTA may take one, the milter does not guess.
	send plain -- --from a@other.e2e.test --to 'x@vault.e2e.test;'
	check "a recipient written as a group: tempfailed, with the reason" \
		transcript_has "451 4.3.0 TLS policy temporarily unavailable: recipient address cannot be read"
	send plain -- --from a@secure.e2e.test --to postmaster@remote.e2e.test
	check "exempt postmaster gets plaintext mail from a require sender" delivered
	check "exempt postmaster: header result=exempt" header_has "result=exempt"
	# Every recipient up to the MTA's own limit (Postfix: 1000) is decided.
	send plain -- --from a@other.e2e.test --to "$(seq -f 'r%g@remote.e2e.test' -s, 600)"
	check "600 recipients in one message: none tempfailed" \
		bash -c '[ "$(grep -c "^<[-~] *250 2.1.5" "$1")" -eq 600 ] && ! grep -q "^<[-~] *452" "$1"' _ "$E2E_LAST_TRANSCRIPT"
	check "600 recipients in one message: delivered" delivered
}

# ---- STARTTLS then MAIL with no second EHLO -----------------------------------
scenario_noehlo() {
	send noehlo -- --from a@secure.e2e.test
	check "STARTTLS, no second EHLO: client did EHLO, STARTTLS, MAIL" \
		bash -c "[ \$(grep -c '^ *[-~]> EHLO' '$E2E_LAST_TRANSCRIPT') -eq 1 ] && grep -q '~> MAIL FROM' '$E2E_LAST_TRANSCRIPT'"
	check "STARTTLS, no second EHLO: counts as TLS, delivered" delivered
	check "STARTTLS, no second EHLO: header says starttls" header_has "via=starttls"
}

# ---- client certificates -----------------------------------------------------
scenario_cert_trusted() {
	send starttls --cert trusted -- --from a@cert.e2e.test
	check "cert_subject with the right client certificate: delivered" delivered
	check "cert_subject: header records the subject" header_has 'subject="client.e2e.test"'
	check "audit: certificate recorded" audit_ok '[(r["tls"]["verify"], r["tls"]["subject"], r["tls"]["issuer"]) for r in R if r["queue_id"] == "'"$E2E_LAST_QUEUEID"'"] == [("ok", "client.e2e.test", "tlspolicy e2e CA")]'
}
scenario_cert_other() {
	send starttls --cert untrusted -- --from a@cert.e2e.test
	check "cert_subject with an untrusted certificate: 550, got $CERT_UNTRUSTED_GOT" \
		rcpt_reply "550 5.7.1" rcpt@remote.e2e.test "verified client certificate required for mail from cert.e2e.test, got $CERT_UNTRUSTED_GOT"
	send starttls --cert none -- --from a@cert.e2e.test
	check "cert_subject with no certificate: refused" swaks_rc 24 true
	check "cert_subject with no certificate: says none" \
		rcpt_reply "550 5.7.1" rcpt@remote.e2e.test "verified client certificate required for mail from cert.e2e.test, got none"
	send starttls --cert trusted -- --from a@verify.e2e.test
	check "verify=yes with a trusted certificate: delivered" delivered
	send starttls --cert untrusted -- --from a@verify.e2e.test
	check "verify=yes with an untrusted certificate: refused" transcript_has "550 5.7.1"
}
# An MTA may pass the names of a certificate it could not verify: they must
# never satisfy cert_subject.
scenario_cert_rogue() {
	send starttls --cert untrusted -- --from a@rogue.e2e.test
	check "cert_subject naming the untrusted certificate's own CN: still refused" \
		rcpt_reply "550 5.7.1" rcpt@remote.e2e.test "verified client certificate required for mail from rogue.e2e.test, got $CERT_UNTRUSTED_GOT"
}
scenario_cert_more() {
	send implicit --cert trusted -- --from a@cert.e2e.test
	check "cert_subject over implicit TLS with the right certificate: delivered" delivered
	send starttls --cert trusted -- --from a@issuer.e2e.test
	check "cert_issuer with spaces: delivered" delivered
	send starttls --cert untrusted -- --from a@issuer.e2e.test
	check "cert_issuer with the rogue certificate: refused" transcript_has "550 5.7.1"
}

# ---- exempt client, prefer, skip, testing, tempfail, quarantine, tag ------------
scenario_exempt_client() {
	send plain -- --from a@secure.e2e.test --local-interface 127.0.0.2
	check "exempt client (127.0.0.2) in plaintext from a require sender: delivered" delivered
	check "exempt client: header result=exempt" header_has "result=exempt"
}
scenario_prefer_skip_testing() {
	send plain -- --from a@pref.e2e.test
	check "prefer in plaintext: delivered" delivered
	check "prefer in plaintext: recorded as unmet" header_has "result=unmet-prefer"
	send plain -- --from a@skip.e2e.test
	check "skip: delivered, result=skip" header_has "result=skip"
	send plain -- --from a@test.e2e.test
	check "mode=testing in plaintext: delivered" delivered
	check "audit: testing recorded as a failure that was not acted on" audit_ok \
		'[(r["outcome"], x["result"], x["action"], x["testing"], x["refused"]) for r in R for x in r["rcpts"] if r["sender"] == "<a@test.e2e.test>"] == [("accepted", "fail", "reject", True, False)]'
	check "mode=testing: logged as a testing failure" milter_log_has 'sender="<a@test.e2e.test>" rcpt="<rcpt@remote.e2e.test>" level=require result=fail action=reject testing=yes'
}
scenario_tempfail() {
	send plain -- --from a@temp.e2e.test
	check "action=tempfail: 450 4.7.0" rcpt_reply "450 4.7.0" rcpt@remote.e2e.test "Must issue a STARTTLS command first: TLS required for mail from temp.e2e.test"
	check "audit: tempfailed record" audit_ok \
		'[(r["outcome"], r["rcpts"][0]["reply"][:9]) for r in R if r["sender"] == "<a@temp.e2e.test>"] == [("tempfailed", "450 4.7.0")]'
}
held() { [ "$(mta hold_count)" -gt "$holds" ]; }
scenario_quarantine() {
	holds=$(mta hold_count)
	send plain -- --from a@quar.e2e.test
	check "action=quarantine: accepted" test "$E2E_LAST_RC" -eq 0
	check "action=quarantine: held by $MTA_NAME" wait_for 10 held
	check "action=quarantine: not delivered" not_delivered
	check "action=quarantine: logged" milter_log_has "outcome=quarantined"
	check "audit: quarantined record" audit_ok \
		'[r["outcome"] for r in R if r["sender"] == "<a@quar.e2e.test>"] == ["quarantined"]'
}

# ---- abort, a session without a message, hostile input -----------------------
scenario_abort_nomessage() {
	send plain -- --from abort@skip.e2e.test --quit-after RCPT
	check "audit: a message abandoned after RCPT TO is recorded as aborted" audit_ok \
		'[r["outcome"] for r in R if r["sender"] == "<abort@skip.e2e.test>"] == ["aborted"]'
	send plain -- --ehlo nomessage.e2e.test --quit-after EHLO
	if [ "$EARLY_EVENTS" = yes ]; then
		check "audit: a session without a message gets one record" audit_ok \
			'[(r["outcome"], r["rcpts"], r["sender"]) for r in R if r["client"]["helo"] == "nomessage.e2e.test"] == [("no-message", [], None)]'
	else
		# a message after it, so that its record would have been written
		send plain -- --from after-nomessage@skip.e2e.test
		check "early_events = no: a session without a recipient has no record" audit_ok \
			'[r["outcome"] for r in R if r["outcome"] == "no-message" or r["sender"] == "<after-nomessage@skip.e2e.test>"] == ["accepted"]'
	fi
}
# (What an MTA does with a hostile HELO name is its own: extra_hostile_helo.)
# A hostile envelope sender comes through every MTA: a quoted local part
# with a quote, a backslash, a space and a fake key=value.
scenario_hostile_sender() {
	send plain -- --from '"evil\"x\\ session=forged"@skip.e2e.test'
	check "hostile sender: delivered" delivered
	check "audit: hostile sender kept exactly, as valid JSON" audit_ok \
		'[r["sender"] for r in R if r["queue_id"] == "'"$E2E_LAST_QUEUEID"'"] == ["<\"evil\\\"x\\\\ session=forged\"@skip.e2e.test>"]'
	check "syslog line: hostile sender escaped, no forged field" \
		milter_line_has "queue_id=\"$E2E_LAST_QUEUEID\"" 'sender="<\"evil\\\"x\\\\ session=forged\"@skip.e2e.test>"'
}
scenario_tag() {
	send plain -- --from a@tag.e2e.test
	check "action=tag: delivered" delivered
	check "action=tag: header records the failure" header_has "result=fail action=tag"
}

# ---- forged header -----------------------------------------------------------
scenario_forged_header() {
	local f form
	send starttls -- --from a@secure.e2e.test --add-header "X-TLS-Policy: forged result=pass"
	check "forged header: delivered" delivered
	f=$(delivered_file)
	check "forged header: exactly one result header, ours" \
		bash -c "[ \$(grep -ci '^X-TLS-Policy:' '$f') -eq 1 ] && ! grep -q forged '$f'"
	check "forged header: removal logged" milter_log_has "removed=1 forged X-TLS-Policy"
}

# ---- the metrics file: the counters move as mail goes through ------------------
scenario_metrics() {
	local ctl="$top_builddir/ctl/tlspolicyctl" sample
	local starttls='tlspolicy_sessions_total{tls="starttls"}' accepted='tlspolicy_messages_total{outcome="accepted"}'
	local pass='tlspolicy_decisions_total{level="require",result="pass",action="none",testing="no"}'
	local s0 a0 p0
	metric_now tlspolicy_up -eq 1
	s0=$(metric "$starttls") a0=$(metric "$accepted") p0=$(metric "$pass")
	send starttls -- --from metrics@secure.e2e.test
	check "metrics: one STARTTLS message, delivered" delivered
	check "metrics: $accepted one more" metric_is "$accepted" $((a0 + 1))
	check "metrics: $pass one more" metric_is "$pass" $((p0 + 1))
	check "metrics: $starttls one more" metric_is "$starttls" $((s0 + 1))
	# What the scenarios so far sent: every kind of session, refusals.
	for sample in 'tlspolicy_sessions_total{tls="none"}' 'tlspolicy_sessions_total{tls="implicit"}' \
		'tlspolicy_tls_version_total{version="TLSv1.3"}' 'tlspolicy_tls_version_total{version="TLSv1.2"}' \
		'tlspolicy_decisions_total{level="require",result="fail",action="reject",testing="no"}' \
		'tlspolicy_decisions_total{level="require",result="fail",action="reject",testing="yes"}' \
		'tlspolicy_decisions_total{level="exempt",result="exempt",action="none",testing="no"}' \
		'tlspolicy_messages_total{outcome="quarantined"}' 'tlspolicy_audit_records_total{status="written"}'; do
		check "metrics: $sample counted" metric_now "$sample" -gt 0
	done
	check "metrics: promtool check metrics finds nothing wrong" sh -c "promtool check metrics <'$W/tlspolicy.prom'"
	check "metrics: tlspolicyctl status --prometheus prints the metrics file" \
		wait_for 10 sh -c "kill -USR2 $milter_pid; sleep 0.2; '$ctl' status --status '$W/status' --prometheus | cmp -s - '$W/tlspolicy.prom'"
}

# ---- audit log rotation, loss when it cannot be written, status ----------------
scenario_audit_status() {
	local ctl="$top_builddir/ctl/tlspolicyctl"
	mv "$W/audit/audit.jsonl" "$W/audit/audit.jsonl.1"
	kill -USR2 "$milter_pid"
	send starttls -- --from rotated@secure.e2e.test
	# Records still queued when the file is moved go to the new file too.
	check "after SIGUSR2 records go to a new file" audit_ok '"<rotated@secure.e2e.test>" in [r["sender"] for r in R]'
	check "after rotation every record is in exactly one of the two files" \
		python3 -c 'import json, sys; a = [l for f in sys.argv[1:] for l in open(f)]; s = [json.loads(l)["session"] + str(json.loads(l)["queue_id"]) for l in a]; sys.exit(len(s) != len(set(s)))' \
		"$W/audit/audit.jsonl.1" "$W/audit/audit.jsonl"
	check "status file: counters" status_has "^decisions_refused=[1-9]"
	check "status file: nothing lost yet" status_has "^audit_lost=0$"
	check "tlspolicyctl status shows the counters" \
		bash -c "'$ctl' status --status '$W/status' | grep -q '^decisions_pass=[1-9]'"
	"$ctl" report "$W/audit/audit.jsonl.1" > "$W/report.txt" 2>&1
	check "tlspolicyctl report: a testing domain is not ready to enforce" \
		grep -q 'sender domain test.e2e.test: 1 of 1 message; not ready to enforce' "$W/report.txt"
	gzip -c "$W/audit/audit.jsonl.1" > "$W/audit.jsonl.1.gz"
	check "tlspolicyctl report reads rotated gzip logs: the same report" \
		bash -c "diff <('$ctl' report --json '$W/audit/audit.jsonl.1' | sed 's/\"files\":[^]]*]//; s/\"first_skipped\":[^,]*//') <('$ctl' report --json '$W/audit.jsonl.1.gz' | sed 's/\"files\":[^]]*]//; s/\"first_skipped\":[^,]*//')"
	rm -rf "$W/audit"
	kill -USR2 "$milter_pid"
	send starttls -- --from lost@secure.e2e.test
	check "audit log directory gone: mail still delivered" delivered
	check "audit log directory gone: the loss is counted" status_has "^audit_lost=[1-9]"
	check "audit log directory gone: warned" milter_log_has "records lost so far"
	mkdir -p "$W/audit"
	kill -USR2 "$milter_pid"
}

# ---- reload under traffic, then a broken reload --------------------------------
scenario_reload() {
	local before load_pid load_rc i broken_line
	mta wait_queue_empty 20 >/dev/null
	before=$(mta sink_count)
	smtp-source -l 512 -m 200 -s 10 -f sender@load.e2e.test -t rcpt@remote.e2e.test \
		"127.0.0.1:$(mta_var PORT_STARTTLS)" >"$W/load.out" 2>&1 &
	load_pid=$!
	for i in 1 2 3 4 5; do
		write_policy "sender:reload$i.e2e.test require"
		kill -USR1 "$milter_pid"
		sleep 0.3
	done
	wait "$load_pid"; load_rc=$?
	mta wait_sink . 60 $((before + 200)) >/dev/null
	mta wait_queue_empty 30 >/dev/null
	check "reload under traffic: smtp-source saw no error" test "$load_rc" -eq 0 -a ! -s "$W/load.out"
	check "reload under traffic: all 200 messages delivered" test "$(( $(mta sink_count) - before ))" -eq 200
	check "audit: exactly one record per message under load" audit_ok \
		'len([r for r in R if r["sender"] == "<sender@load.e2e.test>"]) == 200 and len(set(r["queue_id"] for r in R if r["sender"] == "<sender@load.e2e.test>")) == 200'
	check "status file: reloads counted" status_has "^reloads=5$"
	check "reload under traffic: five generations loaded" milter_log_has "generation 6 in force"
	send plain -- --from a@reload5.e2e.test
	check "the reloaded rule is in force" transcript_has "530 5.7.0"
	printf 'sender:broken.e2e.test requir\n' >> "$W/policy.conf"
	broken_line=$(wc -l < "$W/policy.conf")
	kill -USR1 "$milter_pid"
	check "a broken policy is refused on reload" milter_log_has "reload failed: keeping policy generation 6"
	check "the error names file and line" milter_log_has "policy.conf:$broken_line: sender:broken.e2e.test: unknown level"
	send plain -- --from a@reload5.e2e.test
	check "after a bad reload the old policy stays in force" transcript_has "530 5.7.0"
	send starttls -- --from a@secure.e2e.test
	check "after a bad reload mail still flows" delivered
}

# ---- a graceful stop: nothing leaks, no sanitizer report ------------------------
scenario_graceful_stop() {
	local stop_rc
	kill "$milter_pid"; wait "$milter_pid"; stop_rc=$?
	milter_pid=
	check "SIGTERM stops the milter cleanly" test "$stop_rc" -eq 0
	check "the milter's log has no sanitizer or leak report" \
		bash -c "! grep -qE 'Sanitizer|runtime error|LeakSanitizer' '$W/milter.log'"
}

# ---- dry run -------------------------------------------------------------------
scenario_dry_run() {
	stop_milter_hard
	write_policy ""
	start_milter --dry-run || give_up "cannot restart the milter"
	send plain -- --from a@secure.e2e.test
	check "dry run: a require sender in plaintext is delivered" delivered
	check "dry run: recorded as testing" milter_log_has 'sender="<a@secure.e2e.test>" rcpt="<rcpt@remote.e2e.test>" level=require result=fail action=reject testing=yes'
	send plain -- --from a@other.e2e.test --to 'x@vault.e2e.test;'
	check "dry run: an unreadable recipient is not tempfailed" delivered
	check "dry run: ... but logged as would have tempfailed" \
		milter_log_has 'dry run: would have tempfailed, reason="recipient address cannot be read"'
}

# ---- the milter killed ---------------------------------------------------------
scenario_milter_down() {
	local before
	stop_milter_hard
	mta wait_queue_empty 20 >/dev/null
	before=$(mta sink_count)
	send plain -- --from a@skip.e2e.test
	check "milter down: $MTA_NAME tempfails ($MILTER_DOWN_HOW): ${MILTER_DOWN_REPLY%% [A-Za-z]*}" \
		transcript_has "$MILTER_DOWN_REPLY"
	check "milter down: nothing was accepted" test "$E2E_LAST_RC" -ne 0
	sleep 1
	check "milter down: nothing delivered, nothing queued" test "$(mta sink_count)" -eq "$before" -a "$(mta queue_count)" -eq 0
	send starttls -- --from a@skip.e2e.test
	check "milter down: STARTTLS sessions are tempfailed too" test "$E2E_LAST_RC" -ne 0
}

# run_scenarios: for each NAME, scenario_NAME (the shared checks) if there is
# one, then the test script's extra_NAME if it has one.
run_scenarios() {
	local s list="require_plain require_starttls require_implicit second_listener
		tls_version per_recipient noehlo
		cert_trusted cert_other cert_rogue cert_more
		exempt_client prefer_skip_testing tempfail quarantine
		abort_nomessage hostile_helo hostile_sender tag forged_header
		metrics audit_status reload graceful_stop dry_run milter_down"
	# Without the events: those that read what the events would have said
	# (client, listener, HELO, sender, TLS and how it came, certificates);
	# levels, actions, headers, metrics, reload and the rest are as before
	# (the metrics scenario counts what those left out send).
	[ "$EARLY_EVENTS" = yes ] || list="require_plain require_starttls require_implicit
		second_listener per_recipient noehlo cert_trusted cert_rogue
		exempt_client abort_nomessage hostile_helo hostile_sender"
	for s in $list; do
		if declare -F "scenario_$s" >/dev/null; then "scenario_$s"; fi
		if declare -F "extra_$s" >/dev/null; then "extra_$s"; fi
	done
}
