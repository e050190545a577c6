#!/bin/sh
# Policy engine benchmark (make bench): load time, memory and decision
# latency for generated policies of 10k, 100k and 1M rules, each in a
# fresh process. Results go into BENCHMARKS.md by hand, with this command.
set -eu
bench=${BENCH_POLICY:-bench/bench_policy}
echo "| rules     | load      | memory     | median    | p99       | mean (loop) | rule hit |"
echo "|-----------|-----------|------------|-----------|-----------|-------------|----------|"
for n in ${BENCH_SIZES:-10000 100000 1000000}; do
	"$bench" "$n" "${TMPDIR:-/tmp}"
done
