#!/bin/bash
# tests/e2e/install-sendmail.sh -- make a Sendmail binary available for the
# end-to-end tests (tests/e2e/sendmail-lib.sh, tests/e2e/t-sendmail.sh)
# WITHOUT installing the sendmail packages.
#
# Why: `sendmail-bin` Conflicts: mail-transport-agent, so installing it with
# apt/dpkg removes Postfix (which the Postfix tests need).  Instead this
# script downloads the sendmail-bin and sendmail-cf .debs with
# `apt-get download`, unpacks them with `dpkg-deb -x` into SENDMAIL_ROOT
# (default /opt/sendmail; nothing is registered with dpkg, no maintainer
# script runs, nothing outside SENDMAIL_ROOT is written except the runtime
# libraries below), and installs only the shared libraries the binary needs
# plus m4 (to build a .cf from a .mc).
#
#   Binary:     $SENDMAIL_ROOT/usr/libexec/sendmail/sendmail
#   cf macros:  $SENDMAIL_ROOT/usr/share/sendmail/cf/m4/cf.m4
#   help file:  $SENDMAIL_ROOT/etc/mail/helpfile
#
# Idempotent: if the unpacked tree is there, of the candidate version (or of
# any version when apt cannot tell), and `ldd` finds every library, it does
# nothing (no network, no apt).  Never removes a package: the library install
# is simulated first and refused if apt would remove anything (e.g. postfix).
# Retries when another process holds the dpkg/apt lock.
#
# Usage (root):  tests/e2e/install-sendmail.sh [--force]
#   --force        unpack again even if already installed
# Environment:     SENDMAIL_ROOT (default /opt/sendmail)
#                  APT_LOCK_WAIT seconds to wait for the apt lock (default 300)
# Exit status:     0 installed/already there, 1 failure (message on stderr).
#
# Works on Debian 12 (sendmail 8.17.1.9); the library list is the
# sendmail-bin dependency list minus what a Postfix machine already has.
set -u

SENDMAIL_ROOT=${SENDMAIL_ROOT:-/opt/sendmail}
SM_BIN=$SENDMAIL_ROOT/usr/libexec/sendmail/sendmail
CF_M4=$SENDMAIL_ROOT/usr/share/sendmail/cf/m4/cf.m4
STAMP=$SENDMAIL_ROOT/.tlspolicy-e2e-installed
LIBS="m4 libdb5.3 libldap-2.5-0 liblockfile1 libnsl2 libsasl2-2 libwrap0"
LOCK_WAIT=${APT_LOCK_WAIT:-300}
FORCE=0
[ "${1:-}" = --force ] && FORCE=1

say() { printf 'install-sendmail: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 ||
    die "needs apt-get and dpkg-deb (Debian/Ubuntu)"

export DEBIAN_FRONTEND=noninteractive

# apt_retry CMD...: run an apt command, retrying while the dpkg/apt lock is
# held by someone else (other processes on the machine use apt too).
apt_retry() {
    local start out rc
    start=$(date +%s)
    while :; do
        out=$("$@" 2>&1); rc=$?
        if [ "$rc" -eq 0 ]; then printf '%s\n' "$out"; return 0; fi
        if printf '%s\n' "$out" | grep -qiE 'could not get lock|unable to acquire|lock-frontend|is another process using it|Unable to lock'; then
            if [ $(( $(date +%s) - start )) -ge "$LOCK_WAIT" ]; then
                printf '%s\n' "$out" >&2; say "apt lock still held after ${LOCK_WAIT}s"; return "$rc"
            fi
            sleep 3
            continue
        fi
        printf '%s\n' "$out" >&2
        return "$rc"
    done
}

# missing_libs: print the libraries ldd cannot find (empty = all there).
missing_libs() {
    ldd "$SM_BIN" 2>/dev/null | awk '/not found/ {print $1}'
}

candidate_version() {
    apt-cache policy sendmail-bin 2>/dev/null | awk '/Candidate:/ {print $2; exit}'
}

libs_missing_pkgs() {
    local p miss=""
    for p in $LIBS; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || miss="$miss $p"
    done
    printf '%s\n' "${miss# }"
}

already_installed() {
    [ -x "$SM_BIN" ] && [ -f "$CF_M4" ] && [ -f "$STAMP" ] || return 1
    [ -z "$(libs_missing_pkgs)" ] || return 1
    [ -z "$(missing_libs)" ] || return 1
    command -v m4 >/dev/null 2>&1 || return 1
    local have want
    have=$(cat "$STAMP" 2>/dev/null)
    want=$(candidate_version)
    # apt lists missing or no candidate: accept what is there.
    [ -z "$want" ] || [ "$want" = "(none)" ] || [ "$have" = "$want" ]
}

if [ "$FORCE" = 0 ] && already_installed; then
    say "sendmail $(cat "$STAMP") already unpacked in $SENDMAIL_ROOT"
    exit 0
fi

# 1. Package lists (apt-get download/install need them; a fresh machine has none).
if [ -z "$(candidate_version)" ] || [ "$(candidate_version)" = "(none)" ]; then
    apt_retry apt-get update >/dev/null || die "apt-get update failed"
fi
ver=$(candidate_version)
[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no sendmail-bin package known to apt"

# 2. Runtime libraries, never removing anything.
miss=$(libs_missing_pkgs)
if [ -n "$miss" ]; then
    # shellcheck disable=SC2086
    sim=$(apt_retry apt-get install -s -y --no-install-recommends $miss) || die "apt-get install -s $miss failed"
    if printf '%s\n' "$sim" | grep -q '^Remv '; then
        printf '%s\n' "$sim" | grep '^Remv ' >&2
        die "installing $miss would remove packages: refused"
    fi
    # shellcheck disable=SC2086
    apt_retry apt-get install -y --no-install-recommends $miss >/dev/null ||
        die "apt-get install $miss failed"
fi

# 3. Download and unpack the two .debs (no dpkg database change).
tmp=$(mktemp -d /var/tmp/install-sendmail.XXXXXX) || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"   # apt's _apt user downloads into it
(cd "$tmp" && apt_retry apt-get download "sendmail-bin=$ver" "sendmail-cf=$ver" >/dev/null) ||
    die "apt-get download sendmail-bin sendmail-cf failed"
mkdir -p "$SENDMAIL_ROOT" || die "cannot create $SENDMAIL_ROOT"
for deb in "$tmp"/sendmail-bin_*.deb "$tmp"/sendmail-cf_*.deb; do
    [ -f "$deb" ] || die "download produced no $deb"
    dpkg-deb -x "$deb" "$SENDMAIL_ROOT" || die "dpkg-deb -x $deb failed"
done
# Sendmail refuses files under group/world-writable directories: keep the
# tree 755 whatever the umask was.
chmod 755 "$SENDMAIL_ROOT"

[ -x "$SM_BIN" ] || die "no $SM_BIN after unpacking"
[ -f "$CF_M4" ] || die "no $CF_M4 after unpacking"
m=$(missing_libs)
[ -z "$m" ] || die "libraries still missing for $SM_BIN: $m"
command -v m4 >/dev/null 2>&1 || die "m4 not installed"
printf '%s\n' "$ver" >"$STAMP"
say "sendmail $ver unpacked in $SENDMAIL_ROOT ($SM_BIN)"
exit 0
