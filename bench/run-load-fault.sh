#!/bin/bash
# bench/run-load-fault.sh -- load and fault test of tlspolicy-milter behind
# a real Postfix: counts that must agree exactly, flat memory, and faults.
#
# Opt-in (make load-fault; make load-fault-short for the CI version, which
# tests/run-all.sh runs). Needs root (private Postfix, a tmpfs mount),
# postfix (smtp-sink), libmilter-dev, libssl-dev, python3, cc, pkg-config,
# a built tlspolicy-milter and, for the ThreadSanitizer phase, a configured
# source tree (it builds the milter with --enable-tsan in a directory of its
# own unless TSAN_MILTER names one). Run from anywhere:
#
#     bench/run-load-fault.sh              # full: 20,000 messages, 200 sessions
#     SHORT=1 bench/run-load-fault.sh      # CI: 1,000 messages, 50 sessions (< 3 min)
#
# Set-up (bench/pf-bench-lib.sh, tests/e2e/postfix-lib.sh): one private
# Postfix on 127.0.0.1 (milter_default_action = tempfail) relaying to
# smtp-sink, which writes each message it gets to a file; one smtpd
# listener per milter instance (STARTTLS offered, up to 250 processes):
#   tp_inet   tlspolicy-milter over inet:  (load, kill, reload, half-written policy)
#   tp_unix   tlspolicy-milter over unix:
#   tp_full   tlspolicy-milter, audit log on a small tmpfs that is filled up
#   tp_tsan   the milter built with --enable-tsan, TSAN_OPTIONS=halt_on_error=1
# Each runs with -F -u postfix, its own policy file, status file
# (stats_file, written on SIGUSR2) and audit log. The policy:
#   default prefer; rcpt:req.load.test require; rcpt:pref.load.test prefer;
#   rcpt:skip.load.test skip
# Messages come in six classes (bench/load-check.py defines them, dealt
# round-robin by bench/smtp-load -K; the sender's local part names the
# class): req-plain (refused, 530), req-tls, pref-plain, skip-plain
# (delivered), mix-plain (three recipients, the req one refused, two
# delivered), mix-tls (three delivered). After each phase the queue is
# drained and bench/load-check.py compares the client's counts per class
# (accepted/refused/tempfailed/failed sessions, recipients, reply codes),
# the sink's (messages, recipients, the milter's X-TLS-Policy header on
# each, no refusable recipient delivered) and the audit log's (records,
# outcomes, refused recipients) with what the policy says.
#
# Phases, each with its own assertion (PASS/FAIL lines, a summary at the end):
#   1 load      N messages at C sessions over inet:, exact counts; VmRSS and
#               VmHWM of the milter sampled every 0.5 s against the audit
#               records written so far: the peak VmRSS over the last half of
#               the messages may exceed the peak over the first half, and
#               VmHWM at the end may exceed VmHWM after the first half, by
#               less than max(MEM_SLACK_KB, MEM_SLACK_PCT % of that peak)
#   2 unix      UNIX_N messages over unix:, exact counts
#   3 kill      FAULT_N messages; once a quarter are in, the milter is
#               SIGKILLed, left down KILL_DOWN s, restarted: some sessions
#               tempfail (4xx), none fails, every delivered message was
#               checked by the milter (header), nothing refusable got
#               through; then RESTART_N (FAULT_N/5) messages to the
#               restarted milter, exact counts
#   4 reload    FAULT_N messages with SIGUSR1 every RELOAD_MS ms: exact counts
#               (no failed session, no tempfail), reloads > 0, none failed
#   5 half-written policy: the policy file rewritten in place with its end
#               cut off mid-line (a comment line, no final newline; what is
#               left parses and lacks the require rule), then SIGUSR1: the
#               reload must be refused or put off (no new generation in the
#               status file) and HALF_N messages still decided by the old
#               policy (exact counts); then the whole file and SIGUSR1: a
#               new generation.
#   6 full disk tp_full's audit log on a TMPFS_KB KiB tmpfs filled with dd:
#               FAULT_N messages flow exactly as always; the status file's
#               audit_lost grows by what audit_written did not, the two
#               adding up to one record per session; after the filler is
#               removed, AFTER_N more sessions are all written again
#   7 tsan      TSAN_N messages at TSAN_C sessions to tp_tsan with SIGUSR1
#               every RELOAD_MS ms: exact counts, the milter alive (a report
#               halts it), no ThreadSanitizer report under load, and none
#               with a frame outside libmilter/libc at the graceful stop
#               (libmilter's own shutdown races between its threads, e.g.
#               destroying a mutex its detached closer thread used last;
#               those are counted and reported, not failed)
#
# Environment (full / SHORT=1)
#   N=20000/1000 C=200/50 UNIX_N=5000/300 FAULT_N=5000/600 HALF_N=300/120
#   AFTER_N=60 TSAN_N=2000/400 TSAN_C=50/20 RELOAD_MS=100 KILL_DOWN=1
#   MEM_SLACK_KB=2048 MEM_SLACK_PCT=5 TMPFS_KB=256
#   PHASES="load unix kill reload halfwrite full tsan"  (any subset, in order)
#   TLSPOLICY_MILTER=PATH   default: _build/milter/tlspolicy-milter
#   TSAN_MILTER=PATH        a milter built with --enable-tsan; default: build
#                           one in TSAN_BUILD (default WORKDIR/tsan-build)
#   WORKDIR=DIR KEEP=1      as bench/run-postfix-bench.sh
#   REPORT=FILE             also write the report (markdown) there
#
# Every process it starts is stopped at exit, by pid (trap EXIT); the tmpfs
# is unmounted. Exit status 0 if every assertion held, 1 otherwise.

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$HERE")
if [ "${SHORT:-0}" = 1 ]; then
    N=${N:-1000} C=${C:-50} UNIX_N=${UNIX_N:-300} FAULT_N=${FAULT_N:-600} HALF_N=${HALF_N:-120}
    TSAN_N=${TSAN_N:-400} TSAN_C=${TSAN_C:-20}
else
    N=${N:-20000} C=${C:-200} UNIX_N=${UNIX_N:-5000} FAULT_N=${FAULT_N:-5000} HALF_N=${HALF_N:-300}
    TSAN_N=${TSAN_N:-2000} TSAN_C=${TSAN_C:-50}
fi
AFTER_N=${AFTER_N:-60}
RESTART_N=${RESTART_N:-$((FAULT_N / 5))}
RELOAD_MS=${RELOAD_MS:-100}
KILL_DOWN=${KILL_DOWN:-1}
MEM_SLACK_KB=${MEM_SLACK_KB:-2048}
MEM_SLACK_PCT=${MEM_SLACK_PCT:-5}
TMPFS_KB=${TMPFS_KB:-256}
PHASES=${PHASES:-load unix kill reload halfwrite full tsan}
TP_SRC=${TLSPOLICY_MILTER:-$TOP/_build/milter/tlspolicy-milter}
PYTHON=${PYTHON:-python3}

# shellcheck source=pf-bench-lib.sh
. "$HERE/pf-bench-lib.sh"

[ -x "$TP_SRC" ] || die "no tlspolicy-milter at $TP_SRC (build it, or set TLSPOLICY_MILTER)"
pfb_require cc pkg-config smtp-sink postfix mount umount dd "$PYTHON"

pfb_workdir tlspolicy-loadfault bin log sock run audit auditfs results pf
chmod 755 "$W/sock" "$W/bin"
chown postfix "$W/audit"
REP=$W/results/report.md
: >"$REP"
CHECK=("$PYTHON" "$HERE/load-check.py")
KARGS=()
while read -r k; do KARGS+=(-K "$k"); done < <("${CHECK[@]}" classes)
[ "${#KARGS[@]}" -gt 0 ] || die "load-check.py classes gave nothing"

# The tmpfs is unmounted once every process (the milter holds the audit
# log open) is stopped: pfb__cleanup calls this.
pfb_after_stop() {
    if mountpoint -q "$W/auditfs"; then umount "$W/auditfs" 2>/dev/null || umount -l "$W/auditfs"; fi
}

RESULTS=()    # "VERDICT phase: text" of every assertion
FAILED=0
verdict() {   # verdict PASS|FAIL TEXT
    RESULTS+=("$1 $2")
    say "$1 $2"
    case $1 in FAIL) FAILED=1 ;; esac
}
report() { printf '%s\n' "$@" >>"$REP"; }

# ---------------------------------------------------------------------------
# build

say "building into $W/bin"
pfb_build_load "$W/bin"
LOAD=$W/bin/smtp-load
cp "$TP_SRC" "$W/bin/tlspolicy-milter" || die "cannot copy $TP_SRC"
case " $PHASES " in
    *" tsan "*)
        if [ -n "${TSAN_MILTER:-}" ]; then
            cp "$TSAN_MILTER" "$W/bin/tlspolicy-milter-tsan" || die "cannot copy $TSAN_MILTER"
        else
            [ -x "$TOP/configure" ] || die "no $TOP/configure: run ./autogen.sh, or set TSAN_MILTER"
            B=${TSAN_BUILD:-$W/tsan-build}
            mkdir -p "$B" || die "cannot create $B"
            say "building the milter with --enable-tsan in $B"
            (cd "$B" && "$TOP/configure" --enable-tsan --disable-e2e >"$W/log/tsan-build.log" 2>&1 &&
                make -j2 milter/tlspolicy-milter >>"$W/log/tsan-build.log" 2>&1) ||
                { tail -20 "$W/log/tsan-build.log" >&2; die "TSan build failed"; }
            cp "$B/milter/tlspolicy-milter" "$W/bin/tlspolicy-milter-tsan" || die "no TSan milter"
        fi
        ;;
esac

# ---------------------------------------------------------------------------
# Postfix, sink, milters

pf_setup "$W/pf" "" || die "pf_setup failed"
declare -A SPEC LPORT MPID BIN
MILTERS="tp_inet tp_unix tp_full tp_tsan"
for m in $MILTERS; do
    case $m in
        tp_unix) SPEC[$m]="unix:$W/sock/$m.sock" ;;
        *) pick_port p; SPEC[$m]="inet:127.0.0.1:$p" ;;
    esac
    pick_port p; LPORT[$m]=$p
    BIN[$m]=$W/bin/tlspolicy-milter
done
BIN[tp_tsan]=$W/bin/tlspolicy-milter-tsan
{
    echo "# --- run-load-fault.sh listeners"
    for m in $MILTERS; do smtpd_listener "${LPORT[$m]}" "$m" "${SPEC[$m]}" 250; done
} >>"$PF_CONF_DIR/master.cf"

# write_policy FILE [CUT]: the policy; with CUT, only its first CUT bytes,
# written in place (truncate, write), as an editor that is still writing
# leaves it.
POLICY='# run-load-fault.sh: what happens to each message class follows from these rules
default              prefer
rcpt:pref.load.test  prefer
rcpt:skip.load.test  skip
# the rule that requires TLS comes last, so that a cut in this comment leaves a file that parses
rcpt:req.load.test   require
'
write_policy() {
    if [ $# -gt 1 ]; then
        printf '%s' "${POLICY:0:$2}" >"$1"
    else
        printf '%s' "$POLICY" >"$1"
    fi
    chmod 644 "$1"
}

for m in $MILTERS; do
    a=$W/audit/$m.jsonl
    [ "$m" = tp_full ] && a=$W/auditfs/$m.jsonl
    tp_conf "$W/$m.conf" "${BIN[$m]}" "$a"
    printf 'stats_file = %s\nstats_interval = 0\n' "$W/run/$m.status" >>"$W/$m.conf"
    write_policy "$W/$m.policy"
done
chown postfix "$W/run"

# start_milter NAME: start it (as a simple command, so that $! is the
# milter) and wait until it listens.
start_milter() {
    local m=$1
    local -a env=()
    [ "$m" = tp_tsan ] && env=(env TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1")
    "${env[@]}" "${BIN[$m]}" -F -u postfix -c "$W/$m.conf" -f "$W/$m.policy" \
        -p "$(libmilter_spec "${SPEC[$m]}")" </dev/null >/dev/null 2>>"$W/log/$m.log" &
    MPID[$m]=$!
    PIDS+=("$!")
    pf_wait_listen "${SPEC[$m]}" 30 || die "milter $m not listening (see $W/log/$m.log)"
}

# stop_milter NAME [SIGNAL]: SIGTERM (libmilter's graceful stop) or SIGNAL,
# wait for it; its exit status in STOP_RC.
stop_milter() {
    local m=$1 sig=${2:-TERM} pid=${MPID[$1]} i=0
    kill -"$sig" "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    STOP_RC=$?
    forget "$pid"
    MPID[$m]=
}

# status NAME: its status file, freshly written (SIGUSR2), as KEY=VALUE lines
status() {
    local sf=$W/run/$1.status i=0
    rm -f "$sf"
    kill -USR2 "${MPID[$1]}"
    while [ ! -s "$sf" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    cat "$sf" 2>/dev/null
}
skey() { sed -n "s/^$1=//p" <<<"$2"; }

audit_file() { if [ "$1" = tp_full ]; then echo "$W/auditfs/$1.jsonl"; else echo "$W/audit/$1.jsonl"; fi; }
audit_size() { stat -c %s "$(audit_file "$1")" 2>/dev/null || echo 0; }
audit_lines_since() { tail -c +"$(($2 + 1))" "$(audit_file "$1")" 2>/dev/null | wc -l; }

# settle NAME: wait until Postfix has delivered everything and the audit
# writer (batches of up to 200 ms) has written what it had.
settle() {
    local last=-1 now same=0
    pf_wait_queue_empty 600 >/dev/null || say "warning: queue not empty after 600 s"
    while [ $same -lt 3 ]; do
        now=$(audit_size "$1")
        if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; fi
        last=$now
        sleep 0.3
    done
}

sink_clear() { find "$PF_SINK_DIR" -type f -delete; }

# load_start NAME N C TAG: smtp-load in the background (LOAD_PID)
load_start() {
    "$LOAD" -q -p "${LPORT[$1]}" -n "$2" -c "$3" -H 10 -f "load@client.load.test" "${KARGS[@]}" \
        >"$W/results/$4.client" 2>"$W/results/$4.err" &
    LOAD_PID=$!
    PIDS+=("$!")
}
load_wait() {
    wait "$LOAD_PID"
    LOAD_RC=$?
    forget "$LOAD_PID"
    say "$1: $(head -1 "$W/results/$1.client")"
}

# check NAME TAG MODE TITLE [AUDIT-OFFSET]: load-check.py on this phase's
# client output, the sink and the audit log from AUDIT-OFFSET (none: no
# audit check); the table goes to the report.
check() {
    local m=$1 tag=$2 mode=$3 title=$4 off=${5:-} rc=0
    local -a audit=()
    settle "$m"
    [ -n "$off" ] && audit=(--audit "$(audit_file "$m")" --audit-offset "$off")
    "${CHECK[@]}" check --client "$W/results/$tag.client" --sink "$PF_SINK_DIR" --mode "$mode" \
        --title "$title" "${audit[@]}" >"$W/results/$tag.check" 2>&1 || rc=$?
    cat "$W/results/$tag.check" >>"$REP"
    return $rc
}

# usr1_while_loading NAME: SIGUSR1 to the milter every RELOAD_MS ms until
# the load ends; the number sent in SENT.
usr1_while_loading() {
    local iv
    iv=$(awk -v ms="$RELOAD_MS" 'BEGIN {printf "%.3f", ms / 1000}')
    SENT=0
    while kill -0 "$LOAD_PID" 2>/dev/null; do
        kill -USR1 "${MPID[$1]}" 2>/dev/null && SENT=$((SENT + 1))
        sleep "$iv"
    done
}

pf_start || die "pf_start failed"
for m in $MILTERS; do
    pf_wait_listen "${LPORT[$m]}" 20 || die "smtpd for $m not listening"
done
say "Postfix up; phases: $PHASES"
report "Figures from bench/run-load-fault.sh ($(date -u +%Y-%m-%d), $(nproc) cores, load average at the start $(cut -d' ' -f1-3 /proc/loadavg))."

# ---------------------------------------------------------------------------
# 1. load over inet:, memory sampled

phase_load() {
    local m=tp_inet off sampler
    start_milter $m
    sink_clear
    off=$(audit_size $m)
    (
        while kill -0 "${MPID[$m]}" 2>/dev/null; do
            printf '%s %s %s\n' "$(audit_lines_since $m "$off")" \
                "$(awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {print r, h}' "/proc/${MPID[$m]}/status")" \
                "$(date +%s.%N)"
            sleep 0.5
        done
    ) >"$W/results/mem.samples" &
    sampler=$!
    PIDS+=("$sampler")
    load_start $m "$N" "$C" load
    load_wait load
    settle $m
    # one last sample after the queue drained
    printf '%s %s %s\n' "$(audit_lines_since $m "$off")" \
        "$(awk '/^VmRSS:/ {r = $2} /^VmHWM:/ {h = $2} END {print r, h}' "/proc/${MPID[$m]}/status")" \
        "$(date +%s.%N)" >>"$W/results/mem.samples"
    kill "$sampler" 2>/dev/null
    wait "$sampler" 2>/dev/null
    forget "$sampler"
    if check $m load exact "Load over inet:, $N messages, $C concurrent sessions" "$off"; then
        verdict PASS "load: client, sink and audit log agree exactly ($N messages, $C sessions)"
    else
        verdict FAIL "load: counts disagree (see $W/results/load.check)"
        cat "$W/results/load.check" >&2
    fi
    if "$PYTHON" - "$W/results/mem.samples" "$N" "$MEM_SLACK_KB" "$MEM_SLACK_PCT" >>"$REP" <<'EOF'; then
import sys
path, n, slack_kb, slack_pct = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
rows = []
for line in open(path):
    f = line.split()
    if len(f) == 4:
        rows.append((int(f[0]), int(f[1]), int(f[2]), float(f[3])))
half = n // 2
first = [r for r in rows if 0 < r[0] <= half]
last = [r for r in rows if r[0] > half]
print()
print('Milter memory during the load (VmRSS, VmHWM from /proc/PID/status every 0.5 s, against the audit '
      'records written so far; every ~%d messages):' % max(1, n // 20))
print()
print('| records written | seconds | VmRSS KiB | VmHWM KiB |')
print('|---|---|---|---|')
t0 = rows[0][3] if rows else 0
shown = -1
for i, r in enumerate(rows):
    if i == 0 or i == len(rows) - 1 or r[0] // max(1, n // 20) != shown:
        shown = r[0] // max(1, n // 20)
        print('| %d | %.1f | %d | %d |' % (r[0], r[3] - t0, r[1], r[2]))
if not first or not last:
    print('\nmemory: too few samples (%d in the first half, %d in the last)' % (len(first), len(last)))
    sys.exit(1)
p1, p2 = max(r[1] for r in first), max(r[1] for r in last)
h1, h2 = first[-1][2], rows[-1][2]
limit = max(slack_kb, p1 * slack_pct / 100)
ok = p2 - p1 < limit and h2 - h1 < limit
print()
print('memory: peak VmRSS over the first %d messages %d KiB, over the last %d %d KiB (%+d KiB); '
      'VmHWM %d KiB after the first half, %d KiB at the end (%+d KiB); limit for both: less than '
      'max(%d KiB, %g%%) = %d KiB: %s'
      % (half, p1, n - half, p2, p2 - p1, h1, h2, h2 - h1, slack_kb, slack_pct, limit,
         'PASS' if ok else 'FAIL'))
sys.exit(0 if ok else 1)
EOF
        verdict PASS "$(tail -1 "$REP" | sed 's/: PASS$//')"
    else
        verdict FAIL "$(tail -1 "$REP" | sed 's/: FAIL$//')"
    fi
}

# ---------------------------------------------------------------------------
# 2. unix:

phase_unix() {
    local m=tp_unix off
    start_milter $m
    sink_clear
    off=$(audit_size $m)
    load_start $m "$UNIX_N" "$C" unix
    load_wait unix
    if check $m unix exact "Load over unix:, $UNIX_N messages, $C concurrent sessions" "$off"; then
        verdict PASS "unix: client, sink and audit log agree exactly ($UNIX_N messages)"
    else
        verdict FAIL "unix: counts disagree (see $W/results/unix.check)"
        cat "$W/results/unix.check" >&2
    fi
    stop_milter $m
}

# ---------------------------------------------------------------------------
# 3. SIGKILL under load, restart

phase_kill() {
    local m=tp_inet off roff i=0 tf
    [ -n "${MPID[$m]:-}" ] || start_milter $m
    sink_clear
    off=$(audit_size $m)
    load_start $m "$FAULT_N" "$C" kill
    while kill -0 "$LOAD_PID" 2>/dev/null && [ "$(audit_lines_since $m "$off")" -lt $((FAULT_N / 4)) ] &&
        [ $i -lt 1200 ]; do
        sleep 0.1; i=$((i + 1))
    done
    kill -0 "$LOAD_PID" 2>/dev/null || say "warning: the load ended before the kill"
    say "kill: SIGKILL to the milter (pid ${MPID[$m]}) after $(audit_lines_since $m "$off") records"
    stop_milter $m KILL
    sleep "$KILL_DOWN"
    roff=$(audit_size $m)
    start_milter $m
    say "kill: milter restarted (pid ${MPID[$m]})"
    load_wait kill
    if check $m kill fault "Milter SIGKILLed under load, down ${KILL_DOWN} s, restarted; $FAULT_N messages, $C sessions" "$off"; then
        verdict PASS "kill: nothing accepted unchecked, nothing refusable delivered, no session failed"
    else
        verdict FAIL "kill: see $W/results/kill.check"
        cat "$W/results/kill.check" >&2
    fi
    tf=$(awk '/^class=/ {for (i = 1; i <= NF; i++) if ($i ~ /^tempfailed=/) {split($i, a, "="); s += a[2]}} END {print s + 0}' \
        "$W/results/kill.client")
    report "" "kill: $tf sessions tempfailed (4xx) while the milter was down or cut off; the restarted milter wrote $(audit_lines_since $m "$roff") audit records during that load."
    if [ "$tf" -gt 0 ]; then
        verdict PASS "kill: $tf sessions tempfailed (4xx) while the milter was down"
    else
        verdict FAIL "kill: no session tempfailed: the kill did not happen under load"
    fi
    # The restarted milter decides as before.
    sink_clear
    off=$(audit_size $m)
    load_start $m "$RESTART_N" "$C" restart
    load_wait restart
    if check $m restart exact "After the restart: $RESTART_N messages, $C sessions" "$off"; then
        verdict PASS "kill: the restarted milter decides exactly ($RESTART_N messages)"
    else
        verdict FAIL "kill: after the restart, see $W/results/restart.check"
        cat "$W/results/restart.check" >&2
    fi
}

# ---------------------------------------------------------------------------
# 4. SIGUSR1 every RELOAD_MS ms under load

phase_reload() {
    local m=tp_inet off st0 st1 r f
    [ -n "${MPID[$m]:-}" ] || start_milter $m
    sink_clear
    off=$(audit_size $m)
    st0=$(status $m)
    load_start $m "$FAULT_N" "$C" reload
    usr1_while_loading $m
    load_wait reload
    st1=$(status $m)
    r=$(($(skey reloads "$st1") - $(skey reloads "$st0")))
    f=$(($(skey reloads_failed "$st1") - $(skey reloads_failed "$st0")))
    if check $m reload exact "SIGUSR1 every ${RELOAD_MS} ms under load ($SENT sent, $r reloads); $FAULT_N messages, $C sessions" "$off"; then
        verdict PASS "reload: exact counts, no failed session, no tempfail under $SENT SIGUSR1"
    else
        verdict FAIL "reload: see $W/results/reload.check"
        cat "$W/results/reload.check" >&2
    fi
    report "" "reload: $SENT SIGUSR1 sent, $r reloads done, $f failed."
    if [ "$r" -gt 0 ] && [ "$f" -eq 0 ]; then
        verdict PASS "reload: $r reloads for $SENT signals, none failed"
    else
        verdict FAIL "reload: $r reloads for $SENT signals, $f failed"
    fi
}

# ---------------------------------------------------------------------------
# 5. a half-written policy file

# reload_result NAME OFFSET: wait (15 s) for the milter's log line about the
# reload after OFFSET; print "failed GEN" or "loaded GEN".
reload_result() {
    local i=0 line
    while [ $i -lt 150 ]; do
        line=$(tail -c +"$(($2 + 1))" "$W/log/$1.log" |
            grep -E 'reload failed: keeping policy generation|generation [0-9]+ in force' | head -1)
        case $line in
            *"reload failed"*) echo "failed ${line##* }"; return ;;
            *"in force"*) line=${line% in force*}; echo "loaded ${line##* }"; return ;;
        esac
        sleep 0.1; i=$((i + 1))
    done
    echo "none -"
}

phase_halfwrite() {
    local m=tp_inet off loff st gen0 res cut ok=1 how
    [ -n "${MPID[$m]:-}" ] || start_milter $m
    st=$(status $m)
    gen0=$(skey policy_generation "$st")
    # cut in the middle of the comment line before the require rule
    cut=${POLICY%%the rule that requires*}
    cut=$((${#cut} + 12))
    loff=$(stat -c %s "$W/log/$m.log")
    write_policy "$W/$m.policy" "$cut"
    kill -USR1 "${MPID[$m]}"
    res=$(reload_result $m "$loff")
    say "halfwrite: policy cut at byte $cut of ${#POLICY} (\"$(tail -c 24 "$W/$m.policy")\", no newline); reload: $res"
    sink_clear
    off=$(audit_size $m)
    load_start $m "$HALF_N" "$C" halfwrite
    load_wait halfwrite
    check $m halfwrite exact "Policy file cut mid-line (no final newline) and SIGUSR1, then $HALF_N messages: the old policy must decide" "$off" ||
        ok=0
    st=$(status $m)
    # Refused ("reload failed") or put off (no reload logged): either way
    # the generation must be the old one.
    case $res in "failed $gen0"|"none -") ;; *) ok=0 ;; esac
    [ "$(skey policy_generation "$st")" = "$gen0" ] || ok=0
    how="reload $res (generation was $gen0), req-plain $(grep -o 'class=req-plain.*' "$W/results/halfwrite.client" |
        grep -o 'accepted=[0-9]* refused=[0-9]*')"
    report "" "half-written policy: $how."
    if [ $ok = 1 ]; then
        verdict PASS \
            "halfwrite: the cut file was refused, the old policy kept ($how)"
    else
        verdict FAIL \
            "halfwrite: the cut file was not refused ($how)"
    fi
    # The writer finishes: the whole file loads.
    loff=$(stat -c %s "$W/log/$m.log")
    write_policy "$W/$m.policy"
    kill -USR1 "${MPID[$m]}"
    res=$(reload_result $m "$loff")
    if [ "$res" = "loaded $((gen0 + 1))" ] || [ "$res" = "loaded $((gen0 + 2))" ]; then
        verdict PASS "halfwrite: the completed file loads ($res)"
    else
        verdict FAIL "halfwrite: the completed file: reload $res, want loaded $((gen0 + 1))"
    fi
}

# ---------------------------------------------------------------------------
# 6. the audit log on a full tmpfs

phase_full() {
    local m=tp_full st0 st1 st2 w l w2 l2
    mount -t tmpfs -o "size=${TMPFS_KB}k,mode=0755" tmpfs "$W/auditfs" || die "cannot mount a tmpfs on $W/auditfs"
    chown postfix "$W/auditfs"
    start_milter $m
    dd if=/dev/zero of="$W/auditfs/filler" bs=4k >/dev/null 2>&1
    report "" "audit log on a ${TMPFS_KB} KiB tmpfs: $(df -k --output=used,avail "$W/auditfs" | tail -1 |
        awk '{print $1 " KiB used, " $2 " KiB free"}') after filling it."
    st0=$(status $m)
    sink_clear
    load_start $m "$FAULT_N" "$C" full
    load_wait full
    if check $m full exact "Audit log on a full tmpfs; $FAULT_N messages, $C sessions (no audit check: the log is full)"; then
        verdict PASS "full: mail flows exactly as always with the audit log's disk full"
    else
        verdict FAIL "full: see $W/results/full.check"
        cat "$W/results/full.check" >&2
    fi
    sleep 1
    st1=$(status $m)
    w=$(($(skey audit_written "$st1") - $(skey audit_written "$st0")))
    l=$(($(skey audit_lost "$st1") - $(skey audit_lost "$st0")))
    report "" "full disk: $FAULT_N sessions, audit_written +$w, audit_lost +$l; log: $(grep -c 'records lost' "$W/log/$m.log") warning(s) \"$(grep -m1 'records lost\|records are lost' "$W/log/$m.log" | cut -c1-160)\""
    if [ "$l" -gt 0 ] && [ $((w + l)) -eq "$FAULT_N" ]; then
        verdict PASS "full: audit_lost +$l, audit_written +$w, together one record per session"
    else
        verdict FAIL "full: audit_lost +$l, audit_written +$w for $FAULT_N sessions"
    fi
    # room again: every record is written
    rm -f "$W/auditfs/filler"
    sink_clear
    load_start $m "$AFTER_N" 10 full-after
    load_wait full-after
    settle $m
    sleep 1
    st2=$(status $m)
    w2=$(($(skey audit_written "$st2") - $(skey audit_written "$st1")))
    l2=$(($(skey audit_lost "$st2") - $(skey audit_lost "$st1")))
    if [ "$w2" -eq "$AFTER_N" ] && [ "$l2" -eq 0 ] && [ "$LOAD_RC" -eq 0 ]; then
        verdict PASS "full: with room again, $AFTER_N sessions, $w2 records written, none lost"
    else
        verdict FAIL "full: with room again, $AFTER_N sessions: $w2 written, $l2 lost (smtp-load exit $LOAD_RC)"
    fi
    stop_milter $m
}

# ---------------------------------------------------------------------------
# 7. ThreadSanitizer, load with reloads

phase_tsan() {
    local m=tp_tsan off alive=0 toff during ours lib
    start_milter $m
    sink_clear
    off=$(audit_size $m)
    load_start $m "$TSAN_N" "$TSAN_C" tsan
    usr1_while_loading $m
    load_wait tsan
    kill -0 "${MPID[$m]}" 2>/dev/null && alive=1
    if check $m tsan exact "ThreadSanitizer build, SIGUSR1 every ${RELOAD_MS} ms ($SENT sent); $TSAN_N messages, $TSAN_C sessions" "$off"; then
        verdict PASS "tsan: exact counts under reloads"
    else
        verdict FAIL "tsan: see $W/results/tsan.check"
        cat "$W/results/tsan.check" >&2
    fi
    toff=$(stat -c %s "$W/log/$m.log")
    [ $alive = 1 ] && stop_milter $m
    # Reports before the SIGTERM (under load and reloads) fail; so does any
    # report after it with a frame outside libmilter, libc and TSan's own
    # (libmilter's shutdown has races of its own between its threads).
    read -r during ours lib < <("$PYTHON" - "$W/log/$m.log" "$toff" <<'EOF'
import re, sys
data = open(sys.argv[1], 'rb').read().decode('latin-1')
cut = int(sys.argv[2])
during = ours = lib = 0
for m in re.finditer(r'WARNING: ThreadSanitizer.*?(?:SUMMARY: ThreadSanitizer[^\n]*|\Z)', data, re.S):
    # the racing accesses' stacks: up to where the report describes the
    # location, mutexes and threads (their creation stacks start in main)
    access = re.split(r'^\s+(?:Location is|Mutex M|Thread T)', m.group(0), flags=re.M)[0]
    frames = re.findall(r'^\s+#\d+ .*$', access, re.M)
    outside = [f for f in frames if not re.search(r'\((libmilter|libtsan|libc)\.so[^)]*\)\s*$', f)]
    if m.start() < cut:
        during += 1
    elif outside:
        ours += 1
    else:
        lib += 1
print(during, ours, lib)
EOF
)
    report "" "tsan: $SENT SIGUSR1 under load; ThreadSanitizer reports: $during under load, $ours at the graceful stop with frames of the milter's own, $lib at the stop inside libmilter only (milter exit status $STOP_RC)."
    if [ $alive = 1 ] && [ "$during" = 0 ] && [ "$ours" = 0 ]; then
        verdict PASS "tsan: no report under load and $SENT reloads, none with a frame of ours at the stop ($lib inside libmilter's own shutdown)"
    else
        verdict FAIL "tsan: milter alive=$alive, reports: $during under load, $ours of ours at the stop:"
        grep -A30 -m2 'WARNING: ThreadSanitizer' "$W/log/$m.log" >&2
    fi
}

T0=$(date +%s)
for ph in $PHASES; do
    case $ph in
        load|unix|kill|reload|halfwrite|full|tsan) say "=== phase $ph"; "phase_$ph" ;;
        *) die "unknown phase $ph" ;;
    esac
done

# ---------------------------------------------------------------------------
# report

report "" "Assertions ($(($(date +%s) - T0)) s for the phases):" ""
for r in "${RESULTS[@]}"; do report "- $r"; done
cat "$REP"
[ -z "${REPORT:-}" ] || cp "$REP" "$REPORT"
if [ "$FAILED" -ne 0 ]; then
    say "some assertions FAILED (see above)"
    exit 1
fi
say "all assertions held"
exit 0
