# tests/expect-lib.sh -- the assertions of the command-line tests
# (test-tlspolicyctl.sh, test-import.sh), sourced by them. POSIX sh.
#
# The test script sets out (a file for a command's output) and the counters
# passed=0 failed=0, then:
#   expect WANT_STATUS PATTERN... -- COMMAND...
#       run COMMAND (stdout and stderr into $out): its exit status must be
#       WANT_STATUS and every PATTERN (a fixed string) must be in its output;
#       on failure the output is shown, indented
#   check_that WHAT COMMAND...
#       COMMAND must succeed, else a failure named WHAT

expect() {
	want=$1; shift
	patterns=
	while [ "$1" != "--" ]; do patterns="$patterns
$1"; shift; done
	shift
	"$@" >"$out" 2>&1
	got=$?
	ok=1
	[ "$got" -eq "$want" ] || { echo "FAIL: exit $got, want $want: $*"; ok=0; }
	printf '%s\n' "$patterns" | while IFS= read -r p; do
		[ -z "$p" ] && continue
		grep -qF -- "$p" "$out" || { echo "FAIL: no \"$p\" in output of: $*"; exit 1; }
	done || ok=0
	if [ $ok -eq 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); sed 's/^/    | /' "$out"; fi
}

check_that() {
	what=$1; shift
	if "$@"; then passed=$((passed + 1)); else echo "FAIL: $what"; failed=$((failed + 1)); fi
}
