#!/bin/bash
# End-to-end test of "tlspolicyctl export" against REAL MTAs: the tables it
# writes are loaded as the README says (postmap / makemap) into an outbound
# Postfix (tests/e2e/outbound-lib.sh) and an outbound Sendmail
# (tests/e2e/sendmail-lib.sh), which send to receivers on 127.0.0.1: a
# Postfix (tests/e2e/postfix-lib.sh) with three listeners, one offering
# STARTTLS with the test CA's certificate for mx.e2e.test, one with no TLS,
# one offering TLS 1.2 at most.  Mail is routed by domain (one transport or
# mailer per receiver), so the policy entries are looked up by the
# recipient domain, as in production (see outbound-lib.sh for why).
#
# What must hold, on both MTAs: a require domain reaches the TLS receiver
# over TLS (the receiver's log shows the version) and is deferred, not sent
# in plaintext, toward the no-TLS receiver; verify=yes with a name the
# certificate does not carry is deferred; prefer goes in plaintext where
# there is no TLS; a mode=testing rule is not enforced.  Postfix: a
# min_version floor the receiver cannot meet is deferred, skip sends
# without TLS even where TLS is offered; Sendmail (--lossy): the dropped
# floor is reported and the mail goes over TLS 1.2.  The starttls=off
# client rule hides STARTTLS from 127.0.0.2 (and only from it) on the
# receiving Postfix (cidr: table) and on Sendmail (Srv_Features:), and
# from ::1 on Sendmail's IPv6 listener (its IPv6:0:0:0:0:0:0:0:1 key form).
#
# Run by "make check" (srcdir, top_builddir from the Makefile).  Needs
# root, Postfix, and Sendmail unpacked by tests/e2e/install-sendmail.sh.
# Prints "end-to-end (export): N passed, M failed"; stops what it started.
set -u
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
ctl=$(cd "$top_builddir" && pwd)/ctl/tlspolicyctl
# shellcheck source=outbound-lib.sh
. "$srcdir/tests/e2e/outbound-lib.sh"
# shellcheck source=sendmail-lib.sh
. "$srcdir/tests/e2e/sendmail-lib.sh"

T0=$(date +%s)
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $* (${SECONDS}s)"; }
not_ok() { failed=$((failed + 1)); echo "FAIL $*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
summary() { echo "end-to-end (export): $passed passed, $failed failed"; }
give_up() { echo "$*"; failed=$((failed + 1)); summary; exit 1; }

[ "$(id -u)" = 0 ] || give_up "needs root"
[ -x "$ctl" ] || give_up "no $ctl: build first"
W=$(sm_mkworkdir) || give_up "cannot create a work directory"
mkdir -p "$W/rx" "$W/ob" "$W/sm"
cleanup() {
	ob_stop
	sm_stop
	pf_stop
	if [ "$failed" -eq 0 ] && [ -z "${KEEP_E2E:-}" ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# the policy: domain -> which receiver it is routed to (tls, plain, tls12)

cat >"$W/policy" <<'EOF'
dest:tls.example    require verify=yes cert_subject=mx.e2e.test
dest:enc.example    require min_bits=128
dest:plain.example  require
dest:wrong.example  require verify=yes
dest:pref.example   prefer
dest:test.example   require verify=yes mode=testing
dest:old.example    require min_version=TLSv1.3
dest:skip.example   skip
client:127.0.0.2    skip starttls=off
client:::1          skip starttls=off
EOF
declare -A ROUTE=([tls.example]=tls [enc.example]=tls [plain.example]=plain
	[wrong.example]=tls [pref.example]=plain [test.example]=plain
	[old.example]=tls12 [skip.example]=tls)

# ---------------------------------------------------------------------------
# the receivers: one Postfix, three listeners (STARTTLS, none, TLS <= 1.2)

echo "# ${SECONDS}s: pf_setup"; pf_setup "$W/rx" "" || give_up "cannot set up the receiving Postfix"
e2e__pick_ports "$PF_RUN_DIR" RX_PLAIN RX_TLS12 || give_up "no free ports"
RX_TLS=$PF_PORT_STARTTLS
# rx_listener PORT NAME OPTION...: one more smtpd listener
rx_listener() {
	local port=$1 name=$2 o
	shift 2
	postconf -c "$PF_CONF_DIR" -M "127.0.0.1:$port/inet=127.0.0.1:$port inet n - n - - smtpd"
	for o in "syslog_name=postfix/$name" "$@"; do
		postconf -c "$PF_CONF_DIR" -P "127.0.0.1:$port/inet/$o"
	done
}
rx_listener "$RX_PLAIN" rx-plain smtpd_tls_security_level=none
rx_listener "$RX_TLS12" rx-tls12 "smtpd_tls_protocols=!SSLv2,!SSLv3,!TLSv1.3"
declare -A PORT=([tls]=$RX_TLS [plain]=$RX_PLAIN [tls12]=$RX_TLS12)

# ---------------------------------------------------------------------------
# export, as the README says (the site level asked of the outbound Postfix)

echo "# ${SECONDS}s: ob_setup"; ob_setup "$W/ob" || give_up "cannot set up the outbound Postfix"
for d in "${!ROUTE[@]}"; do ob_route "$d" "rx_${ROUTE[$d]}" "${PORT[${ROUTE[$d]}]}"; done
MAIL_CONFIG=$OB_CONF_DIR "$ctl" export --postfix -f "$W/policy" -o "$OB_CONF_DIR/tls_policy" \
	>"$W/export-pf.out" 2>&1
check "export --postfix: exit 0" [ $? -eq 0 ]
check "export --postfix: site level read with postconf" \
	grep -qx '# Site smtp_tls_security_level: may' "$OB_CONF_DIR/tls_policy"
postmap -c "$OB_CONF_DIR" "hash:$OB_CONF_DIR/tls_policy" || give_up "postmap failed"
ob_policy "$OB_CONF_DIR/tls_policy"
# Not mx.e2e.test, Sendmail's own name: it would refuse to talk to itself
# ("Local configuration error"); the certificate keeps its names.
pf_postconf "myhostname = rx.e2e.test" \
	"smtpd_discard_ehlo_keyword_address_maps = cidr:$OB_CONF_DIR/tls_policy.starttls-off.cidr"
echo "# ${SECONDS}s: pf_start"; pf_start || give_up "cannot start the receiving Postfix"
echo "# ${SECONDS}s: ob_start"; ob_start || give_up "cannot start the outbound Postfix"

# ---------------------------------------------------------------------------
# checks on what the receivers saw

# rx_session QUEUEID: the receiver's log of the session that received it
rx_session() { pf_log_session "$1" 5; }
# rx_tls_version QUEUEID VERSION: that session was TLS VERSION
rx_tls_version() { rx_session "$1" | grep -q "TLS connection established from .*: $2 with"; }
rx_plaintext() { ! rx_session "$1" | grep -q "TLS connection established"; }
# rx_queueid STATUSLINE: the receiver's queue id ("queued as X")
rx_queueid() { sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p' <<<"$1"; }
in_sink() { pf_sink_grep "X-E2E-Id: $1" >/dev/null; }
status_is() { grep -q "status=$2" <<<"$1"; }

# expect_sent WHO LINE ID TLS-VERSION|plain
expect_sent() {
	local who=$1 line=$2 id=$3 how=$4 q
	q=$(rx_queueid "$line")
	if [ -z "$q" ] || ! in_sink "$id"; then not_ok "$who: not delivered: $line"; return; fi
	if [ "$how" = plain ]; then
		check "$who: delivered in plaintext" rx_plaintext "$q"
	else
		check "$who: delivered over $how (receiver's log)" rx_tls_version "$q" "$how"
	fi
}
# expect_deferred WHO LINE ID REASON-PATTERN
expect_deferred() {
	local who=$1 line=$2 id=$3 why=$4
	if status_is "$line" deferred && grep -qE "$why" <<<"$line" && ! in_sink "$id"; then
		ok "$who: deferred ($why), not sent"
	else
		not_ok "$who: want deferred ($why): ${line:-no status}"
	fi
}

# ---------------------------------------------------------------------------
# Postfix

declare -A OB_ID
for d in "${!ROUTE[@]}"; do
	OB_ID[$d]=$(pf_new_id)
	ob_send "${OB_ID[$d]}@$d" "${OB_ID[$d]}" || not_ok "postfix: cannot inject for $d"
done
# pf_line DOMAIN: the delivery status line of the message to DOMAIN
pf_line() { ob_wait_status "${OB_ID[$1]}@$1" 20; }
expect_sent "postfix require verify=yes cert_subject" "$(pf_line tls.example)" "${OB_ID[tls.example]}" TLSv1.3
check "postfix require verify=yes: the certificate was verified" \
	ob_log_grep -q "Verified TLS connection established to tls.example"
expect_sent "postfix require min_bits=128" "$(pf_line enc.example)" "${OB_ID[enc.example]}" TLSv1.3
expect_deferred "postfix require, no TLS offered" "$(pf_line plain.example)" "${OB_ID[plain.example]}" \
	"TLS is required, but was not offered"
expect_deferred "postfix verify=yes, wrong name" "$(pf_line wrong.example)" "${OB_ID[wrong.example]}" \
	"Server certificate not verified"
expect_sent "postfix prefer, no TLS offered" "$(pf_line pref.example)" "${OB_ID[pref.example]}" plain
expect_sent "postfix mode=testing not enforced" "$(pf_line test.example)" "${OB_ID[test.example]}" plain
expect_deferred "postfix min_version=TLSv1.3, receiver at most TLS 1.2" "$(pf_line old.example)" \
	"${OB_ID[old.example]}" "Cannot start TLS: handshake failure"
expect_sent "postfix skip, TLS offered" "$(pf_line skip.example)" "${OB_ID[skip.example]}" plain

# ehlo_reply SERVER PORT SOURCE: the server's reply to EHLO, sent from
# SOURCE (python: swaks needs IO::Socket::INET6 for ::1)
ehlo_reply() {
	python3 - "$@" <<'PY'
import socket, sys
server, port, source = sys.argv[1], int(sys.argv[2]), sys.argv[3]
family = socket.AF_INET6 if ":" in server else socket.AF_INET
s = socket.socket(family, socket.SOCK_STREAM)
s.settimeout(10)
s.bind((source, 0))
s.connect((server, port))
f = s.makefile("rwb")
def reply():
    lines = []
    while True:
        line = f.readline().decode("ascii", "replace")
        lines.append(line.rstrip("\r\n"))
        if len(line) < 4 or line[3] != "-":
            return lines
reply()
f.write(b"EHLO client.e2e.test\r\n"); f.flush()
print("\n".join(reply()))
f.write(b"QUIT\r\n"); f.flush()
PY
}
# ehlo_has_starttls SOURCE PORT [SERVER]: the EHLO reply offers STARTTLS
ehlo_has_starttls() { ehlo_reply "${3:-127.0.0.1}" "$2" "$1" | grep -q '^250[- ]STARTTLS'; }
# ehlo_lacks_starttls SOURCE PORT [SERVER]: an EHLO reply, without STARTTLS
ehlo_lacks_starttls() {
	ehlo_reply "${3:-127.0.0.1}" "$2" "$1" >"$W/ehlo.out" 2>&1
	grep -q '^250 ' "$W/ehlo.out" && ! grep -q '^250[- ]STARTTLS' "$W/ehlo.out"
}
check "postfix cidr table: no STARTTLS for 127.0.0.2" ehlo_lacks_starttls 127.0.0.2 "$RX_TLS"
check "postfix cidr table: STARTTLS for 127.0.0.1" ehlo_has_starttls 127.0.0.1 "$RX_TLS"
ob_stop

# ---------------------------------------------------------------------------
# Sendmail: the same receivers; mailers esmtp -> tls, smtp8 -> plain,
# relay -> tls12 (each mailer's A= names the port)

# The receivers' CA (sm_setup keeps certificates it finds).
mkdir -p "$W/sm/tls" && cp -p "$PF_TLS_DIR"/* "$W/sm/tls/"
echo "# ${SECONDS}s: sm_setup"; sm_setup "$W/sm" "" || give_up "cannot set up Sendmail"
declare -A MAILER=([tls]=esmtp [plain]=smtp8 [tls12]=relay)
: >"$SM_CONF_DIR/mailertable"
for d in "${!ROUTE[@]}"; do
	printf '127.0.0.1 %s\n' "$d" >>"$SM_NS_DIR/hosts"
	printf '%s %s:%s\n' "$d" "${MAILER[${ROUTE[$d]}]}" "$d" >>"$SM_CONF_DIR/mailertable"
done
"$ctl" export --sendmail --lossy -f "$W/policy" -o "$SM_CONF_DIR/access" 2>"$W/export-sm.err"
check "export --sendmail --lossy: exit 0" [ $? -eq 0 ]
check "export --sendmail --lossy: the dropped TLS version floor is reported" \
	grep -q "policy:7: dest:old.example: Sendmail cannot express a TLS version floor" "$W/export-sm.err"
makemap=$SM_ROOT/usr/sbin/makemap
# makemap writes FILE.db, reading FILE
for m in access mailertable; do
	# shellcheck disable=SC2094
	"$makemap" -C /dev/null hash "$SM_CONF_DIR/$m" <"$SM_CONF_DIR/$m" || give_up "makemap $m failed"
done
# shellcheck disable=SC2016,SC2034  # $h is Sendmail's; sm_start reads it
SM_EXTRA_MC="define(\`ESMTP_MAILER_ARGS', \`TCP \$h $RX_TLS')dnl
define(\`SMTP8_MAILER_ARGS', \`TCP \$h $RX_PLAIN')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $RX_TLS12')dnl
FEATURE(\`mailertable', \`hash -o $SM_CONF_DIR/mailertable')dnl
FEATURE(\`access_db', \`hash -o $SM_CONF_DIR/access')dnl
FEATURE(\`lookupdotdomain')dnl"
echo "# ${SECONDS}s: sm_start"; sm_start || give_up "cannot start Sendmail"

declare -A SM_ID
for d in "${!ROUTE[@]}"; do
	sm_swaks_plain --to "x@$d" >/dev/null
	SM_ID[$d]=$SM_LAST_ID
	[ "$SM_LAST_RC" -eq 0 ] || not_ok "sendmail: not accepted for $d (rc $SM_LAST_RC)"
done
# sm__status_once DOMAIN: Sendmail's final word on the message to DOMAIN
sm__status_once() { sm_log_grep "to=<?x@$1>?,.* stat=(Sent|Deferred|.*)" | tail -n 1 | grep .; }
sm_line() { e2e__poll 20 sm__status_once "$1" >/dev/null; sm__status_once "$1"; }
sm_status() { grep -q "stat=$2" <<<"$1"; }

expect_sent "sendmail TLS_Rcpt VERIFY+CN" "$(sm_line tls.example)" "${SM_ID[tls.example]}" TLSv1.3
check "sendmail: the server certificate was verified" \
	sm_log_grep -q "STARTTLS=client, relay=tls.example.*verify=OK"
expect_sent "sendmail TLS_Rcpt ENCR:128" "$(sm_line enc.example)" "${SM_ID[enc.example]}" TLSv1.3
# sm_expect_deferred WHO LINE ID DOMAIN REASON: deferred, and tls_rcpt's why
sm_expect_deferred() {
	local who=$1 line=$2 id=$3 d=$4 why=$5
	if sm_status "$line" Deferred && ! in_sink "$id" &&
		sm_log_grep -q "ruleset=tls_rcpt, arg1=x@$d, .*reject=403 4.7.0 $why"; then
		ok "$who: deferred (403 4.7.0 $why), not sent"
	else
		not_ok "$who: want deferred (4.7.0 $why): ${line:-no status}"
	fi
}
sm_expect_deferred "sendmail require, no TLS offered" "$(sm_line plain.example)" \
	"${SM_ID[plain.example]}" plain.example "encryption too weak 0 less than 1"
sm_expect_deferred "sendmail VERIFY+CN, wrong name" "$(sm_line wrong.example)" \
	"${SM_ID[wrong.example]}" wrong.example "CN mx.e2e.test does not match wrong.example"
expect_sent "sendmail prefer, no TLS offered" "$(sm_line pref.example)" "${SM_ID[pref.example]}" plain
expect_sent "sendmail mode=testing not enforced" "$(sm_line test.example)" "${SM_ID[test.example]}" plain
expect_sent "sendmail --lossy: floor dropped, sent over TLS 1.2" "$(sm_line old.example)" \
	"${SM_ID[old.example]}" TLSv1.2
expect_sent "sendmail Try_TLS NO, TLS offered" "$(sm_line skip.example)" "${SM_ID[skip.example]}" plain
check "sendmail Srv_Features: no STARTTLS for 127.0.0.2" \
	ehlo_lacks_starttls 127.0.0.2 "$SM_PORT_STARTTLS"
check "sendmail Srv_Features: STARTTLS for 127.0.0.1" ehlo_has_starttls 127.0.0.1 "$SM_PORT_STARTTLS"
# Sendmail's IPv6 address form (IPv6:0:0:0:0:0:0:0:1), on its [::1] listener
if [ -n "${SM_PORT_IPV6:-}" ]; then
	check "sendmail Srv_Features: no STARTTLS for ::1" ehlo_lacks_starttls ::1 "$SM_PORT_IPV6" ::1
fi

echo "# $(($(date +%s) - T0)) s"
summary
[ "$failed" -eq 0 ]
