# shellcheck shell=bash
# tests/dns/dns-lib.sh -- DNS (with DNSSEC) and HTTPS servers on loopback for
# tests of tlspolicyctl probe and import: an authoritative NSD serving a zone
# signed at test time (ldns-signzone) and an unsigned one, the signed zone's
# DS as the trust anchor a validating resolver (libunbound) is given, and an
# HTTPS server for MTA-STS policies with a certificate of the test CA
# (tests/e2e/common-lib.sh).  Every process is started on a free port of
# 127.0.0.1 and stopped by its pid (dnst_stop; call it from an EXIT trap).
#
# Needs: nsd, ldns-keygen and ldns-signzone (ldnsutils), openssl, python3.
# Shell behaviour: as common-lib.sh (safe under `set -u`, never `exit`).
#
# Functions
#   dnst_setup DIR        make DIR (must not exist or be empty; below /tmp),
#                         pick the ports, make the test CA and the zone
#                         keys.  Sets and exports:
#       DNST_DIR          DIR
#       DNST_PORT         the DNS port (UDP and TCP)
#       DNST_SERVER       "127.0.0.1@PORT": give it as --dns
#       DNST_SIGNED       the signed zone, sec.example
#       DNST_UNSIGNED     the unsigned zone, plain.example
#       DNST_ANCHOR       the trust anchor file (the signed zone's DS): give
#                         it as --trust-anchor (written by dnst_start)
#       DNST_WRONG_ANCHOR the DS of a key that did not sign the zone: with
#                         it every answer of the signed zone is bogus
#       DNST_CA           the test CA certificate (give it as --ca)
#       DNST_CA_KEY       its key, for dnst_cert
#       DNST_HTTPS_PORT   the HTTPS server's port (dnst_https_start)
#   dnst_add ZONE RR...   add resource records (zone-file lines, names
#                         relative to ZONE or absolute with a dot) to ZONE
#                         ($DNST_SIGNED or $DNST_UNSIGNED); before dnst_start,
#                         or followed by dnst_restart
#   dnst_tlsa ZONE NAME CERT [USAGE SELECTOR MTYPE]
#                         add "NAME TLSA USAGE SELECTOR MTYPE DATA" computed
#                         from the PEM certificate CERT (default 3 1 1:
#                         DANE-EE, SPKI, SHA2-256); NAME as in dnst_add,
#                         e.g. _25._tcp.mx1
#   dnst_start            sign the signed zone, write DNST_ANCHOR, start NSD
#                         and wait until it listens
#   dnst_restart          stop NSD, sign again, start (after dnst_add)
#   dnst_cert NAME HOST...
#                         a certificate of the test CA for the HOSTs (SANs)
#                         in $DNST_DIR/tls/NAME.pem (chain: NAME-chain.pem)
#                         and NAME.key
#   dnst_https_start HOST...
#                         start the HTTPS server (tests/dns/https-server.py)
#                         on DNST_HTTPS_PORT with a certificate of the test CA
#                         for every HOST (e.g. mta-sts.sec.example); with
#                         DNST_HTTPS_CERT=NAME set, with dnst_cert's NAME
#                         instead (e.g. a self-signed one)
#   dnst_sts_serve HOST BODY [CONTENT-TYPE [STATUS [LOCATION]]]
#                         what the HTTPS server answers for Host: HOST at
#                         /.well-known/mta-sts.txt (BODY is the text; "\n"
#                         escapes as printf); takes effect at once
#   dnst_connect_to HOST  "HOST:443:127.0.0.1:DNST_HTTPS_PORT", for
#                         --connect-to
#   dnst_blackhole        start a UDP and TCP listener that never answers;
#                         sets DNST_BLACKHOLE_SERVER ("127.0.0.1@PORT")
#   dnst_stop             stop every server started here (by pid)
#   dnst_diag             NSD's and the HTTPS server's logs, on stderr

DNST__LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../e2e/common-lib.sh
. "$DNST__LIB_DIR/../e2e/common-lib.sh"

DNST_SIGNED=sec.example
DNST_UNSIGNED=plain.example
export DNST_SIGNED DNST_UNSIGNED
DNST__NSD_PID=
DNST__HTTPS_PID=
DNST__HOLE_PID=

dnst__say() { printf 'dns-lib: %s\n' "$*" >&2; }

# dnst__zone_head ZONE: the SOA and NS records every test zone starts with.
dnst__zone_head() {
    printf '$ORIGIN %s.\n$TTL 300\n' "$1"
    printf '@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 300\n' "$1" "$1"
    printf '@ IN NS ns.%s.\nns IN A 127.0.0.1\n' "$1"
}

dnst_setup() {
    local -; set +e
    local d=${1:?dnst_setup DIR}
    e2e__need_tools dnst nsd ldns-keygen ldns-signzone openssl python3 || return 1
    mkdir -p "$d/tls" "$d/docs" || return 1
    DNST_DIR=$(cd "$d" && pwd)
    e2e__pick_ports "$DNST_DIR" DNST_PORT DNST_HTTPS_PORT || return 1
    export DNST_DIR DNST_SERVER="127.0.0.1@$DNST_PORT"
    export DNST_ANCHOR="$DNST_DIR/anchor.ds" DNST_WRONG_ANCHOR="$DNST_DIR/wrong-anchor.ds"
    e2e__make_certs "$DNST_DIR/tls" || return 1
    export DNST_CA="$DNST_DIR/tls/ca.pem" DNST_CA_KEY="$DNST_DIR/tls/ca.key"
    dnst__zone_head "$DNST_SIGNED" >"$DNST_DIR/$DNST_SIGNED.zone"
    dnst__zone_head "$DNST_UNSIGNED" >"$DNST_DIR/$DNST_UNSIGNED.zone"
    (
        cd "$DNST_DIR" || exit 1
        # KSK and ZSK of the signed zone, and a KSK nobody signs with.
        ldns-keygen -a ECDSAP256SHA256 -k "$DNST_SIGNED" >ksk &&
        ldns-keygen -a ECDSAP256SHA256 "$DNST_SIGNED" >zsk &&
        mkdir -p wrong && cd wrong &&
        ldns-keygen -a ECDSAP256SHA256 -k "$DNST_SIGNED" >../wrong-ksk
    ) || { dnst__say "key generation failed"; return 1; }
    cp "$DNST_DIR/wrong/$(cat "$DNST_DIR/wrong-ksk").ds" "$DNST_WRONG_ANCHOR"
}

dnst_add() {
    local zone=${1:?dnst_add ZONE RR...}
    shift
    printf '%s\n' "$@" >>"$DNST_DIR/$zone.zone"
}

dnst_tlsa() {
    local -; set +e
    local zone=$1 name=$2 cert=$3 usage=${4:-3} selector=${5:-1} mtype=${6:-1} data
    case $selector in
        0) data=$(openssl x509 -in "$cert" -outform DER | dnst__match "$mtype") ;;
        *) data=$(openssl x509 -in "$cert" -noout -pubkey |
                  openssl pkey -pubin -outform DER | dnst__match "$mtype") ;;
    esac
    [ -n "$data" ] || { dnst__say "TLSA data of $cert failed"; return 1; }
    dnst_add "$zone" "$name IN TLSA $usage $selector $mtype $data"
}

# dnst__match MTYPE: standard input as TLSA association data (hex).
dnst__match() {
    case $1 in
        0) od -An -v -tx1 | tr -d ' \n' ;;
        1) openssl dgst -sha256 -r | cut -d' ' -f1 ;;
        2) openssl dgst -sha512 -r | cut -d' ' -f1 ;;
    esac
}

# dnst__nsd_conf: NSD's configuration: no privileges dropped, no database,
# no remote control, everything in DNST_DIR.
dnst__nsd_conf() {
    cat <<EOF
server:
	ip-address: 127.0.0.1
	port: $DNST_PORT
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$DNST_DIR"
	database: ""
	pidfile: "$DNST_DIR/nsd.pid"
	xfrdfile: "$DNST_DIR/xfrd.state"
	zonelistfile: "$DNST_DIR/zone.list"
	logfile: "$DNST_DIR/nsd.log"
	server-count: 1
	verbosity: 1
remote-control:
	control-enable: no
zone:
	name: $DNST_SIGNED
	zonefile: $DNST_SIGNED.zone.signed
zone:
	name: $DNST_UNSIGNED
	zonefile: $DNST_UNSIGNED.zone
EOF
}

dnst_start() {
    local -; set +e
    (
        cd "$DNST_DIR" &&
        ldns-signzone -o "$DNST_SIGNED" "$DNST_SIGNED.zone" "$(cat ksk)" "$(cat zsk)"
    ) >"$DNST_DIR/sign.log" 2>&1 || { cat "$DNST_DIR/sign.log" >&2; dnst__say "signing failed"; return 1; }
    cp "$DNST_DIR/$(cat "$DNST_DIR/ksk").ds" "$DNST_ANCHOR"
    dnst__nsd_conf >"$DNST_DIR/nsd.conf"
    nsd-checkconf "$DNST_DIR/nsd.conf" || return 1
    # -d: in the foreground, so that $! is NSD's main process.
    nsd -d -c "$DNST_DIR/nsd.conf" >>"$DNST_DIR/nsd.out" 2>&1 &
    DNST__NSD_PID=$!
    e2e_wait_listen "$DNST_PORT" 10 || { dnst_diag; return 1; }
}

dnst_restart() {
    [ -n "$DNST__NSD_PID" ] && e2e__stop_pid "$DNST__NSD_PID"
    DNST__NSD_PID=
    dnst_start
}

dnst_cert() {
    local -; set +e
    local name=${1:?dnst_cert NAME HOST...} san= h t="$DNST_DIR/tls"
    shift
    for h in "$@"; do san="${san:+$san,}DNS:$h"; done
    openssl req -x509 -new -CA "$DNST_CA" -CAkey "$DNST_CA_KEY" \
        -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
        -subj "/O=tlspolicy dns tests/CN=$1" -addext "subjectAltName=$san" \
        -addext "basicConstraints=critical,CA:FALSE" \
        -addext "extendedKeyUsage=serverAuth" \
        -keyout "$t/$name.key" -out "$t/$name.pem" >"$t/$name.log" 2>&1 ||
        { cat "$t/$name.log" >&2; dnst__say "certificate $name failed"; return 1; }
    cat "$t/$name.pem" "$DNST_CA" >"$t/$name-chain.pem"
}

dnst_https_start() {
    local -; set +e
    local name=${DNST_HTTPS_CERT:-https}
    [ -n "${DNST_HTTPS_CERT:-}" ] || dnst_cert https "$@" || return 1
    rm -f "$DNST_DIR/https.pid"
    python3 "$DNST__LIB_DIR/https-server.py" "$DNST_HTTPS_PORT" \
        "$DNST_DIR/tls/$name-chain.pem" "$DNST_DIR/tls/$name.key" \
        "$DNST_DIR/docs" "$DNST_DIR/https.pid" 2>>"$DNST_DIR/https.log" &
    DNST__HTTPS_PID=$!
    e2e_wait_listen "$DNST_HTTPS_PORT" 10 || { dnst_diag; return 1; }
}

dnst_sts_serve() {
    local host=${1:?dnst_sts_serve HOST BODY [TYPE [STATUS [LOCATION]]]} d
    d="$DNST_DIR/docs/$host"
    mkdir -p "$d" && rm -f "$d"/*
    # shellcheck disable=SC2059
    printf "$2" >"$d/body"
    [ -n "${3:-}" ] && printf '%s\n' "$3" >"$d/type"
    [ -n "${4:-}" ] && printf '%s\n' "$4" >"$d/status"
    [ -n "${5:-}" ] && printf '%s\n' "$5" >"$d/location"
    return 0
}

dnst_connect_to() { printf '%s:443:127.0.0.1:%s\n' "$1" "$DNST_HTTPS_PORT"; }

dnst_blackhole() {
    local -; set +e
    local port
    e2e_free_port >"$DNST_DIR/port" && read -r port <"$DNST_DIR/port" || return 1
    python3 -c '
import socket, sys, time
p = int(sys.argv[1])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p))
t = socket.socket(); t.bind(("127.0.0.1", p)); t.listen(16)
while True: time.sleep(60)
' "$port" &
    DNST__HOLE_PID=$!
    export DNST_BLACKHOLE_SERVER="127.0.0.1@$port"
    e2e_wait_listen "$port" 10
}

dnst_stop() {
    local -; set +e
    local p
    for p in "$DNST__NSD_PID" "$DNST__HTTPS_PID" "$DNST__HOLE_PID"; do
        [ -n "$p" ] && e2e__stop_pid "$p"
    done
    DNST__NSD_PID= DNST__HTTPS_PID= DNST__HOLE_PID=
    return 0
}

dnst_diag() {
    local f
    for f in nsd.log nsd.out https.log; do
        [ -s "$DNST_DIR/$f" ] || continue
        printf '===== %s\n' "$f" >&2
        tail -n 20 "$DNST_DIR/$f" >&2
    done
}
