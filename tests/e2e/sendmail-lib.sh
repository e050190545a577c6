# shellcheck shell=bash
# tests/e2e/sendmail-lib.sh -- run a REAL private Sendmail on 127.0.0.1 for
# end-to-end tests of the tlspolicy milter.  The Sendmail twin of
# postfix-lib.sh (same shape, sm_ instead of pf_).  Source it from bash:
#
#     . "$(dirname "$0")/sendmail-lib.sh"
#     W=$(sm_mkworkdir) || exit 1                  # see WORKDIR below
#     trap sm_stop EXIT                            # sm_stop is idempotent
#     sm_setup "$W" inet:10999@127.0.0.1           # or "" for no milter
#     SM_EXTRA_MC="define(\`confLOG_LEVEL', \`20')dnl"   # optional
#     sm_start
#     sm_swaks_starttls --cert trusted; echo "rc=$? id=$SM_LAST_ID"
#     sm_wait_queue_empty 20
#     f=$(sm_sink_file_for "$SM_LAST_ID") && grep '^Received:' "$f"
#
# Requirements: root, bash >= 4.4, Sendmail unpacked by
# tests/e2e/install-sendmail.sh into /opt/sendmail (SM_ROOT) -- NOT the
# sendmail packages, which would remove Postfix --, m4, unshare/mount/
# hostname (util-linux; a kernel with UTS and mount namespaces), smtp-sink
# (postfix package), swaks with libnet-ssleay-perl + libio-socket-ssl-perl,
# openssl, python3 (>= 3.7).  It sources common-lib.sh (same directory),
# which it shares with postfix-lib.sh: the same test PKI, port picker, sink,
# log readers and SMTP client wrappers.
#
# Shell behaviour: safe under `set -u`; never calls `exit`; every public
# function runs with errexit off (`local -; set +e`).  Nothing is left as a
# child of the caller's shell (smtp-sink, the syslog receiver and Sendmail
# are started from subshells and reparented), so a bare `wait` does not hang.
# Recommended in tests:  trap sm_stop EXIT; trap 'exit 130' INT TERM
#
# How Sendmail runs (every point measured, see MTA-NOTES.md):
#   - The daemon runs as `sendmail -C WORKDIR/etc/sendmail.cf -bD -q30s`
#     (foreground daemon) inside `unshare --uts --mount`: its own host name
#     mx.e2e.test (with the machine's unqualified name "vm" Sendmail sleeps
#     60 s at startup: "My unqualified host name (vm) unknown; sleeping for
#     retry"), and private bind mounts, visible only to that Sendmail and
#     its children, of:
#       /etc/hosts          127.0.0.1 localhost, then 127.0.0.1 mx.e2e.test
#                           (so the client 127.0.0.1 is "localhost",
#                           {client_resolve}=OK; 127.0.0.2 has no name)
#       /etc/nsswitch.conf  hosts: files (no DNS for client PTR lookups)
#       /etc/resolv.conf    nameserver 127.0.0.1 (anything that still asks
#                           DNS is refused locally: nothing leaves the host)
#       /dev                a directory of symlinks to the real device nodes
#                           plus dev/log -> our syslog receiver's socket
#     Sendmail logs only to syslog; the machine has no /dev/log and the
#     harness never creates one outside the namespace.  Every process of the
#     instance lives in that mount namespace, so sm_stop finds and stops all
#     of them by namespace, whatever they forked.
#   - Every sendmail command the harness runs (mailq) runs in such a
#     namespace too (sm_sendmail), never with the host's name.
#   - Sendmail refuses (silently, for TLS) files under group- or
#     world-writable directories, sticky bit or not (measured with
#     /var/tmp, mode 1777: "file ... unsafe: World writable directory"), and
#     group/world-writable key files: STARTTLS is not offered.  sm_setup
#     refuses such a WORKDIR with a clear message; sm_start fails if the log
#     says a TLS file is unsafe.
#   - sm_stop finds the instance's processes by their mount namespace inode
#     (one `stat` over /proc/*/ns/mnt), never by name.
#
# WORKDIR
#   The caller creates it (sm_mkworkdir prints a fresh one:
#   /var/lib/tlspolicy-e2e/sm.XXXXXX, every parent 755, not world-writable).
#   sm_setup chmods it 755.  Layout:
#     WORKDIR/etc/sendmail.mc, sendmail.cf  generated config (m4 at sm_start)
#     WORKDIR/etc/service.switch            hosts files / aliases files
#     WORKDIR/etc/aliases                   empty
#     WORKDIR/queue/                        QUEUE_DIR (mode 700)
#     WORKDIR/tls/                          CA, server and client certs (PEM);
#                                           kept and reused by a new sm_setup
#     WORKDIR/log/maillog                   Sendmail's syslog (tag sm-e2e)
#     WORKDIR/sink/                         one file per message at smtp-sink
#     WORKDIR/run/                          pids, outputs, syslog socket
#     WORKDIR/ns/                           the namespace's hosts, resolv.conf,
#                                           nsswitch.conf, dev/ (symlinks)
#     WORKDIR/transcripts/                  client transcripts
#   sm_setup refuses to run while a Sendmail of this shell is alive;
#   otherwise it wipes etc, queue, sink, log and picks new ports.
#
# MILTER_SOCKET
#   Sendmail syntax: inet:PORT@127.0.0.1 or unix:/path, or "" for no milter.
#   (Postfix syntax inet:127.0.0.1:PORT is accepted and converted.)
#   .mc: INPUT_MAIL_FILTER(`tlspolicy', `S=SOCKET, F=T, T=C:5s;S:10s;R:10s;E:15s')
#   F=T: tempfail when the milter is unavailable (Postfix' tempfail default).
#   The milter macro lists (confMILTER_MACROS_*) are left at Sendmail's
#   defaults unless SM_MILTER_MACROS=all: Sendmail 8.17 honours the milter's
#   smfi_setsymlist (measured; see t-sendmail.sh).
#
# Listeners (127.0.0.1, ports picked by e2e_free_port at sm_setup time),
#   all with Listen=1024 (the default backlog of 10 throttles Sendmail):
#   SM_PORT_STARTTLS   Name=MTA      STARTTLS offered      {daemon_name}=MTA
#   SM_PORT_STARTTLS2  Name=MTA-ALT  same, a second listener the milter can
#                                    tell apart by {daemon_name}
#   SM_PORT_IMPLICIT   Name=MTA-SSL, M=s  TLS handshake on connect (465 style)
#   SM_PORT_IPV6       Name=MTA-V6 on [::1], STARTTLS offered; "" (and no
#                      such listener) when the machine has no IPv6 loopback.
#                      Sendmail gives {client_addr}/{daemon_addr} as
#                      "IPv6:0:0:0:0:0:0:0:1" there (the milter reads the
#                      connect callback's sockaddr: "::1").
#   SM_PORT_SINK       smtp-sink; Sendmail relays EVERYTHING there:
#                      SMART_HOST + MAIL_HUB esmtp:[127.0.0.1] and every
#                      SMTP mailer's A= is `TCP $h SINKPORT`, so whatever a
#                      route computes, it connects only to the sink port.
#   TLS (server): confSERVER_CERT/KEY, confCACERT (the test CA; a client
#   certificate is requested, not required), confCACERT_PATH=WORKDIR/tls.
#   FEATURE(accept_unresolvable_domains), FEATURE(promiscuous_relay) (only
#   loopback clients can connect: clients on 127.0.0.2 relay too),
#   FEATURE(nocanonify), FEATURE(no_default_msa) (no port 587),
#   confDONT_PROBE_INTERFACES, load limits off, LogLevel 14.
#
# Exported variables (after sm_setup unless noted)
#   SM_ROOT SM_BIN SM_WORKDIR SM_CONF_DIR SM_MC SM_CF SM_QUEUE_DIR SM_TLS_DIR
#   SM_LOG_FILE SM_SINK_DIR SM_RUN_DIR SM_NS_DIR SM_TRANSCRIPT_DIR SM_MILTER
#   SM_PORT_STARTTLS SM_PORT_STARTTLS2 SM_PORT_IMPLICIT SM_PORT_SINK SM_PORT_IPV6
#   SM_HOSTNAME=mx.e2e.test  SM_CLIENT_EHLO=client.e2e.test
#   SM_DEFAULT_FROM=sender@client.e2e.test  SM_DEFAULT_TO=rcpt@remote.e2e.test
#   SM_CA_CERT  SM_SERVER_CERT SM_SERVER_KEY  SM_CLIENT_CERT SM_CLIENT_KEY
#   SM_ROGUE_CERT SM_ROGUE_KEY     (same PKI as postfix-lib: CA "tlspolicy e2e
#                                   CA", server mx.e2e.test, trusted client
#                                   CN=client.e2e.test, self-signed
#                                   CN=rogue.e2e.test)
#   SM_PID SM_SINK_PID SM_SYSLOG_PID SM_MNTNS   (after sm_start)
#   After every client call (sm_swaks_* / sm_smtp_py / sm_starttls_noehlo):
#   SM_LAST_ID SM_LAST_TRANSCRIPT SM_LAST_RC (also the return code)
#   SM_LAST_QUEUEID   Sendmail queue id from "250 2.0.0 ID Message accepted
#                     for delivery", or "".  NB: Sendmail allocates a new id
#                     after STARTTLS, and the milter sees the id of the
#                     transaction ({i} at RCPT/EOM) -- the same one.
#
# Variables read
#   SM_ROOT            where install-sendmail.sh unpacked (default /opt/sendmail)
#   SM_EXTRA_MC        m4 lines inserted in sendmail.mc before the MAILER()
#                      lines at every sm_start (e.g. define(`confLOG_LEVEL',`20'))
#   SM_MILTER_MACROS   "all": also write confMILTER_MACROS_* lines asking for
#                      every macro the milter uses (for a milter that does not
#                      call smfi_setsymlist); default: Sendmail's defaults
#   SM_MILTER_FLAGS    the F= of INPUT_MAIL_FILTER (default T)
#   SM_PYTHON SM_SWAKS SM_START_TIMEOUT (default 20) SM_CLIENT_TIMEOUT (20)
#
# Functions (return 0 on success unless stated)
#   sm_mkworkdir                     print a new WORKDIR under
#                                    /var/lib/tlspolicy-e2e (mode 755)
#   sm_setup WORKDIR MILTER_SOCKET   certs, ports, .mc, namespace files
#   sm_free_port                     = e2e_free_port
#   sm_start                         (in the caller's shell, not in a pipe or
#                                    $(...): it sets SM_PID & co.; sm_stop
#                                    still finds an instance started from a
#                                    subshell through WORKDIR/run/*.pid)
#                                    syslog receiver, smtp-sink, m4 .mc -> .cf,
#                                    Sendmail; waits for every listener (LISTEN
#                                    in /proc/net/tcp, no probe connection).
#                                    Non-zero + diagnostics if Sendmail cannot
#                                    start or a listener is missing (e.g. no
#                                    TLS: the log's "unsafe" line is shown).
#   sm_stop                          stop every process of the instance (all
#                                    of its mount namespace), smtp-sink, the
#                                    syslog receiver.  Idempotent, always 0.
#   sm_sendmail ARGS...              run the unpacked sendmail with -C SM_CF in
#                                    a private namespace (host name mx.e2e.test)
#   sm_wait_listen PORT|unix:/path [TIMEOUT]   = e2e_wait_listen
#   sm_queue_count                   #messages in the queue (qf files), held
#                                    (quarantined, hf) ones NOT included
#   sm_hold_count                    #quarantined messages (hf files: Sendmail
#                                    renames qfID to hfID and adds a "q" line
#                                    with the reason)
#   sm_hold_reason QUEUEID           print the quarantine reason ("q" line)
#   sm_wait_queue_empty [TIMEOUT=20] wait until sm_queue_count is 0 twice
#   sm_queue_list                    mailq (sendmail -bp)
#   sm_hold_list                     mailq -qQ (the quarantine)
#   sm_queue_flush_hold              delete quarantined messages
#   sm_log / sm_log_offset / sm_log_since OFFSET / sm_log_grep ARGS /
#   sm_log_wait PATTERN [TIMEOUT=10] [OFFSET=0]   as pf_log* (common-lib.sh)
#   sm_log_session QUEUEID [TIMEOUT=5]
#                                    the log lines of the process that logged
#                                    QUEUEID (the SMTP session: Sendmail logs a
#                                    session under one pid)
#   sm_sink_count [PATTERN] / sm_sink_grep PATTERN / sm_sink_file_for PATTERN /
#   sm_wait_sink PATTERN [TIMEOUT=20] [COUNT=1]   as pf_sink_* (common-lib.sh)
#   sm_swaks_plain / sm_swaks_starttls / sm_swaks_implicit [OPTS] [--] [ARGS]
#   sm_smtp_py MODE [OPTS] [--] [ARGS] / sm_starttls_noehlo [OPTS] [--] [ARGS]
#       the e2e_ clients of common-lib.sh, as the pf_ versions (OPTS --cert
#       trusted|untrusted|none, --tls-version, --id, --port; same defaults
#       and exit codes)
#   sm_new_id                        = e2e_new_id
#   sm_diag / sm_fail MESSAGE        diagnostics to stderr (sm_fail returns 1)
#
# Observed with this setup (Sendmail 8.17.1.9, swaks 20201014.0): see the
# header of t-sendmail.sh for what the milter sees and what clients get.

# ---------------------------------------------------------------------------
# internals

SM__LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SM_ROOT=${SM_ROOT:-/opt/sendmail}
SM_BIN=$SM_ROOT/usr/libexec/sendmail/sendmail
SM__CF_M4=$SM_ROOT/usr/share/sendmail/cf/m4/cf.m4
export SM_ROOT SM_BIN

# shellcheck source=common-lib.sh
. "$SM__LIB_DIR/common-lib.sh"

sm__say() { printf 'sendmail-lib: %s\n' "$*" >&2; }
# sm_log ... sm_fail, sm_new_id, sm_free_port, sm_wait_listen, sm__alive,
# sm__is: common-lib.sh's
e2e__define_api sm

# sm__ns_pids NS: the live pids whose mount namespace is NS ("mnt:[N]").
sm__ns_pids() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local ns=$1 ino
    [ -n "$ns" ] || return 0
    # Never our own namespace: that would be every process on the machine.
    [ "$ns" = "$(readlink /proc/self/ns/mnt 2>/dev/null)" ] && return 0
    ino=${ns#mnt:[}; ino=${ino%]}
    case $ino in ''|*[!0-9]*) return 0 ;; esac
    # One stat for all processes (a bash loop over /proc is slow on a busy
    # machine); zombies have no namespace link and drop out.
    stat -L -c '%i %n' /proc/[0-9]*/ns/mnt 2>/dev/null |
        awk -v i="$ino" '$1 == i { split($2, a, "/"); print a[3] }'
    return 0
}

sm__need_setup() { e2e__need_setup sm "${SM_MC:-/nonexistent}"; }

# sm__have_ipv6: the loopback has ::1 and a socket can be bound there.
sm__have_ipv6() {
    grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null || return 1
    "${SM_PYTHON:-python3}" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null
}

# sm__leftover_daemon WORKDIR: print the pid of a live Sendmail daemon that
# sm_start started for WORKDIR (its pid file, its cwd in WORKDIR/queue):
# e.g. one started from a subshell whose SM_PID the caller never saw.
sm__leftover_daemon() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local w=$1 pid
    pid=$(cat "$w/run/sendmail.daemon.pid" 2>/dev/null)
    sm__alive "$pid" || return 1
    [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$w/queue" ] || return 1
    printf '%s\n' "$pid"
}

# sm__safe_path DIR: no directory from DIR up to / may be group or world
# writable (Sendmail's safefile checks; the sticky bit does not help).
sm__safe_path() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local p=$1 m
    while [ -n "$p" ]; do
        m=$(stat -L -c %a "$p" 2>/dev/null) || { sm__say "cannot stat $p"; return 1; }
        if [ $(( 0$m & 022 )) -ne 0 ]; then
            sm__say "$p is group/world writable (mode $m): Sendmail refuses TLS files" \
                "and its queue below it. Use a directory such as /var/lib/tlspolicy-e2e" \
                "(sm_mkworkdir)."
            return 1
        fi
        [ "$p" = / ] && break
        p=$(dirname "$p")
    done
    return 0
}

sm_mkworkdir() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local base=/var/lib/tlspolicy-e2e d
    if ! mkdir -p "$base" || ! chmod 755 "$base"; then sm__say "cannot create $base"; return 1; fi
    d=$(mktemp -d "$base/sm.XXXXXX") || return 1
    chmod 755 "$d"
    printf '%s\n' "$d"
}

# ---------------------------------------------------------------------------
# setup

sm__write_mc() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    # shellcheck disable=SC2016  # $h is Sendmail's, not ours
    local milter_lines="" macro_lines="" sa='TCP $h '"$SM_PORT_SINK" v6_line="dnl (no IPv6 loopback)"
    if [ -n "${SM_PORT_IPV6:-}" ]; then
        v6_line="DAEMON_OPTIONS(\`Port=$SM_PORT_IPV6, Addr=::1, Family=inet6, Name=MTA-V6, Listen=1024')dnl"
    fi
    if [ -n "$SM_MILTER" ]; then
        milter_lines="INPUT_MAIL_FILTER(\`tlspolicy', \`S=$SM_MILTER, F=${SM_MILTER_FLAGS-T}, T=C:5s;S:10s;R:10s;E:15s')dnl"
    fi
    if [ "${SM_MILTER_MACROS:-}" = all ]; then
        macro_lines="define(\`confMILTER_MACROS_CONNECT', \`j, _, {daemon_name}, {daemon_port}, {daemon_addr}, {if_name}, {if_addr}, {client_addr}, {client_name}, {client_ptr}, {client_resolve}')dnl
define(\`confMILTER_MACROS_HELO', \`{tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}, {verify}, {cn_subject}, {cn_issuer}')dnl
define(\`confMILTER_MACROS_ENVFROM', \`i, {auth_type}, {auth_authen}, {auth_ssf}, {auth_author}, {mail_mailer}, {mail_host}, {mail_addr}, {tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}, {verify}, {cn_subject}, {cn_issuer}')dnl
define(\`confMILTER_MACROS_ENVRCPT', \`i, {rcpt_mailer}, {rcpt_host}, {rcpt_addr}, {tls_version}, {cipher}, {cipher_bits}, {cert_subject}, {cert_issuer}, {verify}, {cn_subject}, {cn_issuer}')dnl
define(\`confMILTER_MACROS_EOM', \`i, {msg_id}')dnl"
    fi
    cat >"$SM_MC" <<EOF
divert(-1)
# Generated by tests/e2e/sendmail-lib.sh -- private test instance.
# Build: m4 sendmail.mc > sendmail.cf (sm_start does it).
divert(0)dnl
include(\`$SM__CF_M4')dnl
VERSIONID(\`tlspolicy e2e test instance')dnl
dnl --- no OSTYPE (linux.m4 adds procmail): say which, all paths are ours
define(\`__OSTYPE__', \`tlspolicy-e2e')dnl
define(\`QUEUE_DIR', \`$SM_QUEUE_DIR')dnl
define(\`STATUS_FILE', \`$SM_RUN_DIR/statistics')dnl
define(\`ALIAS_FILE', \`$SM_CONF_DIR/aliases')dnl
define(\`HELP_FILE', \`$SM_ROOT/etc/mail/helpfile')dnl
define(\`confHELP_FILE', \`$SM_ROOT/etc/mail/helpfile')dnl
define(\`confPID_FILE', \`$SM_RUN_DIR/sendmail.pid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM_CONF_DIR/service.switch')dnl
define(\`confHOSTS_FILE', \`$SM_NS_DIR/hosts')dnl
define(\`confEBINDIR', \`$SM_ROOT/usr/libexec/sendmail')dnl
define(\`LOCAL_MAILER_PATH', \`$SM_ROOT/usr/libexec/sendmail/mail.local')dnl
define(\`confDOMAIN_NAME', \`$SM_HOSTNAME')dnl
define(\`confSMTP_LOGIN_MSG', \`\$j tlspolicy-e2e')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confTO_IDENT', \`0')dnl
define(\`confTO_CONNECT', \`5s')dnl
define(\`confTO_INITIAL', \`10s')dnl
define(\`confLOG_LEVEL', \`14')dnl
define(\`confREFUSE_LA', \`999')dnl
define(\`confQUEUE_LA', \`999')dnl
define(\`confDELAY_LA', \`0')dnl
define(\`confMAX_DAEMON_CHILDREN', \`0')dnl
define(\`confCONNECTION_RATE_THROTTLE', \`0')dnl
define(\`confMIN_QUEUE_AGE', \`0')dnl
define(\`confDELIVERY_MODE', \`background')dnl
define(\`confPRIVACY_FLAGS', \`authwarnings')dnl
define(\`confDEF_USER_ID', \`mail:mail')dnl
define(\`confAUTH_MECHANISMS', \`')dnl
dnl --- TLS (server side); a client certificate is asked for, not required
define(\`confCACERT_PATH', \`$SM_TLS_DIR')dnl
define(\`confCACERT', \`$SM_CA_CERT')dnl
define(\`confSERVER_CERT', \`$SM_TLS_DIR/server-chain.pem')dnl
define(\`confSERVER_KEY', \`$SM_SERVER_KEY')dnl
dnl --- relay everything, and only, to smtp-sink on 127.0.0.1:$SM_PORT_SINK
define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
define(\`MAIL_HUB', \`esmtp:[127.0.0.1]')dnl
define(\`SMTP_MAILER_ARGS', \`$sa')dnl
define(\`ESMTP_MAILER_ARGS', \`$sa')dnl
define(\`SMTP8_MAILER_ARGS', \`$sa')dnl
define(\`DSMTP_MAILER_ARGS', \`$sa')dnl
define(\`RELAY_MAILER_ARGS', \`$sa')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`promiscuous_relay')dnl
dnl --- listeners (Listen=1024: the default backlog of 10 throttles)
DAEMON_OPTIONS(\`Port=$SM_PORT_STARTTLS, Addr=127.0.0.1, Family=inet, Name=MTA, Listen=1024')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT_STARTTLS2, Addr=127.0.0.1, Family=inet, Name=MTA-ALT, Listen=1024')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT_IMPLICIT, Addr=127.0.0.1, Family=inet, Name=MTA-SSL, M=s, Listen=1024')dnl
$v6_line
dnl --- milter (macro lists: Sendmail's defaults unless SM_MILTER_MACROS=all)
${macro_lines:-dnl}
${milter_lines:-dnl (no milter)}
dnl --- SM_EXTRA_MC begin
dnl --- SM_EXTRA_MC end
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
}

sm_setup() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    local w=${1:?usage: sm_setup WORKDIR MILTER_SOCKET} milter=${2-}
    if [ ! -d "$w" ]; then sm__say "WORKDIR $w does not exist (caller creates it)"; return 1; fi
    w=$(cd "$w" && pwd -P)
    if sm__alive "${SM_PID:-}"; then
        sm__say "a Sendmail (pid $SM_PID) of this shell is still running; sm_stop first"
        return 1
    fi
    local left
    if left=$(sm__leftover_daemon "$w"); then
        sm__say "a Sendmail (pid $left) is still running for $w; sm_stop first"
        return 1
    fi
    if [ "$(id -u)" != 0 ]; then sm__say "must run as root"; return 1; fi
    if [ ! -x "$SM_BIN" ] || [ ! -f "$SM__CF_M4" ]; then
        sm__say "no Sendmail in $SM_ROOT ($SM_BIN, $SM__CF_M4):" \
            "run tests/e2e/install-sendmail.sh as root first"
        return 1
    fi
    if ldd "$SM_BIN" 2>/dev/null | grep -q 'not found'; then
        sm__say "$SM_BIN misses libraries ($(ldd "$SM_BIN" | awk '/not found/ {printf "%s ", $1}')):" \
            "run tests/e2e/install-sendmail.sh"
        return 1
    fi
    e2e__need_tools sm m4 unshare mount hostname smtp-sink swaks openssl "${SM_PYTHON:-python3}" || return 1
    id postfix >/dev/null 2>&1 || { sm__say "no postfix user (smtp-sink runs as postfix)"; return 1; }
    chmod 755 "$w" || return 1
    sm__safe_path "$w" || return 1

    case $milter in
        inet:*@*|unix:*|local:*|inet6:*|"") ;;
        inet:*:*) milter="inet:${milter##*:}@$(printf '%s' "${milter#inet:}" | sed 's/:[0-9]*$//')" ;;
        *) sm__say "MILTER_SOCKET must be inet:PORT@HOST or unix:/path (got '$milter')"; return 1 ;;
    esac

    export SM_WORKDIR=$w
    export SM_CONF_DIR=$w/etc SM_QUEUE_DIR=$w/queue SM_TLS_DIR=$w/tls
    export SM_MC=$w/etc/sendmail.mc SM_CF=$w/etc/sendmail.cf
    export SM_LOG_FILE=$w/log/maillog SM_SINK_DIR=$w/sink SM_RUN_DIR=$w/run
    export SM_NS_DIR=$w/ns SM_TRANSCRIPT_DIR=$w/transcripts
    export SM_MILTER=$milter
    SM_PID='' SM_SINK_PID='' SM_SYSLOG_PID='' SM_MNTNS=''

    rm -rf "$SM_CONF_DIR" "$SM_QUEUE_DIR" "$SM_SINK_DIR" "$w/log" "$SM_NS_DIR"
    mkdir -p "$SM_CONF_DIR" "$SM_QUEUE_DIR" "$SM_TLS_DIR" "$w/log" "$SM_SINK_DIR" \
        "$SM_RUN_DIR" "$SM_NS_DIR/dev" "$SM_NS_DIR/olddev" "$SM_TRANSCRIPT_DIR" || return 1
    chmod 755 "$SM_CONF_DIR" "$SM_TLS_DIR" "$w/log" "$SM_RUN_DIR" "$SM_NS_DIR" \
        "$SM_NS_DIR/dev" "$SM_NS_DIR/olddev" "$SM_TRANSCRIPT_DIR"
    chmod 700 "$SM_QUEUE_DIR"
    chown postfix "$SM_SINK_DIR" && chmod 755 "$SM_SINK_DIR"

    # SM_HOSTNAME, SM_CLIENT_EHLO, SM_DEFAULT_*, SM_*_CERT/KEY (certificates
    # made unless SM_TLS_DIR has them)
    e2e__export_pki SM || return 1
    # Sendmail: keys must not be group/world readable, certs not writable.
    chmod 600 "$SM_TLS_DIR"/*.key; chmod 644 "$SM_TLS_DIR"/*.pem
    rm -f "$SM_TLS_DIR/openssl.cnf.bak"

    e2e__pick_ports "$SM_RUN_DIR" SM_PORT_STARTTLS SM_PORT_STARTTLS2 SM_PORT_IMPLICIT SM_PORT_SINK || return 1
    export SM_PORT_IPV6=
    if sm__have_ipv6; then
        e2e__pick_ports "$SM_RUN_DIR" SM_PORT_IPV6 || return 1
    fi

    # Files bind-mounted inside Sendmail's namespace.
    cat >"$SM_NS_DIR/hosts" <<EOF
127.0.0.1 localhost
127.0.0.1 $SM_HOSTNAME mx
::1 localhost ip6-localhost ip6-loopback
EOF
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$SM_NS_DIR/resolv.conf"
    printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\nnetworks: files\nservices: files\nprotocols: files\n' \
        >"$SM_NS_DIR/nsswitch.conf"
    local e
    for e in /dev/* /dev/.[!.]*; do
        [ -e "$e" ] || [ -L "$e" ] || continue
        e=${e#/dev/}
        [ "$e" = log ] && continue
        ln -s "$SM_NS_DIR/olddev/$e" "$SM_NS_DIR/dev/$e"
    done
    ln -s "$SM_RUN_DIR/syslog.sock" "$SM_NS_DIR/dev/log"
    chmod 644 "$SM_NS_DIR/hosts" "$SM_NS_DIR/resolv.conf" "$SM_NS_DIR/nsswitch.conf"

    printf 'hosts\tfiles\naliases\tfiles\n' >"$SM_CONF_DIR/service.switch"
    : >"$SM_CONF_DIR/aliases"
    : >"$SM_RUN_DIR/statistics"
    chmod 644 "$SM_CONF_DIR/service.switch" "$SM_CONF_DIR/aliases"
    sm__write_mc
    return 0
}

# sm__ns_script: the shell code that prepares the namespace, then execs "$@".
sm__ns_script() {
    cat <<'EOF'
set -e
hostname "$SM_HOSTNAME"
mount --bind /dev "$SM_NS_DIR/olddev"
mount --bind "$SM_NS_DIR/dev" /dev
mount --bind "$SM_NS_DIR/hosts" /etc/hosts
mount --bind "$SM_NS_DIR/nsswitch.conf" /etc/nsswitch.conf
mount --bind "$SM_NS_DIR/resolv.conf" /etc/resolv.conf 2>/dev/null ||
    echo "sendmail-lib: warning: could not bind $SM_NS_DIR/resolv.conf on /etc/resolv.conf" >&2
set +e
exec "$@"
EOF
}

# sm__in_ns CMD ARGS...: run CMD in a fresh private namespace (see header).
sm__in_ns() {
    unshare --uts --mount --propagation private -- sh -c "$(sm__ns_script)" sm-ns "$@"
}

sm_sendmail() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    sm__need_setup || return 1
    sm__in_ns "$SM_BIN" -C "$SM_CF" "$@"
}

# ---------------------------------------------------------------------------
# start / stop

# The syslog receiver: one line per datagram (priority stripped), flushed.
sm__syslogd_py() {
    cat <<'EOF'
import os, signal, socket, sys
path, out = sys.argv[1], sys.argv[2]
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "ab", buffering=0) as f:
    while True:
        data = s.recv(65536)
        if data.startswith(b"<"):
            i = data.find(b">")
            if 0 < i < 5:
                data = data[i + 1:]
        f.write(data.rstrip(b"\0\r\n") + b"\n")
EOF
}

sm_start() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    sm__need_setup || return 1
    local timeout=${SM_START_TIMEOUT:-20} i port
    if sm__alive "${SM_PID:-}"; then sm__say "Sendmail already running (pid $SM_PID)"; return 1; fi

    # 0. .mc with SM_EXTRA_MC, then .cf
    sm__write_mc
    if [ -n "${SM_EXTRA_MC:-}" ]; then
        printf '%s\n' "$SM_EXTRA_MC" >"$SM_RUN_DIR/extra.mc"
        sed -i "/^dnl --- SM_EXTRA_MC begin/r $SM_RUN_DIR/extra.mc" "$SM_MC"
    fi
    # m4 warns about promiscuous_relay (expected); any ERROR is fatal.
    if ! m4 "$SM_MC" >"$SM_CF.new" 2>"$SM_RUN_DIR/m4.err" || grep -q ERROR "$SM_RUN_DIR/m4.err"; then
        cat "$SM_RUN_DIR/m4.err" >&2
        sm__say "m4 $SM_MC failed"
        return 1
    fi
    mv "$SM_CF.new" "$SM_CF" && chmod 644 "$SM_CF"

    # 1. syslog receiver (from a subshell: not a child of the caller's shell)
    if ! sm__alive "${SM_SYSLOG_PID:-}"; then
        rm -f "$SM_RUN_DIR/syslog.sock"
        SM_SYSLOG_PID=$(
            "${SM_PYTHON:-python3}" -c "$(sm__syslogd_py)" "$SM_RUN_DIR/syslog.sock" "$SM_LOG_FILE" \
                </dev/null >>"$SM_RUN_DIR/syslogd.out" 2>&1 &
            echo $!
        )
        export SM_SYSLOG_PID
        echo "$SM_SYSLOG_PID" >"$SM_RUN_DIR/syslogd.pid"
        i=0
        while [ ! -S "$SM_RUN_DIR/syslog.sock" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        if [ ! -S "$SM_RUN_DIR/syslog.sock" ]; then
            sm__say "the syslog receiver did not start:"; cat "$SM_RUN_DIR/syslogd.out" >&2
            return 1
        fi
    fi

    # 2. smtp-sink (runs as postfix; the dump directory is postfix's)
    e2e__start_sink SM

    # 3. Sendmail, foreground daemon (-bD) in its namespace
    rm -f "$SM_RUN_DIR/sendmail.pid"
    # unshare execs sh, which execs sendmail: $! is the daemon's pid.
    local script
    script=$(sm__ns_script)
    SM_PID=$(
        unshare --uts --mount --propagation private -- sh -c "$script" sm-ns \
            "$SM_BIN" -C "$SM_CF" -bD -q30s -L sm-e2e \
            </dev/null >>"$SM_RUN_DIR/sendmail.out" 2>&1 &
        echo $!
    )
    export SM_PID
    echo "$SM_PID" >"$SM_RUN_DIR/sendmail.daemon.pid"
    # The namespace exists once unshare ran: remember it for sm_stop.
    SM_MNTNS=
    i=0
    while [ "$i" -lt 50 ]; do
        SM_MNTNS=$(readlink "/proc/$SM_PID/ns/mnt" 2>/dev/null)
        if [ -n "$SM_MNTNS" ] && [ "$SM_MNTNS" != "$(readlink /proc/self/ns/mnt)" ]; then break; fi
        SM_MNTNS=
        sm__alive "$SM_PID" || break
        sleep 0.05; i=$((i + 1))
    done
    export SM_MNTNS

    # 4. Wait for every listener (LISTEN in /proc/net/tcp: no probe connection)
    local n=$((timeout * 10)) missing
    i=0
    while [ "$i" -lt "$n" ]; do
        missing=""
        for port in "$SM_PORT_SINK" "$SM_PORT_STARTTLS" "$SM_PORT_STARTTLS2" "$SM_PORT_IMPLICIT"; do
            e2e__listening "$port" || missing="$missing $port"
        done
        if [ -n "${SM_PORT_IPV6:-}" ]; then
            e2e__listening "$SM_PORT_IPV6" 6 || missing="$missing [::1]:$SM_PORT_IPV6"
        fi
        [ -z "$missing" ] && break
        sm__alive "$SM_PID" || break
        sleep 0.1; i=$((i + 1))
    done
    if [ -n "$missing" ]; then
        if ! sm__alive "$SM_PID"; then
            sm__say "Sendmail could not be started (it exited):"
        else
            sm__say "Sendmail started but nothing listens on port(s)$missing after ${timeout}s" \
                "(implicit TLS port $SM_PORT_IMPLICIT is only opened when TLS works)"
        fi
        grep -E 'unsafe|SYSERR|cannot|error|sleeping for retry' "$SM_LOG_FILE" 2>/dev/null | tail -n 10 >&2
        sm_diag
        return 1
    fi
    if ! sm__alive "$SM_SINK_PID"; then
        sm__say "smtp-sink died:"; cat "$SM_RUN_DIR/smtp-sink.log" >&2
        return 1
    fi
    # STARTTLS must be offered: Sendmail silently drops it if a TLS file is unsafe.
    if grep -qE 'STARTTLS=server.*(unsafe|error)|TLS: .*unsafe|file .* unsafe' "$SM_LOG_FILE" 2>/dev/null; then
        sm__say "Sendmail reports unsafe/failed TLS files:"
        grep -E 'unsafe|STARTTLS' "$SM_LOG_FILE" | tail -n 5 >&2
        return 1
    fi
    return 0
}

sm_stop() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    # Must never fail and never abort an EXIT trap.
    local i pids p
    # Pids the caller's shell did not keep (sm_start run in a subshell).
    if [ -z "${SM_PID:-}" ] && [ -n "${SM_WORKDIR:-}" ]; then
        SM_PID=$(sm__leftover_daemon "$SM_WORKDIR")
        [ -n "$SM_PID" ] && SM_MNTNS=$(readlink "/proc/$SM_PID/ns/mnt" 2>/dev/null)
        [ -n "${SM_SINK_PID:-}" ] || SM_SINK_PID=$(cat "$SM_RUN_DIR/smtp-sink.pid" 2>/dev/null)
        [ -n "${SM_SYSLOG_PID:-}" ] || SM_SYSLOG_PID=$(cat "$SM_RUN_DIR/syslogd.pid" 2>/dev/null)
    fi
    if [ -n "${SM_PID:-}" ] || [ -n "${SM_MNTNS:-}" ]; then
        # The daemon first (it stops its children), then whatever is left
        # in its namespace (sessions, deliveries, queue runners).
        if sm__alive "${SM_PID:-}"; then
            kill -TERM "$SM_PID" 2>/dev/null
            i=0
            while sm__alive "$SM_PID" && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        fi
        for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
            pids=$(sm__ns_pids "${SM_MNTNS:-}")
            [ -z "$pids" ] && sm__alive "${SM_PID:-}" && pids=$SM_PID
            [ -z "$pids" ] && break
            if [ "$i" -le 10 ]; then
                for p in $pids; do kill -TERM "$p" 2>/dev/null; done
            else
                for p in $pids; do kill -KILL "$p" 2>/dev/null; done
            fi
            sleep 0.1
        done
        SM_PID=
    fi
    e2e__stop_sink SM
    if [ -n "${SM_SYSLOG_PID:-}" ]; then
        if sm__alive "$SM_SYSLOG_PID" && grep -qF "$SM_RUN_DIR/syslog.sock" "/proc/$SM_SYSLOG_PID/cmdline" 2>/dev/null; then
            sleep 0.2   # let the last datagrams in
            e2e__stop_pid "$SM_SYSLOG_PID"
        fi
        SM_SYSLOG_PID=
    fi
    return 0
}

# ---------------------------------------------------------------------------
# queue

sm_queue_count() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    sm__need_setup || return 1
    find "$SM_QUEUE_DIR" -type f -name 'qf*' 2>/dev/null | wc -l
}

sm_hold_count() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    sm__need_setup || return 1
    find "$SM_QUEUE_DIR" -type f -name 'hf*' 2>/dev/null | wc -l
}

sm_hold_reason() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    sm__need_setup || return 1
    local qid=${1:?sm_hold_reason QUEUEID}
    [ -f "$SM_QUEUE_DIR/hf$qid" ] || return 1
    sed -n 's/^q//p' "$SM_QUEUE_DIR/hf$qid"
}

sm_queue_list() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    sm_sendmail -bp 2>&1
}

sm_hold_list() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    sm_sendmail -bp -qQ 2>&1
}

sm_queue_flush_hold() {
    local -; set +e  # errexit-proof even if the caller uses set -e
    sm__need_setup || return 1
    local f id
    for f in "$SM_QUEUE_DIR"/hf*; do
        [ -f "$f" ] || continue
        id=${f##*/hf}
        rm -f "$f" "$SM_QUEUE_DIR/df$id"
    done
    return 0
}

# ---------------------------------------------------------------------------
# log

# sm__transcript_queueid FILE: the queue id of "250 2.0.0 ID Message accepted".
sm__transcript_queueid() {
    sed -n 's/.*250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p' "$1" | tail -n 1
}

# sm__log_session_once QUEUEID (sm_log_session = e2e_log_session, which
# polls it): the lines logged by the sendmail process that logged
# "QUEUEID: from=" (the SMTP session's process); 1 while there is none.
sm__log_session_once() {
    local pid
    pid=$(sed -n "s/.*sm-e2e\[\([0-9]*\)\]: $1: from=.*/\1/p" "${SM_LOG_FILE:-/nonexistent}" 2>/dev/null | tail -n 1)
    [ -n "$pid" ] || return 1
    grep -F "sm-e2e[$pid]: " "$SM_LOG_FILE"
    return 0
}

# ---------------------------------------------------------------------------
# diagnostics

# sm__diag_state: the Sendmail part of sm_diag (e2e_diag).
sm__diag_state() {
    echo "===== sendmail-lib diagnostics (WORKDIR=${SM_WORKDIR:-?})"
    if [ -s "${SM_RUN_DIR:-/nonexistent}/sendmail.out" ]; then
        echo "--- sendmail output:"; tail -n 20 "$SM_RUN_DIR/sendmail.out"
    fi
    echo "--- sendmail pid ${SM_PID:-none} (alive: $(sm__alive "${SM_PID:-}" && echo yes || echo no)), smtp-sink pid ${SM_SINK_PID:-none}, syslog pid ${SM_SYSLOG_PID:-none}"
    echo "--- queue: $(sm_queue_count 2>/dev/null) queued, $(sm_hold_count 2>/dev/null) quarantined"
}
