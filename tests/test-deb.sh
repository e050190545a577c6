#!/bin/bash
# tests/test-deb.sh BUILDDIR -- the Debian package, end to end, on Debian 12
# as root: "make deb" in a configured BUILDDIR, lintian (no error, and no
# warning the README does not list), dpkg -i (then apt-get -f install),
# "tlspolicy-milter -n" on the installed configuration, the installed
# daemon started as the unit starts it (ExecStartPre, ExecStart, User,
# Group, RuntimeDirectory read from the installed unit; no systemd here)
# with a private Postfix (tests/e2e/postfix-lib.sh) on its default socket,
# one message through it, then dpkg -r (an edited conffile survives) and
# dpkg -P (only the user and group remain, README.Debian says why).
#
# It installs the package system-wide, so it is not part of "make check";
# tests/run-all.sh runs it as a step of its own. It refuses to run where
# tlspolicy-milter is installed or /etc/tlspolicy exists, and purges the
# package and stops what it started on every exit. DEB_BUILD_OPTIONS
# defaults to "nocheck noddebs parallel=NPROC" (the unit tests ran in the
# build tree already).
set -u
build=$(cd "${1:?usage: $0 BUILDDIR}" && pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)
pkg=tlspolicy-milter
passed=0
failed=0
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "ok   $name";
	else failed=$((failed + 1)); echo "FAIL $name"; fi; }
phase() { printf '== %s (%ss)\n' "$*" "$SECONDS"; }
die() { echo "FAIL $*"; echo "deb: $passed passed, $((failed + 1)) failed"; exit 1; }
installed() { [ "$(dpkg-query -W -f '${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ]; }
known() { dpkg-query -W -f '${db:Status-Status}\n' "$pkg" 2>/dev/null | grep -qvx not-installed; }
gone() { ! known; }
removed() { ! installed; }

[ "$(id -u)" -eq 0 ] || die "needs root (dpkg -i)"
known && die "$pkg is already on this machine: this test would purge it"
[ -e /etc/tlspolicy ] && die "/etc/tlspolicy exists: this test would remove it"

. "$srcdir/tests/e2e/postfix-lib.sh"
W=$(mktemp -d /var/tmp/tlspolicy-deb.XXXXXX)
milter_pid=
postfix_joined=
cleanup() {
	[ -n "$milter_pid" ] && e2e__stop_pid "$milter_pid" 50
	pf_stop
	[ -n "$postfix_joined" ] && gpasswd -d postfix tlspolicy >/dev/null 2>&1
	known && dpkg -P "$pkg" >/dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build and lintian ----------------------------------------------------
phase build
export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-nocheck noddebs parallel=$(nproc)}
rm -f "$build"/${pkg}_*.deb "$build"/tlspolicy_*.changes "$build"/tlspolicy_*.buildinfo
make -C "$build" deb >"$W/build.log" 2>&1 || { tail -40 "$W/build.log"; die "make deb"; }
version=$(dpkg-parsechangelog -l "$srcdir/debian/changelog" -S Version)
deb=$(echo "$build/${pkg}_${version}_"*.deb)
check "make deb built $pkg $version" test -f "$deb"
check "debian/changelog's version is configure's" \
	grep -qx "PACKAGE_VERSION = $version" "$build/Makefile"
[ -f "$deb" ] || die "no package to test"
# Every warning lintian gives must be one the README lists, with why it stays.
phase lintian
lintian --tag-display-limit 0 "$build"/tlspolicy_"$version"_*.changes >"$W/lintian.out" 2>&1
check "lintian: no error" sh -c "! grep -q '^E: ' '$W/lintian.out'"
unlisted=
for tag in $(sed -n 's/^W: [^:]*: \([^ ]*\).*/\1/p' "$W/lintian.out" | sort -u); do
	grep -q "^| \`$tag\` |" "$srcdir/README.md" || unlisted="$unlisted $tag"
done
check "lintian: every warning is listed in the README${unlisted:+ (not:$unlisted)}" test -z "$unlisted"
grep -E '^[EW]: ' "$W/lintian.out"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$W/conffiles"
for f in /etc/tlspolicy/policy.conf /etc/tlspolicy/tlspolicy-milter.conf /etc/logrotate.d/tlspolicy; do
	check "conffile $f" grep -qx "$f" "$W/conffiles"
done

# ---- install --------------------------------------------------------------
phase install
nosystemd=
[ -d /run/systemd/system ] || nosystemd=1
if ! dpkg -i "$deb" >"$W/install.log" 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get -f install -y -q >>"$W/install.log" 2>&1
fi
# "installed" means configured: the postinst did not fail.
check "dpkg -i (+ apt-get -f install): installed${nosystemd:+, with no systemd running}" installed
installed || { cat "$W/install.log"; die "not installed"; }
for f in /usr/sbin/tlspolicy-milter /usr/sbin/tlspolicyctl; do
	check "program $f" test -x "$f"
done
for m in man8/tlspolicy-milter.8 man8/tlspolicyctl.8 man5/tlspolicy.policy.5 man5/tlspolicy-milter.conf.5; do
	check "man page $m" test -s "/usr/share/man/$m.gz"
done
check "the systemd unit" test -s /lib/systemd/system/$pkg.service
check "the unit is enabled (deb-systemd-helper, no systemd running)" \
	test -L /etc/systemd/system/multi-user.target.wants/$pkg.service
check "examples" test -s /usr/share/doc/$pkg/examples/main.cf.snippet
check "system user tlspolicy" sh -c 'uid=$(id -u tlspolicy) && [ "$uid" -lt 1000 ]'
check "system group tlspolicy" getent group tlspolicy
for d in /var/lib/tlspolicy /var/log/tlspolicy; do
	check "$d owned by tlspolicy, mode 750" \
		test "$(stat -c '%U:%G %a' "$d")" = "tlspolicy:tlspolicy 750"
done

# ---- run it as the unit does ---------------------------------------------
phase run
unit=/lib/systemd/system/$pkg.service
unitval() { sed -n "s/^$1=//p" "$unit"; }
user=$(unitval User)
group=$(unitval Group)
rundir=/run/$(unitval RuntimeDirectory)
# User= and Group= as systemd applies them; setpriv execs the command.
as_unit_user=(setpriv --reuid="$user" --regid="$group" --init-groups --)
install -d -o "$user" -g "$group" -m "$(unitval RuntimeDirectoryMode)" "$rundir"
# shellcheck disable=SC2046  # the unit's command line, split as systemd does
check "ExecStartPre (tlspolicy-milter -n) as $user on the installed config" \
	"${as_unit_user[@]}" $(unitval ExecStartPre)
# The README's step for the MTA: join the daemon's group.
if ! id -nG postfix | grep -qw tlspolicy; then
	adduser --quiet postfix tlspolicy && postfix_joined=1
fi
sock=unix:$rundir/tlspolicy.sock	# the default (tlspolicy-milter.conf(5))
pf_setup "$W" "$sock" >"$W/pf.log" 2>&1 || die "pf_setup"
# shellcheck disable=SC2046  # $! is the daemon's pid (setpriv execs it)
"${as_unit_user[@]}" $(unitval ExecStart) >"$W/milter.out" 2>"$W/milter.err" &
milter_pid=$!
check "the daemon listens on ${sock#unix:}" pf_wait_listen "$sock" 10
check "it runs as $user" test "$(stat -c %U "/proc/$milter_pid")" = "$user"
check "the socket is mode 660, group $group" \
	test "$(stat -c '%a %G' "${sock#unix:}")" = "660 $group"
pf_start >>"$W/pf.log" 2>&1 || { cat "$W/pf.log"; die "pf_start"; }
pf_swaks_starttls >/dev/null
check "a message over STARTTLS is accepted" test "$PF_LAST_RC" -eq 0
pf_wait_queue_empty 20 >/dev/null
delivered() { f=$(pf_sink_file_for "$PF_LAST_ID") && grep -q "^X-TLS-Policy: .*via=starttls" "$f"; }
check "it is delivered with the milter's header" delivered
audit=/var/log/tlspolicy/audit.jsonl
check "the audit log records it" e2e__poll 10 grep -q "\"queue_id\":\"$PF_LAST_QUEUEID\"" "$audit"
check "the audit log is owned by $user" test "$(stat -c %U "$audit")" = "$user"
# -d: parse and decide only; no rotation, no postrotate signal (which
# would reach every tlspolicy-milter on this machine).
check "logrotate takes the packaged file and /var/log/tlspolicy (debug run)" \
	logrotate -d -f -s "$W/logrotate.state" /etc/logrotate.d/tlspolicy
# ExecReload as systemd runs it, $MAINPID filled in: SIGUSR1 reloads.
# shellcheck disable=SC2046
check "ExecReload runs" $(unitval ExecReload | sed "s/\$MAINPID/$milter_pid/")
check "and the daemon reloads its policy" e2e__poll 10 grep -q "generation 2 in force" "$W/milter.err"
stopped() { ! e2e__alive "$milter_pid"; }
kill -TERM "$milter_pid"
e2e__poll 5 stopped
check "the daemon stops on SIGTERM (by pid)" stopped
e2e__stop_pid "$milter_pid" 1
wait "$milter_pid"
check "with exit status 0" test $? -eq 0
milter_pid=
check "and removes its socket" test ! -e "${sock#unix:}"
pf_stop
[ -n "$postfix_joined" ] && gpasswd -d postfix tlspolicy >/dev/null && postfix_joined=

# ---- remove and purge ----------------------------------------------------
phase remove and purge
echo "# edited by test-deb.sh" >>/etc/tlspolicy/policy.conf
dpkg -r "$pkg" >"$W/remove.log" 2>&1
check "dpkg -r" removed
check "dpkg -r removes the programs" test ! -e /usr/sbin/tlspolicy-milter
check "dpkg -r keeps the edited conffile" grep -q "edited by test-deb.sh" /etc/tlspolicy/policy.conf
check "dpkg -r keeps the other conffile" test -s /etc/tlspolicy/tlspolicy-milter.conf
check "dpkg -r keeps the audit log" test -s "$audit"
dpkg -P "$pkg" >"$W/purge.log" 2>&1
check "dpkg -P" gone
for p in /etc/tlspolicy /etc/logrotate.d/tlspolicy /var/lib/tlspolicy /var/log/tlspolicy "$rundir" \
	/lib/systemd/system/$pkg.service /etc/systemd/system/multi-user.target.wants/$pkg.service \
	/usr/share/doc/$pkg; do
	check "dpkg -P leaves no $p" test ! -e "$p"
done
check "dpkg -P keeps the system user and group (README.Debian)" \
	sh -c 'getent passwd tlspolicy && getent group tlspolicy'
phase finished
[ "$failed" -eq 0 ] || { echo "--- the daemon's log:"; cat "$W/milter.err"; }
echo "deb: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
