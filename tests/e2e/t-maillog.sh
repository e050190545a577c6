#!/usr/bin/env bash
# tests/e2e/t-maillog.sh -- tlspolicyctl report --maillog against a REAL
# Postfix's own log, after real failed sessions.
#
# A private Postfix (postfix-lib.sh) with the milter (its audit log is what
# the report sets the failures beside), a TLS 1.2 floor
# (smtpd_tls_protocols and smtpd_tls_mandatory_protocols >=TLSv1.2), its
# wrapper-mode port, and its second STARTTLS listener made an "encrypt" one
# (-o smtpd_tls_security_level=encrypt).  Then, from 127.0.0.1:
#   1. openssl s_client -starttls smtp -tls1 to the STARTTLS port  -> tls-version-old
#   2. openssl s_client -tls1 to the wrapper-mode port              -> tls-version-old
#   3. openssl s_client -tls1_2 -cipher NULL-SHA256 to the wrapper   -> no-shared-cipher
#   4. swaks, MAIL without STARTTLS to the encrypt port (530)       -> starttls-required
#   5. swaks over STARTTLS, a message delivered                      -> no failure, TLS
# and from 127.0.0.2:
#   6. plaintext EHLO to the wrapper-mode port                       -> implicit-tls-port
# then runs report --maillog (text and --json) on Postfix's maillog_file and
# on a gzip copy of it, with the milter's audit log, and checks the
# sessions, counts and reasons per client, and the sentence that sets
# 127.0.0.1's failures beside its one message in the audit log.  Exits 0 on success, 1 with "FAIL: ..." and the log's tail, 77
# (skipped) when not root.  Stops everything it started (pf_stop).
# Run from a build directory: srcdir=.. top_builddir=. bash ../tests/e2e/t-maillog.sh
set -u
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
ctl=$(cd "$top_builddir" && pwd)/ctl/tlspolicyctl
milter_bin=$(cd "$top_builddir" && pwd)/milter/tlspolicy-milter
here=$(cd "$srcdir/tests/e2e" && pwd)
PYTHON=${PF_PYTHON:-python3}

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: t-maillog.sh needs root (a private Postfix)"
    exit 77
fi
# shellcheck source=postfix-lib.sh
. "$here/postfix-lib.sh"

STATUS=1
milter_pid=
W=$(mktemp -d /var/tmp/tlspolicy-e2e-maillog.XXXXXX) || exit 1
chmod 755 "$W"
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
    pf_stop
    # SIGKILL: libmilter takes ~5 s to notice SIGTERM, and the record is read.
    if [ -n "$milter_pid" ]; then kill -KILL "$milter_pid" 2>/dev/null; wait "$milter_pid" 2>/dev/null; fi
    if [ "$STATUS" -eq 0 ] && [ -z "${E2E_KEEP:-}" ]; then rm -rf "$W"; else echo "work directory kept: $W" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { pf_fail "$*"; exit 1; }

pf_free_port >"$W/milter.port" || die "no free port"
read -r milter_port <"$W/milter.port"
pf_setup "$W" "inet:127.0.0.1:$milter_port" || die "pf_setup"
printf 'default skip\n' >"$W/policy.conf"
printf 'implicit_tls = smtps\nhostname = mx.e2e.test\nallow_root = yes\naudit_log = %s\n' \
    "$W/audit.jsonl" >"$W/milter.conf"
"$milter_bin" -F -p "inet:$milter_port@127.0.0.1" -f "$W/policy.conf" -c "$W/milter.conf" \
    >"$W/milter.log" 2>&1 &
milter_pid=$!
pf_wait_listen "$milter_port" 10 || { cat "$W/milter.log" >&2; die "the milter did not start"; }
PF_EXTRA_MAIN_CF='smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2'
# The second STARTTLS listener requires TLS (postfix-lib.sh makes it "may").
sed -i '/^  -o syslog_name=postfix\/alt$/a\  -o smtpd_tls_security_level=encrypt' "$PF_CONF_DIR/master.cf"
grep -q 'smtpd_tls_security_level=encrypt' "$PF_CONF_DIR/master.cf" || die "master.cf: no encrypt listener"
pf_start || die "pf_start"

# s_client PORT ARGS...: one handshake attempt that must fail.
s_client() {
    local port=$1; shift
    if echo QUIT | timeout 10 openssl s_client -connect "127.0.0.1:$port" "$@" \
        >"$W/s_client.out" 2>&1; then
        die "openssl s_client $* to port $port succeeded"
    fi
}
s_client "$PF_PORT_STARTTLS" -starttls smtp -tls1 -cipher 'DEFAULT:@SECLEVEL=0'
s_client "$PF_PORT_IMPLICIT" -tls1 -cipher 'DEFAULT:@SECLEVEL=0'
s_client "$PF_PORT_IMPLICIT" -tls1_2 -cipher 'NULL-SHA256:@SECLEVEL=0'
rc=0; pf_swaks_plain --port "$PF_PORT_STARTTLS2" || rc=$?
[ "$rc" = 23 ] || die "MAIL without STARTTLS to the encrypt port: swaks exit $rc, want 23"
grep -q '530 5.7.0 Must issue a STARTTLS command first' "$PF_LAST_TRANSCRIPT" ||
    die "no 530 in $PF_LAST_TRANSCRIPT"
pf_swaks_starttls || die "STARTTLS delivery failed (swaks exit $?)"
"$PYTHON" - "$PF_PORT_IMPLICIT" <<'PY' || die "plaintext client"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5, ("127.0.0.2", 0))
s.sendall(b"EHLO client.e2e.test\r\n")
s.settimeout(5)
try:
    s.recv(100)
except OSError:
    pass
s.close()
PY
# postlogd writes asynchronously: wait for the last session's disconnect.
pf_log_wait 'disconnect from unknown\[127\.0\.0\.2\]' 10 || die "no disconnect of 127.0.0.2 in the log"
pf_log_wait 'disconnect from unknown\[127\.0\.0\.1\].*ehlo=2 starttls=1 mail=1' 10 || die "no good session in the log"
for _ in $(seq 100); do grep -q '"outcome":"accepted"' "$W/audit.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"outcome":"accepted"' "$W/audit.jsonl" || die "no audit record of the message"

cp "$PF_LOG_FILE" "$W/maillog" && gzip -c "$W/maillog" >"$W/maillog.gz" || die "copy the log"

# check_json FILE: the JSON report's figures.
check_json() {
    "$PYTHON" - "$1" <<'PY'
import json, sys
ml = json.load(open(sys.argv[1]))["maillog"]
want = {"tls-version-old": 2, "no-shared-cipher": 1, "starttls-required": 1,
        "implicit-tls-port": 1}
bad = []
if ml["sessions"] != 6: bad.append("sessions %d, want 6" % ml["sessions"])
if ml["failed"] != 5: bad.append("failed %d, want 5" % ml["failed"])
if ml["reasons"] != want: bad.append("reasons %r, want %r" % (ml["reasons"], want))
c = {x["addr"]: x for x in ml["clients"]}
one = c.get("127.0.0.1", {})
if one.get("reasons") != {"tls-version-old": 2, "no-shared-cipher": 1, "starttls-required": 1}:
    bad.append("127.0.0.1: %r" % one)
if one.get("sessions") != 5 or one.get("tls") != 1 or one.get("failed") != 4:
    bad.append("127.0.0.1 sessions/tls/failed: %r" % one)
if one.get("audit") != {"messages": 1, "tls": 1, "tls_versions": {"TLSv1.3": 1}}:
    bad.append("127.0.0.1 audit: %r" % one.get("audit"))
two = c.get("127.0.0.2", {})
if two.get("reasons") != {"implicit-tls-port": 1} or two.get("failed") != 1:
    bad.append("127.0.0.2: %r" % two)
if bad:
    print("\n".join(bad)); sys.exit(1)
PY
}
for f in maillog maillog.gz; do
    "$ctl" report --json --maillog "$W/$f" "$W/audit.jsonl" >"$W/$f.json" 2>"$W/$f.err" || die "report --json --maillog $f: exit $?: $(cat "$W/$f.err")"
    out=$(check_json "$W/$f.json") || die "report --json --maillog $f: $out"
    "$ctl" report --maillog "$W/$f" "$W/audit.jsonl" >"$W/$f.txt" 2>&1 || die "report --maillog $f: exit $?"
    grep -q '^  127.0.0.2: no message in the audit log; 1 session failed: the client spoke plaintext to the implicit-TLS (wrapper-mode) port (1)$' "$W/$f.txt" ||
        die "report --maillog $f: no sentence for 127.0.0.2: $(cat "$W/$f.txt")"
    grep -q '^  127.0.0.1: 1 message, 1 over TLS (TLSv1.3 1); 4 sessions failed: the client offered only TLS versions this server refuses (2)' "$W/$f.txt" ||
        die "report --maillog $f: no sentence for 127.0.0.1: $(cat "$W/$f.txt")"
done
echo "t-maillog: PASS (6 sessions, 5 failed: tls-version-old 2, no-shared-cipher 1, starttls-required 1, implicit-tls-port 1; beside 1 audited message; plain and gzip)"
STATUS=0
