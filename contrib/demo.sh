#!/bin/bash
# The demo, from a fresh clone on Debian 12, as root:
#   installs the packages (skip with NO_INSTALL=1), builds, starts a private
#   Postfix on 127.0.0.1 with tlspolicy-milter and contrib/policy.example,
#   sends mail in plaintext, over STARTTLS and over implicit TLS, shows what
#   was decided for each and where the records are, and stops everything.
# Nothing listens beyond 127.0.0.1 and nothing leaves the machine: Postfix
# relays to a local sink.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run as root (it starts a private Postfix)" >&2
	exit 1
fi
[ "${NO_INSTALL:-0}" = 1 ] || sh contrib/install-deps.sh
echo "==== building"
./autogen.sh >/dev/null 2>&1
mkdir -p _build-demo
(cd _build-demo && { [ -f Makefile ] || ../configure >/dev/null; } && make -j"$(nproc)" >/dev/null)

. tests/e2e/postfix-lib.sh
W=$(mktemp -d /var/tmp/tlspolicy-demo.XXXXXX)
milter_pid=
stop_all() {
	[ -n "$milter_pid" ] && kill "$milter_pid" 2>/dev/null && wait "$milter_pid" 2>/dev/null
	pf_stop
}
trap stop_all EXIT
trap 'exit 130' INT TERM

port=$(pf_free_port)
pf_setup "$W" "inet:127.0.0.1:$port" >/dev/null
cp contrib/policy.example "$W/policy.conf"
printf 'hostname = mx.e2e.test\nallow_root = yes\naudit_log = %s\nstats_file = %s\n' \
	"$W/audit.jsonl" "$W/status" > "$W/milter.conf"
_build-demo/milter/tlspolicy-milter -F -p "inet:$port@127.0.0.1" -c "$W/milter.conf" \
	-f "$W/policy.conf" >"$W/milter.log" 2>&1 &
milter_pid=$!
pf_wait_listen "$port" 10
pf_start >/dev/null
echo "==== Postfix on 127.0.0.1:$PF_PORT_STARTTLS (STARTTLS) and :$PF_PORT_IMPLICIT (implicit TLS),"
echo "     tlspolicy-milter on 127.0.0.1:$port with the policy contrib/policy.example"

# scenario TITLE CLIENT-FUNCTION [ARGS...]: send, then show reply, decision, header
scenario() {
	local title=$1; shift
	printf '\n#### %s\n' "$title"
	"$@" >/dev/null 2>&1 || true
	echo "  SMTP replies to the client:"
	grep -E '^ *<[-~*]+ +[2-5][0-9][0-9] [245][.][0-9]+[.][0-9]+' "$PF_LAST_TRANSCRIPT" \
		| grep -v ' 221 ' | sed 's/^ */    /'
	sleep 0.5
	echo "  milter's decision (syslog line, abridged):"
	tail -n 3 "$W/milter.log" | grep -F 'session=' | tail -n 1 \
		| grep -oE '(tls|via|sender|rcpt|level|result|action|testing|decided_by|reason|outcome)=("[^"]*"|[^ ]*)' \
		| sed 's/^/    /'
	if pf_wait_sink "X-E2E-Id: $PF_LAST_ID" 5 >/dev/null 2>&1; then
		echo "  delivered, with the header:"
		grep -i '^X-TLS-Policy:' "$(pf_sink_file_for "X-E2E-Id: $PF_LAST_ID")" | sed 's/^/    /'
	else
		echo "  not delivered"
	fi
}

scenario "1. The bank partner (sender:bank.example require) in plaintext" \
	pf_swaks_plain -- --from alice@bank.example --to bob@example.org
scenario "2. The same over STARTTLS" \
	pf_swaks_starttls -- --from alice@bank.example --to bob@example.org
scenario "3. The same over implicit TLS (port-465 style)" \
	pf_swaks_implicit -- --from alice@bank.example --to bob@example.org
scenario "4. Anyone else in plaintext (default prefer: accepted, recorded as unmet)" \
	pf_swaks_plain -- --from carol@elsewhere.example --to bob@example.org
scenario "5. A new partner in testing mode: would have been rejected" \
	pf_swaks_plain -- --from dave@new.example --to bob@example.org
scenario "6. Plaintext to postmaster (exempt) from the bank partner" \
	pf_swaks_plain -- --from alice@bank.example --to postmaster@example.org

cat <<END

==== records
  milter decisions (one key=value line per recipient): $W/milter.log
  audit log (one JSON record per message):              $W/audit.jsonl
  Postfix log:                                          $PF_LOG_FILE
  delivered messages (the sink):                        $PF_SINK_DIR
  explain any decision offline, e.g.:
    _build-demo/ctl/tlspolicyctl explain -f contrib/policy.example \\
        --client 127.0.0.1 --sender alice@bank.example --rcpt bob@example.org
==== stopping Postfix and the milter
END
