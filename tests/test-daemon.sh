#!/bin/sh
# The daemon as an admin installs it: a unix socket with restrictive
# permissions for the MTA's group, privileges dropped after binding, a
# locked pid file that stops a second instance, a graceful stop on SIGTERM.
# Needs root (it switches users). Run by "make check" with the end-to-end
# tests (srcdir and top_builddir come from the Makefile).
set -u
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
milter=$(cd "$top_builddir" && pwd)/milter/tlspolicy-milter
policy=$(cd "$srcdir" && pwd)/tests/data/good.policy
D=$(mktemp -d /tmp/tlspolicy-daemon.XXXXXX)
chmod 755 "$D"
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$D"' EXIT
passed=0
failed=0
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "ok   $name";
	else failed=$((failed + 1)); echo "FAIL $name"; fi; }
wait_for() { i=0; while [ $i -lt 100 ]; do "$@" && return 0; sleep 0.1; i=$((i + 1)); done; return 1; }

group=postfix
getent group "$group" >/dev/null || group=nogroup
printf 'socket_group = %s\nstats_file =\naudit_log = none\n' "$group" > "$D/milter.conf"
"$milter" -F -c "$D/milter.conf" -u nobody -p "unix:$D/milter.sock" -f "$policy" \
	-P "$D/milter.pid" >"$D/log" 2>&1 &
pid=$!
check "the unix socket appears" wait_for test -S "$D/milter.sock"
check "socket mode 0660, owner nobody, group $group" \
	test "$(stat -c '%a %U %G' "$D/milter.sock")" = "660 nobody $group"
check "privileges dropped to nobody after binding" \
	test "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = "$(id -u nobody)"
check "pid file holds the daemon's pid" test "$(cat "$D/milter.pid")" = "$pid"
"$milter" -F -c "$D/milter.conf" -u nobody -p "unix:$D/other.sock" -f "$policy" \
	-P "$D/milter.pid" >"$D/log2" 2>&1
rc=$?
check "a second daemon with the same pid file refuses to start" test "$rc" -ne 0
check "and says which one runs" grep -q "already running (pid $pid)" "$D/log2"
check "the first one's pid file is intact" test "$(cat "$D/milter.pid")" = "$pid"
check "the second one did not bind its socket" test ! -e "$D/other.sock"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "SIGTERM stops it cleanly" test "$rc" -eq 0
check "the foreground log has the start line" grep -q "listening on unix:$D/milter.sock" "$D/log"

# under_journal CONF NAME: run the daemon in the foreground with stderr
# appended to $D/journal, named by $JOURNAL_STREAM as systemd does, until
# its socket $D/NAME.sock appears; then stop it.
under_journal() {
	JOURNAL_STREAM=$(stat -c '%d:%i' "$D/journal") "$milter" -F -c "$1" -u nobody \
		-p "unix:$D/$2.sock" -f "$policy" -P "$D/$2.pid" 2>>"$D/journal" &
	pid=$!
	wait_for test -S "$D/$2.sock"
	kill -TERM "$pid"
	wait "$pid"
	pid=
}

# Under systemd, stderr is the journal, which gets the syslog copy already:
# the daemon then writes nothing to stderr.
: >"$D/journal"
under_journal "$D/milter.conf" j
check "no stderr copy of the log when stderr is the journal" test ! -s "$D/journal"
# syslog = no: stderr only, and only in the foreground.
printf 'syslog = no\nstats_file =\naudit_log = none\n' > "$D/nosyslog.conf"
"$milter" -c "$D/nosyslog.conf" -u nobody -p "unix:$D/n.sock" -f "$policy" -P "$D/n.pid" >/dev/null 2>"$D/nosyslog.err"
rc=$?
check "syslog = no without the foreground is refused (exit 78)" test "$rc" -eq 78
check "and says why" grep -q "syslog = no needs foreground" "$D/nosyslog.err"
check "and binds nothing" test ! -e "$D/n.sock"
under_journal "$D/nosyslog.conf" n
check "syslog = no: logs to stderr, even when it is the journal" grep -q "listening on unix:$D/n.sock" "$D/journal"
JOURNAL_STREAM=1:2 "$milter" -n -c "$D/milter.conf" -f "$policy" >/dev/null 2>"$D/other-stream"
check "but a copy when JOURNAL_STREAM names another stream" test -s "$D/other-stream"
JOURNAL_STREAM='garbage:%n;1' "$milter" -n -c "$D/milter.conf" -f "$policy" >/dev/null 2>"$D/bad-stream"
check "and when JOURNAL_STREAM is malformed" test -s "$D/bad-stream"
echo "daemon: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
