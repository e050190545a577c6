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
# It sources common-lib.sh (same directory): what it shares with
# sendmail-lib.sh (sink, log, client wrappers, ports, test PKI) is there.
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
#   pf_free_port                     = e2e_free_port: print a free TCP port on
#                                    127.0.0.1, never one handed out before in
#                                    this shell
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
#                                    = e2e_wait_listen (use it for the milter:
#                                    no connection is made, so libmilter does
#                                    not call xxfi_close)
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
#   pf_sink_count [PATTERN] / pf_sink_grep PATTERN / pf_sink_file_for PATTERN /
#   pf_wait_sink PATTERN [TIMEOUT=20] [COUNT=1]
#                                    the sink (see common-lib.sh).  Besides
#                                    smtp-sink's own headers a message there has
#                                    our Postfix's Received header with the TLS
#                                    details and, for a trusted client cert,
#                                    '(Client CN "client.e2e.test", Issuer
#                                    "tlspolicy e2e CA" (verified OK))'.  Once
#                                    pf_wait_queue_empty returns every delivered
#                                    file is complete.
#   pf_swaks_plain / pf_swaks_starttls / pf_swaks_implicit [OPTS] [--] [SWAKS ARGS...]
#   pf_smtp_py MODE [OPTS] [--] [smtp-client.py ARGS...]
#   pf_starttls_noehlo [OPTS] [--] [ARGS...]
#                                    the e2e_ clients of common-lib.sh (OPTS
#                                    --cert trusted|untrusted|none,
#                                    --tls-version, --id, --port; transcripts in
#                                    PF_TRANSCRIPT_DIR).  No second EHLO after
#                                    STARTTLS, measured: `openssl s_client
#                                    -starttls smtp -quiet -name HELO` sends one
#                                    EHLO before STARTTLS and none after (log:
#                                    ehlo=1 starttls=1 mail=1), but it only works
#                                    with sleep-paced stdin and gives no per-step
#                                    status: hence the python client.
#   pf_new_id                        = e2e_new_id: print a fresh unique id
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
# shellcheck source=common-lib.sh
. "$PF__LIB_DIR/common-lib.sh"

pf__say() { printf 'postfix-lib: %s\n' "$*" >&2; }
# pf_log ... pf_fail, pf_new_id, pf_free_port, pf_wait_listen, pf__alive,
# pf__is, pf__listening, pf__make_certs: common-lib.sh's
e2e__define_api pf

# pf__children PID: pids whose parent is PID (one level).
# Builtins only: a process per /proc entry took ~20 s on a loaded machine
# with a few hundred smtpd processes.
pf__children() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local parent=$1 d line
    local -a f
    for d in /proc/[0-9]*; do
        { read -r line <"$d/stat"; } 2>/dev/null || continue
        read -r -a f <<<"${line##*) }"    # f[0] state, f[1] ppid
        [ "${f[1]:-}" = "$parent" ] && printf '%s\n' "${d#/proc/}"
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

pf__need_setup() { e2e__need_setup pf "${PF_CONF_DIR:-/nonexistent}/main.cf"; }

# ---------------------------------------------------------------------------
# setup

# pf__master_services: the master.cf lines of Postfix's own services (no
# smtpd listener), chroot n everywhere; also for tests/e2e/outbound-lib.sh.
pf__master_services() {
    cat <<'EOF'
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
  -o syslog_name=postfix/$service_name
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
    e2e__need_tools pf postfix postconf smtp-sink swaks openssl script "${PF_PYTHON:-python3}" || return 1

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
    PF_MASTER_PID='' PF_SINK_PID=''

    rm -rf "$PF_CONF_DIR" "$PF_QUEUE_DIR" "$PF_DATA_DIR" "$PF_SINK_DIR" "$w/log"
    mkdir -p "$PF_CONF_DIR" "$PF_QUEUE_DIR" "$PF_DATA_DIR" "$PF_TLS_DIR" "$w/log" \
        "$PF_SINK_DIR" "$PF_RUN_DIR" "$PF_TRANSCRIPT_DIR" || return 1
    chmod 755 "$PF_CONF_DIR" "$PF_QUEUE_DIR" "$PF_TLS_DIR" "$w/log" "$PF_RUN_DIR" "$PF_TRANSCRIPT_DIR"
    chown postfix "$PF_DATA_DIR" "$PF_SINK_DIR" && chmod 700 "$PF_DATA_DIR" && chmod 755 "$PF_SINK_DIR"

    # PF_HOSTNAME, PF_CLIENT_EHLO, PF_DEFAULT_*, PF_*_CERT/KEY (certificates
    # made unless PF_TLS_DIR has them)
    e2e__export_pki PF || return 1
    e2e__pick_ports "$PF_RUN_DIR" PF_PORT_STARTTLS PF_PORT_STARTTLS2 PF_PORT_IMPLICIT PF_PORT_SINK || return 1

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
EOF
    pf__master_services >>"$PF_CONF_DIR/master.cf"

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

    # 1. smtp-sink first, so nothing is deferred (not a child of the
    # caller's shell: a bare `wait` in a test does not block on it).
    e2e__start_sink PF

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
            e2e__stop_pid "$pid" 100
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
    e2e__stop_sink PF
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

# ---------------------------------------------------------------------------
# log

# pf__transcript_queueid FILE: the queue id of "250 ... queued as X".
pf__transcript_queueid() {
    sed -n 's/.*250 .*queued as \([0-9A-Za-z]*\).*/\1/p' "$1" | tail -n 1
}

# pf__log_session_once QUEUEID (pf_log_session = e2e_log_session, which
# polls it): the log lines of the smtpd session that received QUEUEID, from
# "connect from" to "disconnect from"; 1 while they are not all there.
pf__log_session_once() {
    awk -v q="$1" '
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
        END { exit !found }' "${PF_LOG_FILE:-/nonexistent}" 2>/dev/null
}

# ---------------------------------------------------------------------------
# diagnostics

# pf__diag_state: the Postfix part of pf_diag (e2e_diag).
pf__diag_state() {
    echo "===== postfix-lib diagnostics (WORKDIR=${PF_WORKDIR:-?})"
    if [ -f "${PF_RUN_DIR:-/nonexistent}/postfix-start.out" ]; then
        echo "--- postfix start output:"; cat "$PF_RUN_DIR/postfix-start.out"
    fi
    echo "--- master pid ${PF_MASTER_PID:-none}, smtp-sink pid ${PF_SINK_PID:-none}"
    echo "--- queue: $(pf_queue_count 2>/dev/null) active/incoming/deferred, $(pf_hold_count 2>/dev/null) held"
}
