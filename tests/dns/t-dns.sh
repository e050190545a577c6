#!/bin/bash
# tests/dns/t-dns.sh -- the DNS (libunbound), DANE (OpenSSL) and MTA-STS
# (libcurl) modules of tlspolicyctl, and import --fetch, against real
# servers on loopback (dns-lib.sh): NSD with a zone signed now and an
# unsigned one, openssl s_server for a real handshake's chain, and an HTTPS
# server for the MTA-STS policies. Run by "make check" (ENABLE_E2E).
set -u
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
. "$srcdir/tests/dns/dns-lib.sh"

tool="$top_builddir/tests/dns/dns-tool"
ctl="$top_builddir/ctl/tlspolicyctl"
work=$(mktemp -d /tmp/tlspolicy-t-dns.XXXXXX)
SERVER_PID=
cleanup() {
    dnst_stop
    [ -n "$SERVER_PID" ] && e2e__stop_pid "$SERVER_PID"
    rm -rf "$work"
}
trap cleanup EXIT
passed=0
failed=0
out="$work/out"

# expect WANT_STATUS PATTERN... -- COMMAND...: status, each pattern (a line
# of the output, grep -E, anchored) present; "!PATTERN": absent.
expect() {
    local want=$1 p got ok=1
    local -a pats=()
    shift
    while [ "$1" != "--" ]; do pats+=("$1"); shift; done
    shift
    "$@" >"$out" 2>&1
    got=$?
    [ "$got" -eq "$want" ] || { echo "FAIL: exit $got, want $want: $*"; ok=0; }
    for p in "${pats[@]}"; do
        case $p in
            !*) ! grep -Eq -- "^${p#!}\$" "$out" || { echo "FAIL: \"${p#!}\" in output of: $*"; ok=0; } ;;
            *) grep -Eq -- "^$p\$" "$out" || { echo "FAIL: no \"$p\" in output of: $*"; ok=0; } ;;
        esac
    done
    if [ $ok -eq 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); sed 's/^/    | /' "$out"; dnst_diag; fi
}

dnst_setup "$work/dns" || exit 1
S=$DNST_SIGNED U=$DNST_UNSIGNED
A=(--dns "$DNST_SERVER" --trust-anchor "$DNST_ANCHOR" --timeout-ms 3000)

# ---- the zones ---------------------------------------------------------------
# MX records out of order; the leaf certificate of the SMTP server stands in
# for every MX (SANs mx1..mx3); TLSA: mx1 DANE-EE SPKI SHA2-256 (right), mx2
# the same of another key (wrong), mx3 DANE-TA of the test CA (right, with a
# name check), mx4 DANE-TA but a name the certificate lacks, mx5 only
# PKIX-EE (unusable for SMTP).
dnst_cert smtp mx1.$S mx2.$S mx3.$S || exit 1
dnst_cert other other.$S || exit 1
dnst_add "$S" "@ IN MX 20 mx2.$S." "@ IN MX 10 mx1.$S." "@ IN MX 30 mx3.$S." \
    "@ IN MX 20 mx0.$S." "mx1 IN A 127.0.0.1" "mx1 IN AAAA ::1" \
    "mta-sts IN A 127.0.0.1" \
    "_mta-sts IN TXT \"v=STSv1; id=20261205T1;\"" \
    "_mta-sts.two IN TXT \"v=STSv1; id=1\"" "_mta-sts.two IN TXT \"v=STSv1; id=2\"" \
    "split IN TXT \"v=STSv1; \" \"id=joined\"" \
    "_mta-sts.bad IN TXT \"v=STSv1; id=no-dash\"" \
    "_mta-sts.broken IN TXT \"v=STSv1; id=1\""
dnst_tlsa "$S" _25._tcp.mx1 "$DNST_DIR/tls/smtp.pem" 3 1 1
dnst_tlsa "$S" _25._tcp.mx2 "$DNST_DIR/tls/other.pem" 3 1 1
dnst_tlsa "$S" _25._tcp.mx3 "$DNST_CA" 2 0 1
dnst_tlsa "$S" _25._tcp.mx4 "$DNST_CA" 2 0 1
dnst_tlsa "$S" _25._tcp.mx5 "$DNST_DIR/tls/smtp.pem" 1 1 1
dnst_add "$U" "@ IN MX 10 mx.$U." "mx IN A 127.0.0.1"
dnst_tlsa "$U" _25._tcp.mx "$DNST_DIR/tls/smtp.pem" 3 1 1
dnst_start || exit 1

# ---- DNS: order, secure, insecure, bogus, nxdomain -----------------------------
expect 0 "status secure secure" -- "$tool" "${A[@]}" mx "$S"
# Sorted by preference, then name, whatever order the server sends.
"$tool" "${A[@]}" mx "$S" | grep '^mx' >"$work/mx"
printf 'mx 10 mx1.%s\nmx 20 mx0.%s\nmx 20 mx2.%s\nmx 30 mx3.%s\n' "$S" "$S" "$S" "$S" >"$work/mx.want"
if cmp -s "$work/mx" "$work/mx.want"; then passed=$((passed + 1)); else
    echo "FAIL: MX order"; diff "$work/mx.want" "$work/mx"; failed=$((failed + 1)); fi
expect 0 "status secure secure" "addr 127.0.0.1" -- "$tool" "${A[@]}" addr "mx1.$S" 4
expect 0 "status secure secure" "addr ::1" -- "$tool" "${A[@]}" addr "MX1.$S." 6
expect 0 "status nxdomain secure" -- "$tool" "${A[@]}" addr "nope.$S" 4
expect 0 "status insecure" "mx 10 mx.$U" -- "$tool" "${A[@]}" mx "$U"
expect 0 "status nxdomain" -- "$tool" "${A[@]}" addr "nope.$U" 4
expect 0 "status bogus why .+" "!mx .*" -- \
    "$tool" --dns "$DNST_SERVER" --trust-anchor "$DNST_WRONG_ANCHOR" mx "$S"
expect 0 "status insecure" -- \
    "$tool" --dns "$DNST_SERVER" --trust-anchor "$DNST_WRONG_ANCHOR" mx "$U"
expect 0 "status secure secure" "txt v=STSv1; id=joined" -- "$tool" "${A[@]}" txt "split.$S"
expect 1 "setup error trust anchor /nonexistent: .*" -- \
    "$tool" --dns "$DNST_SERVER" --trust-anchor /nonexistent mx "$S"
expect 1 "setup error trust anchor .*: no DS or DNSKEY record in it" -- \
    "$tool" --dns "$DNST_SERVER" --trust-anchor /dev/null mx "$S"
expect 1 "setup error DNS server 127.0.0.1@0: .*" -- \
    "$tool" --dns 127.0.0.1@0 --trust-anchor "$DNST_ANCHOR" mx "$S"
# A server that never answers: a timeout, within it.
dnst_blackhole || exit 1
start=$(date +%s%N)
expect 0 "status timeout why no answer for $S within 1000 ms" -- \
    "$tool" --dns "$DNST_BLACKHOLE_SERVER" --trust-anchor "$DNST_ANCHOR" --timeout-ms 1000 mx "$S"
took=$((($(date +%s%N) - start) / 1000000))
if [ "$took" -lt 2500 ]; then passed=$((passed + 1)); else
    echo "FAIL: a 1000 ms timeout took $took ms"; failed=$((failed + 1)); fi

# ---- TLSA and DANE against a real handshake --------------------------------------
expect 0 "status secure secure" "tlsa 3 1 1 [0-9a-f]{64}" -- "$tool" "${A[@]}" tlsa "mx1.$S" 25
e2e_free_port >"$work/port" && read -r tls_port <"$work/port"
openssl s_server -quiet -accept "127.0.0.1:$tls_port" -cert "$DNST_DIR/tls/smtp.pem" \
    -key "$DNST_DIR/tls/smtp.key" -cert_chain "$DNST_CA" >"$work/s_server.log" 2>&1 </dev/null &
SERVER_PID=$!
e2e_wait_listen "$tls_port" 10 || exit 1
expect 0 "dane match 0 DANE-EE SPKI SHA2-256 depth 0" -- \
    "$tool" "${A[@]}" dane "127.0.0.1:$tls_port" "mx1.$S" 25
expect 0 "dane nomatch no TLSA record matches: .*" "!dane match.*" -- \
    "$tool" "${A[@]}" dane "127.0.0.1:$tls_port" "mx2.$S" 25
expect 0 "dane match 0 DANE-TA Cert SHA2-256 depth 1" -- \
    "$tool" "${A[@]}" dane "127.0.0.1:$tls_port" "mx3.$S" 25
# DANE-TA checks the name (RFC 7672 3.2.2): mx4 is not in the certificate.
expect 0 "dane nomatch no TLSA record matches: .*" -- \
    "$tool" "${A[@]}" dane "127.0.0.1:$tls_port" "mx4.$S" 25
expect 0 "dane nomatch no usable TLSA records .*" -- \
    "$tool" "${A[@]}" dane "127.0.0.1:$tls_port" "mx5.$S" 25
# The same TLSA record in the unsigned zone is no DANE.
expect 0 "status insecure" "dane unvalidated insecure" "!dane match.*" -- \
    "$tool" "${A[@]}" dane "127.0.0.1:$tls_port" "mx.$U" 25
expect 0 "status bogus why .+" "dane unvalidated bogus" -- \
    "$tool" --dns "$DNST_SERVER" --trust-anchor "$DNST_WRONG_ANCHOR" \
    dane "127.0.0.1:$tls_port" "mx1.$S" 25

# ---- MTA-STS: TXT record, fetch, parse, MX patterns -------------------------------
policy="version: STSv1\nmode: enforce\nmx: mx1.$S\nmx: *.mx.$S\nmax_age: 86400\n"
dnst_sts_serve "mta-sts.$S" "$policy"
dnst_https_start "mta-sts.$S" "mta-sts.big.$S" "mta-sts.html.$S" "mta-sts.moved.$S" \
    "mta-sts.broken.$S" "mta-sts.gone.$S" || exit 1
F=(--ca "$DNST_CA" --connect-to "$(dnst_connect_to "mta-sts.$S")")
expect 0 "sts-txt id 20261205T1" "policy enforce 86400 mx1.$S,\*.mx.$S" \
    "mx-match mx1.$S yes" "mx-match a.mx.$S yes" "mx-match mx2.$S no" \
    "mx-match a.b.mx.$S no" -- \
    "$tool" "${A[@]}" "${F[@]}" sts "$S" "mx1.$S" "a.mx.$S" "mx2.$S" "a.b.mx.$S"
# Without the test CA the certificate does not verify: refused.
expect 0 "fetch error https://mta-sts.$S/.well-known/mta-sts.txt: SSL certificate problem: .*" \
    "!policy.*" -- "$tool" "${A[@]}" --connect-to "$(dnst_connect_to "mta-sts.$S")" sts "$S"
# A certificate for another name: refused.
expect 0 "fetch error https://mta-sts.other.$S/.*" "!policy.*" -- \
    "$tool" "${A[@]}" "${F[@]}" --connect-to "$(dnst_connect_to "mta-sts.other.$S")" sts "other.$S"
dnst_sts_serve "mta-sts.big.$S" "$(head -c 70000 /dev/zero | tr '\0' '#')"
expect 0 "fetch error .*: more than 65536 bytes: refused" -- \
    "$tool" "${A[@]}" --ca "$DNST_CA" --connect-to "$(dnst_connect_to "mta-sts.big.$S")" sts "big.$S"
dnst_sts_serve "mta-sts.html.$S" "$policy" "text/html"
expect 0 "fetch error .*: Content-Type text/html, not text/plain" -- \
    "$tool" "${A[@]}" --ca "$DNST_CA" --connect-to "$(dnst_connect_to "mta-sts.html.$S")" sts "html.$S"
dnst_sts_serve "mta-sts.moved.$S" "$policy" "" 301 "https://mta-sts.$S/.well-known/mta-sts.txt"
expect 0 "fetch error .*: HTTP 301, a redirect, which RFC 8461 forbids following" -- \
    "$tool" "${A[@]}" --ca "$DNST_CA" --connect-to "$(dnst_connect_to "mta-sts.moved.$S")" sts "moved.$S"
expect 0 "fetch error .*: HTTP 404, not 200" -- \
    "$tool" "${A[@]}" --ca "$DNST_CA" --connect-to "$(dnst_connect_to "mta-sts.gone.$S")" sts "gone.$S"
dnst_sts_serve "mta-sts.broken.$S" "version: STSv1\nmode: enforce\nmax_age: 1\n"
expect 0 "policy error body: no \"mx:\" line, .*" -- \
    "$tool" "${A[@]}" --ca "$DNST_CA" --connect-to "$(dnst_connect_to "mta-sts.broken.$S")" sts "broken.$S"
expect 0 "sts-txt bad 2 STSv1 TXT records, where RFC 8461 allows one: no policy" -- \
    "$tool" "${A[@]}" "${F[@]}" sts "two.$S"
expect 0 "sts-txt none no STSv1 TXT record" -- "$tool" "${A[@]}" "${F[@]}" sts "$U"

# ---- import --fetch ---------------------------------------------------------------
expect 0 "dest:$S require verify=yes cert_subject=mx1.$S,\*.mx.$S" \
    "# $S: MTA-STS policy from https://mta-sts.$S/.well-known/mta-sts.txt, id 20261205T1, mode enforce, max_age 86400: expires .*" \
    "# $U: no MTA-STS TXT record: no rule" "# nope.$S: no MTA-STS TXT record: no rule" -- \
    "$ctl" import --dns "$DNST_SERVER" --trust-anchor "$DNST_ANCHOR" --timeout 3 \
    --ca "$DNST_CA" --connect-to "$(dnst_connect_to "mta-sts.$S")" --fetch "$S" "$U" "nope.$S"
cp "$out" "$work/fetched.policy"
expect 0 "$work/fetched.policy: OK: 1 rules? .*dest 1.*" -- "$ctl" check -f "$work/fetched.policy"
expect 1 "tlspolicyctl import: $S: https://mta-sts.$S/.well-known/mta-sts.txt: SSL certificate problem: .*" \
    "tlspolicyctl import: refused; nothing written" "!dest:.*" -- \
    "$ctl" import --dns "$DNST_SERVER" --trust-anchor "$DNST_ANCHOR" --timeout 3 \
    --connect-to "$(dnst_connect_to "mta-sts.$S")" --fetch "$S"
expect 1 "tlspolicyctl import: $S: _mta-sts.$S TXT: bogus: .+" "!dest:.*" -- \
    "$ctl" import --dns "$DNST_SERVER" --trust-anchor "$DNST_WRONG_ANCHOR" --timeout 3 \
    --ca "$DNST_CA" --connect-to "$(dnst_connect_to "mta-sts.$S")" --fetch "$S"
expect 1 "https://mta-sts.broken.$S/.well-known/mta-sts.txt: no \"mx:\" line, .*" ".*refused; nothing written" -- \
    "$ctl" import --dns "$DNST_SERVER" --trust-anchor "$DNST_ANCHOR" --timeout 3 \
    --ca "$DNST_CA" --connect-to "$(dnst_connect_to "mta-sts.broken.$S")" --fetch "broken.$S"
expect 0 "tlspolicyctl import: bad.$S: warning: the STSv1 TXT record is malformed .*" -- \
    "$ctl" import --dns "$DNST_SERVER" --trust-anchor "$DNST_ANCHOR" --timeout 3 --fetch "bad.$S"

echo "t-dns: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
