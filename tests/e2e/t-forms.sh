#!/bin/bash
# End-to-end test: a recipient protected by a `rcpt:` require rule cannot be
# reached in plaintext by writing its address differently.  A real private
# Postfix (tests/e2e/postfix-lib.sh), then a real Sendmail
# (tests/e2e/sendmail-lib.sh), set up as an inbound MX with the milter in
# front, get every form of the table below in plaintext, each in a message
# of its own, from a client outside mynetworks (the Internet, 127.0.0.2) and
# from one inside (127.0.0.1).
#
# The world (Postfix, pf_world):
#   mx.example, mx.e2e.test  mydestination (local_recipient_maps: postmaster,
#                       root; local_transport: the internal server)
#   corp.example        virtual_alias_domains: ceo@, jürgen@, info@ ->
#                       the same local part @mbox.corp.internal
#   vault.example, xn--bcher-kva.example (bücher.example), open.example
#                       relay_domains, transport_maps -> the internal server
#   mbox.corp.internal  transport_maps -> the internal server
#   the internal server and the Internet are the harness' smtp-sink
#   recipient_delimiter = + (Debian's), then +- for the rows marked so;
#   smtputf8_enable = yes; the hardening of README ("Selectors") and
#   contrib/postfix/main.cf.snippet: allow_percent_hack = no, swap_bangpath
#   = no, reject_non_fqdn_recipient and a check_recipient_access pattern
#   for "@[" in smtpd_recipient_restrictions, permit_mynetworks,
#   reject_unauth_destination.
# The policy protects the mailbox ceo@corp.example, the mailbox
# jürgen@corp.example, the domain vault.example and the IDN domain
# bücher.example with `rcpt:` require rules; info@corp.example,
# open.example and the local domain are not protected and must get their
# mail.
# Sendmail (sm_world): the same domains (LOCAL_DOMAIN, virtusertable,
# RELAY_DOMAIN), FEATURE(nopercenthack, reject) and FEATURE(nouucp, reject);
# its delimiter is "+" only (the +- rows are not sent); the harness sets
# promiscuous_relay, so both clients may relay; Debian's 8.17.1.9 has no
# SMTPUTF8 ("555 5.5.4 SMTPUTF8 parameter unrecognized"): non-ASCII forms
# are refused by Sendmail itself, as are source routes written with "@"
# ("553 5.1.3 Invalid route address").
#
# For each form, per client, three sessions:
#   1. routing: plaintext with the milter in dry run (it never blocks): the
#      MTA's own log says where it routed the recipient (Postfix: the
#      delivery's to=, relay=none meaning Postfix itself bounced it;
#      Sendmail: the recipient the internal server received), or the MTA
#      refused it at RCPT TO;
#   2. enforcement: plaintext with the milter enforcing: the RCPT reply;
#   3. rows flagged tls: the same over STARTTLS, which must be delivered.
# A form PASSes when a protected destination (tests/e2e/forms-route.py: the
# mailbox reached, case-folded, A-labels as U-labels, extension removed) is
# never reached in plaintext, and an unprotected one gets its mail, except
# the rows flagged tempfail: the engine cannot read them as one mailbox and
# tempfails them wherever a rcpt: rule could match (the safe over-match);
# that tempfail is then what is asserted.  A form the MTA refuses itself
# is a SKIP line (not counted: nothing was routed).  For Postfix and the client
# outside mynetworks the route must also be the table's (it documents what
# Postfix 3.7 does; a difference is a FAIL of its own).  Every form prints
# two lines: PASS|FAIL|SKIP, client, MTA, form; where the MTA routed it
# ([protected: yes|no|-]), the reply to RCPT TO in plaintext and what the
# engine decided (audit log: domain, result, rule).  The sessions of a pass
# are one client process (smtp-client.py --batch): on a loaded machine
# every process start counts.
#
# Run by "make check-forms" (see Makefile.am), or by hand from a build
# directory: srcdir=.. top_builddir=. ../tests/e2e/t-forms.sh; FORMS_MTA=
# postfix|sendmail runs one MTA only.  Needs root, Postfix, and Sendmail
# unpacked by tests/e2e/install-sendmail.sh (without it the Sendmail part is
# skipped, and said so).  Prints "end-to-end (recipient forms): N passed,
# M failed", exits non-zero if anything failed.  Stops everything it started.
# shellcheck disable=SC2317  # the ${MTA}_* hooks are called indirectly
set -u
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
milter_bin=$(cd "$top_builddir" && pwd)/milter/tlspolicy-milter
here=$srcdir/tests/e2e
PYTHON=${PF_PYTHON:-python3}
# shellcheck source=postfix-lib.sh
. "$here/postfix-lib.sh"
# shellcheck source=sendmail-lib.sh
. "$here/sendmail-lib.sh"
# shellcheck source=milter-checks.sh
. "$here/milter-checks.sh"
MTA_NAME="recipient forms"

# ---------------------------------------------------------------------------
# The forms.  route: where Postfix routes the form from a client outside
# mynetworks (the delivery's to=), "refused" (at RCPT TO, by Postfix itself)
# or "bounced" (accepted, then bounced by Postfix itself: relay=none);
# protected: whether that route is a protected destination ("-": none is
# reached); flags: tls (also sent over STARTTLS), tempfail (the engine
# tempfails it by design), overmatch (refused by design although the MTA
# routes it to an unprotected place: one reading of it is protected, and the
# engine cannot know which domains are the MTA's own), delim=+- (sent with
# recipient_delimiter = +-, the milter's and Postfix's alike).
FORMS=$(cat <<'TABLE'
# form                                  | route                            | protected | flags
# -- as written in the policy, and the unprotected ones
ceo@corp.example                        | ceo@mbox.corp.internal           | yes | tls
info@corp.example                       | info@mbox.corp.internal          | no  |
ceo@vault.example                       | ceo@vault.example                | yes | tls
ceo@open.example                        | ceo@open.example                 | no  |
postmaster@mx.example                   | postmaster@mx.example            | no  |
ceo@xn--bcher-kva.example               | ceo@xn--bcher-kva.example        | yes | tls
ceo@bücher.example                      | refused                          | -   |
# -- case, ASCII and beyond
CEO@Corp.Example                        | ceo@mbox.corp.internal           | yes |
ceo@VAULT.EXAMPLE                       | ceo@VAULT.EXAMPLE                | yes |
INFO@CORP.EXAMPLE                       | info@mbox.corp.internal          | no  |
postmaster@MX.EXAMPLE                   | postmaster@MX.EXAMPLE            | no  |
ceo@XN--BCHER-KVA.example               | ceo@XN--BCHER-KVA.example        | yes |
ceo@BÜCHER.example                      | refused                          | -   |
jürgen@corp.example                     | jürgen@mbox.corp.internal        | yes |
JÜRGEN@corp.example                     | jürgen@mbox.corp.internal        | yes | tls
Jürgen@Corp.Example                     | jürgen@mbox.corp.internal        | yes |
# -- trailing dots
ceo@corp.example.                       | ceo@mbox.corp.internal           | yes |
ceo@vault.example.                      | ceo@vault.example                | yes |
ceo@xn--bcher-kva.example.              | ceo@xn--bcher-kva.example        | yes |
info@corp.example.                      | info@mbox.corp.internal          | no  |
# -- address extensions
ceo+anything@corp.example               | ceo+anything@mbox.corp.internal  | yes | tls
CEO+Board@Corp.Example                  | ceo+Board@mbox.corp.internal     | yes |
ceo+@corp.example                       | ceo+@mbox.corp.internal          | yes |
ceo+x@vault.example                     | ceo+x@vault.example              | yes |
jürgen+x@corp.example                   | jürgen+x@mbox.corp.internal      | yes |
info+x@corp.example                     | info+x@mbox.corp.internal        | no  |
ceo-x@corp.example                      | refused                          | -   |
ceo-x@corp.example                      | ceo-x@mbox.corp.internal         | yes | delim=+-
ceo+x@corp.example                      | ceo+x@mbox.corp.internal         | yes | delim=+-
CEO-Board@corp.example                  | ceo-Board@mbox.corp.internal     | yes | delim=+-
info-x@corp.example                     | info-x@mbox.corp.internal        | no  | delim=+-
# -- quoting and backslashes
"ceo"@corp.example                      | ceo@mbox.corp.internal           | yes |
"CEO"@corp.example                      | ceo@mbox.corp.internal           | yes |
"ceo+x"@corp.example                    | ceo+x@mbox.corp.internal         | yes |
"c\eo"@corp.example                     | ceo@mbox.corp.internal           | yes |
c\eo@corp.example                       | ceo@mbox.corp.internal           | yes |
"ceo"@vault.example                     | ceo@vault.example                | yes |
# -- our own domain stripped, the rest routed
ceo@vault.example@mx.example            | ceo@vault.example                | yes | tls
"ceo@vault.example"@mx.example          | ceo@vault.example                | yes |
"ceo@vault.example "@mx.example         | ceo@vault.example                | yes |
ceo@vault.example@mx.e2e.test           | ceo@vault.example                | yes |
ceo@vault.example@MX.EXAMPLE.           | ceo@vault.example                | yes |
ceo@vault.example@mx.example@mx.example | ceo@vault.example                | yes |
ceo+x@vault.example@mx.example          | ceo+x@vault.example              | yes |
ceo@xn--bcher-kva.example@mx.example    | ceo@xn--bcher-kva.example        | yes |
ceo@bücher.example@mx.example           | refused                          | -   |
ceo@corp.example@mx.example             | bounced                          | -   |
"ceo@corp.example"@mx.example           | bounced                          | -   |
"ceo+x@corp.example"@mx.example         | bounced                          | -   |
info@corp.example@mx.example            | bounced                          | -   |
ceo@mx.example@vault.example            | refused                          | -   |
info@vault.example@open.example         | refused                          | -   | overmatch
ceo%vault.example@mx.example            | refused                          | -   | overmatch
vault.example!ceo@mx.example            | refused                          | -   | overmatch
@mx.example:ceo@vault.example           | ceo@vault.example                | yes |
@open.example:ceo@corp.example          | ceo@mbox.corp.internal           | yes |
# -- address literals
ceo@vault.example@[127.0.0.1]           | ceo@vault.example                | yes |
"ceo@vault.example"@[127.0.0.1]         | ceo@vault.example                | yes |
ceo@[127.0.0.1]                         | refused                          | -   |
ceo@corp.example@localhost              | refused                          | -   |
# -- comments, and what cannot be read as one mailbox
ceo@corp.example (boss)                 | ceo@mbox.corp.internal           | yes |
ceo(boss)@corp.example                  | ceo@mbox.corp.internal           | yes |
"ceo"(x)@vault.example                  | ceo@vault.example                | yes |
info@corp.example;                      | info@mbox.corp.internal          | no  | tempfail
"info@corp.example                      | refused                          | -   |
TABLE
)

# The policy: line numbers are what the engine's decisions name.
write_forms_policy() {
	cat >"$W/policy.conf" <<'POLICY'
default                   skip
rcpt:ceo@corp.example     require
rcpt:jürgen@corp.example  require
rcpt:vault.example        require
rcpt:bücher.example       require
rcpt:open.example         prefer
POLICY
}

# ---------------------------------------------------------------------------
# helpers

declare -a F_FORM F_ROUTE F_PROT F_FLAGS F_DELIM
# read_table: the table into F_* (index from 0), or give up on a bad row
read_table() {
	local line form route prot flags n=0
	while IFS= read -r line; do
		case $line in '#'*|'') continue ;; esac
		IFS='|' read -r form route prot flags <<<"$line"
		form=$(trim "$form") route=$(trim "$route") prot=$(trim "$prot") flags=$(trim "$flags")
		if [ -z "$form" ] || [ -z "$route" ] || [ -z "$prot" ]; then give_up "bad table row: $line"; fi
		F_FORM[n]=$form F_ROUTE[n]=$route F_PROT[n]=$prot F_FLAGS[n]=$flags F_DELIM[n]=+
		has_flag "$n" delim=+- && F_DELIM[n]=+-
		n=$((n + 1))
	done <<<"$FORMS"
}
trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; printf '%s' "${s%"${s##*[![:space:]]}"}"; }
has_flag() { case ",${F_FLAGS[$1]// /}," in *",$2,"*) return 0 ;; esac; return 1; }
non_ascii() { local LC_ALL=C; [[ $1 == *[![:print:]]* ]]; }
# shq WORD: WORD as one POSIX shell word (for the client's --batch file)
shq() { printf "'%s' " "${1//\'/\'\\\'\'}"; }

# classify ASSOC KEY...: PROT[KEY] = yes|no|- for the route ASSOC[KEY]
# (DELIMS<tab>ROUTE), in one run of forms-route.py ("-": nothing reached).
declare -A PROT
classify() {
	local -n from=$1
	shift
	local key d r ans
	local -a keys=()
	for key in "$@"; do
		IFS=$'\t' read -r d r <<<"${from[$key]}"
		case $r in refused*|bounced*|lost) PROT[$key]=- ;; *) keys+=("$key") ;; esac
	done
	[ "${#keys[@]}" -gt 0 ] || return 0
	mapfile -t ans < <(for key in "${keys[@]}"; do printf '%s\n' "${from[$key]}"; done |
		"$PYTHON" "$here/forms-route.py" protected)
	for key in "${!keys[@]}"; do PROT[${keys[key]}]=${ans[key]:-?}; done
}

# table_self_check: the protected column says what forms-route.py says of
# the route column (one place decides what is protected).
table_self_check() {
	local i
	local -A rows=()
	for i in "${!F_FORM[@]}"; do rows[table,$i]="${F_DELIM[i]}"$'\t'"${F_ROUTE[i]}"; done
	classify rows "${!rows[@]}"
	for i in "${!F_FORM[@]}"; do
		[ "${PROT[table,$i]}" = "${F_PROT[i]}" ] ||
			result 0 "table: ${F_FORM[i]}" "protected column says ${F_PROT[i]}, its route ${F_ROUTE[i]} is ${PROT[table,$i]}"
	done
}

# One message per form, all from one client process (--batch): a python
# start costs seconds on a loaded machine.
declare -A QID RCPT SENDERS TRANS ID
declare -a JOBS=()
SEQ=0
# add_job KEY I CLIENT MODE: form I from CLIENT (outside = 127.0.0.2, not in
# mynetworks; inside = 127.0.0.1) in MODE (plain|starttls), as sender
# fSEQ@client.e2e.test (its audit record)
add_job() {
	local key=$1 i=$2 client=$3 how=$4 tfile
	SEQ=$((SEQ + 1))
	tfile=$TDIR/forms-$SEQ-$how.log
	SENDERS[$key]=f$SEQ@client.e2e.test TRANS[$key]=$tfile ID[$key]=forms-$SEQ
	JOBS+=("$key")
	{
		shq --mode; shq "$how"; shq --to; shq "${F_FORM[i]}"
		shq --from; shq "${SENDERS[$key]}"; shq --id; shq "${ID[$key]}"; shq --transcript; shq "$tfile"
		[ "$client" = outside ] && { shq --source; shq 127.0.0.2; }
		non_ascii "${F_FORM[i]}" && { shq --mail-param; shq SMTPUTF8; }
		echo
	} >>"$W/jobs"
}

# run_jobs: the sessions added since the last run; then RCPT[KEY] (the
# reply to RCPT TO) and QID[KEY] (the MTA's queue id) per job.
run_jobs() {
	local key
	[ "${#JOBS[@]}" -gt 0 ] || return 0
	"$PYTHON" "$here/smtp-client.py" --server 127.0.0.1 --port "$(mta_var PORT_STARTTLS)" \
		--ehlo "$(mta_var CLIENT_EHLO)" --timeout 20 --batch "$W/jobs" >/dev/null
	local -A by=()
	local f reply
	for key in "${JOBS[@]}"; do by[${TRANS[$key]}]=$key; RCPT[$key]="(no reply)"; QID[$key]=; done
	# the reply to RCPT TO, or the client's error: one awk for all
	while IFS=$'\t' read -r f reply; do
		key=${by[$f]}
		RCPT[$key]=$reply
		case $reply in 250*) QID[$key]=$("${MTA}__transcript_queueid" "$f") ;; esac
	done < <(awk '
		FNR == 1 { if (prev != "") print prev "\t" r; prev = FILENAME; r = "(no reply)"; got = 0 }
		!got && /^=== ERROR: / { r = substr($0, 5) }
		!got && /^[-~]> RCPT TO:/ { getline; sub(/^<[-~] /, ""); r = $0; got = 1 }
		END { if (prev != "") print prev "\t" r }' "${!by[@]}")
	rm -f "$W/jobs"
	LAST_JOBS=("${JOBS[@]}")
	JOBS=()
	settle
}

# the queue is empty and the MTA has logged it all
settle() { mta wait_queue_empty 60 >/dev/null || echo "# queue not empty after 60 s"; sleep 1; }

# find_routes KEY...: where the MTA routed each message into ROUTED[KEY]:
# for an accepted one (${MTA}_routes) the address, "bounced: why" when the
# MTA bounced it itself, "lost" when no delivery was logged; else
# "refused: REPLY".  One pass over the log (a process is dear on a loaded
# machine).
declare -A ROUTED
find_routes() {
	local key
	local -a accepted=()
	for key in "$@"; do
		case ${RCPT[$key]} in
			250*) ROUTED[$key]=lost; accepted+=("$key") ;;
			*) ROUTED[$key]="refused: ${RCPT[$key]}" ;;
		esac
	done
	[ "${#accepted[@]}" -gt 0 ] && "${MTA}_routes" "${accepted[@]}"
}

# pf_routes KEY...: the first delivery of each message in Postfix's log
# (to=, or "bounced: status" for relay=none).
pf_routes() {
	local key q r
	local -A by=()
	for key in "$@"; do [ -n "${QID[$key]}" ] && by[${QID[$key]}]=$key; done
	while IFS=$'\t' read -r q r; do
		ROUTED[${by[$q]}]=$r
	done < <(awk -v want="${!by[*]}" '
		BEGIN { n = split(want, a, " "); for (i = 1; i <= n; i++) w[a[i]] = 1 }
		match($0, /: [0-9A-Za-z]+: to=</) {
			q = substr($0, RSTART + 2, RLENGTH - 8)
			if (!(q in w) || (q in seen)) next
			seen[q] = 1
			to = $0; sub(/.*: to=</, "", to); sub(/>.*/, "", to)
			relay = $0; sub(/.*, relay=/, "", relay); sub(/,.*/, "", relay)
			st = $0; sub(/.*, status=/, "", st)
			print q "\t" (relay == "none" ? "bounced: " st : to)
		}' "$PF_LOG_FILE")
}

# milter_mode dry|enforce: (re)start the milter in that mode.
milter_mode() {
	stop_milter_hard
	if [ "$1" = dry ]; then start_milter --dry-run; else start_milter; fi || {
		cat "$W/milter.log"; give_up "cannot start the milter"
	}
}

declare -A ROUTE ENF ENGINE DECISION
# run_pass PHASE DELIMS: every form of DELIMS from both clients, in
# plaintext; the route (dry) or the reply and the engine's decision
# (enforce) per client and form.
run_pass() {
	local phase=$1 delims=$2 i client key
	[ "$phase" = dry ] && ROUTED=()
	for client in outside inside; do
		for i in "${!F_FORM[@]}"; do
			[ "${F_DELIM[i]}" = "$delims" ] && ! skip_form "$i" && add_job "$client,$i" "$i" "$client" plain
		done
	done
	run_jobs
	[ "$phase" = enforce ] && load_engine
	[ "$phase" = dry ] && find_routes "${LAST_JOBS[@]}"
	for key in "${LAST_JOBS[@]}"; do
		if [ "$phase" = dry ]; then
			ROUTE[$key]=${F_DELIM[${key#*,}]}$'\t'${ROUTED[$key]}
		else
			ENF[$key]=${RCPT[$key]}
			ENGINE[$key]=${DECISION[${SENDERS[$key]}]:-none}
		fi
	done
}

# load_engine: every decision of the audit log, by sender, into DECISION
load_engine() {
	local sender what
	while IFS=$'\t' read -r sender what; do
		DECISION[$sender]=$what
	done < <("$PYTHON" "$here/forms-route.py" audit "$W/audit/audit.jsonl")
}

# verdict CLIENT I: PASS/FAIL line for form I from CLIENT.
verdict() {
	local key=$1,$2 i=$2 d route reply=${ENF[$1,$2]:-not sent} why="" ok=1 prot=${PROT[$1,$2]}
	IFS=$'\t' read -r d route <<<"${ROUTE[$key]}"
	case $route in refused:*)
		echo "SKIP $1 $MTA_LONG ${F_FORM[i]} (delimiter $d)"
		echo "     $MTA_LONG refuses it itself: ${route#refused: }"
		return ;;
	esac
	if [ "$route" = lost ]; then
		ok=0 why="accepted but no delivery logged"
	elif [ "$prot" = yes ]; then
		case $reply in 250*) ok=0 why="PROTECTED DESTINATION REACHED IN PLAINTEXT" ;; esac
	elif [ "$prot" = no ] && has_flag "$i" overmatch; then
		case $reply in 5[0-9][0-9]" "*|4[0-9][0-9]" "*) why="refused as expected (over-match: a reading of it is protected)" ;;
			*) ok=0 why="expected the over-matching refusal" ;; esac
	elif [ "$prot" = no ] && has_flag "$i" tempfail; then
		case $reply in "451 4.3.0 "*) why="tempfailed as expected (cannot be read as one mailbox)" ;;
			*) ok=0 why="expected the engine's tempfail" ;; esac
	elif [ "$prot" = no ]; then
		case $reply in 250*) ;; *) ok=0 why="OVER-BLOCKED: an unprotected destination refused" ;; esac
	fi
	result "$ok" "$1 $MTA_LONG ${F_FORM[i]} (delimiter $d)" \
		"routed: $route [protected: $prot]; plaintext: $reply; engine: ${ENGINE[$key]:-none}${why:+; $why}"
}

# result OK NAME DETAIL: one counted result, two lines.
result() {
	if [ "$1" = 1 ]; then passed=$((passed + 1)); echo "PASS $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi
	echo "     $3"
}

# table_route_check I: Postfix, outside client: the route is the table's.
table_route_check() {
	local i=$1 d got
	IFS=$'\t' read -r d got <<<"${ROUTE[outside,$1]}"
	case $got in refused:*) got=refused ;; bounced:*) got=bounced ;; esac
	[ "$got" = "${F_ROUTE[i]}" ] ||
		result 0 "table: Postfix routes ${F_FORM[i]} (delimiter $d)" "to $got; the table says ${F_ROUTE[i]}"
}

# tls_checks: the rows flagged tls, over STARTTLS with the milter
# enforcing: delivered where plaintext would have been routed.
tls_checks() {
	local i key d want got
	for i in "${!F_FORM[@]}"; do
		has_flag "$i" tls && ! skip_form "$i" && add_job "tls,$i" "$i" outside starttls
	done
	run_jobs
	find_routes "${LAST_JOBS[@]}"
	for key in "${LAST_JOBS[@]}"; do
		i=${key#tls,}
		got=${ROUTED[$key]}
		IFS=$'\t' read -r d want <<<"${ROUTE[outside,$i]}"
		case $want in refused:*|bounced:*|lost)
			echo "SKIP STARTTLS $MTA_LONG ${F_FORM[i]}: not delivered in plaintext either ($want)"
			continue ;;
		esac
		if [ "$got" = "$want" ]; then
			result 1 "STARTTLS $MTA_LONG ${F_FORM[i]}" "delivered to $got"
		else
			result 0 "STARTTLS $MTA_LONG ${F_FORM[i]}" "got $got; plaintext was routed to $want"
		fi
	done
}

# run_forms: the three sessions of every form, for the running MTA.
run_forms() {
	local delims i client
	ROUTE=() ENF=() ENGINE=() PROT=()
	for delims in + +-; do
		"${MTA}_delimiter" "$delims" || continue
		milter_mode dry
		run_pass dry "$delims"
		milter_mode enforce
		run_pass enforce "$delims"
		[ "$delims" = + ] && tls_checks
	done
	classify ROUTE "${!ROUTE[@]}"
	for client in outside inside; do
		for i in "${!F_FORM[@]}"; do
			[ -n "${ROUTE[$client,$i]+set}" ] || continue
			verdict "$client" "$i"
			[ "$MTA$client" = pfoutside ] && table_route_check "$i"
		done
	done
}

# ---------------------------------------------------------------------------
# Postfix

skip_form() { [ "$MTA" = sm ] && sm_skip_form "$1"; }

# milter_delimiter CHARS: the milter reads extensions as the MTA does, with
# the same delimiter, taken at its next start (milter_mode restarts it).
milter_delimiter() {
	sed -i '/^recipient_delimiter =/d' "$W/milter.conf" &&
		printf 'recipient_delimiter = %s\n' "$1" >>"$W/milter.conf"
}

pf_delimiter() {
	milter_delimiter "$1" && pf_postconf "recipient_delimiter = $1" && pf_reload && sleep 1
}

pf_world() {
	local c=$PF_CONF_DIR s="[127.0.0.1]:$PF_PORT_SINK"
	printf '%s\n' 'ceo@corp.example ceo@mbox.corp.internal' 'info@corp.example info@mbox.corp.internal' \
		'jürgen@corp.example jürgen@mbox.corp.internal' >"$c/virtual"
	printf '%s relay:%s\n' vault.example "$s" xn--bcher-kva.example "$s" open.example "$s" \
		mbox.corp.internal "$s" >"$c/transport"
	printf '%s\n' 'postmaster x' 'root x' >"$c/local_users"
	printf '%s\n' '/@\[/ REJECT address literals are not accepted here' >"$c/recipient_access"
	PF_EXTRA_MAIN_CF="mydestination = \$myhostname, localhost, mx.example
mynetworks = 127.0.0.1/32
local_recipient_maps = texthash:$c/local_users
local_transport = relay:$s
virtual_alias_domains = corp.example
virtual_alias_maps = texthash:$c/virtual
relay_domains = vault.example, xn--bcher-kva.example, open.example
transport_maps = texthash:$c/transport
recipient_delimiter = +
smtputf8_enable = yes
allow_percent_hack = no
swap_bangpath = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = reject_non_fqdn_recipient, check_recipient_access regexp:$c/recipient_access, permit_mynetworks, reject_unauth_destination"
}

run_postfix() {
	MTA=pf MTA_LONG=Postfix
	mkdir -p "$W/pf" && chmod 755 "$W/pf"
	pf_setup "$W/pf" "inet:127.0.0.1:$milter_port" || give_up "cannot set up Postfix"
	TDIR=$PF_TRANSCRIPT_DIR
	pf_world
	pf_start || give_up "cannot start Postfix"
	run_forms
	pf_stop
}

# ---------------------------------------------------------------------------
# Sendmail

# Sendmail's delimiter is "+", built in (virtusertable looks up
# user+detail@domain, then user++@domain, then user@domain).
sm_delimiter() { [ "$1" = + ] && milter_delimiter "$1"; }
sm_skip_form() { return 1; }

# sm_routes KEY...: the recipient the internal server (the sink) received
# for each message, else Sendmail's status for it ("not delivered: ...").
sm_routes() {
	local key id r q
	local -A by=() byq=()
	for key in "$@"; do by[${ID[$key]}]=$key; [ -n "${QID[$key]}" ] && byq[${QID[$key]}]=$key; done
	while IFS=$'\t' read -r q r; do
		[ -n "${byq[$q]:-}" ] && ROUTED[${byq[$q]}]="not delivered: $r"
	done < <(awk -v want="${!byq[*]}" '
		BEGIN { n = split(want, a, " "); for (i = 1; i <= n; i++) w[a[i]] = 1 }
		match($0, /: [0-9A-Za-z]+: to=/) && / stat=/ {
			q = substr($0, RSTART + 2, RLENGTH - 6)
			if (!(q in w)) next
			st = $0; sub(/.* stat=/, "", st); print q "\t" st
		}' "$SM_LOG_FILE")
	while IFS=$'\t' read -r id r; do
		[ -n "${by[$id]:-}" ] && ROUTED[${by[$id]}]=$r
	done < <(find "$SM_SINK_DIR" -type f -exec awk '
		FNR == 1 { id = ""; r = "" }
		/^X-E2E-Id: / && id == "" { id = $2 }
		/^X-Rcpt-Args: </ && r == "" { r = $2; gsub(/^<|>$/, "", r) }
		/^$/ { if (id != "" && r != "") print id "\t" r; nextfile }' {} +)
}

# sm_world: Sendmail as the same MX: mx.example local (to the hub, the
# sink), corp.example a virtusertable domain, the rest relayed to the
# sink; the hardening Sendmail has for these forms: FEATURE(nopercenthack),
# FEATURE(nouucp, reject).  promiscuous_relay stays (sendmail-lib.sh sets
# it): both clients may relay.
sm_world() {
	local c=$SM_CONF_DIR
	printf '%s\n' 'ceo@corp.example ceo@mbox.corp.internal' 'info@corp.example info@mbox.corp.internal' \
		'jürgen@corp.example jürgen@mbox.corp.internal' >"$c/virtusertable"
	# -C: makemap reads no sendmail.cf of the machine
	# shellcheck disable=SC2094  # it writes virtusertable.db
	"$SM_ROOT/usr/sbin/makemap" -C /dev/null hash "$c/virtusertable" <"$c/virtusertable" ||
		give_up "makemap $c/virtusertable failed"
	SM_EXTRA_MC="LOCAL_DOMAIN(\`mx.example')dnl
FEATURE(\`virtusertable', \`hash -o $c/virtusertable')dnl
VIRTUSER_DOMAIN(\`corp.example')dnl
RELAY_DOMAIN(\`vault.example xn--bcher-kva.example open.example')dnl
FEATURE(\`nopercenthack', \`reject')dnl
FEATURE(\`nouucp', \`reject')dnl"
}

run_sendmail() {
	[ -x "$SM_BIN" ] || { echo "# Sendmail part skipped: no Sendmail in $SM_ROOT (tests/e2e/install-sendmail.sh)"; return; }
	MTA=sm MTA_LONG=Sendmail
	mkdir -p "$W/sm" && chmod 755 "$W/sm"
	sm_setup "$W/sm" "inet:$milter_port@127.0.0.1" || give_up "cannot set up Sendmail"
	TDIR=$SM_TRANSCRIPT_DIR
	sm_world
	sm_start || give_up "cannot start Sendmail"
	run_forms
	sm_stop
}

# ---------------------------------------------------------------------------

cleanup() {
	stop_milter_hard
	pf_stop
	sm_stop
	if [ "$failed" -eq 0 ] && [ -z "${KEEP_E2E:-}" ]; then rm -rf "$W"; else echo "kept $W"; fi
}

[ -x "$milter_bin" ] || give_up "no milter binary at $milter_bin: build first"
W=$(sm_mkworkdir) || give_up "cannot create a work directory"
trap cleanup EXIT
trap 'exit 130' INT TERM
read_table
table_self_check
MTA=pf
pf_free_port >"$W/milter.port" || give_up "no free port"
read -r milter_port <"$W/milter.port"
write_forms_policy
mkdir -p "$W/audit"
printf 'hostname = mx.e2e.test\nallow_root = yes\naudit_log = %s\nstats_file =\nstats_interval = 0\n' \
	"$W/audit/audit.jsonl" >"$W/milter.conf"
case ${FORMS_MTA:-both} in postfix|both) run_postfix ;; esac
case ${FORMS_MTA:-both} in sendmail|both) run_sendmail ;; esac
finish
