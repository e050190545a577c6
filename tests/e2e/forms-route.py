#!/usr/bin/env python3
"""Which mailbox a routed address reaches, for tests/e2e/t-forms.sh.

    forms-route.py protected < LINES
        LINES are "DELIMS<tab>ADDRESS"; one line out per line in: "yes" if
        ADDRESS is a protected destination of the t-forms.sh world, else
        "no".  DELIMS is the MTA's recipient delimiter set ("+", "+-"): an
        address extension reaches the same mailbox.
    forms-route.py audit FILE
        the decisions the milter recorded (audit log FILE, JSON lines), one
        line per message: its sender (without <>), a tab, then
        "domain=D result=R rule=FILE:LINE" of its first recipient.

An address is compared as the mailbox it reaches, not as written: the local
part unquoted, case-folded (Unicode, as Postfix does with smtputf8_enable)
and cut at the first delimiter; the domain case-folded, without a trailing
dot, every A-label (xn--) as its U-label.  The protected destinations are
what the policy of t-forms.sh protects, as the MTA delivers it: the
mailboxes ceo@ and jürgen@corp.example (final addresses @mbox.corp.internal
after virtual aliasing) and every mailbox at vault.example and
bücher.example.
"""

import json
import sys

MAILBOXES = {("ceo", "corp.example"), ("jürgen", "corp.example"),
             ("ceo", "mbox.corp.internal"), ("jürgen", "mbox.corp.internal")}
DOMAINS = {"vault.example", "bücher.example"}


def domain_key(domain):
    """A domain as one name: case-folded, no trailing dot, U-labels."""
    labels = []
    for label in domain.rstrip(".").split("."):
        if label.lower().startswith("xn--"):
            try:
                label = label.lower().encode("ascii").decode("idna")
            except (UnicodeError, ValueError):
                pass
        labels.append(label.casefold())
    return ".".join(labels)


def local_key(local, delims):
    """A local part as one mailbox: unquoted, case-folded, no extension."""
    if len(local) >= 2 and local[0] == '"' and local[-1] == '"':
        local = local[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    local = local.casefold()
    cut = [local.find(d) for d in delims if d and local.find(d) > 0]
    return local[:min(cut)] if cut else local


def protected(delims, address):
    local, at, domain = address.rpartition("@")
    if not at:
        return False
    dom = domain_key(domain)
    return dom in DOMAINS or (local_key(local, delims), dom) in MAILBOXES


def audit(path):
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        r = json.loads(line)
        if not r.get("rcpts"):
            continue
        x = r["rcpts"][0]
        print("%s\tdomain=%s result=%s rule=%s" % (
            (r.get("sender") or "").strip("<>"), x.get("domain"), x.get("result"),
            (x.get("decided_by") or "none").rsplit("/", 1)[-1]))


def main(argv):
    if len(argv) == 2 and argv[1] == "protected":
        for line in sys.stdin.read().splitlines():
            delims, _, address = line.partition("\t")
            print("yes" if protected(delims, address) else "no")
        return 0
    if len(argv) == 3 and argv[1] == "audit":
        audit(argv[2])
        return 0
    sys.stderr.write(__doc__)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
