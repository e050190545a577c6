#!/bin/bash
# bench/run-postfix-bench.sh -- milter throughput through a real Postfix.
#
# Opt-in (not part of make check); needs root, postfix, smtp-sink,
# libmilter-dev, libssl-dev, python3, cc, pkg-config. Run from anywhere:
#
#     bench/run-postfix-bench.sh                 # N=5000 C=20 ROUNDS=3
#     N=2000 ROUNDS=5 MODES="plain starttls implicit" bench/run-postfix-bench.sh
#
# What it does
#   1. Builds bench/minimal-milter.c and bench/smtp-load.c with cc into a
#      work directory (WORKDIR, default /var/tmp/tlspolicy-pfbench.XXXXXX).
#   2. Starts ONE private Postfix with tests/e2e/postfix-lib.sh, relaying
#      everything to an smtp-sink of its own that does not write messages
#      to disk (the library's sink dumps every message to a file with -d;
#      it is started too, but idles). Each milter configuration gets its
#      own pair of smtpd listeners in master.cf (STARTTLS-capable and
#      implicit TLS), with "-o smtpd_milters=...": switching configuration
#      needs no "postfix reload", so no run pays for smtpd respawns that
#      another does not (a reload makes every smtpd exit after its session).
#      Configurations:
#        none      no milter
#        min_inet  bench/minimal-milter over inet:   (the floor)
#        min_unix  bench/minimal-milter over unix:
#        tp_inet   tlspolicy-milter over inet:, default configuration
#        tp_unix   tlspolicy-milter over unix:, default configuration
#      (tlspolicy-milter: -F, a 5-rule policy with "default prefer",
#      result header on, forged copies removed; stderr to a file.)
#   3. Warm-up: WARMUP messages through every listener of every mode.
#   4. ROUNDS rounds; in each, for each MODE, every configuration once
#      (the order rotates from round to round), N messages at concurrency
#      C, one message per connection, HEADERS header lines per message,
#      all sent by bench/smtp-load (one client for all modes, so plaintext
#      and TLS figures come from the same code). Before each run the
#      queue is drained, so no run delivers another's backlog. The rate
#      is messages accepted (250 after ".") per second.
#   5. Milter CPU: utime+stime from /proc/PID/stat before and after each
#      of that milter's runs (10 ms ticks), summed per mode and socket.
#   6. Replies waited for: bench/milter-count.py between Postfix and each
#      milter, COUNT_N one-recipient messages with 2 and with 30 headers.
#   7. Prints markdown tables: medians over rounds of the per-round ratios
#      tp/min, min/none and tp/none; median msg/s and p50 session times;
#      milter CPU per message; the reply counts.
#
# Environment
#   N=5000 C=20 ROUNDS=3        messages per run, concurrency, rounds
#   MODES="plain starttls"      add "implicit" for port-465 style TLS
#   SOCKETS="inet unix"         milter socket kinds
#   HEADERS=10                  header lines per message in the throughput runs
#   WARMUP=200                  messages per listener before round 1 (0: none)
#   COUNT_N=100                 messages per reply-count run (0: skip counting)
#   NAGLE_CONTROL=0             1: add "min_nagle", the minimal milter over
#                               inet: WITHOUT TCP_NODELAY (shows the stall)
#   TLSPOLICY_MILTER=PATH       default: _build/milter/tlspolicy-milter
#   WORKDIR=DIR                 default: mktemp -d /var/tmp/tlspolicy-pfbench.XXXXXX
#   KEEP=1                      keep WORKDIR (logs, results.tsv, count-*.json)
#   SETUP_ONLY=1                start everything, write WORKDIR/env.sh (ports,
#                               pids) and wait until killed: for diagnosis
#
# Every process it starts is stopped on exit (trap EXIT). Everything
# listens on 127.0.0.1 only. Exit status: 0, or 1 if any run had an SMTP
# error or something failed to start.
#
# Time: about (runs x N / rate) + drain time. With N=5000, C=20, ROUNDS=3,
# MODES="plain starttls" on a 2-core VM: see BENCHMARKS.md / the report.

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
N=${N:-5000}
C=${C:-20}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-plain starttls}
SOCKETS=${SOCKETS:-inet unix}
HEADERS=${HEADERS:-10}
WARMUP=${WARMUP:-200}
COUNT_N=${COUNT_N:-100}
NAGLE_CONTROL=${NAGLE_CONTROL:-0}
TP_BIN=${TLSPOLICY_MILTER:-$TOP/_build/milter/tlspolicy-milter}
PYTHON=${PYTHON:-python3}

say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (private Postfix)"
[ -x "$TP_BIN" ] || die "no tlspolicy-milter at $TP_BIN (build it, or set TLSPOLICY_MILTER)"
for t in cc pkg-config smtp-sink postfix "$PYTHON"; do
    command -v "$t" >/dev/null 2>&1 || die "missing tool: $t"
done

# shellcheck source=../tests/e2e/postfix-lib.sh
. "$TOP/tests/e2e/postfix-lib.sh"

if [ -n "${WORKDIR:-}" ]; then
    W=$WORKDIR
    mkdir -p "$W" || die "cannot create $W"
else
    W=$(mktemp -d /var/tmp/tlspolicy-pfbench.XXXXXX) || die "mktemp failed"
fi
chmod 755 "$W"
mkdir -p "$W/bin" "$W/log" "$W/sock" "$W/count" "$W/pf"
chmod 755 "$W/sock"

PIDS=()            # every background process we started, stopped at exit
declare -A TP_PID MIN_PID
SINK_PID=
cleanup() {
    local p i
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    pf_stop
    if [ "${KEEP:-0}" = 1 ]; then
        say "work directory kept: $W"
    else
        rm -rf "$W"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# 1. build

say "building into $W/bin"
cc -O2 -Wall -o "$W/bin/minimal-milter" "$HERE/minimal-milter.c" -lmilter -pthread ||
    die "cannot build minimal-milter"
# shellcheck disable=SC2046
cc -O2 -Wall -o "$W/bin/smtp-load" "$HERE/smtp-load.c" $(pkg-config --cflags --libs openssl) -pthread ||
    die "cannot build smtp-load"
LOAD=$W/bin/smtp-load

# ---------------------------------------------------------------------------
# 2. milters, sink, Postfix

pf_setup "$W/pf" "" || die "pf_setup failed"

port() { pf_free_port >"$W/port" || die "no free port"; cat "$W/port"; }
SINK_PORT=$(port)
MIN_PORT=$(port)
TP_PORT=$(port)
NAGLE_PORT=$(port)
CNT_MIN_PORT=$(port)
CNT_TP_PORT=$(port)
MIN_SOCK=$W/sock/minimal.sock
TP_SOCK=$W/sock/tlspolicy.sock

CONFIGS="none"
for s in $SOCKETS; do
    case $s in inet|unix) ;; *) die "SOCKETS: inet and/or unix" ;; esac
    CONFIGS="$CONFIGS min_$s tp_$s"
done
[ "$NAGLE_CONTROL" = 1 ] && CONFIGS="$CONFIGS min_nagle"
for m in $MODES; do
    case $m in plain|starttls|implicit) ;; *) die "MODES: plain, starttls and/or implicit" ;; esac
done

milter_spec() {   # Postfix smtpd_milters value of a configuration
    case $1 in
        none) echo "" ;;
        min_inet) echo "inet:127.0.0.1:$MIN_PORT" ;;
        min_unix) echo "unix:$MIN_SOCK" ;;
        tp_inet) echo "inet:127.0.0.1:$TP_PORT" ;;
        tp_unix) echo "unix:$TP_SOCK" ;;
        min_nagle) echo "inet:127.0.0.1:$NAGLE_PORT" ;;
        cnt_min) echo "inet:127.0.0.1:$CNT_MIN_PORT" ;;
        cnt_tp) echo "inet:127.0.0.1:$CNT_TP_PORT" ;;
    esac
}

# One STARTTLS-capable and one implicit-TLS smtpd per configuration.
declare -A LPORT
{
    echo "# --- run-postfix-bench.sh listeners"
    for cfg in $CONFIGS cnt_min cnt_tp; do
        spec=$(milter_spec "$cfg")
        LPORT[$cfg/starttls]=$(port)
        LPORT[$cfg/plain]=${LPORT[$cfg/starttls]}
        LPORT[$cfg/implicit]=$(port)
        printf '127.0.0.1:%s inet n - n - - smtpd\n  -o syslog_name=postfix/%s\n  -o smtpd_milters=%s\n' \
            "${LPORT[$cfg/starttls]}" "$cfg" "$spec"
        printf '127.0.0.1:%s inet n - n - - smtpd\n  -o syslog_name=postfix/%s-smtps\n' \
            "${LPORT[$cfg/implicit]}" "$cfg"
        printf '  -o smtpd_tls_wrappermode=yes\n  -o smtpd_tls_security_level=encrypt\n  -o smtpd_milters=%s\n' "$spec"
    done
} >>"$PF_CONF_DIR/master.cf"

PF_EXTRA_MAIN_CF="default_transport = smtp:[127.0.0.1]:$SINK_PORT
relay_transport = smtp:[127.0.0.1]:$SINK_PORT"

# Our own sink: no -d, so nothing is written per message.
smtp-sink -u postfix -4 -h sink.bench.test -m 256 "127.0.0.1:$SINK_PORT" 256 \
    </dev/null >"$W/log/smtp-sink.log" 2>&1 &
SINK_PID=$!
PIDS+=("$SINK_PID")

# tlspolicy-milter: default configuration (empty config file), small policy.
: >"$W/tlspolicy-milter.conf"
cat >"$W/policy.conf" <<'EOF'
# run-postfix-bench.sh: the senders used are not listed, so "default" decides
default                 prefer
sender:bank.example     require min_version=TLSv1.2
sender:.secure.example  require
rcpt:legal.example.org  require min_bits=256 action=tempfail
client:192.0.2.0/24     require
EOF
chmod 644 "$W/policy.conf" "$W/tlspolicy-milter.conf"

"$TP_BIN" -F -c "$W/tlspolicy-milter.conf" -f "$W/policy.conf" -p "inet:$TP_PORT@127.0.0.1" \
    </dev/null 2>"$W/log/tp_inet.log" &
TP_PID[inet]=$!; PIDS+=("$!")
"$TP_BIN" -F -c "$W/tlspolicy-milter.conf" -f "$W/policy.conf" -p "unix:$TP_SOCK" -u postfix \
    </dev/null 2>"$W/log/tp_unix.log" &
TP_PID[unix]=$!; PIDS+=("$!")
"$W/bin/minimal-milter" -p "inet:$MIN_PORT@127.0.0.1" </dev/null 2>"$W/log/min_inet.log" &
MIN_PID[inet]=$!; PIDS+=("$!")
"$W/bin/minimal-milter" -p "unix:$MIN_SOCK" </dev/null 2>"$W/log/min_unix.log" &
MIN_PID[unix]=$!; PIDS+=("$!")
"$W/bin/minimal-milter" -N -p "inet:$NAGLE_PORT@127.0.0.1" </dev/null 2>"$W/log/min_nagle.log" &
NAGLE_PID=$!; PIDS+=("$!")

for t in "$SINK_PORT" "$MIN_PORT" "$TP_PORT" "$NAGLE_PORT" "unix:$MIN_SOCK" "unix:$TP_SOCK"; do
    pf_wait_listen "$t" 10 || die "nothing listening on $t (see $W/log)"
done

say "starting Postfix"
pf_start || die "pf_start failed"
for cfg in $CONFIGS cnt_min cnt_tp; do
    for m in starttls implicit; do
        pf_wait_listen "${LPORT[$cfg/$m]}" 20 || die "smtpd for $cfg/$m not listening"
    done
done

pid_of() {   # the milter process of a configuration ("" for none)
    case $1 in
        min_inet) echo "${MIN_PID[inet]}" ;;
        min_unix) echo "${MIN_PID[unix]}" ;;
        tp_inet) echo "${TP_PID[inet]}" ;;
        tp_unix) echo "${TP_PID[unix]}" ;;
        min_nagle) echo "$NAGLE_PID" ;;
        *) echo "" ;;
    esac
}

if [ "${SETUP_ONLY:-0}" = 1 ]; then
    # Diagnosis: leave everything running; source $W/env.sh elsewhere.
    {
        printf 'W=%q\nLOAD=%q\nPF_CONF_DIR=%q\n' "$W" "$LOAD" "$PF_CONF_DIR"
        for k in "${!LPORT[@]}"; do printf 'PORT_%s=%s\n' "${k//\//_}" "${LPORT[$k]}"; done
        printf 'TP_PID_INET=%s\nTP_PID_UNIX=%s\nMIN_PID_INET=%s\nMIN_PID_UNIX=%s\nNAGLE_PID=%s\n' \
            "${TP_PID[inet]}" "${TP_PID[unix]}" "${MIN_PID[inet]}" "${MIN_PID[unix]}" "$NAGLE_PID"
        printf 'MIN_PORT=%s\nTP_PORT=%s\nNAGLE_PORT=%s\nCNT_MIN_PORT=%s\nCNT_TP_PORT=%s\nMIN_SOCK=%s\nTP_SOCK=%s\n' \
            "$MIN_PORT" "$TP_PORT" "$NAGLE_PORT" "$CNT_MIN_PORT" "$CNT_TP_PORT" "$MIN_SOCK" "$TP_SOCK"
    } >"$W/env.sh"
    say "SETUP_ONLY: everything is running; . $W/env.sh; stop with kill $$"
    while :; do sleep 1; done
fi

cpu_ticks() {   # utime + stime of PID, in clock ticks (all threads, dead ones too)
    [ -n "$1" ] || { echo 0; return; }
    sed -e 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# ---------------------------------------------------------------------------
# 3-4. runs

RESULTS=$W/results.tsv
printf 'round\tmode\tconfig\trate\tseconds\tcpu_ticks\tp50_ms\tp99_ms\terrors\n' >"$RESULTS"
FAILED=0

# run_one ROUND MODE CONFIG COUNT: one run, a line in results.tsv (round > 0)
run_one() {
    local round=$1 mode=$2 cfg=$3 n=$4 pid t0 t1 out rc
    local port=${LPORT[$cfg/$mode]}
    pf_wait_queue_empty 300 >/dev/null 2>&1 || say "warning: queue not empty before $mode/$cfg"
    pid=$(pid_of "$cfg")
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
        say "ERROR: the milter of $cfg (pid $pid) is gone"; FAILED=1; return 1
    fi
    t0=$(cpu_ticks "$pid")
    rc=0
    out=$("$LOAD" -p "$port" -m "$mode" -n "$n" -c "$C" -H "$HEADERS" 2>"$W/log/load.err") || rc=$?
    t1=$(cpu_ticks "$pid")
    if [ $rc -ne 0 ]; then
        say "ERROR: round $round $mode/$cfg: smtp-load exit $rc: $out"
        sed 's/^/    /' "$W/log/load.err" >&2
        FAILED=1
    fi
    [ "$round" -gt 0 ] || return 0
    # mode=plain n=... rate=R p50_ms=.. p99_ms=..
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$mode" "$cfg" \
        "$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$out")" \
        "$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$out")" \
        "$((t1 - t0))" \
        "$(sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p' <<<"$out")" \
        "$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<<"$out")" \
        "$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$out")" >>"$RESULTS"
    say "round $round $(printf '%-8s %-9s' "$mode" "$cfg") $(sed -n 's/.* rate=\([0-9.]*\).*p50_ms=\([0-9.]*\).*/\1 msg\/s  p50 \2 ms/p' <<<"$out")  cpu $((t1 - t0)) ticks"
}

T_START=$(date +%s)
if [ "$WARMUP" -gt 0 ]; then
    say "warm-up: $WARMUP messages per listener"
    for m in $MODES; do
        for cfg in $CONFIGS; do run_one 0 "$m" "$cfg" "$WARMUP"; done
    done
fi

read -r -a CFG_ARR <<<"$CONFIGS"
NCFG=${#CFG_ARR[@]}
for ((r = 1; r <= ROUNDS; r++)); do
    for m in $MODES; do
        for ((i = 0; i < NCFG; i++)); do
            cfg=${CFG_ARR[$(((i + r - 1) % NCFG))]}
            run_one "$r" "$m" "$cfg" "$N"
        done
    done
done
pf_wait_queue_empty 300 >/dev/null 2>&1
T_RUNS=$(($(date +%s) - T_START))

# ---------------------------------------------------------------------------
# 6. replies waited for (milter-count.py between Postfix and the milter)

count_run() {   # count_run TARGET(min|tp) MODE HEADERS -> $W/count/TARGET-MODE-H.json
    local tgt=$1 mode=$2 h=$3 lport cport pid out
    case $tgt in
        min) lport=$CNT_MIN_PORT cport=$MIN_PORT ;;
        tp) lport=$CNT_TP_PORT cport=$TP_PORT ;;
    esac
    out=$W/count/$tgt-$mode-$h.json
    rm -f "$W/count/ready"
    "$PYTHON" "$HERE/milter-count.py" --listen "inet:127.0.0.1:$lport" \
        --connect "inet:127.0.0.1:$cport" --report "$out" --ready "$W/count/ready" \
        </dev/null 2>"$W/log/count-$tgt.err" &
    pid=$!; PIDS+=("$pid")
    pf_wait_listen "$lport" 10 || { say "ERROR: milter-count.py did not start"; FAILED=1; return 1; }
    "$LOAD" -p "${LPORT[cnt_$tgt/$mode]}" -m "$mode" -n "$COUNT_N" -c 5 -H "$h" >/dev/null 2>"$W/log/load.err" ||
        { say "ERROR: count run $tgt/$mode/$h failed"; cat "$W/log/load.err" >&2; FAILED=1; }
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null
}
COUNT_HEADERS="2 30"
if [ "$COUNT_N" -gt 0 ]; then
    say "counting replies waited for ($COUNT_N messages each)"
    for tgt in min tp; do
        for m in plain starttls; do
            for h in $COUNT_HEADERS; do count_run "$tgt" "$m" "$h"; done
        done
    done
fi

# ---------------------------------------------------------------------------
# 7. report

say "runs took ${T_RUNS}s"
"$PYTHON" - "$RESULTS" "$W/count" "$N" "$C" "$ROUNDS" "$HEADERS" "$MODES" "$CONFIGS" "$T_RUNS" \
    "$(getconf CLK_TCK)" "$COUNT_N" <<'EOF'
import json, os, statistics, sys
from collections import defaultdict
(res, cdir, N, C, R, H, modes, configs, took, tck, count_n) = sys.argv[1:]
modes = modes.split(); configs = configs.split(); tck = int(tck)
rate = {}; p50 = {}; cpu = defaultdict(int); msgs = defaultdict(int)
with open(res) as f:
    next(f)
    for line in f:
        r, m, c, rt, sec, ticks, q50, q99, err = line.rstrip('\n').split('\t')
        if not rt:
            continue
        rate[(int(r), m, c)] = float(rt); p50[(int(r), m, c)] = float(q50 or 0)
        cpu[(m, c)] += int(ticks); msgs[(m, c)] += int(N)
rounds = sorted({k[0] for k in rate})
def med(xs):
    return statistics.median(xs) if xs else float('nan')
def ratio(m, a, b):
    return [rate[(r, m, a)] / rate[(r, m, b)] for r in rounds
            if (r, m, a) in rate and (r, m, b) in rate and rate[(r, m, b)] > 0]
def fmt(xs):
    if not xs:
        return 'n/a'
    return '%.3f (%s)' % (med(xs), ' '.join('%.2f' % x for x in xs))
print()
print('### Postfix + milter throughput: N=%s messages, concurrency %s, %d round(s), %s headers/message, one message per connection, client bench/smtp-load for every mode (runs took %ss)' % (N, C, len(rounds), H, took))
print()
print('Medians over rounds of the per-round ratios (each round\'s values in brackets):')
print()
print('| mode | socket | tlspolicy / minimal | minimal / none | tlspolicy / none |')
print('|---|---|---|---|---|')
for m in modes:
    for s in ('inet', 'unix'):
        if 'tp_' + s not in configs:
            continue
        print('| %s | %s | %s | %s | %s |' % (m, s, fmt(ratio(m, 'tp_' + s, 'min_' + s)),
              fmt(ratio(m, 'min_' + s, 'none')), fmt(ratio(m, 'tp_' + s, 'none'))))
    if 'min_nagle' in configs:
        print('| %s | inet, minimal without TCP_NODELAY | min_nagle / min_inet: %s | | |' % (m, fmt(ratio(m, 'min_nagle', 'min_inet'))))
print()
print('Absolute: median msg/s over rounds (median p50 session time, ms); milter CPU from /proc/PID/stat utime+stime over all its runs of that mode (%d Hz ticks):' % tck)
print()
print('| mode | config | msg/s | p50 ms | milter CPU us/message |')
print('|---|---|---|---|---|')
for m in modes:
    for c in configs:
        xs = [rate[(r, m, c)] for r in rounds if (r, m, c) in rate]
        ps = [p50[(r, m, c)] for r in rounds if (r, m, c) in p50]
        cp = '' if c == 'none' or not msgs[(m, c)] else '%.1f' % (cpu[(m, c)] * 1e6 / tck / msgs[(m, c)])
        print('| %s | %s | %.1f | %.1f | %s |' % (m, c, med(xs), med(ps), cp))
tp_ticks = sum(v for (m, c), v in cpu.items() if c.startswith('tp_'))
tp_msgs = sum(v for (m, c), v in msgs.items() if c.startswith('tp_'))
if tp_msgs:
    print()
    print('tlspolicy-milter CPU over all its runs: %.1f us/message (%d ticks, %d messages)'
          % (tp_ticks * 1e6 / tck / tp_msgs, tp_ticks, tp_msgs))
if int(count_n) > 0:
    print()
    print('Replies Postfix waited for per one-recipient message (bench/milter-count.py, %s messages per cell; "commands" = MTA packets sent to the milter per message, of which headers):' % count_n)
    print()
    print('| milter | mode | headers sent | waited for | by command | MTA packets (headers) | milter packets | mismatch |')
    print('|---|---|---|---|---|---|---|---|')
    for m in ('plain', 'starttls'):
        print('| none | %s | any | 0 | (no milter) | 0 | 0 | |' % m)
    for tgt, name in (('min', 'minimal'), ('tp', 'tlspolicy')):
        for m in ('plain', 'starttls'):
            for h in ('2', '30'):
                p = os.path.join(cdir, '%s-%s-%s.json' % (tgt, m, h))
                if not os.path.exists(p):
                    print('| %s | %s | %s | (no report) | | | | |' % (name, m, h)); continue
                j = json.load(open(p))
                by = ' '.join('%s=%g' % kv for kv in j['waited_by_command_per_message'].items())
                mp = j['mta_packets_per_message']
                print('| %s | %s | %s | %s | %s | %s (%s) | %s | %s |' % (
                    name, m, h, j['replies_waited_for_per_message'], by,
                    j['mta_packets_total_per_message'], mp.get('header', 0),
                    j['milter_packets_total_per_message'], 'YES' if j['mismatch'] else 'no'))
EOF

if [ "$FAILED" -ne 0 ]; then
    say "some runs FAILED (see above)"
    exit 1
fi
exit 0
