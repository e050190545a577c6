#!/bin/bash
# bench/run-postfix-bench.sh -- milter throughput through a real Postfix.
#
# Opt-in (not part of make check). Needs root, postfix (smtp-sink),
# libmilter-dev, libssl-dev, python3, cc, pkg-config, and a built
# tlspolicy-milter. Run from anywhere:
#
#     bench/run-postfix-bench.sh                 # N=5000 C=20 ROUNDS=3
#     N=2000 ROUNDS=5 MODES="plain starttls implicit" bench/run-postfix-bench.sh
#     TLSPOLICY_MILTER_X=/path/to/candidate/tlspolicy-milter bench/run-postfix-bench.sh
#
# What it does
#   1. Builds bench/minimal-milter.c, bench/smtp-load.c and
#      bench/milter-replay.c with cc into a work directory, and copies the
#      tlspolicy-milter binary there (a rebuild during the run changes
#      nothing).
#   2. Starts ONE private Postfix with tests/e2e/postfix-lib.sh, relaying
#      everything to an smtp-sink of its own that writes nothing to disk
#      (the library's sink dumps every message to a file; it is started
#      too, but idles). Each milter configuration gets its own pair of
#      smtpd listeners in master.cf (STARTTLS-capable and implicit TLS)
#      with "-o smtpd_milters=...", so switching configuration needs no
#      "postfix reload" (after a reload every smtpd is replaced, and the
#      next run would pay for the respawns). Configurations:
#        none       no milter
#        min_inet   bench/minimal-milter over inet: (the floor: 3 replies)
#        min_unix   bench/minimal-milter over unix:
#        mins_inet, mins_unix  the floor with tlspolicy-milter's thread
#                   stacks (256 KiB, started under "ulimit -s 256"; glibc's
#                   default is the stack rlimit, 8 MiB, and it keeps only
#                   40 MiB of ended threads' stacks for reuse): the floor
#                   without that handicap, for a fair ratio
#        mind_inet  bench/minimal-milter -D over inet: (4 replies: also at
#                   DATA, which avoids the stall on Postfix's side, below)
#        tp_inet    tlspolicy-milter over inet:, default configuration
#                   (four replies: it answers at DATA over TCP)
#        tp_unix    tlspolicy-milter over unix:, default configuration
#        tpm_inet, tpm_unix  tlspolicy-milter with strip_header = mta: no
#                   header events; Postfix's header_checks (in a cleanup
#                   service of these listeners' own) remove arriving
#                   copies of the result header, as contrib/postfix shows
#                   (three replies: no Nagle there, DATA negotiated away)
#        tpe_inet, tpe_unix  tlspolicy-milter with early_events = no: no
#                   connect, HELO or MAIL events, their macros at RCPT
#        tpl_inet, tpl_unix  both: early_events = no, strip_header = mta
#                   (the leanest tlspolicy-milter: the floor's events)
#        tpx_inet, tpx_unix   a second tlspolicy-milter binary, if
#                   TLSPOLICY_MILTER_X is set (to measure a candidate fix)
#        mindn_inet minimal-milter -D -N (no TCP_NODELAY), if NAGLE_CONTROL=1
#        mint_unix  minimal-milter -T over unix: (tlspolicy-milter's
#                   negotiation and macro lists, no work), if SHAPE_CONTROL=1
#      CONFIGS="..." picks configurations explicitly (any of the above,
#      also mind_unix, mint_inet, and the diagnostic mintx_unix = -T -X,
#      tlspolicy's shape without header events, mints_unix = -T -S,
#      tlspolicy's shape with the MTA's default macro lists, and
#      mintk_unix = -T with 256 KiB stacks, as mins_* has them).
#      tlspolicy-milter runs with -F -u postfix, a 5-rule policy whose
#      "default prefer" decides every message, the default configuration
#      (result header on, forged copies removed; if the binary has an
#      audit log, it is on, in the work directory); stderr to a file.
#   3. Warm-up: WARMUP messages through every listener of every mode.
#   4. ROUNDS rounds; in each, for each MODE, every configuration once (the
#      order rotates from round to round): N messages at concurrency C, one
#      message per connection, one recipient, HEADERS header lines, sent by
#      bench/smtp-load for every mode (smtp-source has no TLS; one client
#      for all modes keeps the figures comparable). The queue is drained
#      before each run. The rate is messages accepted (250 after ".") per
#      second.
#   5. Milter CPU: utime+stime of the milter process from /proc/PID/stat
#      before and after each of its runs (10 ms ticks), per message.
#   6. Stall probe: STALL_N messages at concurrency 1 per configuration and
#      mode; a stall shows as a median session time of 40 ms or more.
#   7. Replies waited for: bench/milter-count.py between Postfix and the
#      minimal and tlspolicy milters, COUNT_N messages with 2 and 30 headers,
#      plaintext and STARTTLS.
#   8. Milter-only CPU: the proxy records what Postfix sent each milter for
#      one message; bench/milter-replay replays it REPLAY_N times at
#      concurrency 20 over unix: against minimal-milter, minimal-milter -T
#      (tlspolicy-milter's negotiation and macro lists, no work) and
#      tlspolicy-milter, REPLAY_ROUNDS times: CPU per message without
#      Postfix, client and sink competing for the CPUs.
#   9. Prints markdown tables: medians over rounds of per-round ratios,
#      median msg/s, p50 session times, milter CPU per message, the stall
#      probe, the reply counts, the replay CPU.
#
# Environment
#   N=5000 C=20 ROUNDS=3        messages per run, concurrency, rounds
#   MODES="plain starttls"      add "implicit" for port-465 style TLS
#   SOCKETS="inet unix"         milter socket kinds for min_* and tp_*
#   DATA_FLOOR=1                include mind_inet (0: leave it out)
#   HEADERS=10                  header lines per message in the throughput runs
#   WARMUP=200                  messages per listener before round 1 (0: none)
#   STALL_N=100                 messages per configuration in the stall probe (0: skip)
#   COUNT_N=100                 messages per reply-count run (0: skip)
#   REPLAY_N=20000 REPLAY_ROUNDS=3   milter-only replay (REPLAY_N=0: skip)
#   QUICKACK=1                  smtp-load acknowledges at once (see smtp-load.c);
#                               0: plain delayed ACKs (every TLS session then
#                               stalls ~40 ms on Postfix's side, milter or not)
#   NAGLE_CONTROL=0             1: add mindn_inet
#   SHAPE_CONTROL=0             1: add mint_unix
#   CONFIGS="none min_unix ..." run exactly these configurations
#   TLSPOLICY_MILTER=PATH       default: _build/milter/tlspolicy-milter
#   TLSPOLICY_MILTER_X=PATH     optional second binary (tpx_* configurations)
#   WORKDIR=DIR                 default: mktemp -d /var/tmp/tlspolicy-pfbench.XXXXXX;
#                               a directory on tmpfs (/dev/shm/...) takes the
#                               queue's disk I/O out of the noise (and makes
#                               Postfix cheaper, so the milter's share larger)
#   KEEP=1                      keep WORKDIR (logs, results.tsv, count/*.json)
#   SETUP_ONLY=1                start everything, write WORKDIR/env.sh (ports,
#                               pids) and wait until killed: for diagnosis
#
# Every process it starts is stopped on exit (trap EXIT); everything listens
# on 127.0.0.1 or on unix sockets in WORKDIR. Exit status 0, or 1 if any run
# had an SMTP error, a milter died, or something failed to start.
#
# Time on the 2-core VM: a run of 2000 messages at C=20 takes about 8 s
# plaintext and 13 s STARTTLS; N=2000 ROUNDS=5 with 12 configurations took
# 32 minutes with the stall probe, the counts and the replay (2026-12-05).
# The defaults (N=5000, ROUNDS=3, 14 configurations) take about an hour.
#
# Postfix-side stall over inet: (found with this script) Postfix sets no
# TCP_NODELAY on its milter sockets, and writes what it has for the milter
# when it waits for a reply -- and also when smtpd hands the milter
# connection to cleanup at DATA. A milter that negotiates SMFIP_NODATA gets
# the DATA macros as a lone segment it does not answer; its delayed ACK
# (~40 ms) then holds cleanup's end-of-message packet back (Nagle), once per
# message, whatever the milter does with TCP_NODELAY. A reply at DATA (the
# fourth reply) avoids it. Over unix: there is no Nagle.

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
N=${N:-5000}
C=${C:-20}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-plain starttls}
SOCKETS=${SOCKETS:-inet unix}
DATA_FLOOR=${DATA_FLOOR:-1}
HEADERS=${HEADERS:-10}
WARMUP=${WARMUP:-200}
STALL_N=${STALL_N:-100}
COUNT_N=${COUNT_N:-100}
REPLAY_N=${REPLAY_N:-20000}
REPLAY_ROUNDS=${REPLAY_ROUNDS:-3}
QUICKACK=${QUICKACK:-1}
NAGLE_CONTROL=${NAGLE_CONTROL:-0}
SHAPE_CONTROL=${SHAPE_CONTROL:-0}
TP_SRC=${TLSPOLICY_MILTER:-$TOP/_build/milter/tlspolicy-milter}
TPX_SRC=${TLSPOLICY_MILTER_X:-}
PYTHON=${PYTHON:-python3}

# shellcheck source=pf-bench-lib.sh
. "$HERE/pf-bench-lib.sh"

[ -x "$TP_SRC" ] || die "no tlspolicy-milter at $TP_SRC (build it, or set TLSPOLICY_MILTER)"
[ -z "$TPX_SRC" ] || [ -x "$TPX_SRC" ] || die "TLSPOLICY_MILTER_X=$TPX_SRC is not executable"
pfb_require cc pkg-config smtp-sink postfix "$PYTHON"

pfb_workdir tlspolicy-pfbench bin log sock count pf audit
chmod 755 "$W/sock" "$W/bin"
chown postfix "$W/audit"

declare -A MPID    # milter pid by configuration

# ---------------------------------------------------------------------------
# 1. build

say "building into $W/bin"
cc -O2 -Wall -o "$W/bin/minimal-milter" "$HERE/minimal-milter.c" -lmilter -pthread ||
    die "cannot build minimal-milter"
pfb_build_load "$W/bin"
cc -O2 -Wall -o "$W/bin/milter-replay" "$HERE/milter-replay.c" -pthread ||
    die "cannot build milter-replay"
cp "$TP_SRC" "$W/bin/tlspolicy-milter" || die "cannot copy $TP_SRC"
[ -z "$TPX_SRC" ] || cp "$TPX_SRC" "$W/bin/tlspolicy-milter-x" || die "cannot copy $TPX_SRC"
LOAD=$W/bin/smtp-load
LOADOPT=()
[ "$QUICKACK" = 1 ] || LOADOPT+=(-a)

# ---------------------------------------------------------------------------
# 2. milters, sink, Postfix

pf_setup "$W/pf" "" || die "pf_setup failed"

if [ -z "${CONFIGS:-}" ]; then
    CONFIGS="none"
    for s in $SOCKETS; do
        case $s in inet|unix) ;; *) die "SOCKETS: inet and/or unix" ;; esac
        CONFIGS="$CONFIGS min_$s mins_$s tp_$s tpm_$s tpe_$s tpl_$s"
        [ -n "$TPX_SRC" ] && CONFIGS="$CONFIGS tpx_$s"
    done
    case " $SOCKETS " in *" inet "*) [ "$DATA_FLOOR" = 1 ] && CONFIGS="$CONFIGS mind_inet" ;; esac
    [ "$NAGLE_CONTROL" = 1 ] && CONFIGS="$CONFIGS mindn_inet"
    [ "$SHAPE_CONTROL" = 1 ] && CONFIGS="$CONFIGS mint_unix"
fi
for cfg in $CONFIGS; do
    case $cfg in
        none|min_inet|min_unix|mins_inet|mins_unix|mind_inet|mind_unix|mindn_inet) ;;
        mint_inet|mint_unix|tp_inet|tp_unix) ;;
        tpm_inet|tpm_unix|tpe_inet|tpe_unix|tpl_inet|tpl_unix) ;;
        mintx_unix|mints_unix|mintk_unix) ;;
        tpx_inet|tpx_unix) [ -n "$TPX_SRC" ] || die "$cfg needs TLSPOLICY_MILTER_X" ;;
        *) die "unknown configuration $cfg" ;;
    esac
done
for m in $MODES; do
    case $m in plain|starttls|implicit) ;; *) die "MODES: plain, starttls and/or implicit" ;; esac
done

# The milter endpoint of each configuration (Postfix syntax), and of the
# two counting proxies (cnt_min, cnt_tp).
declare -A SPEC
for cfg in $CONFIGS cnt_min cnt_tp; do
    case $cfg in
        none) SPEC[$cfg]="" ;;
        *_unix) SPEC[$cfg]="unix:$W/sock/$cfg.sock" ;;
        *) pick_port p; SPEC[$cfg]="inet:127.0.0.1:$p" ;;
    esac
done

# One STARTTLS-capable and one implicit-TLS smtpd per configuration; the
# strip_header = mta ones hand their mail to a cleanup that runs the
# header_checks line of contrib/postfix/main.cf.snippet.
printf '/^X-TLS-Policy[[:blank:]]*:/ IGNORE\n' >"$W/header_checks"
declare -A LPORT
{
    echo "# --- run-postfix-bench.sh listeners"
    printf 'cleanup_hc unix n - n - 0 cleanup\n  -o header_checks=regexp:%s\n' "$W/header_checks"
    for cfg in $CONFIGS cnt_min cnt_tp; do
        pick_port p; LPORT[$cfg/starttls]=$p
        LPORT[$cfg/plain]=$p
        pick_port p; LPORT[$cfg/implicit]=$p
        hc=()
        case $cfg in tpm_*|tpl_*) hc=(cleanup_service_name=cleanup_hc) ;; esac
        smtpd_listener "${LPORT[$cfg/starttls]}" "$cfg" "${SPEC[$cfg]}" - "${hc[@]}"
        smtpd_listener "${LPORT[$cfg/implicit]}" "$cfg-smtps" "${SPEC[$cfg]}" - \
            smtpd_tls_wrappermode=yes smtpd_tls_security_level=encrypt "${hc[@]}"
    done
} >>"$PF_CONF_DIR/master.cf"

pick_port SINK_PORT
PF_EXTRA_MAIN_CF="default_transport = smtp:[127.0.0.1]:$SINK_PORT
relay_transport = smtp:[127.0.0.1]:$SINK_PORT"

# Our own sink: no -d, so nothing is written per message.
smtp-sink -u postfix -4 -h sink.bench.test -m 256 "127.0.0.1:$SINK_PORT" 256 \
    </dev/null >"$W/log/smtp-sink.log" 2>&1 &
SINK_PID=$!
PIDS+=("$!")

# tlspolicy-milter: default configuration; only the audit log (if this
# build has one) is moved to a writable place, and with no syslog daemon on
# /dev/log the log goes to stderr only (tp_conf: four syscalls a line that
# a real host does not pay; it pays one sendto).
tp_conf "$W/tlspolicy-milter.conf" "$W/bin/tlspolicy-milter" "$W/audit/audit.jsonl"
{ cat "$W/tlspolicy-milter.conf"; echo "strip_header = mta"; } >"$W/tlspolicy-milter-tpm.conf"
{ cat "$W/tlspolicy-milter.conf"; echo "early_events = no"; } >"$W/tlspolicy-milter-tpe.conf"
{ cat "$W/tlspolicy-milter-tpm.conf"; echo "early_events = no"; } >"$W/tlspolicy-milter-tpl.conf"
chmod 644 "$W"/tlspolicy-milter-tp?.conf
cat >"$W/policy.conf" <<'EOF'
# run-postfix-bench.sh: the senders used are not listed, so "default" decides
default                 prefer
sender:bank.example     require min_version=TLSv1.2
sender:.secure.example  require
rcpt:legal.example.org  require min_bits=256 action=tempfail
client:192.0.2.0/24     require
EOF
chmod 644 "$W/policy.conf"

# start_milter NAME SPEC: start the milter of configuration NAME (min_*,
# mins_*, mind_*, mindn_*, tp_*, tpx_*, or rmin/rminS/rminT/rtp for the
# replay) on SPEC. Started as a simple command or exec'd, so that $! is the
# milter itself.
start_milter() {
    local cfg=$1 spec
    local -a argv
    spec=$(libmilter_spec "$2")
    case $cfg in
        min_*|rmin) argv=("$W/bin/minimal-milter" -p "$spec") ;;
        mins_*|rminS) argv=(/bin/sh -c 'ulimit -s 256 && exec "$@"' sh "$W/bin/minimal-milter" -p "$spec") ;;
        mint_*|rminT) argv=("$W/bin/minimal-milter" -T -p "$spec") ;;
        mintx_*) argv=("$W/bin/minimal-milter" -T -X -p "$spec") ;;
        mints_*) argv=("$W/bin/minimal-milter" -T -S -p "$spec") ;;
        mintk_*) argv=(/bin/sh -c 'ulimit -s 256 && exec "$@"' sh "$W/bin/minimal-milter" -T -p "$spec") ;;
        mind_*) argv=("$W/bin/minimal-milter" -D -p "$spec") ;;
        mindn_*) argv=("$W/bin/minimal-milter" -D -N -p "$spec") ;;
        tp_*|rtp) argv=("$W/bin/tlspolicy-milter" -F -u postfix -c "$W/tlspolicy-milter.conf"
                        -f "$W/policy.conf" -p "$spec") ;;
        tpm_*|tpe_*|tpl_*)
            argv=("$W/bin/tlspolicy-milter" -F -u postfix -c "$W/tlspolicy-milter-${cfg%_*}.conf"
                  -f "$W/policy.conf" -p "$spec") ;;
        tpx_*) argv=("$W/bin/tlspolicy-milter-x" -F -u postfix -c "$W/tlspolicy-milter.conf"
                     -f "$W/policy.conf" -p "$spec") ;;
        *) die "start_milter: unknown configuration $cfg" ;;
    esac
    "${argv[@]}" </dev/null >/dev/null 2>"$W/log/$cfg.log" &
    MPID[$cfg]=$!
    PIDS+=("$!")
}

for cfg in $CONFIGS; do
    [ "$cfg" = none ] || start_milter "$cfg" "${SPEC[$cfg]}"
done
for cfg in $CONFIGS; do
    [ "$cfg" = none ] && continue
    pf_wait_listen "${SPEC[$cfg]}" 10 || die "milter $cfg not listening (see $W/log/$cfg.log)"
done
pf_wait_listen "$SINK_PORT" 10 || die "smtp-sink not listening"

say "starting Postfix"
pf_start || die "pf_start failed"
for cfg in $CONFIGS cnt_min cnt_tp; do
    for m in starttls implicit; do
        pf_wait_listen "${LPORT[$cfg/$m]}" 20 || die "smtpd for $cfg/$m not listening"
    done
done

if [ "${SETUP_ONLY:-0}" = 1 ]; then
    # Diagnosis: leave everything running; source $W/env.sh elsewhere.
    {
        printf 'W=%q\nLOAD=%q\nPF_CONF_DIR=%q\n' "$W" "$LOAD" "$PF_CONF_DIR"
        for k in "${!LPORT[@]}"; do printf 'PORT_%s=%s\n' "${k//\//_}" "${LPORT[$k]}"; done
        for k in "${!SPEC[@]}"; do printf 'SPEC_%s=%q\n' "$k" "${SPEC[$k]}"; done
        for k in "${!MPID[@]}"; do printf 'PID_%s=%s\n' "$k" "${MPID[$k]}"; done
    } >"$W/env.sh"
    say "SETUP_ONLY: everything is running; . $W/env.sh; stop with kill $$"
    while :; do sleep 1; done
fi

# postfix_ticks: CPU of the whole Postfix instance, in ticks: the master's
# own and its reaped children's (cutime, cstime), plus every live child's.
# Exact whatever else runs on the machine (it is attribution, not sampling).
postfix_ticks() {
    local master=${PF_MASTER_PID:-} d line rest total=0
    local -a f
    [ -n "$master" ] && [ -r "/proc/$master/stat" ] || { echo 0; return; }
    for d in /proc/[0-9]*; do
        { read -r line <"$d/stat"; } 2>/dev/null || continue
        rest=${line##*) }
        read -r -a f <<<"$rest"
        # f[1] = ppid; f[11..14] = utime stime cutime cstime
        if [ "${d#/proc/}" = "$master" ]; then
            total=$((total + f[11] + f[12] + f[13] + f[14]))
        elif [ "${f[1]}" = "$master" ]; then
            total=$((total + f[11] + f[12] + f[13] + f[14]))
        fi
    done
    echo "$total"
}

FAILED=0
milter_alive() {   # milter_alive CONFIG
    local pid=${MPID[$1]:-}
    [ -z "$pid" ] && return 0
    kill -0 "$pid" 2>/dev/null && return 0
    say "ERROR: the milter of $1 (pid $pid) is gone; its log:"
    tail -n 5 "$W/log/$1.log" >&2
    FAILED=1
    return 1
}

# ---------------------------------------------------------------------------
# 3-5. throughput runs

RESULTS=$W/results.tsv
printf 'round\tmode\tconfig\trate\tseconds\tcpu_ticks\tp50_ms\tp99_ms\terrors\tpostfix_ticks\tsink_ticks\tclient_ms\n' >"$RESULTS"

# run_one ROUND MODE CONFIG COUNT CONCURRENCY OUTFILE
run_one() {
    local round=$1 mode=$2 cfg=$3 n=$4 c=$5 outfile=$6 pid t0 t1 out rc p0 p1 s0 s1
    pf_wait_queue_empty 300 >/dev/null 2>&1 || say "warning: queue not empty before $mode/$cfg"
    milter_alive "$cfg" || return 1
    pid=${MPID[$cfg]:-}
    t0=$(cpu_ticks "$pid")
    p0=$(postfix_ticks)
    s0=$(cpu_ticks "$SINK_PID")
    rc=0
    out=$("$LOAD" "${LOADOPT[@]}" -p "${LPORT[$cfg/$mode]}" -m "$mode" -n "$n" -c "$c" -H "$HEADERS" \
        2>"$W/log/load.err") || rc=$?
    t1=$(cpu_ticks "$pid")
    # Postfix is still delivering what it accepted: count that too.
    pf_wait_queue_empty 300 >/dev/null 2>&1
    p1=$(postfix_ticks)
    s1=$(cpu_ticks "$SINK_PID")
    if [ $rc -ne 0 ]; then
        say "ERROR: round $round $mode/$cfg: smtp-load exit $rc: $out"
        sed 's/^/    /' "$W/log/load.err" >&2
        FAILED=1
    fi
    [ -n "$outfile" ] || return 0
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$mode" "$cfg" \
        "$(field rate "$out")" "$(field seconds "$out")" "$((t1 - t0))" \
        "$(field p50_ms "$out")" "$(field p99_ms "$out")" "$(field errors "$out")" \
        "$((p1 - p0))" "$((s1 - s0))" "$(field cpu_ms "$out")" >>"$outfile"
    say "$(printf 'round %s %-8s %-10s %7s msg/s  p50 %6s ms  milter cpu %s ticks' "$round" "$mode" "$cfg" \
        "$(field rate "$out")" "$(field p50_ms "$out")" "$((t1 - t0))")"
}

T_START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$WARMUP" -gt 0 ]; then
    say "warm-up: $WARMUP messages per listener"
    for m in $MODES; do
        for cfg in $CONFIGS; do run_one 0 "$m" "$cfg" "$WARMUP" "$C" ""; done
    done
fi

read -r -a CFG_ARR <<<"$CONFIGS"
NCFG=${#CFG_ARR[@]}
for ((r = 1; r <= ROUNDS; r++)); do
    for m in $MODES; do
        for ((i = 0; i < NCFG; i++)); do
            cfg=${CFG_ARR[$(((i + r - 1) % NCFG))]}
            run_one "$r" "$m" "$cfg" "$N" "$C" "$RESULTS"
        done
    done
done
pf_wait_queue_empty 300 >/dev/null 2>&1
T_RUNS=$(($(date +%s) - T_START))
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------
# 6. stall probe: concurrency 1

STALL=$W/stall.tsv
printf 'round\tmode\tconfig\trate\tseconds\tcpu_ticks\tp50_ms\tp99_ms\terrors\tpostfix_ticks\tsink_ticks\tclient_ms\n' >"$STALL"
if [ "$STALL_N" -gt 0 ]; then
    say "stall probe: $STALL_N messages at concurrency 1 per configuration"
    for m in $MODES; do
        for cfg in $CONFIGS; do run_one 1 "$m" "$cfg" "$STALL_N" 1 "$STALL" 2>/dev/null; done
    done
fi

# ---------------------------------------------------------------------------
# 7. replies waited for (milter-count.py between Postfix and the milter)

# count_run TARGET(min|mind|tp) MODE HEADERS COUNT [RECORD-FILE]
count_run() {
    local tgt=$1 mode=$2 h=$3 n=$4 rec=${5:-} lspec cspec pid out lcfg=cnt_min
    case $tgt in
        min) cspec=${SPEC[min_inet]:-${SPEC[min_unix]:-}} ;;
        mind) cspec=${SPEC[mind_inet]:-} ;;
        tp) cspec=${SPEC[tp_inet]:-${SPEC[tp_unix]:-}}; lcfg=cnt_tp ;;
        tpu) cspec=${SPEC[tp_unix]:-}; lcfg=cnt_tp ;;
    esac
    [ -n "$cspec" ] || return 0
    lspec=${SPEC[$lcfg]}
    out=$W/count/$tgt-$mode-$h.json
    local -a extra=()
    [ -n "$rec" ] && extra=(--record "$rec")
    "$PYTHON" "$HERE/milter-count.py" --listen "$lspec" --connect "$cspec" --report "$out" "${extra[@]}" \
        </dev/null >/dev/null 2>"$W/log/count-$tgt.err" &
    pid=$!
    PIDS+=("$pid")
    pf_wait_listen "$lspec" 10 || { say "ERROR: milter-count.py did not start"; FAILED=1; return 1; }
    "$LOAD" "${LOADOPT[@]}" -p "${LPORT[$lcfg/$mode]}" -m "$mode" -n "$n" -c 5 -H "$h" \
        >/dev/null 2>"$W/log/load.err" ||
        { say "ERROR: count run $tgt/$mode/$h failed"; cat "$W/log/load.err" >&2; FAILED=1; }
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
    forget "$pid"
}
if [ "$COUNT_N" -gt 0 ]; then
    say "counting replies waited for ($COUNT_N messages each)"
    for tgt in min mind tp tpu; do
        for m in plain starttls; do
            for h in 2 30; do count_run "$tgt" "$m" "$h" "$COUNT_N"; done
        done
    done
fi

# ---------------------------------------------------------------------------
# 8. milter-only CPU: replay a recorded session

REPLAY=$W/replay.tsv
printf 'round\tmilter\tstream\tus_per_msg\trate\n' >"$REPLAY"
if [ "$REPLAY_N" -gt 0 ]; then
    say "recording one session per milter ($HEADERS headers), replaying $REPLAY_N x $REPLAY_ROUNDS"
    count_run min plain "$HEADERS" 3 "$W/count/min.stream"
    # The replay is over unix: (no DATA reply): record what Postfix sends such a milter.
    if [ -n "${SPEC[tp_unix]:-}" ]; then tgt=tpu; else tgt=tp; fi
    count_run "$tgt" plain "$HEADERS" 3 "$W/count/tp.stream"
    # The replay targets: unix sockets of their own (nothing else uses them).
    for v in rmin rminS rminT rtp; do start_milter "$v" "unix:$W/sock/$v.sock"; done
    for v in rmin rminS rminT rtp; do
        pf_wait_listen "unix:$W/sock/$v.sock" 10 || { say "ERROR: replay milter $v did not start"; FAILED=1; }
    done
    if [ -s "$W/count/min.stream" ] && [ -s "$W/count/tp.stream" ]; then
        for ((r = 1; r <= REPLAY_ROUNDS; r++)); do
            for v in rmin rminS rminT rtp; do
                stream=$W/count/tp.stream
                case $v in rmin|rminS) stream=$W/count/min.stream ;; esac
                milter_alive "$v" || continue
                "$W/bin/milter-replay" -s "unix:$W/sock/$v.sock" -f "$stream" -n 1000 -c 20 >/dev/null 2>&1
                t0=$(cpu_ticks "${MPID[$v]}")
                out=$("$W/bin/milter-replay" -s "unix:$W/sock/$v.sock" -f "$stream" -n "$REPLAY_N" -c 20 2>&1) ||
                    { say "ERROR: replay $v: $out"; FAILED=1; }
                t1=$(cpu_ticks "${MPID[$v]}")
                printf '%s\t%s\t%s\t%s\t%s\n' "$r" "$v" "$(basename "$stream")" \
                    "$(awk -v t=$((t1 - t0)) -v n="$REPLAY_N" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')" \
                    "$(field rate " $out")" >>"$REPLAY"
            done
        done
    else
        say "no recorded session to replay (CONFIGS without min_* and tp_*?): replay skipped"
    fi
fi

# tlspolicy-milter's own check: one log line per decision
for s in $SOCKETS; do
    [ -f "$W/log/tp_$s.log" ] && say "tp_$s: $(grep -c '^session=' "$W/log/tp_$s.log") decision lines logged"
done

# ---------------------------------------------------------------------------
# 9. report

say "runs took ${T_RUNS}s; load average $LOAD_START at the start, $LOAD_END at the end"
"$PYTHON" - "$W" "$N" "$C" "$HEADERS" "$MODES" "$CONFIGS" "$T_RUNS" "$(getconf CLK_TCK)" \
    "$COUNT_N" "$STALL_N" "$REPLAY_N" "$QUICKACK" "$LOAD_START / $LOAD_END" <<'EOF'
import json, os, statistics, sys
from collections import defaultdict
(w, N, C, H, modes, configs, took, tck, count_n, stall_n, replay_n, quickack, loadavg) = sys.argv[1:]
modes = modes.split(); configs = configs.split(); tck = int(tck)

def load(path):
    rows = []
    with open(path) as f:
        next(f)
        for line in f:
            r, m, c, rt, sec, ticks, q50, q99, err, pft, skt, clm = line.rstrip('\n').split('\t')
            if rt:
                rows.append((int(r), m, c, float(rt), int(ticks), float(q50 or 0), int(err or 0),
                             int(pft or 0), int(skt or 0), float(clm or 0)))
    return rows

rows = load(os.path.join(w, 'results.tsv'))
rate = {(r, m, c): row[3] for row in rows for (r, m, c) in [row[:3]]}
p50 = {(r, m, c): row[5] for row in rows for (r, m, c) in [row[:3]]}
cpu = defaultdict(int); msgs = defaultdict(int)
stack = defaultdict(lambda: defaultdict(list))   # (m, c) -> part -> [us/msg per round]
for row in rows:
    r, m, c, rt, ticks, q, err, pft, skt, clm = row
    cpu[(m, c)] += ticks; msgs[(m, c)] += int(N)
    per = 1e6 / tck / int(N)
    stack[(m, c)]['postfix'].append(pft * per)
    stack[(m, c)]['milter'].append(ticks * per)
    stack[(m, c)]['sink'].append(skt * per)
    stack[(m, c)]['client'].append(clm * 1e3 / int(N))
    stack[(m, c)]['total'].append((pft + ticks + skt) * per + clm * 1e3 / int(N))
rounds = sorted({k[0] for k in rate})
med = lambda xs: statistics.median(xs) if xs else float('nan')

def ratio(m, a, b):
    return [rate[(r, m, a)] / rate[(r, m, b)] for r in rounds
            if (r, m, a) in rate and (r, m, b) in rate and rate[(r, m, b)] > 0]

def fmt(xs):
    return 'n/a' if not xs else '**%.3f** (%s)' % (med(xs), ' '.join('%.2f' % x for x in xs))

pairs = [('tp_inet', 'min_inet'), ('tp_unix', 'min_unix'), ('tp_inet', 'mind_inet'),
         ('tpm_inet', 'min_inet'), ('tpm_unix', 'min_unix'), ('tpm_inet', 'mind_inet'),
         ('tpe_inet', 'min_inet'), ('tpe_unix', 'min_unix'),
         ('tpl_inet', 'min_inet'), ('tpl_unix', 'min_unix'),
         ('min_inet', 'none'), ('min_unix', 'none'), ('mind_inet', 'none'),
         ('tp_inet', 'none'), ('tp_unix', 'none'),
         ('tpx_inet', 'tp_inet'), ('tpx_unix', 'tp_unix'), ('tpx_inet', 'mind_inet'),
         ('tpx_inet', 'min_inet'), ('tpx_unix', 'min_unix'), ('mindn_inet', 'mind_inet'),
         ('mint_unix', 'min_unix'), ('tp_unix', 'mint_unix'), ('tpx_unix', 'mint_unix'),
         ('mintx_unix', 'min_unix'), ('mints_unix', 'min_unix'),
         ('mins_inet', 'min_inet'), ('mins_unix', 'min_unix'),
         ('tp_inet', 'mins_inet'), ('tp_unix', 'mins_unix'),
         ('tpm_inet', 'mins_inet'), ('tpm_unix', 'mins_unix'),
         ('tpl_inet', 'mins_inet'), ('tpl_unix', 'mins_unix'),
         ('mintk_unix', 'mins_unix'), ('tp_unix', 'mintk_unix')]
pairs = [(a, b) for a, b in pairs if a in configs and b in configs]
ticks = {(r, m, c): row[4] for row in rows for (r, m, c) in [row[:3]]}

def cpu_ratio(m, a, b):
    return [ticks[(r, m, a)] / ticks[(r, m, b)] for r in rounds
            if (r, m, a) in ticks and (r, m, b) in ticks and ticks[(r, m, b)] > 0]

# Milter CPU against a floor of the same socket (the issue 10 targets).
cpu_pairs = [(a, b) for a, b in pairs
             if b.split('_')[0] in ('min', 'mins', 'mint', 'mintk')
             and a.split('_')[0] in ('tp', 'tpm', 'tpe', 'tpl', 'tpx', 'mint', 'mins', 'mintk')]
print()
print('### Postfix + milter throughput')
print()
print('N=%s messages per run, concurrency %s, %d round(s), %s header lines per message, one message and one recipient per connection; '
      'client bench/smtp-load for every mode (TLS 1.3, full handshake each, quickack=%s); runs took %ss; load average %s.'
      % (N, C, len(rounds), H, quickack, took, loadavg))
print()
def ratio_table(what, head, pairs_of, of):
    if not pairs_of:
        return
    print('%s, medians over rounds of the per-round ratios (each round in brackets):' % what)
    print()
    print('| %s | ' % head + ' | '.join(modes) + ' |')
    print('|---|' + '---|' * len(modes))
    for a, b in pairs_of:
        print('| %s / %s | %s |' % (a, b, ' | '.join(fmt(of(m, a, b)) for m in modes)))
    print()

ratio_table('Messages per second', 'ratio', pairs, ratio)
ratio_table('Milter CPU per message', 'CPU ratio', cpu_pairs, cpu_ratio)
print('Median msg/s over rounds; median p50 session time (ms) at concurrency %s; milter CPU per message '
      '(utime+stime from /proc/PID/stat over all its runs of that mode, %d Hz ticks):' % (C, tck))
print()
print('| mode | config | msg/s | p50 ms | milter CPU us/msg |')
print('|---|---|---|---|---|')
for m in modes:
    for c in configs:
        xs = [rate[(r, m, c)] for r in rounds if (r, m, c) in rate]
        ps = [p50[(r, m, c)] for r in rounds if (r, m, c) in p50]
        cp = '' if c == 'none' or not msgs[(m, c)] else '%.0f' % (cpu[(m, c)] * 1e6 / tck / msgs[(m, c)])
        print('| %s | %s | %.1f | %.1f | %s |' % (m, c, med(xs), med(ps), cp))
print()
print('CPU per message of the whole stack, by component (us/message, median over rounds; Postfix = master + all its '
      'daemons incl. delivery to the sink, from /proc utime+stime+cutime+cstime; client = smtp-load rusage). '
      'Attribution, not sampling: unaffected by other load on the machine, except through cache and scheduling effects. '
      '"expected ratio" = total(min_same_socket) / total(this), the throughput ratio to expect if CPU were the only limit:')
print()
print('| mode | config | Postfix | milter | client | sink | total | expected ratio vs min |')
print('|---|---|---|---|---|---|---|---|')
for m in modes:
    for c in configs:
        st = stack[(m, c)]
        if not st['total']:
            continue
        base = 'min_' + c.split('_')[-1] if '_' in c else None
        exp = ''
        if base and base in configs and stack[(m, base)]['total'] and c != base:
            exp = '%.3f' % (med(stack[(m, base)]['total']) / med(st['total']))
        print('| %s | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %s |' % (
            m, c, med(st['postfix']), med(st['milter']), med(st['client']), med(st['sink']),
            med(st['total']), exp))
for pre in ('tp_', 'tpm_', 'tpe_', 'tpl_', 'tpx_', 'min_', 'mins_'):
    t = sum(v for (m, c), v in cpu.items() if c.startswith(pre))
    n = sum(v for (m, c), v in msgs.items() if c.startswith(pre))
    if n:
        print()
        print('%s* milters, CPU over all their runs: %.0f us/message (%d ticks, %d messages)'
              % (pre, t * 1e6 / tck / n, t, n))

if int(stall_n) > 0 and os.path.exists(os.path.join(w, 'stall.tsv')):
    srows = load(os.path.join(w, 'stall.tsv'))
    if srows:
        print()
        print('Stall probe: %s messages at concurrency 1, median session time in ms (a Nagle/delayed-ACK stall adds ~40 ms):' % stall_n)
        print()
        print('| config | ' + ' | '.join(modes) + ' |')
        print('|---|' + '---|' * len(modes))
        sp = {(row[1], row[2]): row[5] for row in srows}
        for c in configs:
            print('| %s | %s |' % (c, ' | '.join('%.1f' % sp[(m, c)] if (m, c) in sp else '' for m in modes)))

if int(count_n) > 0:
    print()
    print('Replies Postfix waited for per one-recipient message (bench/milter-count.py, %s messages per cell; '
          'MTA packets = everything Postfix sent the milter per message, of which header packets):' % count_n)
    print()
    print('| milter | mode | headers sent | replies waited for | by command | MTA packets (headers) | milter packets | counts agree |')
    print('|---|---|---|---|---|---|---|---|')
    for m in ('plain', 'starttls'):
        print('| none | %s | any | 0 | (no milter) | 0 | 0 | |' % m)
    for tgt, name in (('min', 'minimal'), ('mind', 'minimal -D (DATA reply)'),
                      ('tp', 'tlspolicy (inet:)'), ('tpu', 'tlspolicy (unix:)')):
        for m in ('plain', 'starttls'):
            for h in ('2', '30'):
                p = os.path.join(w, 'count', '%s-%s-%s.json' % (tgt, m, h))
                if not os.path.exists(p):
                    continue
                j = json.load(open(p))
                by = ' '.join('%s=%g' % kv for kv in j['waited_by_command_per_message'].items())
                mp = j['mta_packets_per_message']
                print('| %s | %s | %s | %s | %s | %s (%s) | %s | %s |' % (
                    name, m, h, j['replies_waited_for_per_message'], by,
                    j['mta_packets_total_per_message'], mp.get('header', 0),
                    j['milter_packets_total_per_message'], 'no' if j['mismatch'] else 'yes'))

rp = os.path.join(w, 'replay.tsv')
if int(replay_n) > 0 and os.path.exists(rp):
    rr = defaultdict(list); rt = defaultdict(list)
    with open(rp) as f:
        next(f)
        for line in f:
            r, v, s, us, ra = line.rstrip('\n').split('\t')
            rr[v].append(float(us)); rt[v].append(float(ra or 0))
    if rr:
        names = {'rmin': 'minimal-milter (floor: no connect/HELO/MAIL/header events)',
                 'rminS': 'minimal-milter with 256 KiB thread stacks (the floor, tlspolicy-milter\'s stacks)',
                 'rminT': 'minimal-milter -T (tlspolicy\'s negotiation and macro lists, no work)',
                 'rtp': 'tlspolicy-milter (default configuration)'}
        print()
        print('Milter-only CPU (bench/milter-replay: one recorded Postfix session with %s headers replayed %s times, concurrency 20, unix socket; '
              'utime+stime per message, median and each round):' % (H, replay_n))
        print()
        print('| milter | CPU us/message | replayed sessions/s |')
        print('|---|---|---|')
        for v in ('rmin', 'rminS', 'rminT', 'rtp'):
            if rr[v]:
                print('| %s | **%.0f** (%s) | %.0f |' % (names[v], med(rr[v]), ' '.join('%.0f' % x for x in rr[v]), med(rt[v])))
EOF

if [ "$FAILED" -ne 0 ]; then
    say "some runs FAILED (see above)"
    exit 1
fi
exit 0
