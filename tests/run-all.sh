#!/bin/sh
# The whole test suite, from a fresh clone on Debian 12, as root:
#   1. install the packages (contrib/install-deps.sh; skip with NO_INSTALL=1)
#   2. build with -Werror and run "make check" (layering, unit tests,
#      tlspolicyctl and its commands, the daemon, end-to-end tests against a
#      real Postfix and a real Sendmail, the recipient-form suite,
#      early_events = no, export to outbound MTAs, the probe against Postfix
#      instances, DNS/DANE/MTA-STS against a signed test zone, the report
#      page in headless Chromium, Postfix's log after failed handshakes)
#   3. rebuild with AddressSanitizer + UBSan; run the unit tests, the
#      command tests, the DNS tests and the Postfix and Sendmail end-to-end
#      tests again with that build
#   4. run the unit tests under ThreadSanitizer, then under valgrind; the
#      short load and fault test through Postfix (make load-fault-short)
#   5. "make install" into a DESTDIR, checked (tests/test-install.sh); the
#      Debian package built, checked by lintian, installed, run with Postfix,
#      removed and purged (tests/test-deb.sh)
#   6. "make distcheck"
#   7. fuzz every libFuzzer target for 40 s (tests/fuzz/run.sh; clang)
# Build trees go to _build-*/ in the source tree. Exit status 0 when all passed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

step() { printf '\n==== %s\n' "$*"; }

if [ "${NO_INSTALL:-0}" != 1 ]; then
	step "installing packages"
	sh contrib/install-deps.sh
fi

step "autogen"
./autogen.sh

step "build with -Werror, make check"
rm -rf _build-check && mkdir _build-check && cd _build-check
../configure --enable-werror --enable-tests >/dev/null
make -j"$jobs"
make -j"$jobs" check || { cat tests/*.log; exit 1; }
cd "$top"

step "AddressSanitizer + UBSan: unit tests, tlspolicyctl, the milter against Postfix"
rm -rf _build-asan && mkdir _build-asan && cd _build-asan
../configure --enable-werror --enable-tests --enable-sanitizers >/dev/null
make -j"$jobs" tests/check_tlspolicy ctl/tlspolicyctl milter/tlspolicy-milter tests/dns/dns-tool
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
CK_FORK=no srcdir=.. ./tests/check_tlspolicy
srcdir=.. top_builddir=. sh ../tests/test-tlspolicyctl.sh
srcdir=.. top_builddir=. bash ../tests/test-export.sh
srcdir=.. top_builddir=. sh ../tests/test-import.sh
srcdir=.. top_builddir=. bash ../tests/dns/t-dns.sh
srcdir=.. top_builddir=. bash ../tests/e2e/t-postfix.sh
srcdir=.. top_builddir=. bash ../tests/e2e/t-sendmail.sh
unset ASAN_OPTIONS UBSAN_OPTIONS
cd "$top"

step "ThreadSanitizer: unit tests (reload while deciding, audit writer)"
rm -rf _build-tsan && mkdir _build-tsan && cd _build-tsan
../configure --enable-werror --enable-tests --enable-tsan --disable-e2e >/dev/null
make -j"$jobs" tests/check_tlspolicy
CK_FORK=no TSAN_OPTIONS=halt_on_error=1 srcdir=.. ./tests/check_tlspolicy
make -j"$jobs" milter/tlspolicy-milter
cd "$top"

step "load and faults through Postfix, short (bench/run-load-fault.sh; TSan milter from _build-tsan)"
cd _build-check
TSAN_MILTER="$top/_build-tsan/milter/tlspolicy-milter" make load-fault-short
cd "$top"

step "valgrind: unit tests"
CK_FORK=no srcdir=. valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
	./_build-check/tests/check_tlspolicy

step "make install into a DESTDIR"
sh tests/test-install.sh _build-check

step "Debian package: make deb, lintian, dpkg -i, the daemon with Postfix, dpkg -r, dpkg -P"
bash tests/test-deb.sh _build-check

step "make distcheck"
cd _build-check
make -j"$jobs" distcheck >distcheck.out 2>&1 || { tail -50 distcheck.out; exit 1; }
tail -4 distcheck.out
cd "$top"

step "fuzzing: each target of tests/fuzz/ for 40 s"
sh tests/fuzz/run.sh 40
step "all tests passed"
