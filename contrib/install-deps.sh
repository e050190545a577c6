#!/bin/sh
# Install every Debian 12 package that building, testing and the demo need
# (clang and libclang-rt-14-dev, libFuzzer's runtime: tests/fuzz/run.sh;
# debhelper, which brings dh-autoreconf, lintian and logrotate:
# tests/test-deb.sh).
# nsd and ldnsutils: the signed test zone of tests/dns/ (NSD runs only as
# the tests start it; its system service, if started, serves no zone).
# Run as root. Safe to run again. Used by tests/run-all.sh, contrib/demo.sh
# and .ci/run, so that a fresh machine needs nothing installed by hand.
set -eu
export DEBIAN_FRONTEND=noninteractive
# Postfix's package asks how to configure the system mailer: "No
# configuration" leaves the system alone; the tests run private instances.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends \
	build-essential autoconf automake autoconf-archive pkg-config \
	libmilter-dev libssl-dev check libjson-c-dev zlib1g-dev \
	libidn2-dev libunistring-dev libgmime-3.0-dev \
	libunbound-dev libcurl4-openssl-dev dns-root-data nsd ldnsutils \
	postfix swaks openssl libnet-ssleay-perl libio-socket-ssl-perl \
	python3 valgrind procps ca-certificates util-linux \
	clang libclang-rt-14-dev \
	debhelper lintian adduser logrotate \
	chromium
# promtool checks the metrics and the alert rules (tests/test-daemon.sh,
# tests/test-prometheus.sh). It comes only with the prometheus server, which
# is not to run here: no service starts during the install (policy-rc.d, if
# the machine has none) and none is left running under systemd.
if ! command -v promtool >/dev/null; then
	guard=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		guard=/usr/sbin/policy-rc.d
		trap 'rm -f "$guard"' EXIT
		printf '#!/bin/sh\nexit 101\n' >"$guard" && chmod 755 "$guard"
	fi
	apt-get install -y -q --no-install-recommends prometheus
	[ -z "$guard" ] || rm -f "$guard"
	if [ -d /run/systemd/system ]; then
		systemctl disable --now prometheus.service || true
	fi
fi
# Sendmail for its end-to-end tests: its package would remove Postfix, so it
# is unpacked under /opt/sendmail with only the libraries it needs.
bash "$(dirname "$0")/../tests/e2e/install-sendmail.sh"
