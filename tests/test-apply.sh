#!/bin/sh
# tlspolicyctl apply against the real daemon: a good policy goes in force
# (the generation moves, the live file is replaced whole with its mode
# kept), a bad one is refused with FILE:LINE errors and changes nothing, a
# stopped daemon is said to be stopped and nothing changes either.
# Run by "make check" with the end-to-end tests (srcdir and top_builddir
# come from the Makefile).
set -u
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
milter=$(cd "$top_builddir" && pwd)/milter/tlspolicy-milter
ctl=$(cd "$top_builddir" && pwd)/ctl/tlspolicyctl
good=$(cd "$srcdir" && pwd)/tests/data/good.policy
other=$(cd "$srcdir" && pwd)/contrib/policy.example
bad=$(cd "$srcdir" && pwd)/tests/data/bad.policy
D=$(mktemp -d /tmp/tlspolicy-apply.XXXXXX)
chmod 755 "$D"
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$D"' EXIT
passed=0
failed=0
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "ok   $name";
	else failed=$((failed + 1)); echo "FAIL $name"; fi; }
wait_for() { i=0; while [ $i -lt 100 ]; do "$@" && return 0; sleep 0.1; i=$((i + 1)); done; return 1; }
generation() { sed -n 's/^policy_generation=//p' "$D/state/status"; }
# apply_ WANT_STATUS ARGS...: run apply with the daemon's config, keep its output
apply_() { want=$1; shift; "$ctl" apply -c "$D/milter.conf" "$@" >"$D/out" 2>&1; got=$?;
	[ "$got" -eq "$want" ] || { echo "    apply $*: exit $got, want $want"; sed 's/^/    | /' "$D/out"; return 1; }; }
said() { grep -qF -- "$1" "$D/out" || { echo "    no \"$1\" in:"; sed 's/^/    | /' "$D/out"; return 1; }; }

# The daemon as installed: its own config names the live policy, the pid
# file and the status file; as root it runs as nobody, who can write only
# its state directory.
mkdir "$D/live" "$D/state"
cp "$good" "$D/live/policy.conf"
chmod 644 "$D/live/policy.conf"
user=
if [ "$(id -u)" -eq 0 ]; then user="user = nobody"; chown nobody "$D/state"; fi
cat >"$D/milter.conf" <<EOC
# tlspolicy-milter.conf for test-apply.sh: apply reads three keys of it
policy = $D/live/policy.conf
pidfile = $D/milter.pid
stats_file = $D/state/status
stats_interval = 1
audit_log = none
dry_run = yes
$user
EOC
"$milter" -F -c "$D/milter.conf" -p "unix:$D/milter.sock" >"$D/log" 2>&1 &
pid=$!
check "the daemon starts" wait_for test -S "$D/milter.sock"
check "it writes its status file" wait_for test -s "$D/state/status"
gen0=$(generation)
echo "     generation $gen0 in force"

# A good policy, unreadable to others as the admin wrote it: in force, and
# the live file keeps its mode (the daemon's user must still read it).
cp "$other" "$D/new.policy"
chmod 600 "$D/new.policy"
check "apply a good policy: exit 0" apply_ 0 -f "$D/new.policy"
check "it says the daemon loaded it" said "tlspolicy-milter (pid $pid) loaded it: policy generation $((gen0 + 1)) in force (was $gen0)"
check "it printed the check's summary" said "new.policy: OK: 16 rules"
check "the status file shows the new generation" test "$(generation)" -eq $((gen0 + 1))
check "the live file is the new policy" cmp "$D/new.policy" "$D/live/policy.conf"
check "the live file kept its mode 644" test "$(stat -c %a "$D/live/policy.conf")" = 644
check "no temporary file is left beside it" test "$(ls -A "$D/live")" = policy.conf
check "the daemon logged the reload" grep -q "generation $((gen0 + 1)) in force" "$D/log"
gen1=$(generation)

# A bad policy: refused with every error as FILE:LINE, nothing changed.
cp "$bad" "$D/bad.policy"
check "apply a bad policy: exit 1" apply_ 1 -f "$D/bad.policy"
check "its errors are FILE:LINE" said "$D/bad.policy:3: sender:bank.example: unknown level \"requir\""
check "it says nothing was changed" said "$D/bad.policy refused; nothing was changed"
check "the live file is unchanged" cmp "$D/new.policy" "$D/live/policy.conf"
sleep 1.2				# a status write or two, for a fair look
check "the generation is unchanged" test "$(generation)" -eq "$gen1"

# Settings that cannot work are refused before anything changes.
check "a policy file the daemon does not read: exit 3" apply_ 3 -f "$good" --policy "$D/new.policy"
check "it names the daemon's file" said "the daemon reads $D/live/policy.conf, not $D/new.policy"
check "no -f: usage, exit 2" apply_ 2
check "a missing config named with -c: exit 2" apply_ 2 -c "$D/none.conf" -f "$good"
check "a bad --timeout: exit 2" apply_ 2 -f "$good" --timeout 0
check "the live file is still unchanged" cmp "$D/new.policy" "$D/live/policy.conf"

# A file the daemon read as root at start, but cannot read as nobody: the
# check passes, the daemon's reload fails, and apply says so.
if [ "$(id -u)" -eq 0 ]; then
	chmod 600 "$D/live/policy.conf"
	gen2=$(generation)
	check "a policy the daemon cannot read: exit 3" apply_ 3 -f "$good"
	check "it says the daemon refused it" \
		said "tlspolicy-milter (pid $pid) refused the new policy: failed reloads 1, was 0; policy generation $gen2 still in force"
	check "and points at the daemon's log" said "its log says why"
	check "the generation is the same" test "$(generation)" -eq "$gen2"
	check "it says the old file is back" said "$D/live/policy.conf holds the old policy again"
	check "the live file is the one in force again" cmp "$D/new.policy" "$D/live/policy.conf"
	check "with its mode 600" test "$(stat -c %a "$D/live/policy.conf")" = 600
	check "and no temporary file beside it" test "$(ls -A "$D/live")" = policy.conf
	chmod 644 "$D/live/policy.conf"
fi

# A status file the daemon does not write: it never reports the reload.
cp "$D/state/status" "$D/stale-status"
check "no reload reported in time: exit 3" apply_ 3 -f "$good" --status-file "$D/stale-status" --timeout 1
check "it says it timed out" said "timed out: tlspolicy-milter (pid $pid) did not report a reload within 1 seconds"
check "and that the new file stays for the next reload" said "$D/live/policy.conf holds the new policy: the daemon loads it at its next reload or start"
check "which it does" cmp "$good" "$D/live/policy.conf"
check "no temporary file is left after a timeout" test "$(ls -A "$D/live")" = policy.conf

# The daemon stopped: said so, and nothing changed.
cp "$D/live/policy.conf" "$D/before"
kill -TERM "$pid"
wait "$pid"
pid=
check "with the daemon stopped: exit 3" apply_ 3 -f "$other"
check "it says the daemon is not running" said "tlspolicy-milter is not running: pid file $D/milter.pid"
check "and that nothing was changed" said "; nothing was changed"
rm -f "$D/milter.pid"			# as nobody, it could not remove it
check "without a pid file: exit 3" apply_ 3 -f "$other"
check "it says there is none, and why there may be none" \
	said "pid file $D/milter.pid: No such file or directory (in the foreground, as under systemd, the daemon writes one only when pidfile is set); nothing was changed"
echo 999999 >"$D/milter.pid"
check "a stale pid file: exit 3" apply_ 3 -f "$other"
check "it says the pid file is stale" said "pid file $D/milter.pid is stale: no process holds its lock"
check "the live file is unchanged" cmp "$D/before" "$D/live/policy.conf"

echo "apply: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
