# shellcheck shell=bash
# tests/e2e/postfix-lib.sh -- run a REAL private Postfix on 127.0.0.1 for
# end-to-end tests of the tlspolicy milter.  Source it from a bash script:
#
#     . "$(dirname "$0")/postfix-lib.sh"
#     W=/var/tmp/my-test.$$; mkdir -p "$W"         # caller creates WORKDIR
#     trap pf_stop EXIT                            # pf_stop is idempotent
#     pf_setup "$W" inet:127.0.0.1:10999           # or "" for no milter
#     PF_EXTRA_MAIN_CF='smtpd_tls_loglevel = 2'    # optional, before pf_start
#     pf_start
#     pf_swaks_starttls --cert trusted; echo "rc=$? id=$PF_LAST_ID"
#     pf_wait_queue_empty 20
#     f=$(pf_sink_file_for "$PF_LAST_ID") && grep '^Received:' "$f"
#
# Requirements: root, bash >= 4.4, Debian/Ubuntu postfix package (/etc/postfix
# must stay: `postfix check` uses /etc/postfix/postfix-files), swaks with
# libnet-ssleay-perl + libio-socket-ssl-perl, openssl, python3 (>= 3.7),
# script(1) (util-linux).  No iproute2/procps needed (/proc is read directly).
#
# Shell behaviour: safe under `set -u`; never calls `exit`; every public
# function runs with errexit off (`local -; set +e`), so a caller's `set -e`
# only reacts to the function's return status -- use `f || rc=$?` for the
# client wrappers, whose non-zero status is often the expected result.
# Nothing is left as a child of the caller's shell (smtp-sink is started from
# a subshell and reparented), so a bare `wait` in a test does not hang.
# Recommended in tests:  trap pf_stop EXIT; trap 'exit 130' INT TERM
# (bash does not run the EXIT trap on a fatal signal without the second trap).
#
# WORKDIR
#   The caller creates it.  pf_setup chmods WORKDIR to 755 and adds o+x to
#   every parent directory that lacks it, so that the `postfix` user can
#   traverse the path (Postfix daemons and smtp-sink run as postfix;
#   `mktemp -d` gives 700).  Both /tmp/... and /var/tmp/... work for Postfix
#   (measured; the world-writable-parent trouble in MTA-NOTES is Sendmail's).
#   The smoke test uses `mktemp -d /var/tmp/tlspolicy-e2e-smoke.XXXXXX`.
#   Layout:
#     WORKDIR/etc/{main.cf,master.cf}   config_directory (postfix -c)
#     WORKDIR/queue/                    queue_directory
#     WORKDIR/data/                     data_directory
#     WORKDIR/tls/                      CA, server and client certs (PEM); kept
#                                       and reused if pf_setup runs again
#     WORKDIR/log/maillog               Postfix log (maillog_file via postlogd)
#     WORKDIR/sink/                     one file per message received by smtp-sink
#     WORKDIR/run/                      pids, smtp-sink output, postfix output
#     WORKDIR/transcripts/              client transcripts (one file per call)
#   pf_setup refuses to run while a Postfix master for WORKDIR is alive;
#   otherwise it wipes and recreates etc, queue, data, sink and log, and
#   picks new ports.
#
# MILTER_SOCKET
#   Postfix syntax: inet:127.0.0.1:PORT or unix:/path (the socket must be
#   writable by the postfix user: chmod 666 or run the milter as postfix), or
#   "" for no milter.  Settings: milter_protocol=6, milter_default_action=
#   tempfail, milter_connect_timeout=5s, milter_command_timeout=10s,
#   milter_content_timeout=15s.  Default milter macro lists are NOT changed.
#
# Listeners (all on 127.0.0.1, ports picked by pf_free_port at pf_setup time):
#   PF_PORT_STARTTLS   smtpd, STARTTLS offered (smtpd_tls_security_level=may)
#                      syslog_name postfix, {daemon_name}=mx.e2e.test
#   PF_PORT_STARTTLS2  same, but syslog_name=postfix/alt and
#                      milter_macro_daemon_name=alt.e2e.test (a second
#                      listener distinguishable by the milter via {daemon_name})
#   PF_PORT_IMPLICIT   smtpd_tls_wrappermode=yes (port-465 style),
#                      syslog_name=postfix/smtps, {daemon_name}=mx.e2e.test
#   PF_PORT_SINK       smtp-sink; Postfix relays EVERYTHING there
#                      (default_transport = relay_transport = smtp:[127.0.0.1]:PORT,
#                      smtp_tls_security_level=none)
#   smtpd: smtpd_tls_ask_ccert=yes, smtpd_tls_CAfile=$PF_TLS_DIR/ca.pem,
#   smtpd_tls_loglevel=1 (log lines "Anonymous|Untrusted|Trusted TLS connection
#   established from ..."), smtpd_tls_received_header=yes (TLS info in the
#   Received: header), smtpd_relay_restrictions = permit_mynetworks reject,
#   mynetworks=127.0.0.0/8, no peername lookup, no rate limits.
#
# Exported variables (after pf_setup unless noted)
#   PF_WORKDIR PF_CONF_DIR PF_QUEUE_DIR PF_DATA_DIR PF_TLS_DIR PF_LOG_FILE
#   PF_SINK_DIR PF_RUN_DIR PF_TRANSCRIPT_DIR PF_MILTER
#   PF_PORT_STARTTLS PF_PORT_STARTTLS2 PF_PORT_IMPLICIT PF_PORT_SINK
#   PF_HOSTNAME=mx.e2e.test  PF_CLIENT_EHLO=client.e2e.test
#   PF_DEFAULT_FROM=sender@client.e2e.test  PF_DEFAULT_TO=rcpt@remote.e2e.test
#   PF_CA_CERT                  test CA (PEM)           CN "tlspolicy e2e CA"
#   PF_SERVER_CERT PF_SERVER_KEY   server, CN/SAN mx.e2e.test, signed by the CA
#   PF_CLIENT_CERT PF_CLIENT_KEY   CN=client.e2e.test, signed by the CA (trusted)
#   PF_ROGUE_CERT  PF_ROGUE_KEY    CN=rogue.e2e.test, self-signed (untrusted)
#   PF_MASTER_PID  PF_SINK_PID     (after pf_start)
#   After every client call (pf_swaks_* / pf_smtp_py / pf_starttls_noehlo):
#   PF_LAST_ID          unique id of the message (in Subject "e2e ID" and header
#                       "X-E2E-Id: ID")
#   PF_LAST_TRANSCRIPT  file holding the client's transcript
#   PF_LAST_RC          client exit code (also the function's return code)
#   PF_LAST_QUEUEID     Postfix queue id from "250 ... queued as X", or ""
#
# Variables read
#   PF_EXTRA_MAIN_CF   main.cf lines ("name = value", comments, continuation
#                      lines) applied by pf_start (set it after pf_setup, before
#                      pf_start): the generated definitions of the same names are
#                      removed (postconf -X) and the lines appended in a marked
#                      block, which is replaced at every pf_start.  For changes
#                      while running use pf_postconf "name = value" + pf_reload.
#   PF_PYTHON          python interpreter (default python3)
#   PF_SWAKS           swaks command (default swaks)
#   PF_START_TIMEOUT   seconds to wait for listeners in pf_start (default 20)
#   PF_CLIENT_TIMEOUT  SMTP client timeout in seconds (default 20)
#
# Functions (return 0 on success unless stated)
#   pf_setup WORKDIR MILTER_SOCKET   create certs, ports, main.cf, master.cf,
#                                    queue dirs (postfix check)
#   pf_free_port                     print a free TCP port on 127.0.0.1 (range
#                                    20000-32767, outside the ephemeral range,
#                                    never one handed out before in this shell)
#   pf_start                         start smtp-sink then Postfix; wait until all
#                                    listeners are in LISTEN state (checked in
#                                    /proc/net/tcp: no probe connection, so no
#                                    "lost connection"/SSL_accept log noise).
#                                    Non-zero + diagnostics on stderr on failure.
#   pf_stop                          stop Postfix (SIGTERM to master = what
#                                    `postfix stop` does, then SIGKILL of
#                                    leftovers) and smtp-sink. Idempotent, safe in
#                                    an EXIT trap, always returns 0.
#   pf_reload                        postfix reload (after pf_postconf)
#   pf_postconf 'name = value'...    edit main.cf (postconf -e)
#   pf_wait_listen PORT|unix:/path [TIMEOUT]
#                                    wait until something LISTENs there (use it
#                                    for the milter: no connection is made, so
#                                    libmilter does not call xxfi_close)
#   pf_queue_count                   print #messages in incoming+active+deferred
#                                    +maildrop (hold NOT included)
#   pf_wait_queue_empty [TIMEOUT=20] wait until pf_queue_count is 0 (twice in a
#                                    row); returns 1 on timeout (prints postqueue -p)
#   pf_hold_count                    print #messages in the hold queue
#   pf_queue_list                    postqueue -p
#   pf_queue_flush_hold              postsuper -d ALL hold (delete held mail)
#   pf_log                           print the path of the Postfix log
#   pf_log_offset                    print the current size of the log (bytes)
#   pf_log_since OFFSET              print the log from byte OFFSET on
#   pf_log_grep [GREP-OPTS] PATTERN  grep -E the log
#   pf_log_wait PATTERN [TIMEOUT=10] [OFFSET=0]
#                                    wait until the log (from OFFSET) matches
#                                    PATTERN (grep -E); the log is written
#                                    asynchronously by postlogd
#   pf_log_session QUEUEID [TIMEOUT=5]
#                                    print the smtpd log lines of the SMTP session
#                                    (connect..disconnect) that received QUEUEID;
#                                    waits for the "disconnect" line; 1 if not found
#   pf_sink_count [PATTERN]          print #messages in the sink (matching PATTERN)
#   pf_sink_grep PATTERN             print the paths of sink messages matching
#                                    PATTERN (grep -E), oldest first; 1 if none
#   pf_sink_file_for PATTERN         print the path of THE message matching
#                                    PATTERN; 1 if none, 2 if several (first printed)
#   pf_wait_sink PATTERN [TIMEOUT=20] [COUNT=1]
#                                    wait until COUNT sink messages match PATTERN
#     Sink files (smtp-sink -d 'SINKDIR/%Y%m%d%H%M%S.' -> SINKDIR/20261122204412.3d172b67,
#     owned by postfix): smtp-sink prepends X-Client-Addr, X-Client-Proto,
#     X-Helo-Args, X-Mail-Args, X-Rcpt-Args (one per RCPT, with ORCPT=...) and
#     its own 3-line Received header, then the message as Postfix relayed it
#     (our Postfix's Received header with the TLS details and, for a trusted
#     client cert, '(Client CN "client.e2e.test", Issuer "tlspolicy e2e CA"
#     (verified OK))'), LF line ends, dot-unstuffed, plus one empty line.  The
#     file is created at MAIL FROM and written while DATA streams in; it is
#     closed at "." BEFORE smtp-sink answers 250, so once pf_wait_queue_empty
#     returns every delivered file is complete (an aborted transaction's file
#     is unlinked).  Counting during deliveries may see partial files.
#   pf_swaks_plain    [OPTS] [--] [SWAKS ARGS...]   plaintext (no STARTTLS)
#   pf_swaks_starttls [OPTS] [--] [SWAKS ARGS...]   swaks --tls (TLS required)
#   pf_swaks_implicit [OPTS] [--] [SWAKS ARGS...]   swaks --tls-on-connect
#       OPTS: --cert trusted|untrusted|none  (swaks --tls-cert/--tls-key)
#             --tls-version tlsv1_2|tlsv1_3 (swaks --tls-protocol VALUE)
#             --id ID        (default: generated, unique)
#             --port PORT    (default: the listener of that flavour)
#       Defaults passed to swaks BEFORE your args (later args win):
#         --server 127.0.0.1 --port P --ehlo client.e2e.test
#         --from sender@client.e2e.test --to rcpt@remote.e2e.test
#         --header "Subject: e2e ID" --add-header "X-E2E-Id: ID" --timeout 20
#       Returns swaks' exit code (0 ok, 23 MAIL rejected, 24 RCPT rejected,
#       25 DATA rejected, 26 rejected after ".", 29 TLS error, ...).
#   pf_smtp_py MODE [OPTS] [--] [smtp-client.py ARGS...]
#       MODE plain|starttls|starttls-noehlo|implicit, same OPTS as above
#       (--tls-version also accepts 1.2/1.3); python client tests/e2e/smtp-client.py,
#       exit codes as swaks.
#   pf_starttls_noehlo [OPTS] [--] [ARGS...]
#       = pf_smtp_py starttls-noehlo: EHLO, STARTTLS, then MAIL FROM with NO
#       second EHLO.  swaks cannot do this (it always re-EHLOs).  Measured:
#       `openssl s_client -starttls smtp -quiet -name HELO` sends one EHLO
#       before STARTTLS and none after (log: ehlo=1 starttls=1 mail=1), but it
#       only works with sleep-paced stdin and gives no per-step status; the
#       python client reads every reply before sending the next command and
#       exits with swaks-like codes.  Its transcript confirms the shape.
#   pf_new_id                        print a fresh unique id
#   Client transcripts: swaks' own format (" -> " cleartext, " ~> " in TLS,
#   "<-"/"<~" replies, "<**" an error reply); the python client uses the same
#   arrows; both files start with the exact command line ("=== ...") and end
#   with "=== exit N".
#   One instance per shell: the state lives in the PF_* globals.
#   pf_fail MESSAGE                  print MESSAGE + log tail to stderr, return 1
#   pf_diag                          print diagnostics (log tail, queue, sink)

#
# Observed with this setup (Postfix 3.7.11, swaks 20201014.0):
#   - Milter down + milter_default_action=tempfail: the connect already fails,
#     so smtpd answers STARTTLS with "454 4.3.0 Try again later" (swaks --tls
#     exit 29, python client 29) and MAIL with "451 4.7.1 Service unavailable
#     - try again later" in plaintext (swaks exit 23).
#   - With smtpd_peername_lookup=no the client shows as unknown[127.0.0.1] in
#     the log and in the milter's connect hostname / "_" macro (not localhost).
#   - A fresh main.cf makes every postfix/postconf command sleep ~2 s (Postfix
#     waits until the file is older than a second); the lib backdates it.

# ---------------------------------------------------------------------------
# internals

PF__LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PF__USED_PORTS=${PF__USED_PORTS:-}
PF__ID_SEQ=${PF__ID_SEQ:-0}
PF__TRANSCRIPT_SEQ=${PF__TRANSCRIPT_SEQ:-0}

pf__say() { printf 'postfix-lib: %s\n' "$*" >&2; }

# pf__alive PID: true if the process exists and is not a zombie.
pf__alive() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local pid=${1:-} st
    [ -n "$pid" ] || return 1
    [ -r "/proc/$pid/stat" ] || return 1
    st=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    case $st in Z|X|x|"") return 1 ;; esac
    return 0
}

# pf__is PID NAME: true if PID is alive and its command name is NAME (guards
# against killing an unrelated process that reused a stale pid).
pf__is() {
    pf__alive "${1:-}" && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

# pf__children PID: pids whose parent is PID (one level).
pf__children() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local parent=$1 d ppid
    for d in /proc/[0-9]*; do
        ppid=$(awk '/^PPid:/ {print $2; exit}' "$d/status" 2>/dev/null) || continue
        [ "$ppid" = "$parent" ] && printf '%s\n' "${d#/proc/}"
    done
    return 0
}

# Postfix (dict_load_file) sleeps in 0.3 s steps until main.cf's mtime is
# not within the current second: a freshly written main.cf costs ~2 s at
# every postfix/postconf start.  Backdate the config files after each write.
pf__backdate_conf() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    touch -d "@$(($(date +%s) - 10))" "$PF_CONF_DIR/main.cf" "$PF_CONF_DIR/master.cf" 2>/dev/null
    return 0
}

pf__need_setup() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    if [ -z "${PF_WORKDIR:-}" ] || [ ! -f "${PF_CONF_DIR:-/nonexistent}/main.cf" ]; then
        pf__say "pf_setup has not been run"
        return 1
    fi
}

pf_new_id() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    PF__ID_SEQ=$((PF__ID_SEQ + 1))
    printf 'e2e%s%04d%05d' "$(date +%s%N | cut -c8-16)" "$PF__ID_SEQ" "$RANDOM"
}

# ---------------------------------------------------------------------------
# ports

pf_free_port() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local port
    port=$("${PF_PYTHON:-python3}" - "$PF__USED_PORTS" <<'EOF'
import random, socket, sys
used = set(int(p) for p in sys.argv[1].split() if p)
for _ in range(2000):
    p = random.randint(20000, 32767)
    if p in used:
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    sys.exit(0)
sys.exit(1)
EOF
) || { pf__say "pf_free_port: no free port found"; return 1; }
    PF__USED_PORTS="$PF__USED_PORTS $port"
    printf '%s\n' "$port"
}

# pf__listening PORT: true if 127.0.0.1:PORT or *:PORT is in LISTEN state.
pf__listening() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local hex
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" 'NR > 1 && $4 == "0A" && ($2 == "0100007F" p || $2 == "00000000" p) {f=1} END {exit !f}' \
        /proc/net/tcp 2>/dev/null
}

# pf__unix_listening PATH: true if a listening unix socket is bound to PATH.
pf__unix_listening() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    # /proc/net/unix: Num RefCount Protocol Flags Type St Inode Path; Flags
    # 00010000 = __SO_ACCEPTCON (listening)
    awk -v p="$1" 'NR > 1 && $NF == p && $4 == "00010000" {f=1} END {exit !f}' /proc/net/unix 2>/dev/null
}

pf_wait_listen() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local target=${1:?pf_wait_listen PORT|unix:/path|inet:host:port [TIMEOUT]} timeout=${2:-10} i=0 n
    n=$((timeout * 10))
    while [ "$i" -lt "$n" ]; do
        case $target in
            unix:*) pf__unix_listening "${target#unix:}" && return 0 ;;
            inet:*) pf__listening "${target##*:}" && return 0 ;;
            *) pf__listening "$target" && return 0 ;;
        esac
        sleep 0.1
        i=$((i + 1))
    done
    pf__say "nothing listening on $target after ${timeout}s"
    return 1
}

# ---------------------------------------------------------------------------
# setup

pf__make_certs() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local d=$1
    cat >"$d/openssl.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:mx.e2e.test, DNS:alt.e2e.test, IP:127.0.0.1
authorityKeyIdentifier = keyid
[ client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = DNS:client.e2e.test
authorityKeyIdentifier = keyid
[ rogue ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = DNS:rogue.e2e.test
EOF
    local ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
    # shellcheck disable=SC2086
    {
        openssl req -config "$d/openssl.cnf" -x509 -new $ec -nodes -days 3650 \
            -subj "/O=tlspolicy e2e/CN=tlspolicy e2e CA" -extensions ca \
            -keyout "$d/ca.key" -out "$d/ca.pem" &&
        openssl req -config "$d/openssl.cnf" -new $ec -nodes \
            -subj "/O=tlspolicy e2e/CN=mx.e2e.test" \
            -keyout "$d/server.key" -out "$d/server.csr" &&
        openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
            -set_serial 2 -days 3650 -extfile "$d/openssl.cnf" -extensions server \
            -out "$d/server.pem" &&
        openssl req -config "$d/openssl.cnf" -new $ec -nodes \
            -subj "/O=tlspolicy e2e/CN=client.e2e.test" \
            -keyout "$d/client.key" -out "$d/client.csr" &&
        openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
            -set_serial 3 -days 3650 -extfile "$d/openssl.cnf" -extensions client \
            -out "$d/client.pem" &&
        openssl req -config "$d/openssl.cnf" -x509 -new $ec -nodes -days 3650 \
            -subj "/O=rogue/CN=rogue.e2e.test" -extensions rogue \
            -keyout "$d/rogue.key" -out "$d/rogue.pem"
    } >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; pf__say "certificate generation failed"; return 1; }
    cat "$d/server.pem" "$d/ca.pem" >"$d/server-chain.pem"
    chmod 644 "$d"/*.pem
    chmod 600 "$d"/*.key
    rm -f "$d"/*.csr
}

pf_setup() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local w=${1:?usage: pf_setup WORKDIR MILTER_SOCKET} milter=${2-}
    if [ ! -d "$w" ]; then pf__say "WORKDIR $w does not exist (caller creates it)"; return 1; fi
    w=$(cd "$w" && pwd -P)
    local mpid
    mpid=$(sed -n '1s/[^0-9]//gp' "$w/queue/pid/master.pid" 2>/dev/null)
    for mpid in ${PF_MASTER_PID:-} $mpid; do
        if pf__is "$mpid" master; then
            pf__say "a Postfix master (pid $mpid) is still running for this WORKDIR or shell; pf_stop first"
            return 1
        fi
    done
    if [ "$(id -u)" != 0 ]; then pf__say "must run as root"; return 1; fi
    id postfix >/dev/null 2>&1 || { pf__say "no postfix user: is postfix installed?"; return 1; }
    local t
    for t in postfix postconf smtp-sink swaks openssl script "${PF_PYTHON:-python3}"; do
        command -v "$t" >/dev/null 2>&1 || { pf__say "missing tool: $t"; return 1; }
    done

    # Every directory on the path must be traversable by postfix.
    local p=$w
    while [ -n "$p" ] && [ "$p" != / ]; do
        if ! [ "$(( 0$(stat -c %a "$p") & 01 ))" -ne 0 ]; then chmod o+x "$p" || return 1; fi
        p=$(dirname "$p")
    done
    chmod 755 "$w"

    export PF_WORKDIR=$w
    export PF_CONF_DIR=$w/etc PF_QUEUE_DIR=$w/queue PF_DATA_DIR=$w/data
    export PF_TLS_DIR=$w/tls PF_LOG_FILE=$w/log/maillog PF_SINK_DIR=$w/sink
    export PF_RUN_DIR=$w/run PF_TRANSCRIPT_DIR=$w/transcripts
    export PF_MILTER=$milter
    export PF_HOSTNAME=mx.e2e.test PF_CLIENT_EHLO=client.e2e.test
    export PF_DEFAULT_FROM=sender@client.e2e.test PF_DEFAULT_TO=rcpt@remote.e2e.test
    export PF_CA_CERT=$PF_TLS_DIR/ca.pem
    export PF_SERVER_CERT=$PF_TLS_DIR/server.pem PF_SERVER_KEY=$PF_TLS_DIR/server.key
    export PF_CLIENT_CERT=$PF_TLS_DIR/client.pem PF_CLIENT_KEY=$PF_TLS_DIR/client.key
    export PF_ROGUE_CERT=$PF_TLS_DIR/rogue.pem PF_ROGUE_KEY=$PF_TLS_DIR/rogue.key
    PF_MASTER_PID='' PF_SINK_PID=''

    rm -rf "$PF_CONF_DIR" "$PF_QUEUE_DIR" "$PF_DATA_DIR" "$PF_SINK_DIR" "$w/log"
    mkdir -p "$PF_CONF_DIR" "$PF_QUEUE_DIR" "$PF_DATA_DIR" "$PF_TLS_DIR" "$w/log" \
        "$PF_SINK_DIR" "$PF_RUN_DIR" "$PF_TRANSCRIPT_DIR" || return 1
    chmod 755 "$PF_CONF_DIR" "$PF_QUEUE_DIR" "$PF_TLS_DIR" "$w/log" "$PF_RUN_DIR" "$PF_TRANSCRIPT_DIR"
    chown postfix "$PF_DATA_DIR" "$PF_SINK_DIR" && chmod 700 "$PF_DATA_DIR" && chmod 755 "$PF_SINK_DIR"

    if [ ! -s "$PF_CA_CERT" ] || [ ! -s "$PF_ROGUE_KEY" ]; then
        pf__make_certs "$PF_TLS_DIR" || return 1
    fi

    local v
    for v in PF_PORT_STARTTLS PF_PORT_STARTTLS2 PF_PORT_IMPLICIT PF_PORT_SINK; do
        # not $(pf_free_port): the subshell would forget the used-port list
        pf_free_port >"$PF_RUN_DIR/port" || return 1
        read -r "${v?}" <"$PF_RUN_DIR/port"
        export "${v?}"
    done
    rm -f "$PF_RUN_DIR/port"

    cat >"$PF_CONF_DIR/main.cf" <<EOF
# Generated by tests/e2e/postfix-lib.sh -- private test instance
compatibility_level = 3.6
queue_directory = $PF_QUEUE_DIR
data_directory = $PF_DATA_DIR
mail_owner = postfix
setgid_group = postdrop

myhostname = $PF_HOSTNAME
mydomain = e2e.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
relay_domains =
mynetworks = 127.0.0.0/8
mynetworks_style = host
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
smtputf8_enable = no

# Logging without syslog (MTA-NOTES gotcha 2)
maillog_file = $PF_LOG_FILE
maillog_file_prefixes = $w
maillog_file_rotate_suffix = %Y%m%d-%H%M%S

# Relay everything to smtp-sink
relayhost =
default_transport = smtp:[127.0.0.1]:$PF_PORT_SINK
relay_transport = smtp:[127.0.0.1]:$PF_PORT_SINK
smtp_tls_security_level = none
smtp_host_lookup = native
lmtp_host_lookup = native
smtp_connect_timeout = 5s
smtp_helo_timeout = 10s
default_destination_concurrency_limit = 50
smtp_destination_concurrency_limit = 50
delay_warning_time = 0
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
notify_classes =

# Fast, permissive smtpd for tests
smtpd_banner = \$myhostname ESMTP tlspolicy-e2e
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks reject
smtpd_recipient_restrictions =
smtpd_client_restrictions =
smtpd_helo_restrictions =
smtpd_sender_restrictions =
smtpd_helo_required = no
smtpd_delay_reject = yes
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_junk_command_limit = 1000
smtpd_client_connection_rate_limit = 0
smtpd_client_connection_count_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
smtpd_client_new_tls_session_rate_limit = 0
smtpd_client_auth_rate_limit = 0
smtpd_timeout = 30s
in_flow_delay = 0
default_process_limit = 100

# TLS (server side)
smtpd_tls_security_level = may
smtpd_tls_chain_files = $PF_SERVER_KEY, $PF_TLS_DIR/server-chain.pem
smtpd_tls_CAfile = $PF_CA_CERT
smtpd_tls_ask_ccert = yes
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database =
tls_random_source = dev:/dev/urandom

# Milter
smtpd_milters = $milter
non_smtpd_milters =
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 15s
EOF

    cat >"$PF_CONF_DIR/master.cf" <<EOF
# Generated by tests/e2e/postfix-lib.sh -- chroot n everywhere
# service  type  private unpriv chroot wakeup maxproc command + args
127.0.0.1:$PF_PORT_STARTTLS inet n - n - - smtpd
127.0.0.1:$PF_PORT_STARTTLS2 inet n - n - - smtpd
  -o syslog_name=postfix/alt
  -o milter_macro_daemon_name=alt.e2e.test
127.0.0.1:$PF_PORT_IMPLICIT inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
  -o syslog_name=postfix/\$service_name
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

    pf__backdate_conf
    # Creates queue subdirectories (uses /etc/postfix/postfix-files).
    local out
    if ! out=$(script -qec "postfix -c '$PF_CONF_DIR' check" /dev/null </dev/null 2>&1); then
        printf '%s\n' "$out" >&2
        pf__say "postfix check failed"
        return 1
    fi
    [ -n "$out" ] && printf '%s\n' "$out" >"$PF_RUN_DIR/postfix-check.out"
    return 0
}

pf_postconf() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    pf__need_setup || return 1
    postconf -c "$PF_CONF_DIR" -e "$@" || return 1
    pf__backdate_conf
}

# ---------------------------------------------------------------------------
# start / stop

pf_start() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    pf__need_setup || return 1
    local timeout=${PF_START_TIMEOUT:-20} out rc

    if [ -n "${PF_EXTRA_MAIN_CF:-}" ]; then
        # Remove a previous block (pf_start after pf_stop), then append.
        sed -i '/^# --- PF_EXTRA_MAIN_CF begin/,/^# --- PF_EXTRA_MAIN_CF end/d' "$PF_CONF_DIR/main.cf"
        # Drop the generated definitions of parameters it sets (no duplicates,
        # no "multiple entries" warnings from postconf).
        local -a names
        mapfile -t names < <(printf '%s\n' "$PF_EXTRA_MAIN_CF" |
            sed -n 's/^\([A-Za-z0-9_]\{1,\}\)[[:space:]]*=.*/\1/p' | sort -u)
        [ "${#names[@]}" -eq 0 ] || postconf -c "$PF_CONF_DIR" -X "${names[@]}"
        {
            echo "# --- PF_EXTRA_MAIN_CF begin"
            printf '%s\n' "$PF_EXTRA_MAIN_CF"
            echo "# --- PF_EXTRA_MAIN_CF end"
        } >>"$PF_CONF_DIR/main.cf"
    fi
    pf__backdate_conf

    # 1. smtp-sink first, so nothing is deferred.  -u postfix is mandatory as
    # root; the dump directory must be writable by postfix.
    # Started from a subshell so that it is NOT a child of the caller's shell:
    # otherwise a bare `wait` in a test script would block on it forever.
    if ! pf__alive "${PF_SINK_PID:-}"; then
        PF_SINK_PID=$(
            smtp-sink -u postfix -4 -h sink.e2e.test -m 256 \
                -d "$PF_SINK_DIR/%Y%m%d%H%M%S." \
                "127.0.0.1:$PF_PORT_SINK" 256 \
                </dev/null >>"$PF_RUN_DIR/smtp-sink.log" 2>&1 &
            echo $!
        )
        export PF_SINK_PID
        echo "$PF_SINK_PID" >"$PF_RUN_DIR/smtp-sink.pid"
    fi

    # 2. Postfix.  Without a tty `postfix` is silent on errors: use script(1).
    rc=0
    out=$(script -qec "postfix -c '$PF_CONF_DIR' start" /dev/null </dev/null 2>&1) || rc=$?
    printf '%s\n' "$out" >"$PF_RUN_DIR/postfix-start.out"
    if [ "$rc" -ne 0 ]; then
        printf '%s\n' "$out" >&2
        pf__say "postfix start failed (rc=$rc)"
        [ -f "$PF_LOG_FILE" ] && tail -n 20 "$PF_LOG_FILE" >&2
        return 1
    fi
    PF_MASTER_PID=$(sed -n '1s/[^0-9]//gp' "$PF_QUEUE_DIR/pid/master.pid" 2>/dev/null)
    export PF_MASTER_PID
    echo "${PF_MASTER_PID:-}" >"$PF_RUN_DIR/master.pid"

    # 3. Wait for the listeners (LISTEN state in /proc/net/tcp, no connection).
    local port
    for port in "$PF_PORT_SINK" "$PF_PORT_STARTTLS" "$PF_PORT_STARTTLS2" "$PF_PORT_IMPLICIT"; do
        if ! pf_wait_listen "$port" "$timeout"; then
            pf_diag
            return 1
        fi
    done
    if ! pf__alive "$PF_SINK_PID"; then
        pf__say "smtp-sink died:"; cat "$PF_RUN_DIR/smtp-sink.log" >&2
        return 1
    fi
    return 0
}

pf_reload() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    pf__need_setup || return 1
    script -qec "postfix -c '$PF_CONF_DIR' reload" /dev/null </dev/null >/dev/null 2>&1
}

pf_stop() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    # Must never fail and never abort an EXIT trap.
    local pid kids="" i k alive
    if [ -n "${PF_CONF_DIR:-}" ] && [ -f "${PF_QUEUE_DIR:-/nonexistent}/pid/master.pid" ]; then
        pid=$(sed -n '1s/[^0-9]//gp' "$PF_QUEUE_DIR/pid/master.pid" 2>/dev/null)
        [ -n "$pid" ] || pid=${PF_MASTER_PID:-}
        if pf__is "$pid" master; then
            kids=$(pf__children "$pid")
            # postfix stop = kill master + wait up to 5 s; we poll ourselves.
            kill -TERM "$pid" 2>/dev/null
            i=0
            while pf__alive "$pid" && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
            pf__alive "$pid" && kill -KILL "$pid" 2>/dev/null
            # Children exit when the master goes away (they also get SIGTERM
            # from the master's process-group kill); make sure of it.
            i=0
            while [ "$i" -lt 30 ]; do
                alive=""
                for k in $kids; do pf__alive "$k" && alive="$alive $k"; done
                [ -z "$alive" ] && break
                sleep 0.1; i=$((i + 1))
            done
            for k in $kids; do pf__alive "$k" && kill -KILL "$k" 2>/dev/null; done
        fi
    fi
    PF_MASTER_PID=
    if [ -n "${PF_SINK_PID:-}" ]; then
        if pf__is "$PF_SINK_PID" smtp-sink; then
            kill -TERM "$PF_SINK_PID" 2>/dev/null
            i=0
            while pf__alive "$PF_SINK_PID" && [ "$i" -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
            pf__alive "$PF_SINK_PID" && kill -KILL "$PF_SINK_PID" 2>/dev/null
        fi
        # Not our child (see pf_start), so this normally returns 127 at once;
        # kept in case a caller started the sink itself.
        wait "$PF_SINK_PID" 2>/dev/null
        PF_SINK_PID=
    fi
    return 0
}

# ---------------------------------------------------------------------------
# queue

pf_queue_count() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    pf__need_setup || return 1
    local d n=0
    for d in incoming active deferred maildrop; do
        [ -d "$PF_QUEUE_DIR/$d" ] || continue
        n=$((n + $(find "$PF_QUEUE_DIR/$d" -type f 2>/dev/null | wc -l)))
    done
    echo "$n"
}

pf_hold_count() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    pf__need_setup || return 1
    find "$PF_QUEUE_DIR/hold" -type f 2>/dev/null | wc -l
}

pf_queue_list() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    pf__need_setup || return 1
    postqueue -c "$PF_CONF_DIR" -p 2>&1
}

pf_queue_flush_hold() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    pf__need_setup || return 1
    postsuper -c "$PF_CONF_DIR" -d ALL hold >/dev/null 2>&1
}

pf_wait_queue_empty() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    pf__need_setup || return 1
    local timeout=${1:-20} i=0 zeros=0 n
    while [ "$i" -lt $((timeout * 10)) ]; do
        n=$(pf_queue_count)
        if [ "$n" -eq 0 ]; then
            zeros=$((zeros + 1))
            [ "$zeros" -ge 2 ] && return 0
        else
            zeros=0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    pf__say "queue not empty after ${timeout}s ($n messages):"
    pf_queue_list >&2
    return 1
}

# ---------------------------------------------------------------------------
# log

pf_log() { printf '%s\n' "${PF_LOG_FILE:-}"; }

pf_log_offset() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    if [ -f "${PF_LOG_FILE:-/nonexistent}" ]; then stat -c %s "$PF_LOG_FILE"; else echo 0; fi
}

pf_log_since() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local off=${1:-0}
    [ -f "${PF_LOG_FILE:-/nonexistent}" ] || return 0
    tail -c +"$((off + 1))" "$PF_LOG_FILE"
}

pf_log_grep() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    [ -f "${PF_LOG_FILE:-/nonexistent}" ] || return 1
    grep -E "$@" "$PF_LOG_FILE"
}

pf_log_wait() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local pat=${1:?pf_log_wait PATTERN [TIMEOUT] [OFFSET]} timeout=${2:-10} off=${3:-0} i=0
    while [ "$i" -lt $((timeout * 10)) ]; do
        pf_log_since "$off" | grep -Eq -- "$pat" && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# pf_log_session QUEUEID [TIMEOUT]: log lines of the smtpd session that
# received QUEUEID, from "connect from" to "disconnect from".
pf_log_session() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local qid=${1:?pf_log_session QUEUEID [TIMEOUT]} timeout=${2:-5} i=0 out
    while :; do
        out=$(awk -v q="$qid" '
            {
                # "... postfix/smtpd[123]: text" or "postfix/alt/smtpd[123]: text"
                if (match($0, /\/smtpd\[[0-9]+\]: /) == 0) next
                key = substr($0, RSTART, RLENGTH)
                txt = substr($0, RSTART + RLENGTH)
                if (txt ~ /^connect from /) { buf[key] = ""; on[key] = 1 }
                if (!on[key]) next
                buf[key] = buf[key] $0 "\n"
                if (index(txt, q ": ") == 1) hit[key] = 1
                if (txt ~ /^disconnect from /) {
                    if (hit[key]) { printf "%s", buf[key]; found = 1; exit }
                    on[key] = 0; buf[key] = ""
                }
            }
            END { exit !found }' "${PF_LOG_FILE:-/nonexistent}" 2>/dev/null) && {
            printf '%s\n' "$out"
            return 0
        }
        [ "$i" -ge $((timeout * 10)) ] && return 1
        sleep 0.1
        i=$((i + 1))
    done
}

# ---------------------------------------------------------------------------
# sink

pf__sink_files() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    [ -d "${PF_SINK_DIR:-/nonexistent}" ] || return 0
    find "$PF_SINK_DIR" -type f -printf '%T@ %p\n' 2>/dev/null | sort -n | cut -d' ' -f2-
}

pf_sink_grep() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local pat=${1:?pf_sink_grep PATTERN} f found=1
    while IFS= read -r f; do
        if grep -Eq -- "$pat" "$f" 2>/dev/null; then printf '%s\n' "$f"; found=0; fi
    done < <(pf__sink_files)
    return $found
}

pf_sink_count() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    if [ $# -gt 0 ]; then
        pf_sink_grep "$1" | wc -l
    else
        pf__sink_files | wc -l
    fi
}

pf_sink_file_for() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local pat=${1:?pf_sink_file_for PATTERN} files n
    files=$(pf_sink_grep "$pat") || return 1
    n=$(printf '%s\n' "$files" | wc -l)
    printf '%s\n' "${files%%$'\n'*}"
    if [ "$n" -gt 1 ]; then
        pf__say "pf_sink_file_for: $n messages match '$pat'"
        return 2
    fi
    return 0
}

pf_wait_sink() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local pat=${1:?pf_wait_sink PATTERN [TIMEOUT] [COUNT]} timeout=${2:-20} want=${3:-1} i=0
    while [ "$i" -lt $((timeout * 10)) ]; do
        [ "$(pf_sink_count "$pat")" -ge "$want" ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# ---------------------------------------------------------------------------
# clients

# pf__client_opts: parse wrapper options into PF__O_* and leave the rest in
# PF__REST (array).
pf__client_opts() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    PF__O_CERT=none PF__O_TLSV="" PF__O_ID="" PF__O_PORT=""
    PF__REST=()
    while [ $# -gt 0 ]; do
        case $1 in
            --cert) PF__O_CERT=${2:?--cert needs trusted|untrusted|none}; shift 2 ;;
            --cert=*) PF__O_CERT=${1#*=}; shift ;;
            --tls-version) PF__O_TLSV=${2:?--tls-version needs a value}; shift 2 ;;
            --tls-version=*) PF__O_TLSV=${1#*=}; shift ;;
            --id) PF__O_ID=${2:?--id needs a value}; shift 2 ;;
            --id=*) PF__O_ID=${1#*=}; shift ;;
            --port) PF__O_PORT=${2:?--port needs a value}; shift 2 ;;
            --port=*) PF__O_PORT=${1#*=}; shift ;;
            --) shift; break ;;
            *) break ;;
        esac
    done
    PF__REST=("$@")
    case $PF__O_CERT in
        trusted) PF__O_CERTFILE=$PF_CLIENT_CERT PF__O_KEYFILE=$PF_CLIENT_KEY ;;
        untrusted|rogue) PF__O_CERTFILE=$PF_ROGUE_CERT PF__O_KEYFILE=$PF_ROGUE_KEY ;;
        none|"") PF__O_CERTFILE="" PF__O_KEYFILE="" ;;
        *) pf__say "--cert must be trusted, untrusted or none (got '$PF__O_CERT')"; return 1 ;;
    esac
    [ -n "$PF__O_ID" ] || PF__O_ID=$(pf_new_id)
    PF__ID_SEQ=$((PF__ID_SEQ + 1))
    return 0
}

pf__transcript_path() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    PF__TRANSCRIPT_SEQ=$((PF__TRANSCRIPT_SEQ + 1))
    printf '%s/%03d-%s-%s.log' "$PF_TRANSCRIPT_DIR" "$PF__TRANSCRIPT_SEQ" "$1" "${PF__O_ID//[^A-Za-z0-9._-]/_}"
}

pf__finish_client() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    PF_LAST_QUEUEID=$(sed -n 's/.*250 .*queued as \([0-9A-Za-z]*\).*/\1/p' "$PF_LAST_TRANSCRIPT" | tail -n 1)
    export PF_LAST_ID PF_LAST_TRANSCRIPT PF_LAST_RC PF_LAST_QUEUEID
    return "$PF_LAST_RC"
}

# pf__swaks FLAVOUR DEFAULTPORT [swaks-mode-args] -- wrapper-args...
pf__swaks() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local flavour=$1 port=$2; shift 2
    local -a mode=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do mode+=("$1"); shift; done
    shift
    pf__need_setup || return 1
    pf__client_opts "$@" || return 1
    local -a args=(--server 127.0.0.1 --port "${PF__O_PORT:-$port}" "${mode[@]}"
        --ehlo "$PF_CLIENT_EHLO" --from "$PF_DEFAULT_FROM" --to "$PF_DEFAULT_TO"
        --header "Subject: e2e $PF__O_ID" --add-header "X-E2E-Id: $PF__O_ID"
        --timeout "${PF_CLIENT_TIMEOUT:-20}")
    if [ -n "$PF__O_CERTFILE" ]; then
        if [ "$flavour" = plain ]; then
            pf__say "warning: --cert ignored for a plaintext session"
        else
            args+=(--tls-cert "$PF__O_CERTFILE" --tls-key "$PF__O_KEYFILE")
        fi
    fi
    if [ -n "$PF__O_TLSV" ]; then
        case $PF__O_TLSV in 1.2) PF__O_TLSV=tlsv1_2 ;; 1.3) PF__O_TLSV=tlsv1_3 ;; esac
        [ "$flavour" = plain ] || args+=(--tls-protocol "$PF__O_TLSV")
    fi
    PF_LAST_ID=$PF__O_ID
    PF_LAST_TRANSCRIPT=$(pf__transcript_path "swaks-$flavour")
    PF_LAST_RC=0
    {
        printf '=== %s' "${PF_SWAKS:-swaks}"; printf ' %q' "${args[@]}" "${PF__REST[@]}"; echo
    } >"$PF_LAST_TRANSCRIPT"
    ${PF_SWAKS:-swaks} "${args[@]}" "${PF__REST[@]}" </dev/null >>"$PF_LAST_TRANSCRIPT" 2>&1 || PF_LAST_RC=$?
    echo "=== exit $PF_LAST_RC" >>"$PF_LAST_TRANSCRIPT"
    pf__finish_client
}

pf_swaks_plain()    { pf__swaks plain    "${PF_PORT_STARTTLS:-}" -- "$@"; }
pf_swaks_starttls() { pf__swaks starttls "${PF_PORT_STARTTLS:-}" --tls -- "$@"; }
pf_swaks_implicit() { pf__swaks implicit "${PF_PORT_IMPLICIT:-}" --tls-on-connect -- "$@"; }

pf_smtp_py() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local pymode=${1:?pf_smtp_py MODE [OPTS] [--] [ARGS]}; shift
    pf__need_setup || return 1
    pf__client_opts "$@" || return 1
    local port=$PF_PORT_STARTTLS
    [ "$pymode" = implicit ] && port=$PF_PORT_IMPLICIT
    local -a args=(--server 127.0.0.1 --port "${PF__O_PORT:-$port}" --mode "$pymode"
        --id "$PF__O_ID" --ehlo "$PF_CLIENT_EHLO" --from "$PF_DEFAULT_FROM"
        --timeout "${PF_CLIENT_TIMEOUT:-20}")
    [ -n "$PF__O_CERTFILE" ] && args+=(--cert "$PF__O_CERTFILE" --key "$PF__O_KEYFILE")
    [ -n "$PF__O_TLSV" ] && args+=(--tls-version "$PF__O_TLSV")
    # default recipient unless the caller gives --to
    local a hasto=0
    for a in "${PF__REST[@]}"; do case $a in --to|--to=*) hasto=1 ;; esac; done
    [ "$hasto" = 1 ] || args+=(--to "$PF_DEFAULT_TO")
    PF_LAST_ID=$PF__O_ID
    PF_LAST_TRANSCRIPT=$(pf__transcript_path "py-$pymode")
    PF_LAST_RC=0
    {
        printf '=== smtp-client.py'; printf ' %q' "${args[@]}" "${PF__REST[@]}"; echo
    } >"$PF_LAST_TRANSCRIPT"
    "${PF_PYTHON:-python3}" "$PF__LIB_DIR/smtp-client.py" "${args[@]}" "${PF__REST[@]}" \
        </dev/null >>"$PF_LAST_TRANSCRIPT" 2>&1 || PF_LAST_RC=$?
    pf__finish_client
}

pf_starttls_noehlo() { pf_smtp_py starttls-noehlo "$@"; }

# ---------------------------------------------------------------------------
# diagnostics

pf_diag() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    {
        echo "===== postfix-lib diagnostics (WORKDIR=${PF_WORKDIR:-?})"
        if [ -f "${PF_RUN_DIR:-/nonexistent}/postfix-start.out" ]; then
            echo "--- postfix start output:"; cat "$PF_RUN_DIR/postfix-start.out"
        fi
        echo "--- master pid ${PF_MASTER_PID:-none}, smtp-sink pid ${PF_SINK_PID:-none}"
        echo "--- queue: $(pf_queue_count 2>/dev/null) active/incoming/deferred, $(pf_hold_count 2>/dev/null) held"
        echo "--- sink: $(pf_sink_count 2>/dev/null) message(s)"
        if [ -s "${PF_RUN_DIR:-/nonexistent}/smtp-sink.log" ]; then
            echo "--- smtp-sink output:"; tail -n 20 "$PF_RUN_DIR/smtp-sink.log"
        fi
        if [ -f "${PF_LOG_FILE:-/nonexistent}" ]; then
            echo "--- tail of $PF_LOG_FILE:"; tail -n "${PF_DIAG_LINES:-40}" "$PF_LOG_FILE"
        else
            echo "--- no Postfix log at ${PF_LOG_FILE:-?}"
        fi
        if [ -n "${PF_LAST_TRANSCRIPT:-}" ] && [ -f "$PF_LAST_TRANSCRIPT" ]; then
            echo "--- last client transcript ($PF_LAST_TRANSCRIPT):"; tail -n 30 "$PF_LAST_TRANSCRIPT"
        fi
        echo "====="
    } >&2
    return 0
}

pf_fail() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    printf 'FAIL: %s\n' "$*" >&2
    pf_diag
    return 1
}
