#!/bin/sh
# The daemon as an admin installs it: a unix socket with restrictive
# permissions for the MTA's group, in a directory of its own, privileges dropped after binding, a
# locked pid file and a live socket that stop a second instance, a start
# that detaches and still reports its errors, a graceful stop on SIGTERM.
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
toucher=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; [ -n "$toucher" ] && kill "$toucher" 2>/dev/null
	rm -rf "$D"' EXIT
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
check "no PATH.lock is left once the socket listens" test ! -e "$D/milter.sock.lock"
"$milter" -F -c "$D/milter.conf" -u nobody -p "unix:$D/other.sock" -f "$policy" \
	-P "$D/milter.pid" >"$D/log2" 2>&1
rc=$?
check "a second daemon with the same pid file refuses to start" test "$rc" -ne 0
check "and says which one runs" grep -q "already running (pid $pid)" "$D/log2"
check "the first one's pid file is intact" test "$(cat "$D/milter.pid")" = "$pid"
check "the second one did not bind its socket" test ! -e "$D/other.sock"
# The shipped unit runs in the foreground, without a pid file: the socket
# itself must keep a second daemon out (timeout: one that takes it over
# would run on).
inode=$(stat -c %i "$D/milter.sock")
timeout 10 "$milter" -F -c "$D/milter.conf" -u nobody -p "unix:$D/milter.sock" -f "$policy" \
	>/dev/null 2>"$D/log3"
rc=$?
check "a second daemon on the same unix socket refuses to start (exit 71)" test "$rc" -eq 71
check "and says that another process listens there" \
	grep -q "unix:$D/milter.sock: another process is listening on this socket" "$D/log3"
check "the first one's socket is still its own" test "$(stat -c %i "$D/milter.sock")" = "$inode"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "SIGTERM stops it cleanly" test "$rc" -eq 0
check "the foreground log has the start line" grep -q "listening on unix:$D/milter.sock" "$D/log"

# As nobody it cannot remove its socket from root's directory: a stale
# socket (nobody listens) stays, and a new daemon must replace it.
check "the stopped daemon's socket stays behind" test -S "$D/milter.sock"
"$milter" -F -c "$D/milter.conf" -u nobody -p "unix:$D/milter.sock" -f "$policy" >"$D/log4" 2>&1 &
pid=$!
check "a new daemon starts on a stale socket" wait_for grep -q "listening on" "$D/log4"
kill -TERM "$pid"
wait "$pid"
pid=

# PATH.lock is opened as root: a link planted there must not make root
# create or truncate a file elsewhere, nor a FIFO hang the start.
echo precious >"$D/victim"
ln -s "$D/victim" "$D/s.sock.lock"
timeout 10 "$milter" -F -c "$D/milter.conf" -u nobody -p "unix:$D/s.sock" -f "$policy" \
	>/dev/null 2>"$D/lock.err"
rc=$?
check "a symlink at PATH.lock is refused (exit 71)" test "$rc" -eq 71
check "and said so" grep -q "lock file $D/s.sock.lock: it is a symbolic link" "$D/lock.err"
check "its target is not truncated" test "$(cat "$D/victim")" = precious
check "and no socket is bound" test ! -e "$D/s.sock"
ln -s "$D/absent" "$D/t.sock.lock"
timeout 10 "$milter" -F -c "$D/milter.conf" -u nobody -p "unix:$D/t.sock" -f "$policy" \
	>/dev/null 2>&1
rc=$?
check "a dangling symlink at PATH.lock is refused (exit 71)" test "$rc" -eq 71
check "its target is not created" test ! -e "$D/absent"
mkfifo "$D/f.sock.lock"
timeout 10 "$milter" -F -c "$D/milter.conf" -u nobody -p "unix:$D/f.sock" -f "$policy" \
	>/dev/null 2>"$D/fifo.err"
rc=$?
check "a FIFO at PATH.lock is refused without hanging (exit 71)" test "$rc" -eq 71
check "as not a plain file" grep -q "lock file $D/f.sock.lock is not a plain file" "$D/fifo.err"
# Where it may (here as root), the daemon removes its socket at exit;
# libmilter leaves it when running as root.
"$milter" -F -c "$D/milter.conf" --allow-root -p "unix:$D/root.sock" -f "$policy" >"$D/root.log" 2>&1 &
pid=$!
wait_for test -S "$D/root.sock"
kill -TERM "$pid"
wait "$pid"
pid=
check "at exit the daemon removes its socket" test ! -e "$D/root.sock"
check "and leaves no PATH.lock" test ! -e "$D/root.sock.lock"

# A missing socket directory is made 0750 for the daemon's user and the
# socket's group (the default socket is below the run-state directory);
# the daemon, owning it, removes its socket at exit. An existing directory
# is never loosened.
"$milter" -F -c "$D/milter.conf" -u nobody -p "unix:$D/run/tp.sock" -f "$policy" >"$D/dir.log" 2>&1 &
pid=$!
check "the socket appears in a directory the daemon made" wait_for test -S "$D/run/tp.sock"
check "that directory: mode 0750, owner nobody, group $group" \
	test "$(stat -c '%a %U %G' "$D/run")" = "750 nobody $group"
kill -TERM "$pid"
wait "$pid"
pid=
check "in its own directory the stopped daemon removes its socket" test ! -e "$D/run/tp.sock"
mkdir -m 0755 "$D/open"
"$milter" -F -c "$D/milter.conf" -u nobody -p "unix:$D/open/tp.sock" -f "$policy" >"$D/open.log" 2>&1 &
pid=$!
wait_for test -S "$D/open/tp.sock"
check "an existing socket directory is left as it was" \
	test "$(stat -c '%a %U' "$D/open")" = "755 root"
kill -TERM "$pid"
wait "$pid"
pid=

# inet: bind(2) refuses an address in use; the message must say so.
port=$((20000 + $$ % 20000))
"$milter" -F -c "$D/milter.conf" -u nobody -p "inet:$port@127.0.0.1" -f "$policy" >"$D/inet.log" 2>&1 &
pid=$!
wait_for grep -q "listening on" "$D/inet.log"
timeout 10 "$milter" -F -c "$D/milter.conf" -u nobody -p "inet:$port@127.0.0.1" -f "$policy" \
	>/dev/null 2>"$D/inet2.err"
rc=$?
check "a second daemon on the same inet address refuses to start (exit 71)" test "$rc" -eq 71
check "and says that the address is in use" \
	grep -q "inet:$port@127.0.0.1: Address already in use" "$D/inet2.err"
kill -TERM "$pid"
wait "$pid"
pid=

# Detached, a bad policy's errors reach the starting command, not only syslog.
printf 'bogus\n' > "$D/bad.policy"
"$milter" -c "$D/milter.conf" -u nobody -p "unix:$D/d.sock" -f "$D/bad.policy" \
	-P "$D/d.pid" >/dev/null 2>"$D/bad.err"
rc=$?
check "a detaching daemon refuses a bad policy (exit 78)" test "$rc" -eq 78
check "with its errors on stderr" grep -q "bad.policy: .*policy refused" "$D/bad.err"
# Detached, the starting command waits until the daemon has started, and
# fails with its error when a step after the fork fails (the pid file).
gone() { ! kill -0 "$1" 2>/dev/null; }
"$milter" -c "$D/milter.conf" -u nobody -p "unix:$D/d.sock" -f "$policy" \
	-P "$D/missing/d.pid" >/dev/null 2>"$D/detach.err"
rc=$?
check "a detached start that fails after the fork exits 71" test "$rc" -eq 71
check "with the daemon's error on stderr" grep -q "cannot open pid file $D/missing/d.pid" "$D/detach.err"
"$milter" -c "$D/milter.conf" -u nobody -p "unix:$D/d.sock" -f "$policy" -P "$D/d.pid" \
	-a "$D/missing/audit.jsonl" >/dev/null 2>"$D/detach2.err"
rc=$?
pid=$(cat "$D/d.pid" 2>/dev/null)
check "a detached start exits 0" test "$rc" -eq 0
check "once the daemon runs, its pid file written" kill -0 "$pid"
check "its start-up warnings reach the starting command" \
	grep -q "audit log $D/missing/audit.jsonl: No such file" "$D/detach2.err"
check "but not its start line" test "$(grep -c 'listening on' "$D/detach2.err")" -eq 0
kill -TERM "$pid"
check "SIGTERM stops the detached daemon" wait_for gone "$pid"
pid=

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
printf 'strip_header = postfix\n' >"$D/strip.conf"
"$milter" -n -c "$D/strip.conf" -f "$policy" >/dev/null 2>"$D/strip.err"
rc=$?
check "strip_header must be milter or mta (exit 78)" test "$rc" -eq 78
check "and says so" grep -q 'strip_header "postfix": must be milter or mta' "$D/strip.err"
under_journal "$D/nosyslog.conf" n
check "syslog = no: logs to stderr, even when it is the journal" grep -q "listening on unix:$D/n.sock" "$D/journal"
JOURNAL_STREAM=1:2 "$milter" -n -c "$D/milter.conf" -f "$policy" >/dev/null 2>"$D/other-stream"
check "but a copy when JOURNAL_STREAM names another stream" test -s "$D/other-stream"
JOURNAL_STREAM='garbage:%n;1' "$milter" -n -c "$D/milter.conf" -f "$policy" >/dev/null 2>"$D/bad-stream"
check "and when JOURNAL_STREAM is malformed" test -s "$D/bad-stream"

# Start and reload read only a finished policy file: one still being
# written is refused, and the old policy stays (the status file tells).
mkdir "$D/st" && chown nobody "$D/st"
printf 'stats_file = %s\nstats_interval = 0\naudit_log = none\n' "$D/st/status" >"$D/reload.conf"
cp "$policy" "$D/live.policy"
"$milter" -F -c "$D/reload.conf" -u nobody -p "unix:$D/r.sock" -f "$D/live.policy" >"$D/reload.log" 2>&1 &
pid=$!
wait_for test -S "$D/r.sock"
# min_version=TLSv1 is TLSv1.3 cut short: valid on its own, a weaker rule.
{ cat "$policy"; printf 'sender:cut.example        require   min_version=TLSv1'; } >"$D/live.policy"
kill -USR1 "$pid"
check "a reload refuses a policy whose last line has no newline" \
	wait_for grep -q "live.policy: last line has no newline: still being written?" "$D/reload.log"
check "and keeps the old policy (status: generation 1, reloads_failed=1)" \
	wait_for grep -qx "reloads_failed=1" "$D/st/status"
check "  generation 1 in force" grep -qx "policy_generation=1" "$D/st/status"
cp "$policy" "$D/live.policy"
# One process, every 10 ms, ahead of others (nice -10, we are root): no
# 200 ms without a change even on a busy machine; the signal goes once it
# has started.
nice -n -10 python3 -c 'import os, sys, time
os.utime(sys.argv[1]); open(sys.argv[2], "w").close()
while True:
    time.sleep(0.01); os.utime(sys.argv[1])' "$D/live.policy" "$D/touching" &
toucher=$!
wait_for test -e "$D/touching"
kill -USR1 "$pid"
check "a reload refuses a policy whose time keeps changing" \
	wait_for grep -q "live.policy: still changing after" "$D/reload.log"
check "and keeps the old policy (reloads_failed=2)" wait_for grep -qx "reloads_failed=2" "$D/st/status"
check "  generation 1 in force" grep -qx "policy_generation=1" "$D/st/status"
kill "$toucher"
wait "$toucher" 2>/dev/null
toucher=
kill -USR1 "$pid"
check "a finished file then reloads (generation 2)" \
	wait_for grep -qx "policy_generation=2" "$D/st/status"
# Included files are one policy with it: an error in one, or one still
# being written, keeps the old policy.
mkdir "$D/live.d"
printf 'dest:bank.example require verify=yes\ndest:cut.example require min_version=TLSv1' >"$D/live.d/a.policy"
chmod -R a+rX "$D/live.d"
{ cat "$policy"; printf 'include live.d/*.policy\n'; } >"$D/live.policy"
kill -USR1 "$pid"
check "a reload refuses an included file whose last line has no newline" \
	wait_for grep -q "live.d/a.policy: last line has no newline: still being written?" "$D/reload.log"
check "and keeps the old policy (reloads_failed=3)" wait_for grep -qx "reloads_failed=3" "$D/st/status"
printf 'dest:bank.example exempt\n' >"$D/live.d/a.policy"
kill -USR1 "$pid"
check "a reload refuses an error in an included file, at its FILE:LINE" \
	wait_for grep -q "live.d/a.policy:1: dest:bank.example: exempt is not allowed" "$D/reload.log"
check "and keeps the old policy (reloads_failed=4, generation 2)" \
	wait_for grep -qx "reloads_failed=4" "$D/st/status"
check "  generation 2 in force" grep -qx "policy_generation=2" "$D/st/status"
printf 'dest:bank.example require verify=yes\n' >"$D/live.d/a.policy"
kill -USR1 "$pid"
check "the set of files then reloads (generation 3)" \
	wait_for grep -qx "policy_generation=3" "$D/st/status"
kill -TERM "$pid"
wait "$pid"
pid=
printf 'default prefer' >"$D/nonl.policy"
"$milter" -n -c "$D/milter.conf" -f "$D/nonl.policy" >/dev/null 2>"$D/nonl.err"
rc=$?
check "start-up refuses a policy whose last line has no newline (exit 78)" test "$rc" -eq 78
check "and says so" grep -q "nonl.policy: last line has no newline" "$D/nonl.err"
echo "daemon: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
