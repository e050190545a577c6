#!/bin/bash
# The milter's CPU time per message with the audit log on and off, from a
# load run through a real Postfix (issue: "writing a record costs under
# 5 us of CPU per message"). Throughput ratios on a noisy 2-core machine
# cannot resolve a few percent; CPU time read from /proc can.
#
#   bench/run-audit-cost.sh            # as root, from the source tree,
#                                      # after make && make bench/smtp-load
# Environment: N (messages per run, default 3000), C (concurrency, 20),
# ROUNDS (3), BUILD (build directory, default _build). Interleaves "audit
# on" and "audit off" runs, STARTTLS, one recipient; prints a table of
# milter CPU us/message per run and the median difference. Stops all it
# started.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
BUILD=${BUILD:-_build}
N=${N:-3000}
C=${C:-20}
ROUNDS=${ROUNDS:-3}
milter=$top/$BUILD/milter/tlspolicy-milter
load=$top/$BUILD/bench/smtp-load
[ -x "$milter" ] && [ -x "$load" ] || { echo "build first: make && make bench/smtp-load" >&2; exit 1; }
. tests/e2e/postfix-lib.sh
W=$(mktemp -d /var/tmp/tlspolicy-auditcost.XXXXXX)
pid=
stop() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; pf_stop; rm -rf "$W"; }
trap stop EXIT
trap 'exit 130' INT TERM
port=$(pf_free_port)
pf_setup "$W" "inet:127.0.0.1:$port" >/dev/null || exit 1
printf 'default prefer\nsender:bank.example require\n' > "$W/policy.conf"
mkdir -p "$W/audit" && chown postfix "$W/audit" "$W"
# Deliveries go to the sink without dumping, so the sink costs little.
pf_start >/dev/null || exit 1

# start AUDIT_LOG: the milter as postfix, default configuration otherwise
start() {
	"$milter" -F -u postfix -p "inet:$port@127.0.0.1" -f "$W/policy.conf" -a "$1" \
		-c /dev/null >"$W/milter.log" 2>&1 &
	pid=$!
	pf_wait_listen "$port" 10
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

echo "| round | audit | messages | milter CPU us/message |"
echo "|---|---|---|---|"
on=() off=()
for r in $(seq "$ROUNDS"); do
	for mode in on off; do
		[ "$mode" = on ] && start "$W/audit/audit.jsonl" || start none
		"$load" -p "$PF_PORT_STARTTLS" -m starttls -n 200 -c "$C" -q >/dev/null 2>&1
		t0=$(ticks "$pid")
		"$load" -p "$PF_PORT_STARTTLS" -m starttls -n "$N" -c "$C" -q >/dev/null 2>&1 || echo "load errors" >&2
		t1=$(ticks "$pid")
		us=$(( (t1 - t0) * 10000 / N ))
		echo "| $r | $mode | $N | $us |"
		if [ "$mode" = on ]; then on+=("$us"); else off+=("$us"); fi
		kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
		pf_wait_queue_empty 60 >/dev/null
	done
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "median milter CPU per message: audit on $(median "${on[@]}") us, off $(median "${off[@]}") us"
