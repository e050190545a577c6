# shellcheck shell=bash
# bench/pf-bench-lib.sh -- what the scripts that drive a private Postfix
# with milters share (bench/run-postfix-bench.sh, bench/run-load-fault.sh).
# Source it from bash after setting HERE (the bench directory) and TOP (the
# source tree); it sources tests/e2e/postfix-lib.sh (pf_* functions).
#
#   say MSG / die MSG         a timestamped line on stderr / and exit 1
#   pfb_require TOOL...       root, a postfix user, each TOOL on PATH (or die)
#   pfb_workdir PREFIX SUBDIR...
#                             W = $WORKDIR, or mktemp -d /var/tmp/PREFIX.XXXXXX;
#                             mode 755 (the postfix user must traverse it),
#                             with the SUBDIRs; installs the EXIT trap
#   PIDS=()                   every background process started: the EXIT trap
#                             stops each by pid (SIGTERM, up to 8 s for
#                             libmilter's graceful stop, then SIGKILL), then
#                             Postfix (pf_stop), then runs pfb_after_stop if
#                             the caller defined it, and removes W unless KEEP=1
#   forget PID                PID was waited for: drop it from PIDS (its number
#                             may be reused by a process that is not ours)
#   pfb_build_load DIR        cc bench/smtp-load.c into DIR/smtp-load
#   pick_port VAR             a free port on 127.0.0.1 into VAR (in this
#                             shell, so that no port is handed out twice)
#   libmilter_spec SPEC       Postfix inet:HOST:PORT -> libmilter inet:PORT@HOST
#   smtpd_listener PORT NAME MILTER MAXPROC [OPTION=VALUE...]
#                             print a master.cf smtpd entry on 127.0.0.1:PORT,
#                             syslog_name postfix/NAME, smtpd_milters=MILTER
#                             ("" for none), MAXPROC processes (- for the
#                             default), one -o line per extra OPTION=VALUE
#   tp_conf FILE BINARY AUDIT write a tlspolicy-milter.conf with the audit log
#                             at AUDIT (if BINARY has one) and, with no syslog
#                             daemon on /dev/log, syslog = no (as in a
#                             container: glibc's syslog() would otherwise try
#                             to connect for every line, which a real host
#                             does not pay)
#   cpu_ticks PID             utime + stime of PID, in clock ticks
#   field NAME LINE           the number after " NAME=" in LINE

# shellcheck source=../tests/e2e/postfix-lib.sh
. "$TOP/tests/e2e/postfix-lib.sh"

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

pfb_require() {
    local t
    [ "$(id -u)" = 0 ] || die "must run as root (private Postfix)"
    id postfix >/dev/null 2>&1 || die "no postfix user"
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || die "missing tool: $t"
    done
}

PIDS=()
forget() {
    local p
    local -a keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

pfb__cleanup() {
    local p i
    say "stopping ${#PIDS[@]} processes, then Postfix"
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    # libmilter's graceful stop can take a few seconds
    for p in "${PIDS[@]}"; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 80 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    say "stopping Postfix"
    pf_stop
    if declare -F pfb_after_stop >/dev/null; then pfb_after_stop; fi
    if [ "${KEEP:-0}" = 1 ]; then
        say "work directory kept: $W"
    else
        rm -rf "$W"
    fi
}

pfb_workdir() {
    local prefix=$1 d
    shift
    if [ -n "${WORKDIR:-}" ]; then
        W=$WORKDIR
        mkdir -p "$W" || die "cannot create $W"
    else
        W=$(mktemp -d "/var/tmp/$prefix.XXXXXX") || die "mktemp failed"
    fi
    chmod 755 "$W"
    trap pfb__cleanup EXIT
    trap 'exit 130' INT TERM
    for d in "$@"; do
        mkdir -p "$W/$d" || die "cannot create $W/$d"
    done
}

pfb_build_load() {
    # shellcheck disable=SC2046
    cc -O2 -Wall -o "$1/smtp-load" "$HERE/smtp-load.c" $(pkg-config --cflags --libs openssl) -pthread ||
        die "cannot build smtp-load"
}

pick_port() {
    pf_free_port >"$W/port" || die "no free port"
    read -r "${1?}" <"$W/port"
}

libmilter_spec() {
    case $1 in
        inet:*) local hp=${1#inet:}; echo "inet:${hp##*:}@${hp%:*}" ;;
        *) echo "$1" ;;
    esac
}

smtpd_listener() {
    local port=$1 name=$2 milter=$3 maxproc=$4 o
    shift 4
    printf '127.0.0.1:%s inet n - n - %s smtpd\n  -o syslog_name=postfix/%s\n' "$port" "$maxproc" "$name"
    for o in "$@"; do printf '  -o %s\n' "$o"; done
    printf '  -o smtpd_milters=%s\n' "$milter"
}

tp_conf() {
    local file=$1 bin=$2 audit=$3
    : >"$file"
    if "$bin" --help 2>&1 | grep -q 'audit_log\|audit-log'; then
        echo "audit_log = $audit" >>"$file"
    fi
    if [ ! -S /dev/log ] && "$bin" --help 2>&1 | grep -q 'syslog = yes|no'; then
        echo "syslog = no" >>"$file"
    fi
    chmod 644 "$file"
}

cpu_ticks() {   # all threads, dead ones too
    [ -n "$1" ] || { echo 0; return; }
    sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'
}

field() { sed -n "s/.* $1=\\([0-9.]*\\).*/\\1/p" <<<"$2"; }
