#!/bin/sh
# "make install" into a DESTDIR, checked: every file where an admin expects
# it, the installed programs run and accept the installed configuration,
# an admin's own configuration survives a second install, and uninstall
# removes what install put there. Run from a configured build directory:
#   sh tests/test-install.sh [BUILDDIR]
set -u
build=${1:-.}
dest=$(mktemp -d /tmp/tlspolicy-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT
passed=0
failed=0
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "ok   $name";
	else failed=$((failed + 1)); echo "FAIL $name"; fi; }

make -C "$build" install DESTDIR="$dest" >"$dest.log" 2>&1 || { cat "$dest.log"; echo "0 passed, 1 failed"; exit 1; }
prefix=$(sed -n 's/^prefix = //p' "$build/Makefile")
sysconfdir=$(sed -n 's/^sysconfdir = //p' "$build/Makefile" | sed "s|\${prefix}|$prefix|")
datarootdir=$(sed -n 's/^datarootdir = //p' "$build/Makefile" | sed "s|\${prefix}|$prefix|")
mandir="$datarootdir/man"
docdir="$datarootdir/doc/tlspolicy"
p=$dest$prefix

check "daemon installed in sbin" test -x "$p/sbin/tlspolicy-milter"
check "tlspolicyctl installed in sbin" test -x "$p/sbin/tlspolicyctl"
for m in man8/tlspolicy-milter.8 man8/tlspolicyctl.8 man5/tlspolicy.policy.5 man5/tlspolicy-milter.conf.5; do
	check "man page $m" test -s "$dest$mandir/$m"
done
check "sample policy installed as the policy" test -s "$dest$sysconfdir/tlspolicy/policy.conf"
check "sample config installed" test -s "$dest$sysconfdir/tlspolicy/tlspolicy-milter.conf"
for f in policy.example tlspolicy-milter.conf main.cf.snippet master.cf.snippet tlspolicy-milter.service tlspolicy tlspolicy.mc \
	tlspolicy.rules.yml; do
	check "example $f" test -s "$dest$docdir/examples/$f"
done
check "README installed" test -s "$dest$docdir/README.md"
check "installed daemon runs" "$p/sbin/tlspolicy-milter" --version
check "installed tlspolicyctl accepts the installed policy" \
	"$p/sbin/tlspolicyctl" check -f "$dest$sysconfdir/tlspolicy/policy.conf"
check "installed daemon accepts the installed config and policy" \
	"$p/sbin/tlspolicy-milter" -n -c "$dest$sysconfdir/tlspolicy/tlspolicy-milter.conf" \
	-f "$dest$sysconfdir/tlspolicy/policy.conf"
echo "default prefer  # mine" > "$dest$sysconfdir/tlspolicy/policy.conf"
make -C "$build" install DESTDIR="$dest" >"$dest.log" 2>&1
check "a second install keeps the admin's policy" grep -q "# mine" "$dest$sysconfdir/tlspolicy/policy.conf"
make -C "$build" uninstall DESTDIR="$dest" >"$dest.log" 2>&1
check "uninstall removes the programs" test ! -e "$p/sbin/tlspolicy-milter"
check "uninstall keeps the admin's changed policy" test -s "$dest$sysconfdir/tlspolicy/policy.conf"
rm -f "$dest.log"
echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
