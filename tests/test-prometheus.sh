#!/bin/sh
# The Prometheus side of the metrics: the example alert rules are valid
# (promtool check rules) and each alert fires on the series it is for and
# not on the others (promtool test rules, tests/data/tlspolicy.rules.test.yml).
# The daemon's metrics file itself is checked by tests/test-daemon.sh
# (promtool check metrics). promtool comes with Debian's prometheus package
# (contrib/install-deps.sh). Run by "make check" with the end-to-end tests.
set -u
srcdir=${srcdir:-.}
rules="$srcdir/contrib/prometheus/tlspolicy.rules.yml"
passed=0
failed=0
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "ok   $name";
	else failed=$((failed + 1)); echo "FAIL $name"; "$@" 2>&1 | sed 's/^/    | /'; fi; }

check "promtool is installed (Debian package prometheus)" command -v promtool
check "promtool check rules: the example alert rules" promtool check rules "$rules"
check "promtool test rules: every alert fires when it should, and only then" \
	promtool test rules "$srcdir/tests/data/tlspolicy.rules.test.yml"
echo "prometheus: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
