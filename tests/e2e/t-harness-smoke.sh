#!/usr/bin/env bash
# tests/e2e/t-harness-smoke.sh -- smoke test of tests/e2e/postfix-lib.sh.
#
# Starts a private Postfix on 127.0.0.1 WITHOUT a milter, sends one message
# each: plaintext, STARTTLS, implicit TLS (pinned to TLS 1.2), STARTTLS with
# the trusted client certificate, STARTTLS with the untrusted (self-signed)
# client certificate, STARTTLS on the second listener, and EHLO/STARTTLS/MAIL
# with no second EHLO (python client); asserts that all arrive at smtp-sink
# (by unique id), that the Postfix log shows the expected TLS state of each
# session ("Trusted"/"Untrusted"/"Anonymous"/none), then stops everything and
# checks that nothing is left running.
#
# Run as root.  Exit 0 on success; non-zero with "FAIL: ..." plus the tail of
# the Postfix log on failure.  Environment:
#   E2E_WORKDIR   use this directory (created if missing) instead of a fresh
#                 mktemp -d under /var/tmp
#   E2E_KEEP=1    keep the work directory even on success
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=postfix-lib.sh
. "$HERE/postfix-lib.sh"

T0=$(date +%s.%N)
STATUS=1
if [ -n "${E2E_WORKDIR:-}" ]; then
    W=$E2E_WORKDIR
    mkdir -p "$W"
else
    W=$(mktemp -d /var/tmp/tlspolicy-e2e-smoke.XXXXXX) || exit 1
fi
chmod 755 "$W"

# shellcheck disable=SC2317  # invoked via trap
cleanup() {
    pf_stop
    if [ "$STATUS" -eq 0 ] && [ -z "${E2E_KEEP:-}" ] && [ -z "${E2E_WORKDIR:-}" ]; then
        rm -rf "$W"
    else
        echo "work directory kept: $W" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
    pf_fail "$*"
    exit 1
}

elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }

pf_setup "$W" "" || die "pf_setup"
pf_start || die "pf_start"
echo "postfix up after $(elapsed)s: starttls=$PF_PORT_STARTTLS starttls2=$PF_PORT_STARTTLS2 implicit=$PF_PORT_IMPLICIT sink=$PF_PORT_SINK"

declare -A ID QID
# send NAME FUNCTION ARGS...: run the client, require exit 0 and a queue id.
send() {
    local name=$1; shift
    "$@"
    local rc=$?
    [ "$rc" -eq 0 ] || die "$name: client exit code $rc (transcript $PF_LAST_TRANSCRIPT)"
    [ -n "$PF_LAST_QUEUEID" ] || die "$name: no queue id in $PF_LAST_TRANSCRIPT"
    ID[$name]=$PF_LAST_ID
    QID[$name]=$PF_LAST_QUEUEID
    echo "sent $name: id=$PF_LAST_ID queue-id=$PF_LAST_QUEUEID"
}

send plain    pf_swaks_plain
send starttls pf_swaks_starttls
send implicit pf_swaks_implicit --tls-version tlsv1_2
send trusted  pf_swaks_starttls --cert trusted
send rogue    pf_swaks_starttls --cert untrusted
send alt      pf_swaks_starttls --port "$PF_PORT_STARTTLS2"
send noehlo   pf_starttls_noehlo

# The plaintext session must not have used STARTTLS at all.
grep -q -- '-> STARTTLS' "$(ls "$PF_TRANSCRIPT_DIR"/*"${ID[plain]}"*)" &&
    die "plain: swaks sent STARTTLS"
# The no-second-EHLO session: exactly one EHLO, sent before STARTTLS.
t=$(ls "$PF_TRANSCRIPT_DIR"/*"${ID[noehlo]}"*)
[ "$(grep -Ec '^[-~]> EHLO' "$t")" -eq 1 ] || die "noehlo: expected exactly one EHLO in $t"
grep -q '^~> MAIL FROM' "$t" || die "noehlo: MAIL FROM not sent inside TLS ($t)"

pf_wait_queue_empty 15 || die "queue did not drain"
[ "$(pf_hold_count)" -eq 0 ] || die "unexpected messages in hold queue"

# Every message at the sink, exactly once, complete.
for name in "${!ID[@]}"; do
    f=$(pf_sink_file_for "${ID[$name]}") || die "$name: id ${ID[$name]} not found exactly once in the sink"
    grep -q "^Subject: e2e ${ID[$name]}\$" "$f" || die "$name: Subject missing in $f"
    grep -Eq '^(This is a test mailing|This is an e2e test message\.)$' "$f" ||
        die "$name: body missing in $f (incomplete dump?)"
    # Received header added by our Postfix: ESMTPS for TLS sessions.
    if [ "$name" = plain ]; then
        grep -q 'by mx.e2e.test (Postfix) with ESMTP id' "$f" || die "$name: no 'with ESMTP' Received header"
    else
        grep -q 'by mx.e2e.test (Postfix) with ESMTPS id' "$f" || die "$name: no 'with ESMTPS' Received header"
    fi
done
n=$(pf_sink_count)
[ "$n" -eq "${#ID[@]}" ] || die "sink holds $n messages, expected ${#ID[@]}"
f=$(pf_sink_file_for "${ID[trusted]}")
grep -q 'Client CN "client.e2e.test", Issuer "tlspolicy e2e CA" (verified OK)' "$f" ||
    die "trusted: Received header lacks the verified client CN"

# Log checks, per SMTP session (postlogd writes asynchronously: pf_log_session waits).
expect() { # expect NAME REGEX: the smtpd session of NAME's message matches
    local s
    s=$(pf_log_session "${QID[$1]}" 10) || die "$1: no complete smtpd session for ${QID[$1]} in the log"
    grep -Eq -- "$2" <<<"$s" || die "$1: log session does not match /$2/:"$'\n'"$s"
}
reject() { # reject NAME REGEX: ... does not match
    local s
    s=$(pf_log_session "${QID[$1]}" 10) || die "$1: no complete smtpd session for ${QID[$1]} in the log"
    grep -Eq -- "$2" <<<"$s" && die "$1: log session unexpectedly matches /$2/:"$'\n'"$s"
    return 0
}
reject plain    'TLS connection established'
expect plain    'disconnect from .* ehlo=1 mail=1 rcpt=1 data=1 quit=1'
expect starttls 'postfix/smtpd\[[0-9]+\]: Anonymous TLS connection established'
expect implicit 'postfix/smtps/smtpd\[[0-9]+\]: Anonymous TLS connection established from .*: TLSv1\.2 '
expect trusted  'Trusted TLS connection established'
expect rogue    'Untrusted TLS connection established'
expect alt      'postfix/alt/smtpd\[[0-9]+\]: Anonymous TLS connection established'
expect noehlo   'Anonymous TLS connection established'
expect noehlo   'disconnect from .* ehlo=1 starttls=1 mail=1 rcpt=1 data=1 quit=1'
# And globally, as the task demands.
pf_log_grep -q 'Trusted TLS connection established' || die "no 'Trusted' TLS line in the log"
pf_log_grep -q 'Untrusted TLS connection established' || die "no 'Untrusted' TLS line in the log"

# Stop, and make sure nothing we started is still running.
master=$PF_MASTER_PID sink=$PF_SINK_PID
pf_stop
pf_stop   # idempotent
for pid in $master $sink; do
    pf__alive "$pid" && die "process $pid still running after pf_stop"
done
for port in "$PF_PORT_STARTTLS" "$PF_PORT_STARTTLS2" "$PF_PORT_IMPLICIT" "$PF_PORT_SINK"; do
    pf__listening "$port" && die "port $port still listening after pf_stop"
done

STATUS=0
echo "PASS: t-harness-smoke (${#ID[@]} messages) in $(elapsed)s"
exit 0
