#!/bin/bash
# tests/probe/t-probe.sh -- tlspolicyctl probe against real Postfix instances
# on 127.0.0.1, one per configuration (started together, stopped by pid):
#   may        STARTTLS offered; its wrapper-mode listener (implicit TLS);
#              certificate from the test CA, with --ca (verifies) and
#              without (untrusted)
#   encrypt    STARTTLS required          notls     no TLS at all
#   tls12      TLS 1.2 only               tls13     TLS 1.3 only
#   tls10      TLS 1.0 only (at OpenSSL security level 0)
#   expired    an expired certificate     selfsigned  a self-signed one
#   wrongname  a certificate for another name, valid 10 days (expiring)
#   ccert      asks for a client certificate (CA names sent)
# --mx with DANE through tests/dns/dns-lib.sh's NSD (a zone signed at test
# time, its DS as --trust-anchor; an unsigned one): TLSA that matches the
# "may" instance's certificate, one that does not, one in the unsigned zone.
# MTA-STS (step 8) through NSD and dns-lib.sh's HTTPS server (--connect-to):
# a policy whose mx patterns the MX matches, one it is outside of, an
# enforce policy whose MX ("selfsigned") fails certificate checks, a fetch
# refused (the server's CA not given with --ca); --policy with a dest: rule
# the MX satisfies and one it does not.
# plus probe-helper.py: a proxy that masks STARTTLS (XXXXXXXA) in front of
# "may", a tarpit (the probe ends within its timeouts), a server that is
# not SMTP, and a port where nothing listens.
# Each probe's verdict codes are read from --json (python3) and compared
# with the exact set expected, with its exit status; key text lines too.
# Needs root and Postfix (tests/e2e/postfix-lib.sh); exit 77 (skip) without.
# KEEP=1 keeps the work directory; PROBE_WRAPPER="valgrind -q
# --error-exitcode=99 --leak-check=full" runs the --json probes under it;
# TEXT_DIR=DIR saves each probe's text output there too.
set -u
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
CTL=$top_builddir/ctl/tlspolicyctl
HELPER=$srcdir/tests/probe/probe-helper.py
# the system's python3 first: a version manager's shim costs seconds a call
PY=$(command -v /usr/bin/python3 || command -v python3)
export PF_PYTHON=$PY

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v postfix >/dev/null 2>&1 || { echo "SKIP: no postfix"; exit 77; }
# shellcheck source=../e2e/postfix-lib.sh
. "$srcdir/tests/e2e/postfix-lib.sh"
# shellcheck source=../dns/dns-lib.sh
. "$srcdir/tests/dns/dns-lib.sh"

T0=$(date +%s.%N)
W=$(mktemp -d /var/tmp/tlspolicy-probe.XXXXXX) || exit 1
chmod 755 "$W"
DNS_DIR=$(mktemp -d /tmp/tlspolicy-probe-dns.XXXXXX) || exit 1
INSTANCES="may encrypt notls tls12 tls13 tls10 expired selfsigned wrongname ccert"
HELPER_PIDS=""
FAILS=0 CHECKS=0

cleanup() {
    local n pid
    for n in $INSTANCES; do
        [ -f "$W/$n/env" ] && (. "$W/$n/env"; inst_stop_here) &
    done
    for pid in $HELPER_PIDS; do e2e__stop_pid "$pid" 10; done
    dnst_stop >/dev/null 2>&1
    wait
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $W $DNS_DIR"; else rm -rf "$W" "$DNS_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf 't-probe: %s\n' "$*"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
fail() { printf 'FAIL: %s\n' "$*"; FAILS=$((FAILS + 1)); }

# ---------------------------------------------------------------------------
# PKI: the e2e test CA and server certificate, plus an expired certificate
# and one for another name that expires in 10 days (both from the CA) and a
# self-signed one.

make_pki() {
    local d=$W/pki
    mkdir -p "$d/newcerts" && e2e__make_certs "$d" || return 1
    : >"$d/index.txt"; echo 10 >"$d/serial"
    cat >"$d/ca.cnf" <<EOF
[ ca ]
default_ca = d
[ d ]
dir = $d
database = $d/index.txt
new_certs_dir = $d/newcerts
serial = $d/serial
default_md = sha256
policy = p
unique_subject = no
[ p ]
commonName = supplied
organizationName = optional
[ expired ]
subjectAltName = DNS:mx.e2e.test
[ other ]
subjectAltName = DNS:other.e2e.test
[ self ]
subjectAltName = DNS:mx.e2e.test
EOF
    local ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    # shellcheck disable=SC2086
    {
        openssl req -new $ec -subj "/O=tlspolicy e2e/CN=mx.e2e.test" \
            -keyout "$d/expired.key" -out "$d/expired.csr" &&
        openssl ca -config "$d/ca.cnf" -batch -notext -cert "$d/ca.pem" \
            -keyfile "$d/ca.key" -startdate 20200101000000Z -enddate 20200201000000Z \
            -extfile "$d/ca.cnf" -extensions expired -in "$d/expired.csr" -out "$d/expired.pem" &&
        openssl req -new $ec -subj "/O=tlspolicy e2e/CN=other.e2e.test" \
            -keyout "$d/other.key" -out "$d/other.csr" &&
        openssl ca -config "$d/ca.cnf" -batch -notext -cert "$d/ca.pem" \
            -keyfile "$d/ca.key" -days 10 -extfile "$d/ca.cnf" -extensions other \
            -in "$d/other.csr" -out "$d/other.pem" &&
        openssl req -x509 $ec -days 30 -subj "/O=self/CN=mx.e2e.test" \
            -config "$d/ca.cnf" -extensions self -keyout "$d/self.key" -out "$d/self.pem"
    } >"$d/extra.log" 2>&1 || { cat "$d/extra.log"; return 1; }
    cat "$d/expired.pem" "$d/ca.pem" >"$d/expired-chain.pem"
    cat "$d/other.pem" "$d/ca.pem" >"$d/other-chain.pem"
    chmod 644 "$d"/*.pem; chmod 600 "$d"/*.key
}

# ---------------------------------------------------------------------------
# Instances: each is set up and started in a subshell of its own, all at
# once, with ports from one list picked here (so no two get the same one;
# e2e_free_port would pick them per subshell); the subshell saves its PF_*
# variables for the probes and the stop.

# main.cf lines of each configuration (all without client certificate
# requests, which postfix-lib.sh turns on, but ccert)
conf_of() {
    local pki=$W/pki
    echo "smtpd_tls_ask_ccert = no"
    case $1 in
        may) ;;
        encrypt) echo "smtpd_tls_security_level = encrypt" ;;
        notls) echo "smtpd_tls_security_level = none" ;;
        tls12) echo "smtpd_tls_protocols = >=TLSv1.2, <=TLSv1.2"
               echo "smtpd_tls_mandatory_protocols = >=TLSv1.2, <=TLSv1.2" ;;
        tls13) echo "smtpd_tls_protocols = >=TLSv1.3"
               echo "smtpd_tls_mandatory_protocols = >=TLSv1.3" ;;
        tls10) echo "smtpd_tls_protocols = >=TLSv1, <=TLSv1"
               echo "smtpd_tls_mandatory_protocols = >=TLSv1, <=TLSv1"
               echo "tls_medium_cipherlist = DEFAULT:@SECLEVEL=0" ;;
        expired) echo "smtpd_tls_chain_files = $pki/expired.key, $pki/expired-chain.pem" ;;
        selfsigned) echo "smtpd_tls_chain_files = $pki/self.key, $pki/self.pem" ;;
        wrongname) echo "smtpd_tls_chain_files = $pki/other.key, $pki/other-chain.pem" ;;
        ccert) echo "smtpd_tls_ask_ccert = yes" ;;
    esac
}

# free_ports N: N distinct free ports on 127.0.0.1, in one python run
free_ports() {
    "$PY" - "$1" <<'PYEOF'
import random, socket, sys
n, got = int(sys.argv[1]), []
while len(got) < n:
    p = random.randint(20000, 32767)
    if p in got:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        got.append(p)
    except OSError:
        pass
    finally:
        s.close()
print(" ".join(map(str, got)))
PYEOF
}

# inst_run NAME PORTS: in a subshell: set up, save the variables, start
inst_run() {
    local n=$1
    INST_PORTS=$2
    # pf_setup's four ports come from INST_PORTS
    e2e_free_port() { local p=${INST_PORTS%% *}; INST_PORTS=${INST_PORTS#* }; echo "$p"; }
    mkdir -p "$W/$n/tls" && cp "$W/pki"/{ca,server,client,rogue}.* "$W/pki/server-chain.pem" \
        "$W/$n/tls/" || return 1
    pf_setup "$W/$n" "" >"$W/$n.log" 2>&1 || { cat "$W/$n.log"; return 1; }
    declare -p PF_WORKDIR PF_CONF_DIR PF_QUEUE_DIR PF_RUN_DIR PF_LOG_FILE \
        PF_PORT_STARTTLS PF_PORT_IMPLICIT | sed 's/^declare -x/declare -gx/' >"$W/$n/env"
    PF_EXTRA_MAIN_CF=$(conf_of "$n")
    pf_start >>"$W/$n.log" 2>&1 || { cat "$W/$n.log"; return 1; }
}

# inst_stop_here: in a subshell that sourced the instance's env
inst_stop_here() {
    PF_SINK_PID=$(cat "$PF_RUN_DIR/smtp-sink.pid" 2>/dev/null)
    pf_stop
}

declare -A PORT IMPLICIT
start_all() {
    local n pids="" pid rc=0 ports i=0
    read -r -a ports <<<"$(free_ports 45)"
    [ "${#ports[@]}" = 45 ] || return 1
    MASK_PORT=${ports[40]} TARPIT_PORT=${ports[41]} GARBAGE_PORT=${ports[42]} NOTHING_PORT=${ports[43]}
    HOSTILE_PORT=${ports[44]}
    for n in $INSTANCES; do
        (inst_run "$n" "${ports[*]:i:4}") &
        pids="$pids $!"
        i=$((i + 4))
    done
    for pid in $pids; do wait "$pid" || rc=1; done
    for n in $INSTANCES; do
        [ -f "$W/$n/env" ] || return 1
        PORT[$n]=$(. "$W/$n/env"; echo "$PF_PORT_STARTTLS")
        IMPLICIT[$n]=$(. "$W/$n/env"; echo "$PF_PORT_IMPLICIT")
    done
    return $rc
}

# start_dns: NSD with d1 (TLSA of the "may" certificate), d2 (TLSA of
# another) in the signed zone, d3 (TLSA of "may") in the unsigned one; every
# MX host is 127.0.0.1, the MX port is that of "may".
start_dns() {
    local p=${PORT[may]} S=$DNST_SIGNED U=$DNST_UNSIGNED
    dnst_setup "$DNS_DIR" >"$W/dns.log" 2>&1 || { cat "$W/dns.log"; return 1; }
    dnst_add "$S" "d1 IN MX 10 mx1.$S." "mx1 IN A 127.0.0.1" \
        "d2 IN MX 10 mx2.$S." "mx2 IN A 127.0.0.1" &&
    dnst_tlsa "$S" "_$p._tcp.mx1" "$W/pki/server.pem" 3 1 1 &&
    dnst_tlsa "$S" "_$p._tcp.mx2" "$W/pki/rogue.pem" 3 1 1 &&
    dnst_add "$U" "d3 IN MX 10 mx3.$U." "mx3 IN A 127.0.0.1" &&
    dnst_tlsa "$U" "_$p._tcp.mx3" "$W/pki/server.pem" 3 1 1 &&
    dnst_add "$S" "s1 IN MX 10 mx1.$S." "s2 IN MX 10 mx1.$S." "s3 IN MX 10 mx5.$S." \
        "mx5 IN A 127.0.0.1" '_mta-sts.s1 IN TXT "v=STSv1; id=1;"' \
        '_mta-sts.s2 IN TXT "v=STSv1; id=2;"' '_mta-sts.s3 IN TXT "v=STSv1; id=3;"' &&
    dnst_start >>"$W/dns.log" 2>&1 || { cat "$W/dns.log"; return 1; }
    dnst_https_start "mta-sts.s1.$S" "mta-sts.s2.$S" "mta-sts.s3.$S" >>"$W/dns.log" 2>&1 ||
        { cat "$W/dns.log"; return 1; }
    dnst_sts_serve "mta-sts.s1.$S" "version: STSv1\nmode: enforce\nmx: *.$S\nmax_age: 86400\n" &&
    dnst_sts_serve "mta-sts.s2.$S" "version: STSv1\nmode: testing\nmx: mail.other.example\nmax_age: 600\n" &&
    dnst_sts_serve "mta-sts.s3.$S" "version: STSv1\nmode: enforce\nmx: *.$S\nmax_age: 86400\n"
}

start_helper() {  # start_helper MODE PORT [UPSTREAM]
    "$PY" "$HELPER" "$@" >>"$W/helper.log" 2>&1 &
    HELPER_PIDS="$HELPER_PIDS $!"
    e2e_wait_listen "$2" 10
}

# ---------------------------------------------------------------------------
# Assertions

# codes FILE: the verdict codes of every address in a --json document
codes() {
    "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema_version"] == 1, "schema_version"
print(" ".join(sorted({v["code"] for t in d["targets"] for a in t["addresses"] for v in a["verdicts"]})))' "$1"
}

# jfield FILE EXPR: a Python expression on the first address (a) and its
# target (t)
jfield() {
    "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = d["targets"][0]
a = t["addresses"][0]
print(eval(sys.argv[2]))' "$1" "$2"
}

# expect NAME RC "CODES" PROBE-ARGS...: probe --json, check status and codes
expect() {
    local name=$1 want_rc=$2 want=$3 rc=0 got
    shift 3
    CHECKS=$((CHECKS + 1))
    ${PROBE_WRAPPER:-} "$CTL" probe --json --timeout 5 "$@" >"$W/$name.json" 2>"$W/$name.err" || rc=$?
    got=$(codes "$W/$name.json" 2>>"$W/$name.err")
    if [ "$rc" != "$want_rc" ] || [ "$got" != "$want" ]; then
        fail "$name: exit $rc, verdicts [$got]; want exit $want_rc, [$want]"
        sed -n 1,80p "$W/$name.json" "$W/$name.err"
        return 1
    fi
    say "ok $name: exit $rc [$got]"
    [ -z "${TEXT_DIR:-}" ] || "$CTL" probe --timeout 5 "$@" >"$TEXT_DIR/$name.txt" 2>&1
}

# check NAME DESCRIPTION EXPR WANT FILE: a field of the first address
check() {
    local got
    CHECKS=$((CHECKS + 1))
    got=$(jfield "$5" "$3" 2>&1)
    if [ "$got" != "$4" ]; then fail "$1: $2: got '$got', want '$4'"; return 1; fi
    say "ok $1: $2"
}

# text_has NAME PATTERN FILE: a line of the text output
text_has() {
    CHECKS=$((CHECKS + 1))
    if ! grep -Eq -- "$2" "$3"; then fail "$1: no line /$2/ in the text output"; cat "$3"; return 1; fi
    say "ok $1: text /$2/"
}

# ---------------------------------------------------------------------------

make_pki || { fail "PKI"; exit 1; }
start_all || { fail "a Postfix instance did not start"; exit 1; }
T1=$(date +%s.%N)
say "10 Postfix instances up in $(secs "$T0" "$T1") s"
start_helper mask "$MASK_PORT" "${PORT[may]}" || exit 1
start_helper tarpit "$TARPIT_PORT" || exit 1
start_helper garbage "$GARBAGE_PORT" || exit 1
start_helper hostile "$HOSTILE_PORT" || exit 1
start_dns || { fail "the DNS server did not start"; dnst_diag; exit 1; }

CA=$W/pki/ca.pem
N=(--name mx.e2e.test)
L=127.0.0.1

# The tarpit runs in the background while the rest go on: with --timeout 2
# it must end after the connect, ~2 s of banner wait and ~2 s of TLS hello.
( start=$(date +%s%N)
  "$CTL" probe --json --timeout 2 "$L:$TARPIT_PORT" >"$W/tarpit.json" 2>&1
  echo "$? $(( ($(date +%s%N) - start) / 1000000 ))" >"$W/tarpit.rc" ) &
TARPIT_JOB=$!

# may: STARTTLS offered, plaintext accepted; verifies with --ca
expect may-ca 0 "plaintext-accepted starttls-port" --ca "$CA" "${N[@]}" "$L:${PORT[may]}"
check may-ca "STARTTLS offered" 'a["ehlo"]["starttls"]' offered "$W/may-ca.json"
check may-ca "chain verified" 'a["tls"]["certificate"]["verified"]' True "$W/may-ca.json"
check may-ca "name matches" 'a["tls"]["certificate"]["name_match"]' True "$W/may-ca.json"
check may-ca "TLS 1.2 and 1.3 accepted" \
    '[a["tls"]["versions"][v]["result"] for v in ("TLSv1.2", "TLSv1.3")]' \
    "['accepted', 'accepted']" "$W/may-ca.json"
check may-ca "MAIL before TLS: 250" 'a["mail_before_tls"]["code"]' 250 "$W/may-ca.json"
# the same without --ca: the test CA is unknown
expect may-noca 1 "cert-untrusted plaintext-accepted starttls-port" "${N[@]}" "$L:${PORT[may]}"
check may-noca "verify error 19" 'a["tls"]["certificate"]["verify_error"]' 19 "$W/may-noca.json"
# text output of the same
"$CTL" probe --timeout 5 "${N[@]}" "$L:${PORT[may]}" >"$W/may.txt" 2>&1
text_has may-text '^  3 EHLO .*STARTTLS' "$W/may.txt"
text_has may-text '^  4 before TLS +MAIL FROM:<> got "250 2\.1\.0 Ok": plaintext is accepted' "$W/may.txt"
text_has may-text '^  ! cert-untrusted: self-signed certificate in certificate chain' "$W/may.txt"
text_has may-text '^Result: findings above .* \(exit status 1\)' "$W/may.txt"

# wrapper mode: implicit TLS on the same instance's smtps listener
expect wrapper 0 "implicit-tls-port" --ca "$CA" "${N[@]}" "$L:${IMPLICIT[may]}"
check wrapper "banner read in TLS" 'a["first_bytes"]["banner"]["code"]' 220 "$W/wrapper.json"
check wrapper "EHLO in TLS" '"PIPELINING" in a["ehlo_tls"]["keywords"]' True "$W/wrapper.json"

expect encrypt 0 "starttls-port starttls-required" --ca "$CA" "${N[@]}" "$L:${PORT[encrypt]}"
check encrypt "530 to MAIL before TLS" 'a["mail_before_tls"]["code"]' 530 "$W/encrypt.json"

expect notls 1 "no-tls plaintext-accepted starttls-not-offered starttls-port" \
    --ca "$CA" "${N[@]}" "$L:${PORT[notls]}"

expect tls12 0 "plaintext-accepted starttls-port" --ca "$CA" "${N[@]}" "$L:${PORT[tls12]}"
check tls12 "negotiated TLS 1.2" 'a["tls"]["version"]' TLSv1.2 "$W/tls12.json"
check tls12 "TLS 1.3 refused" 'a["tls"]["versions"]["TLSv1.3"]["result"]' refused "$W/tls12.json"

expect tls13 0 "plaintext-accepted starttls-port" --ca "$CA" "${N[@]}" "$L:${PORT[tls13]}"
check tls13 "TLS 1.2 refused" 'a["tls"]["versions"]["TLSv1.2"]["result"]' refused "$W/tls13.json"
check tls13 "TLS 1.0 tried at SECLEVEL=0, refused" \
    '(a["tls"]["versions"]["TLSv1"]["seclevel0"], a["tls"]["versions"]["TLSv1"]["result"])' \
    "(True, 'refused')" "$W/tls13.json"

# TLS 1.0 only: a default handshake fails, the one at TLS 1.0 works
expect tls10 1 "plaintext-accepted starttls-port tls-version-old" --ca "$CA" "${N[@]}" "$L:${PORT[tls10]}"
check tls10 "TLS 1.0 accepted at SECLEVEL=0" \
    '(a["tls"]["ok"], a["tls"]["versions"]["TLSv1"]["result"], a["tls"]["versions"]["TLSv1"]["seclevel0"])' \
    "(False, 'accepted', True)" "$W/tls10.json"
check tls10 "certificate seen through TLS 1.0" 'a["tls"]["certificate"]["verified"]' True "$W/tls10.json"

expect expired 1 "cert-expired plaintext-accepted starttls-port" --ca "$CA" "${N[@]}" "$L:${PORT[expired]}"
check expired "days left < 0" 'a["tls"]["certificate"]["days_left"] < 0' True "$W/expired.json"

expect selfsigned 1 "cert-self-signed plaintext-accepted starttls-port" \
    --ca "$CA" "${N[@]}" "$L:${PORT[selfsigned]}"

expect wrongname 1 "cert-expiring cert-name-mismatch plaintext-accepted starttls-port" \
    --ca "$CA" "${N[@]}" "$L:${PORT[wrongname]}"
check wrongname "names" 'a["tls"]["certificate"]["names"]' "['other.e2e.test']" "$W/wrongname.json"
check wrongname "days left" 'a["tls"]["certificate"]["days_left"] in (9, 10)' True "$W/wrongname.json"

expect ccert 0 "client-cert-requested plaintext-accepted starttls-port" \
    --ca "$CA" "${N[@]}" "$L:${PORT[ccert]}"
check ccert "CA name sent" 'a["tls"]["client_ca_names"]' "['CN=tlspolicy e2e CA,O=tlspolicy e2e']" "$W/ccert.json"

# STARTTLS masked by the proxy in front of "may"; TLS still works when sent
expect masked 1 "plaintext-accepted starttls-masked starttls-port" --ca "$CA" "${N[@]}" "$L:$MASK_PORT"
check masked "masked as" 'a["ehlo"]["masked_as"]' XXXXXXXA "$W/masked.json"

expect not-smtp 1 "not-smtp" --timeout 2 "$L:$GARBAGE_PORT"
check not-smtp "what it said" 'a["first_bytes"]["banner"]["text"]' "HTTP/1.1 400 Bad Request" "$W/not-smtp.json"
expect refused 3 "connect-refused" "$L:$NOTHING_PORT"

# a hostile server: escapes, a byte that is not UTF-8, a long line; the
# output has no control byte, and the JSON document is valid (python read it)
expect hostile 1 "no-tls plaintext-accepted starttls-masked starttls-port" "$L:$HOSTILE_PORT"
check hostile "banner escaped" 'a["first_bytes"]["banner"]["text"]' \
    '220 evil.test \x1b[31mESMTP\x1b[0m \xc3(' "$W/hostile.json"
"$CTL" probe --timeout 5 "$L:$HOSTILE_PORT" >"$W/hostile.txt" 2>&1
CHECKS=$((CHECKS + 1))
if LC_ALL=C grep -q "$(printf '[\001-\010\016-\037\177]')" "$W/hostile.txt" "$W/hostile.json"; then
    fail "hostile: a control character reached the output"
else
    say "ok hostile: no control character in the output"
fi
text_has hostile-text '^  ! no-tls: STARTTLS got: 454 4\.7\.0 \\x1b\[31mno TLS' "$W/hostile.txt"

# bad usage
CHECKS=$((CHECKS + 1))
rc=0; "$CTL" probe --timeout 0 "$L:25" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] && say "ok usage: exit 2" || fail "usage: --timeout 0 gave exit $rc, want 2"

wait "$TARPIT_JOB"
read -r rc ms <"$W/tarpit.rc"
CHECKS=$((CHECKS + 1))
got=$(codes "$W/tarpit.json")
if [ "$rc" = 1 ] && [ "$got" = timeout ] && [ "$ms" -lt 7000 ]; then
    say "ok tarpit: exit 1 [timeout] after $ms ms"
else
    fail "tarpit: exit $rc, [$got], $ms ms; want exit 1, [timeout], < 7000 ms"; cat "$W/tarpit.json"
fi
check tarpit "timed out at the TLS hello" 'a["timeout_step"]' "TLS ClientHello (after no banner)" "$W/tarpit.json"

# --mx and DANE: MX, A and TLSA records on NSD; the MX host is "may"
DP=${PORT[may]}
DNSARGS=(--port "$DP" --dns "$DNST_SERVER" --trust-anchor "$DNST_ANCHOR" --ca "$CA" "${N[@]}")
expect dane-match 0 "plaintext-accepted starttls-port" --mx "d1.$DNST_SIGNED" "${DNSARGS[@]}"
check dane-match "DANE-EE record matched" '(a["host"], a["dane"]["dnssec"], a["dane"]["result"], a["dane"]["usage"])' \
    "('mx1.$DNST_SIGNED', 'secure', 'match', 3)" "$W/dane-match.json"
expect dane-mismatch 1 "dane-mismatch plaintext-accepted starttls-port" --mx "d2.$DNST_SIGNED" "${DNSARGS[@]}"
expect dane-unsigned 1 "dane-unvalidated plaintext-accepted starttls-port" --mx "d3.$DNST_UNSIGNED" "${DNSARGS[@]}"
check dane-unsigned "insecure answer, not checked" '(a["dane"]["dnssec"], a["dane"]["result"])' \
    "('insecure', 'not-checked')" "$W/dane-unsigned.json"
# a trust anchor that did not sign the zone: the MX answer is bogus, nothing
# is probed (never a fallback to an unvalidated answer)
expect dane-bogus 3 "" --mx "d1.$DNST_SIGNED" --port "$DP" --dns "$DNST_SERVER" \
    --trust-anchor "$DNST_WRONG_ANCHOR" --ca "$CA" "${N[@]}"
CHECKS=$((CHECKS + 1))
got=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["targets"][0]["mx_dnssec"])' "$W/dane-bogus.json")
[ "$got" = bogus ] && say "ok dane-bogus: MX answer bogus" || fail "dane-bogus: mx_dnssec $got, want bogus"

# MTA-STS: the policy server's certificate is of dns-lib.sh's CA, the MX's
# of the e2e CA: --ca gets both, but in sts-untrusted
S=$DNST_SIGNED
cat "$CA" "$DNST_CA" >"$W/both-ca.pem"
STSARGS=(--no-versions --dns "$DNST_SERVER" --trust-anchor "$DNST_ANCHOR" "${N[@]}")
for d in s1 s2 s3; do STSARGS+=(--connect-to "$(dnst_connect_to "mta-sts.$d.$S")"); done
expect sts-match 0 "plaintext-accepted starttls-port" --mx "s1.$S" --port "$DP" \
    --ca "$W/both-ca.pem" "${STSARGS[@]}"
check sts-match "policy read" '(t["mta_sts"]["txt"], t["mta_sts"]["id"], t["mta_sts"]["mode"], t["mta_sts"]["max_age"], t["mta_sts"]["mx_patterns"])' \
    "('valid', '1', 'enforce', 86400, ['*.$S'])" "$W/sts-match.json"
check sts-match "the MX matches" '(t["mta_sts"]["mx_match"], a["mta_sts_match"])' \
    "([{'host': 'mx1.$S', 'match': True}], True)" "$W/sts-match.json"
expect sts-outside 1 "mta-sts-mismatch plaintext-accepted starttls-port" --mx "s2.$S" \
    --port "$DP" --ca "$W/both-ca.pem" "${STSARGS[@]}"
"$CTL" probe --timeout 5 --mx "s2.$S" --port "$DP" --ca "$W/both-ca.pem" "${STSARGS[@]}" \
    >"$W/sts-outside.txt" 2>&1
text_has sts-outside "MX mx1.$S does NOT match" "$W/sts-outside.txt"
text_has sts-outside "^  8 MTA-STS +mode testing: mx1.$S is NOT among the policy's mx patterns" \
    "$W/sts-outside.txt"
text_has sts-outside "^  ! mta-sts-mismatch: mx1.$S is not among the policy's mx" "$W/sts-outside.txt"
expect sts-enforce-cert 1 "cert-self-signed mta-sts-mismatch plaintext-accepted starttls-port" \
    --mx "s3.$S" --port "${PORT[selfsigned]}" --ca "$W/both-ca.pem" "${STSARGS[@]}"
check sts-enforce-cert "enforce, certificate not verified" \
    '[v["detail"] for v in a["verdicts"] if v["code"] == "mta-sts-mismatch"]' \
    "['mode enforce, but the certificate does not verify']" "$W/sts-enforce-cert.json"
expect sts-untrusted 1 "mta-sts-unusable plaintext-accepted starttls-port" --mx "s1.$S" \
    --port "$DP" --ca "$CA" "${STSARGS[@]}"
check sts-untrusted "fetch refused: certificate" \
    '("mode" not in t["mta_sts"], "certificate" in t["mta_sts"]["error"])' "(True, True)" \
    "$W/sts-untrusted.json"
# --policy: line 2 is met by mx1 (TLS 1.2+, verified, *.e2e.test), line 3 not
printf '# probe test\ndest:s1.%s require min_version=TLSv1.2 verify=yes cert_subject=*.e2e.test\ndest:s2.%s require verify=yes cert_subject=*.example.net\n' \
    "$S" "$S" >"$W/dest.policy"
expect dest-met 0 "plaintext-accepted starttls-port" --mx "s1.$S" --port "$DP" \
    --ca "$W/both-ca.pem" --policy "$W/dest.policy" "${STSARGS[@]}"
check dest-met "rule satisfied" '(a["dest_rule"]["line"], a["dest_rule"]["result"])' \
    "(2, 'satisfied')" "$W/dest-met.json"
expect dest-unmet 1 "dest-rule-unmet mta-sts-mismatch plaintext-accepted starttls-port" \
    --mx "s2.$S" --port "$DP" --ca "$W/both-ca.pem" --policy "$W/dest.policy" "${STSARGS[@]}"
check dest-unmet "FILE:LINE and what" \
    "[v['detail'].startswith('$W/dest.policy:3: cert_subject=: none') for v in a['verdicts'] if v['code'] == 'dest-rule-unmet']" \
    "[True]" "$W/dest-unmet.json"

say "probe of one host (may, with versions): $(jfield "$W/may-ca.json" 'a["elapsed_ms"]') ms"
say "$CHECKS checks, $FAILS failed, $(secs "$T0" "$(date +%s.%N)") s in all"
[ "$FAILS" = 0 ]
