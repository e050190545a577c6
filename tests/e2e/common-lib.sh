# shellcheck shell=bash
# tests/e2e/common-lib.sh -- what the MTA harnesses postfix-lib.sh (pf_*) and
# sendmail-lib.sh (sm_*) share: process and port helpers, the test PKI, the
# smtp-sink that every test MTA relays to, the sink and log readers, the
# queue wait, the SMTP client wrappers and the diagnostics.  It is sourced by
# both harnesses; tests source a harness, not this file.
#
# Shell behaviour: as the harnesses (safe under `set -u`, never `exit`,
# errexit off inside every function: `local -; set +e`).
#
# Naming: an MTA harness has a lowercase prefix p (pf, sm) and keeps its
# state in ${P}_* globals, P the uppercase prefix (PF_, SM_):
#   read    ${P}_WORKDIR ${P}_RUN_DIR ${P}_SINK_DIR ${P}_LOG_FILE
#           ${P}_TRANSCRIPT_DIR ${P}_TLS_DIR ${P}_PORT_STARTTLS
#           ${P}_PORT_IMPLICIT ${P}_PORT_SINK ${P}_CLIENT_EHLO
#           ${P}_DEFAULT_FROM ${P}_DEFAULT_TO ${P}_CLIENT_CERT/KEY
#           ${P}_ROGUE_CERT/KEY ${P}_SWAKS ${P}_PYTHON ${P}_CLIENT_TIMEOUT
#           ${P}_DIAG_LINES ${P}_LAST_TRANSCRIPT
#   set     ${P}_LAST_ID ${P}_LAST_TRANSCRIPT ${P}_LAST_RC ${P}_LAST_QUEUEID
#           (and the same four as E2E_LAST_*, whichever harness ran the
#           client), ${P}_SINK_PID, the PKI names (e2e__export_pki)
#   calls   ${p}__say MSG (stderr, with the harness' name)
#           ${p}__need_setup (non-zero + message if setup has not run)
#           ${p}__transcript_queueid FILE (the queue id the MTA announced)
#           ${p}__log_session_once QUEUEID (e2e_log_session)
#           ${p}_queue_count ${p}_queue_list ${p}__diag_state (stdout: a
#           "===== ..." header and the MTA's part of the diagnostics)
# e2e__define_api p defines ${p}_NAME as `e2e_NAME p "$@"`: the harness'
# public functions pf_sink_grep, sm_swaks_plain, ... are such wrappers.
#
# Functions (the per-MTA wrapper is named in parentheses)
#   e2e_new_id (pf_new_id, sm_new_id)   a fresh unique message id
#   e2e_free_port (pf_free_port, ...)   a free TCP port on 127.0.0.1 (range
#                                       20000-32767, outside the ephemeral
#                                       range, never one handed out before in
#                                       this shell: run it in the caller's
#                                       shell, `f >file; read p <file`)
#   e2e_wait_listen PORT|unix:/path|inet:host:port [TIMEOUT=10]
#                                       wait until something LISTENs there (in
#                                       /proc/net: no probe connection, so a
#                                       milter sees no connect/close)
#   e2e_log p / e2e_log_offset p / e2e_log_since p OFFSET /
#   e2e_log_grep p [GREP-OPTS] PATTERN / e2e_log_wait p PATTERN [TIMEOUT=10] [OFFSET=0]
#                                       the MTA log ${P}_LOG_FILE (grep -E)
#   e2e_log_session p QUEUEID [TIMEOUT=5]  the log lines of the SMTP session
#                                       that received QUEUEID
#   e2e_sink_count p [PATTERN]          #messages in the sink (matching PATTERN)
#   e2e_sink_grep p PATTERN             paths of the sink messages matching
#                                       PATTERN (grep -E), oldest first; 1 if none
#   e2e_sink_file_for p PATTERN         THE message matching PATTERN; 1 if none,
#                                       2 if several (the first is printed)
#   e2e_wait_sink p PATTERN [TIMEOUT=20] [COUNT=1]
#                                       wait until COUNT sink messages match
#   e2e_wait_queue_empty p [TIMEOUT=20] wait until ${p}_queue_count is 0 twice
#                                       in a row; 1 on timeout (prints the queue)
#   e2e_swaks_plain    p [OPTS] [--] [SWAKS ARGS...]   plaintext (no STARTTLS)
#   e2e_swaks_starttls p [OPTS] [--] [SWAKS ARGS...]   swaks --tls
#   e2e_swaks_implicit p [OPTS] [--] [SWAKS ARGS...]   swaks --tls-on-connect
#       OPTS: --cert trusted|untrusted|none  (swaks --tls-cert/--tls-key)
#             --tls-version tlsv1_2|tlsv1_3|1.2|1.3 (swaks --tls-protocol)
#             --id ID        (default: generated, unique)
#             --port PORT    (default: ${P}_PORT_STARTTLS, implicit:
#                             ${P}_PORT_IMPLICIT)
#       Defaults passed to swaks BEFORE your args (later args win):
#         --server 127.0.0.1 --port P --ehlo client.e2e.test
#         --from sender@client.e2e.test --to rcpt@remote.e2e.test
#         --header "Subject: e2e ID" --add-header "X-E2E-Id: ID" --timeout 20
#       Returns swaks' exit code (0 ok, 23 MAIL rejected, 24 RCPT rejected,
#       25 DATA rejected, 26 rejected after ".", 29 TLS error, ...).
#   e2e_smtp_py p MODE [OPTS] [--] [smtp-client.py ARGS...]
#       MODE plain|starttls|starttls-noehlo|implicit, same OPTS; the python
#       client tests/e2e/smtp-client.py, exit codes as swaks.
#   e2e_starttls_noehlo p [OPTS] [--] [ARGS...]
#       = e2e_smtp_py p starttls-noehlo: EHLO, STARTTLS, then MAIL FROM with
#       NO second EHLO (swaks always re-EHLOs; the python client reads every
#       reply before the next command and exits with swaks-like codes).
#   Client transcripts (${P}_TRANSCRIPT_DIR, one file per call): swaks' own
#   format (" -> " cleartext, " ~> " in TLS, "<-"/"<~" replies, "<**" an
#   error reply); the python client uses the same arrows; both files start
#   with the exact command line ("=== ...") and end with "=== exit N".
#   e2e_diag p                          diagnostics on stderr (MTA state, sink,
#                                       log tail, last transcript)
#   e2e_fail p MESSAGE                  "FAIL: MESSAGE" + e2e_diag, returns 1
#
# Sink files (smtp-sink -d 'SINKDIR/%Y%m%d%H%M%S.' -> SINKDIR/20261122204412.3d172b67,
# owned by postfix): smtp-sink prepends X-Client-Addr, X-Client-Proto,
# X-Helo-Args, X-Mail-Args, X-Rcpt-Args (one per RCPT, with ORCPT=...) and
# its own 3-line Received header, then the message as the MTA relayed it,
# LF line ends, dot-unstuffed, plus one empty line.  The file is created at
# MAIL FROM and written while DATA streams in; it is closed at "." BEFORE
# smtp-sink answers 250, so once the queue is empty every delivered file is
# complete (an aborted transaction's file is unlinked).  Counting during
# deliveries may see partial files.

# ---------------------------------------------------------------------------
# internals

E2E__LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E__USED_PORTS=${E2E__USED_PORTS:-}
E2E__ID_SEQ=${E2E__ID_SEQ:-0}
E2E__TRANSCRIPT_SEQ=${E2E__TRANSCRIPT_SEQ:-0}

e2e__say() { printf 'common-lib: %s\n' "$*" >&2; }

# e2e__define_api p: define the harness' public functions that are
# common-lib's: p_NAME() { e2e_NAME p "$@"; } for those of an instance,
# p_NAME() { e2e_NAME "$@"; } and p__NAME() { e2e__NAME "$@"; } for the rest.
e2e__define_api() {
    local p=$1 n
    for n in log log_offset log_since log_grep log_wait log_session \
        sink_grep sink_count sink_file_for wait_sink wait_queue_empty \
        swaks_plain swaks_starttls swaks_implicit smtp_py starttls_noehlo diag fail; do
        eval "${p}_$n() { e2e_$n $p \"\$@\"; }"
    done
    for n in new_id free_port wait_listen; do
        eval "${p}_$n() { e2e_$n \"\$@\"; }"
    done
    for n in alive is listening make_certs; do
        eval "${p}__$n() { e2e__$n \"\$@\"; }"
    done
}

# e2e__get P NAME: print the value of ${P}_NAME ("" if unset).
e2e__get() {
    local v=${1}_$2
    printf '%s' "${!v:-}"
}

# e2e__poll TIMEOUT CMD ARGS...: run CMD every 0.1 s until it succeeds (0)
# or TIMEOUT seconds have passed (1).  CMD runs at least once.
e2e__poll() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local n=$(($1 * 10)) i=0
    shift
    while :; do
        "$@" && return 0
        [ "$i" -ge "$n" ] && return 1
        sleep 0.1
        i=$((i + 1))
    done
}

# e2e__alive PID: true if the process exists and is not a zombie.
e2e__alive() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local pid=${1:-} st
    [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
    st=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    case $st in Z|X|x|"") return 1 ;; esac
    return 0
}

# e2e__is PID COMM: alive and its command name is COMM (guards against
# killing an unrelated process that reused a stale pid).
e2e__is() {
    e2e__alive "${1:-}" && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]
}

# e2e__stop_pid PID [TENTHS=30]: SIGTERM, wait up to TENTHS/10 s, SIGKILL.
e2e__stop_pid() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local pid=$1 n=${2:-30} i=0
    kill -TERM "$pid" 2>/dev/null
    while e2e__alive "$pid" && [ "$i" -lt "$n" ]; do sleep 0.1; i=$((i + 1)); done
    e2e__alive "$pid" && kill -KILL "$pid" 2>/dev/null
    return 0
}

# e2e__need_setup p FILE: ${p}_setup has run (${P}_WORKDIR set, FILE, a file
# it writes, exists).
e2e__need_setup() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    if [ -z "$(e2e__get "${1^^}" WORKDIR)" ] || [ ! -f "$2" ]; then
        "${1}__say" "${1}_setup has not been run"
        return 1
    fi
}

# e2e__need_tools p TOOL...: every TOOL is on PATH.
e2e__need_tools() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local p=$1 t
    shift
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || { "${p}__say" "missing tool: $t"; return 1; }
    done
    return 0
}

e2e_new_id() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    E2E__ID_SEQ=$((E2E__ID_SEQ + 1))
    printf 'e2e%s%04d%05d' "$(date +%s%N | cut -c8-16)" "$E2E__ID_SEQ" "$RANDOM"
}

# ---------------------------------------------------------------------------
# ports

e2e_free_port() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local port
    port=$("${PF_PYTHON:-${SM_PYTHON:-python3}}" - "$E2E__USED_PORTS" <<'EOF'
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
) || { e2e__say "no free port found"; return 1; }
    E2E__USED_PORTS="$E2E__USED_PORTS $port"
    printf '%s\n' "$port"
}

# e2e__pick_ports RUNDIR VAR...: a free port into each (exported) VAR.
e2e__pick_ports() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local run=$1 v
    shift
    for v in "$@"; do
        # not $(e2e_free_port): the subshell would forget the used-port list
        e2e_free_port >"$run/port" || return 1
        read -r "${v?}" <"$run/port"
        export "${v?}"
    done
    rm -f "$run/port"
}

# e2e__listening PORT [6]: true if 127.0.0.1:PORT or *:PORT (with 6: [::1]:PORT
# or [::]:PORT) is in LISTEN state.
e2e__listening() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local hex lo=0100007F any=00000000 f=/proc/net/tcp
    hex=$(printf '%04X' "$1")
    if [ "${2:-}" = 6 ]; then
        lo=00000000000000000000000001000000 any=00000000000000000000000000000000 f=/proc/net/tcp6
    fi
    awk -v p=":$hex" -v lo="$lo" -v any="$any" \
        'NR > 1 && $4 == "0A" && ($2 == lo p || $2 == any p) {f=1} END {exit !f}' "$f" 2>/dev/null
}

# e2e__listening_at PORT|unix:/path|inet:host:port: something LISTENs there.
e2e__listening_at() {
    case $1 in
        unix:*) e2e__unix_listening "${1#unix:}" ;;
        inet:*) e2e__listening "${1##*:}" ;;
        *) e2e__listening "$1" ;;
    esac
}

# e2e__unix_listening PATH: true if a listening unix socket is bound to PATH.
e2e__unix_listening() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    # /proc/net/unix: Num RefCount Protocol Flags Type St Inode Path; Flags
    # 00010000 = __SO_ACCEPTCON (listening)
    awk -v p="$1" 'NR > 1 && $NF == p && $4 == "00010000" {f=1} END {exit !f}' /proc/net/unix 2>/dev/null
}

e2e_wait_listen() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local target=${1:?wait_listen PORT|unix:/path|inet:host:port [TIMEOUT]} timeout=${2:-10}
    e2e__poll "$timeout" e2e__listening_at "$target" && return 0
    e2e__say "nothing listening on $target after ${timeout}s"
    return 1
}

# ---------------------------------------------------------------------------
# test PKI

# e2e__make_certs DIR: CA, server (mx.e2e.test), trusted client
# (client.e2e.test) and self-signed rogue (rogue.e2e.test) certificates.
e2e__make_certs() {
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
    } >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; e2e__say "certificate generation failed"; return 1; }
    cat "$d/server.pem" "$d/ca.pem" >"$d/server-chain.pem"
    chmod 644 "$d"/*.pem
    chmod 600 "$d"/*.key
    rm -f "$d"/*.csr
}

# e2e__export_pki P: the host names, addresses and certificate paths (below
# ${P}_TLS_DIR, made there unless they exist) as exported ${P}_* variables.
e2e__export_pki() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local P=$1 tls
    tls=$(e2e__get "$P" TLS_DIR)
    export "${P}_HOSTNAME=mx.e2e.test" "${P}_CLIENT_EHLO=client.e2e.test"
    export "${P}_DEFAULT_FROM=sender@client.e2e.test" "${P}_DEFAULT_TO=rcpt@remote.e2e.test"
    export "${P}_CA_CERT=$tls/ca.pem"
    export "${P}_SERVER_CERT=$tls/server.pem" "${P}_SERVER_KEY=$tls/server.key"
    export "${P}_CLIENT_CERT=$tls/client.pem" "${P}_CLIENT_KEY=$tls/client.key"
    export "${P}_ROGUE_CERT=$tls/rogue.pem" "${P}_ROGUE_KEY=$tls/rogue.key"
    if [ ! -s "$tls/ca.pem" ] || [ ! -s "$tls/rogue.key" ]; then
        e2e__make_certs "$tls" || return 1
    fi
    return 0
}

# ---------------------------------------------------------------------------
# smtp-sink

# e2e__start_sink P: start smtp-sink on ${P}_PORT_SINK unless ${P}_SINK_PID
# is alive.  -u postfix is mandatory as root; the dump directory must be
# writable by postfix.  Started from a subshell so that it is NOT a child of
# the caller's shell: otherwise a bare `wait` in a test would block on it.
e2e__start_sink() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local P=$1 pid run
    e2e__alive "$(e2e__get "$P" SINK_PID)" && return 0
    run=$(e2e__get "$P" RUN_DIR)
    pid=$(
        smtp-sink -u postfix -4 -h sink.e2e.test -m 256 \
            -d "$(e2e__get "$P" SINK_DIR)/%Y%m%d%H%M%S." \
            "127.0.0.1:$(e2e__get "$P" PORT_SINK)" 256 \
            </dev/null >>"$run/smtp-sink.log" 2>&1 &
        echo $!
    )
    export "${P}_SINK_PID=$pid"
    echo "$pid" >"$run/smtp-sink.pid"
}

# e2e__stop_sink P: stop ${P}_SINK_PID if it is our smtp-sink; clear it.
e2e__stop_sink() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local P=$1 pid
    pid=$(e2e__get "$P" SINK_PID)
    [ -n "$pid" ] || return 0
    e2e__is "$pid" smtp-sink && e2e__stop_pid "$pid"
    # Not our child (see e2e__start_sink), so this normally returns 127 at
    # once; kept in case a caller started the sink itself.
    wait "$pid" 2>/dev/null
    printf -v "${P}_SINK_PID" '%s' ""
    return 0
}

# ---------------------------------------------------------------------------
# queue

# e2e__queue_empty_twice p: the queue was empty at this call and the last.
e2e__queue_empty_twice() {
    if [ "$("${1}_queue_count")" -eq 0 ]; then
        E2E__ZEROS=$((E2E__ZEROS + 1))
    else
        E2E__ZEROS=0
    fi
    [ "$E2E__ZEROS" -ge 2 ]
}

e2e_wait_queue_empty() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local p=$1
    "${p}__need_setup" || return 1
    local timeout=${2:-20} n
    E2E__ZEROS=0
    e2e__poll "$timeout" e2e__queue_empty_twice "$p" && return 0
    n=$("${p}_queue_count")
    "${p}__say" "queue not empty after ${timeout}s ($n messages):"
    "${p}_queue_list" >&2
    return 1
}

# ---------------------------------------------------------------------------
# log

e2e_log() { e2e__get "${1^^}" LOG_FILE; echo; }

e2e_log_offset() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local f
    f=$(e2e__get "${1^^}" LOG_FILE)
    if [ -f "${f:-/nonexistent}" ]; then stat -c %s "$f"; else echo 0; fi
}

e2e_log_since() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local f off=${2:-0}
    f=$(e2e__get "${1^^}" LOG_FILE)
    [ -f "${f:-/nonexistent}" ] || return 0
    tail -c +"$((off + 1))" "$f"
}

e2e_log_grep() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local f
    f=$(e2e__get "${1^^}" LOG_FILE)
    shift
    [ -f "${f:-/nonexistent}" ] || return 1
    grep -E "$@" "$f"
}

e2e_log_wait() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local p=$1
    local pat=${2:?log_wait PATTERN [TIMEOUT] [OFFSET]} timeout=${3:-10} off=${4:-0}
    e2e__poll "$timeout" e2e__log_matches "$p" "$off" "$pat"
}

# e2e_log_session p QUEUEID [TIMEOUT=5]: the log lines of the SMTP session
# that received QUEUEID (${p}__log_session_once QUEUEID: one look, 1 if
# they are not (all) there yet), waiting up to TIMEOUT seconds for them.
e2e_log_session() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local p=$1
    local qid=${2:?log_session QUEUEID [TIMEOUT]} timeout=${3:-5}
    e2e__poll "$timeout" "${p}__log_session_once" "$qid"
}

# e2e__log_matches p OFFSET PATTERN
e2e__log_matches() { e2e_log_since "$1" "$2" | grep -Eq -- "$3"; }

# ---------------------------------------------------------------------------
# sink

e2e__sink_files() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local d
    d=$(e2e__get "${1^^}" SINK_DIR)
    [ -d "${d:-/nonexistent}" ] || return 0
    find "$d" -type f -printf '%T@ %p\n' 2>/dev/null | sort -n | cut -d' ' -f2-
}

e2e_sink_grep() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local pat=${2:?sink_grep PATTERN} out
    local -a files
    mapfile -t files < <(e2e__sink_files "$1")
    [ "${#files[@]}" -gt 0 ] || return 1
    # One grep for all files (oldest first: grep -l keeps argument order).
    # Its status is not used: a file unlinked meanwhile (an aborted
    # transaction) makes it 2 even when others matched.
    out=$(grep -lsE -- "$pat" "${files[@]}")
    [ -n "$out" ] || return 1
    printf '%s\n' "$out"
}

e2e_sink_count() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    if [ $# -gt 1 ]; then
        e2e_sink_grep "$1" "$2" | wc -l
    else
        e2e__sink_files "$1" | wc -l
    fi
}

e2e_sink_file_for() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local p=$1
    local pat=${2:?sink_file_for PATTERN} files n
    files=$(e2e_sink_grep "$p" "$pat") || return 1
    n=$(printf '%s\n' "$files" | wc -l)
    printf '%s\n' "${files%%$'\n'*}"
    if [ "$n" -gt 1 ]; then
        "${p}__say" "${p}_sink_file_for: $n messages match '$pat'"
        return 2
    fi
    return 0
}

e2e_wait_sink() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local p=$1
    local pat=${2:?wait_sink PATTERN [TIMEOUT] [COUNT]} timeout=${3:-20} want=${4:-1}
    e2e__poll "$timeout" e2e__sink_has "$p" "$pat" "$want"
}

# e2e__sink_has p PATTERN COUNT: at least COUNT sink messages match.
e2e__sink_has() { [ "$(e2e_sink_count "$1" "$2")" -ge "$3" ]; }

# ---------------------------------------------------------------------------
# clients

# e2e__client_opts P ARGS...: parse the wrapper options into E2E__O_* and
# leave the rest in E2E__REST (array).
e2e__client_opts() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local P=$1
    shift
    E2E__O_CERT=none E2E__O_TLSV="" E2E__O_ID="" E2E__O_PORT=""
    E2E__REST=()
    while [ $# -gt 0 ]; do
        case $1 in
            --cert) E2E__O_CERT=${2:?--cert needs trusted|untrusted|none}; shift 2 ;;
            --cert=*) E2E__O_CERT=${1#*=}; shift ;;
            --tls-version) E2E__O_TLSV=${2:?--tls-version needs a value}; shift 2 ;;
            --tls-version=*) E2E__O_TLSV=${1#*=}; shift ;;
            --id) E2E__O_ID=${2:?--id needs a value}; shift 2 ;;
            --id=*) E2E__O_ID=${1#*=}; shift ;;
            --port) E2E__O_PORT=${2:?--port needs a value}; shift 2 ;;
            --port=*) E2E__O_PORT=${1#*=}; shift ;;
            --) shift; break ;;
            *) break ;;
        esac
    done
    E2E__REST=("$@")
    case $E2E__O_CERT in
        trusted) E2E__O_CERTFILE=$(e2e__get "$P" CLIENT_CERT) E2E__O_KEYFILE=$(e2e__get "$P" CLIENT_KEY) ;;
        untrusted|rogue) E2E__O_CERTFILE=$(e2e__get "$P" ROGUE_CERT) E2E__O_KEYFILE=$(e2e__get "$P" ROGUE_KEY) ;;
        none|"") E2E__O_CERTFILE="" E2E__O_KEYFILE="" ;;
        *) e2e__say "--cert must be trusted, untrusted or none (got '$E2E__O_CERT')"; return 1 ;;
    esac
    [ -n "$E2E__O_ID" ] || E2E__O_ID=$(e2e_new_id)
    # e2e_new_id ran in a subshell: advance the sequence here too
    E2E__ID_SEQ=$((E2E__ID_SEQ + 1))
    return 0
}

# e2e__begin_client P KIND CMD ARGS...: set ${P}_LAST_ID, a new transcript
# ${P}_LAST_TRANSCRIPT starting with the command line, ${P}_LAST_RC=0.
e2e__begin_client() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local P=$1 kind=$2 t
    shift 2
    E2E__TRANSCRIPT_SEQ=$((E2E__TRANSCRIPT_SEQ + 1))
    t=$(printf '%s/%03d-%s-%s.log' "$(e2e__get "$P" TRANSCRIPT_DIR)" "$E2E__TRANSCRIPT_SEQ" \
        "$kind" "${E2E__O_ID//[^A-Za-z0-9._-]/_}")
    printf -v "${P}_LAST_ID" '%s' "$E2E__O_ID"
    printf -v "${P}_LAST_TRANSCRIPT" '%s' "$t"
    printf -v "${P}_LAST_RC" '%s' 0
    { printf '=== %s' "$1"; shift; printf ' %q' "$@"; echo; } >"$t"
}

# e2e__finish_client p RC: record RC and the MTA's queue id; return RC.
e2e__finish_client() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local p=$1 rc=$2 P=${1^^} t qid
    t=$(e2e__get "$P" LAST_TRANSCRIPT)
    qid=$("${p}__transcript_queueid" "$t")
    printf -v "${P}_LAST_RC" '%s' "$rc"
    printf -v "${P}_LAST_QUEUEID" '%s' "$qid"
    export "${P}_LAST_ID" "${P}_LAST_TRANSCRIPT" "${P}_LAST_RC" "${P}_LAST_QUEUEID"
    E2E_LAST_ID=$(e2e__get "$P" LAST_ID) E2E_LAST_TRANSCRIPT=$t E2E_LAST_RC=$rc E2E_LAST_QUEUEID=$qid
    export E2E_LAST_ID E2E_LAST_TRANSCRIPT E2E_LAST_RC E2E_LAST_QUEUEID
    return "$rc"
}

# e2e__swaks p FLAVOUR [OPTS] [--] [SWAKS ARGS...]
e2e__swaks() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local p=$1 flavour=$2 P=${1^^} port swaks timeout rc=0
    shift 2
    "${p}__need_setup" || return 1
    e2e__client_opts "$P" "$@" || return 1
    local -a mode=()
    case $flavour in
        plain) port=$(e2e__get "$P" PORT_STARTTLS) ;;
        starttls) port=$(e2e__get "$P" PORT_STARTTLS); mode=(--tls) ;;
        implicit) port=$(e2e__get "$P" PORT_IMPLICIT); mode=(--tls-on-connect) ;;
    esac
    timeout=$(e2e__get "$P" CLIENT_TIMEOUT)
    local -a args=(--server 127.0.0.1 --port "${E2E__O_PORT:-$port}" "${mode[@]}"
        --ehlo "$(e2e__get "$P" CLIENT_EHLO)" --from "$(e2e__get "$P" DEFAULT_FROM)"
        --to "$(e2e__get "$P" DEFAULT_TO)"
        --header "Subject: e2e $E2E__O_ID" --add-header "X-E2E-Id: $E2E__O_ID"
        --timeout "${timeout:-20}")
    if [ -n "$E2E__O_CERTFILE" ]; then
        if [ "$flavour" = plain ]; then
            "${p}__say" "warning: --cert ignored for a plaintext session"
        else
            args+=(--tls-cert "$E2E__O_CERTFILE" --tls-key "$E2E__O_KEYFILE")
        fi
    fi
    if [ -n "$E2E__O_TLSV" ]; then
        case $E2E__O_TLSV in 1.2) E2E__O_TLSV=tlsv1_2 ;; 1.3) E2E__O_TLSV=tlsv1_3 ;; esac
        [ "$flavour" = plain ] || args+=(--tls-protocol "$E2E__O_TLSV")
    fi
    swaks=$(e2e__get "$P" SWAKS)
    e2e__begin_client "$P" "swaks-$flavour" "${swaks:-swaks}" "${args[@]}" "${E2E__REST[@]}"
    local t
    t=$(e2e__get "$P" LAST_TRANSCRIPT)
    ${swaks:-swaks} "${args[@]}" "${E2E__REST[@]}" </dev/null >>"$t" 2>&1 || rc=$?
    echo "=== exit $rc" >>"$t"
    e2e__finish_client "$p" "$rc"
}

e2e_swaks_plain()    { e2e__swaks "$1" plain "${@:2}"; }
e2e_swaks_starttls() { e2e__swaks "$1" starttls "${@:2}"; }
e2e_swaks_implicit() { e2e__swaks "$1" implicit "${@:2}"; }

e2e_smtp_py() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local p=$1 P=${1^^} rc=0 port python timeout
    local pymode=${2:?smtp_py MODE [OPTS] [--] [ARGS]}
    shift 2
    "${p}__need_setup" || return 1
    e2e__client_opts "$P" "$@" || return 1
    port=$(e2e__get "$P" PORT_STARTTLS)
    [ "$pymode" = implicit ] && port=$(e2e__get "$P" PORT_IMPLICIT)
    timeout=$(e2e__get "$P" CLIENT_TIMEOUT)
    local -a args=(--server 127.0.0.1 --port "${E2E__O_PORT:-$port}" --mode "$pymode"
        --id "$E2E__O_ID" --ehlo "$(e2e__get "$P" CLIENT_EHLO)"
        --from "$(e2e__get "$P" DEFAULT_FROM)" --timeout "${timeout:-20}")
    [ -n "$E2E__O_CERTFILE" ] && args+=(--cert "$E2E__O_CERTFILE" --key "$E2E__O_KEYFILE")
    [ -n "$E2E__O_TLSV" ] && args+=(--tls-version "$E2E__O_TLSV")
    # default recipient unless the caller gives --to
    local a hasto=0
    for a in "${E2E__REST[@]}"; do case $a in --to|--to=*) hasto=1 ;; esac; done
    [ "$hasto" = 1 ] || args+=(--to "$(e2e__get "$P" DEFAULT_TO)")
    e2e__begin_client "$P" "py-$pymode" smtp-client.py "${args[@]}" "${E2E__REST[@]}"
    python=$(e2e__get "$P" PYTHON)
    "${python:-python3}" "$E2E__LIB_DIR/smtp-client.py" "${args[@]}" "${E2E__REST[@]}" \
        </dev/null >>"$(e2e__get "$P" LAST_TRANSCRIPT)" 2>&1 || rc=$?
    e2e__finish_client "$p" "$rc"
}

e2e_starttls_noehlo() { e2e_smtp_py "$1" starttls-noehlo "${@:2}"; }

# ---------------------------------------------------------------------------
# diagnostics

# e2e_diag p: diagnostics on stderr: ${p}__diag_state (a header line, the
# MTA's output, processes, queue), then the sink, the smtp-sink output, the log tail
# (${P}_DIAG_LINES, default 40 lines) and the last client transcript.
e2e_diag() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local p=$1 P=${1^^} run log t lines
    run=$(e2e__get "$P" RUN_DIR) log=$(e2e__get "$P" LOG_FILE) t=$(e2e__get "$P" LAST_TRANSCRIPT)
    lines=$(e2e__get "$P" DIAG_LINES)
    {
        "${p}__diag_state"
        echo "--- sink: $(e2e_sink_count "$p" 2>/dev/null) message(s)"
        if [ -s "${run:-/nonexistent}/smtp-sink.log" ]; then
            echo "--- smtp-sink output:"; tail -n 20 "$run/smtp-sink.log"
        fi
        if [ -f "${log:-/nonexistent}" ]; then
            echo "--- tail of $log:"; tail -n "${lines:-40}" "$log"
        else
            echo "--- no log at ${log:-?}"
        fi
        if [ -n "$t" ] && [ -f "$t" ]; then
            echo "--- last client transcript ($t):"; tail -n 30 "$t"
        fi
        echo "====="
    } >&2
    return 0
}

e2e_fail() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local p=$1
    shift
    printf 'FAIL: %s\n' "$*" >&2
    e2e_diag "$p"
    return 1
}
