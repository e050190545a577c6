#!/bin/sh
# Install every Debian 12 package that building, testing and the demo need
# (clang and libclang-rt-14-dev, libFuzzer's runtime: tests/fuzz/run.sh).
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
	libidn2-dev libunistring-dev \
	libunbound-dev libcurl4-openssl-dev dns-root-data nsd ldnsutils \
	postfix swaks openssl libnet-ssleay-perl libio-socket-ssl-perl \
	python3 valgrind procps ca-certificates util-linux \
	clang libclang-rt-14-dev
# Sendmail for its end-to-end tests: its package would remove Postfix, so it
# is unpacked under /opt/sendmail with only the libraries it needs.
bash "$(dirname "$0")/../tests/e2e/install-sendmail.sh"
