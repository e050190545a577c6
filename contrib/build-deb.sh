#!/bin/sh
# contrib/build-deb.sh TARBALL [OUTDIR] -- build the Debian package
# tlspolicy-milter (debian/) from a source tarball of "make dist", in a
# directory of its own, so that nothing of a build tree in the source
# directory gets into the package. "make deb" runs it. The .deb, .buildinfo
# and .changes go to OUTDIR (default: the current directory); the build
# log is printed only if the build fails. DEB_BUILD_OPTIONS passes through
# (nocheck skips the unit tests, parallel=N). Needs the Build-Depends of
# debian/control ("apt-get build-dep ./" in the source directory).
set -eu
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 TARBALL [OUTDIR]" >&2
	exit 2
fi
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$(cd "${2:-.}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
tar -xzf "$tarball" -C "$work"
set -- "$work"/*/debian
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "$0: $tarball: no debian/ directory in it" >&2
	exit 1
fi
cd "$1/.."
if ! dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1; then
	cat "$work/build.log" >&2
	echo "$0: dpkg-buildpackage failed" >&2
	exit 1
fi
tail -n 3 "$work/build.log"
for f in "$work"/*.deb; do echo "$out/${f##*/}"; done
mv -f "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes "$out/"
