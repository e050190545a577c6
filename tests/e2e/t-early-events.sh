#!/bin/sh
# End-to-end tests of tlspolicy-milter with early_events = no, against a
# real Postfix and a real Sendmail: the milter negotiates away the connect,
# HELO and MAIL events and must get the client, the listener, the HELO name,
# the sender, the login and the TLS macros at RCPT TO from each MTA. Runs the
# scenarios of tests/e2e/milter-checks.sh that depend on them (t-postfix.sh
# and t-sendmail.sh with E2E_EARLY_EVENTS=no), and exits non-zero if either
# failed.
srcdir=${srcdir:-.}
rc=0
E2E_EARLY_EVENTS=no bash "$srcdir/tests/e2e/t-postfix.sh" || rc=1
E2E_EARLY_EVENTS=no bash "$srcdir/tests/e2e/t-sendmail.sh" || rc=1
exit $rc
