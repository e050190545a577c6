#!/bin/sh
# Report benchmark: "tlspolicyctl report" over RECORDS generated audit log
# records (default 1,000,000; bench/gen_audit.c), read plain and gzip-
# compressed: wall time, CPU time and peak resident memory of each run,
# and the same pinned to one core (no parsing threads) if taskset exists.
# Target: 1,000,000 uncompressed records in under 10 s. Then the same
# plain log as a page (--html; issue 15): under 15 s, and under 5 MB.
#
# Runs the tlspolicyctl and gen_audit of a build tree ("make bench-report"
# builds both and sets TLSPOLICYCTL and GEN_AUDIT). Results go into
# BENCHMARKS.md by hand, with this command.
#
#   bench/run-report-bench.sh [RECORDS]
#
# Environment: RUNS (default 3), TMPDIR, KEEP=1 keeps
# the temporary directory (the generated logs are about 1 GB).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000000}
runs=${RUNS:-3}
dir=$(mktemp -d "${TMPDIR:-/tmp}/report-bench.XXXXXX")
trap '[ "${KEEP:-}" = 1 ] || rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM

ctl=${TLSPOLICYCTL:?set TLSPOLICYCTL to a built tlspolicyctl (make bench-report)}
gen=${GEN_AUDIT:?set GEN_AUDIT to a built bench/gen_audit (make bench-report)}

echo "generating $n records in $dir ..." >&2
"$gen" "$n" > "$dir/audit.jsonl"
gzip -6 -c "$dir/audit.jsonl" > "$dir/audit.jsonl.1.gz"

# size_mb FILE - its size in MB
size_mb() {
	wc -c < "$1" | awk '{ printf "%.0f", $1 / 1e6 }'
}

# one LABEL FILE [PREFIX...] - time one report run, print a table row
one() {
	label=$1 file=$2
	shift 2
	nout=$((nout + 1))
	out="$dir/out.$nout"
	if [ -x /usr/bin/time ]; then
		"$@" /usr/bin/time -f "%e %U %S %M" -o "$dir/time" \
			"$ctl" report "$file" > "$out" 2> /dev/null
		read -r wall user sys rss < "$dir/time"
		rss=$(awk -v k="$rss" 'BEGIN { printf "%.0f MB", k / 1024 }')
	else
		start=$(date +%s.%N)
		"$@" "$ctl" report "$file" > "$out" 2> /dev/null
		wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
		user=- sys=- rss=-
	fi
	# Every run must print the same report (but for the file name).
	grep -v '^  files ' "$out" > "$out.cmp"
	cmp -s "$dir/out.1.cmp" "$out.cmp" || { echo "$label: report differs" >&2; exit 1; }
	rate=$(awk -v n="$n" -v t="$wall" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }')
	printf "| %-22s | %7s MB | %7s s | %7s s | %6s s | %8s | %9s/s |\n" \
		"$label" "$(size_mb "$file")" "$wall" "$user" "$sys" "$rss" "$rate"
}

nout=0
echo "$n records, $(nproc 2>/dev/null || echo '?') CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "| input                  |    size    |   wall    |   user    |   sys    | peak RSS |    rate      |"
echo "|------------------------|------------|-----------|-----------|----------|----------|--------------|"
i=1
while [ "$i" -le "$runs" ]; do
	one plain "$dir/audit.jsonl"
	one gzip "$dir/audit.jsonl.1.gz"
	if command -v taskset > /dev/null 2>&1; then
		one "plain, 1 core" "$dir/audit.jsonl" taskset -c 0
		one "gzip, 1 core" "$dir/audit.jsonl.1.gz" taskset -c 0
	fi
	i=$((i + 1))
done

# html - time report --html on the plain log; the page must stay under 5 MB
html() {
	page="$dir/report.html"
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f "%e %U %S %M" -o "$dir/time" "$ctl" report --html "$page" \
			"$dir/audit.jsonl" 2> /dev/null
		read -r wall user sys rss < "$dir/time"
		rss=$(awk -v k="$rss" 'BEGIN { printf "%.0f MB", k / 1024 }')
	else
		start=$(date +%s.%N)
		"$ctl" report --html "$page" "$dir/audit.jsonl" 2> /dev/null
		wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
		user=- sys=- rss=-
	fi
	bytes=$(wc -c < "$page")
	[ "$bytes" -lt 5000000 ] || { echo "the page is $bytes bytes" >&2; exit 1; }
	printf "| %-22s | %7s MB | %7s s | %7s s | %6s s | %8s | page %s bytes |\n" \
		"plain, --html" "$(size_mb "$dir/audit.jsonl")" "$wall" "$user" "$sys" "$rss" "$bytes"
}

i=1
while [ "$i" -le "$runs" ]; do
	html
	i=$((i + 1))
done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
