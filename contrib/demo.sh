#!/bin/sh
# The demo, from a fresh clone on Debian 12, as root: install packages,
# build, and show the engine deciding real cases from contrib/policy.example.
# Set NO_INSTALL=1 to skip the package installation.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ "${NO_INSTALL:-0}" != 1 ]; then
	sh contrib/install-deps.sh
fi
./autogen.sh >/dev/null 2>&1
mkdir -p _build-demo && cd _build-demo
[ -f Makefile ] || ../configure >/dev/null
make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
ctl=./policy/tlspolicyctl
policy=../contrib/policy.example

show() {
	title=$1
	shift
	printf '\n#### %s\n$ tlspolicyctl %s\n' "$title" "$*"
	"$ctl" "$@" || true
}
show "Validate the sample policy" check -f "$policy"
show "A bank partner's mail in plaintext" explain -f "$policy" --client 203.0.113.5 \
	--sender alice@bank.example --rcpt bob@example.org
show "The same over STARTTLS with TLS 1.3" explain -f "$policy" --client 203.0.113.5 \
	--sender alice@bank.example --rcpt bob@example.org \
	--tls-version TLSv1.3 --cipher TLS_AES_256_GCM_SHA384 --bits 256
show "Legal needs 256-bit ciphers; postmaster is exempt" explain -f "$policy" \
	--client 203.0.113.5 --sender carol@elsewhere.example \
	--rcpt counsel@legal.example.org --rcpt postmaster@example.org \
	--tls-version TLSv1.2 --cipher ECDHE-RSA-AES128-GCM-SHA256 --bits 128
show "A new partner in testing mode" explain -f "$policy" --client 203.0.113.5 \
	--sender dave@new.example --rcpt bob@example.org
