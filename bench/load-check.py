#!/usr/bin/env python3
"""bench/load-check.py -- the message classes of bench/run-load-fault.sh and
the check that the client, the sink and the milter's audit log agree.

    load-check.py classes
        prints the smtp-load -K options, one per line (the one place where
        the classes are defined: here, with what policy must do to them)

    load-check.py check --client FILE --sink DIR [--audit FILE --audit-offset N]
                        [--mode exact|fault] [--title TEXT]
        FILE: smtp-load's output (the summary line and one class= line per
        class); DIR: smtp-sink's dump directory (one file per delivered
        message; the queue must be empty); the audit log from byte N on.
        Prints a markdown table per class and every failed assertion;
        exit 0 if all hold, 1 otherwise.

The policy (run-load-fault.sh writes it):  default prefer,
rcpt:req.load.test require, rcpt:pref.load.test prefer,
rcpt:skip.load.test skip.  A class's sender is CLASS@client.load.test, so
its name is in the envelope at the client, in X-Mail-Args at the sink and in
"sender" in the audit record.

--mode exact (load, unix:, reload, audit on a full disk, TSan): for every
class, exactly what the policy says: sessions accepted/refused, recipients
accepted/refused, 530 per refused recipient, no tempfail, no failed
session; at the sink the same messages and recipients; in the audit log one
record per session with the expected outcome and refused recipients (unless
--audit is not given: the audit log is known to be lossy then).

--mode fault (the milter killed under load): tempfails are expected; what
must hold is that nothing got through unchecked: every session has one
outcome and none failed; the sink has exactly the messages and recipients
the client saw accepted; every delivered message carries the milter's
X-TLS-Policy header (a message accepted while the milter was down would
not); no recipient the policy refuses (req.load.test over plaintext)
reached the sink or got a 250 at RCPT (rcpt_accepted), nothing was refused
that policy accepts (5xx only 530, only where policy refuses), and no audit
record accepted a refused recipient.
"""

import argparse
import json
import os
import re
import sys

DOMAIN = 'load.test'
SENDER_DOMAIN = 'client.load.test'
# name, mode, the recipients' subdomains; policy refuses "req" in plaintext.
CLASSES = [
    ('req-plain', 'plain', ['req']),
    ('req-tls', 'starttls', ['req']),
    ('pref-plain', 'plain', ['pref']),
    ('skip-plain', 'plain', ['skip']),
    ('mix-plain', 'plain', ['req', 'pref', 'skip']),
    ('mix-tls', 'starttls', ['req', 'pref', 'skip']),
]
REFUSED_CODE = 530
HEADER = 'X-TLS-Policy:'


def rcpts(subs):
    return ['r%d@%s.%s' % (i + 1, s, DOMAIN) for i, s in enumerate(subs)]


def refused_subs(mode, subs):
    return [s for s in subs if s == 'req' and mode == 'plain']


def expected(n):
    """What policy does to n sessions dealt round-robin over the classes."""
    exp = {}
    for i, (name, mode, subs) in enumerate(CLASSES):
        s = len(range(i, n, len(CLASSES)))
        ref = len(refused_subs(mode, subs))
        ok = len(subs) - ref
        exp[name] = {
            'sessions': s,
            'accepted': s if ok else 0, 'refused': 0 if ok else s,
            'tempfailed': 0, 'failed': 0, 'errors': 0,
            'rcpt_accepted': s * ok, 'rcpt_refused': s * ref, 'rcpt_tempfailed': 0,
            'codes': {REFUSED_CODE: s * ref} if ref else {},
            'sink_msgs': s if ok else 0, 'sink_rcpts': s * ok,
            'audit_records': s, 'audit_outcome': 'accepted' if ok else 'rejected',
            'audit_refused': s * ref,
        }
    return exp


def read_client(path):
    got = {}
    with open(path) as f:
        for line in f:
            if not line.startswith('class='):
                continue
            kv = dict(w.split('=', 1) for w in line.split())
            c = {k: int(v) for k, v in kv.items() if v.isdigit()}
            c['mode'] = kv['mode']
            c['codes'] = {} if kv['codes'] == 'none' else {
                int(a): int(b) for a, b in (x.split(':') for x in kv['codes'].split(','))}
            got[kv['class']] = c
    return got


CLASS_RE = re.compile(r'<([A-Za-z0-9._-]+)@' + re.escape(SENDER_DOMAIN) + '>')


def read_sink(d):
    """Per class: messages, recipients, without header, refused recipients delivered."""
    got = {name: {'msgs': 0, 'rcpts': 0, 'no_header': 0, 'bad_rcpts': 0} for name, _, _ in CLASSES}
    modes = {name: mode for name, mode, _ in CLASSES}
    other = 0
    for entry in os.scandir(d):
        with open(entry.path, 'rb') as f:
            head = f.read(65536).decode('latin-1').split('\n\n', 1)[0]
        cls, rc, hdr, bad = None, 0, False, 0
        for line in head.split('\n'):
            if line.startswith('X-Mail-Args:'):
                m = CLASS_RE.search(line)
                cls = m.group(1) if m else None
            elif line.startswith('X-Rcpt-Args:'):
                rc += 1
                if '@req.' + DOMAIN in line:
                    bad += 1
            elif line.startswith(HEADER):
                hdr = True
        if cls not in got:
            other += 1
            continue
        g = got[cls]
        g['msgs'] += 1
        g['rcpts'] += rc
        g['no_header'] += 0 if hdr else 1
        g['bad_rcpts'] += bad if modes[cls] == 'plain' else 0
    return got, other


def read_audit(path, offset):
    got = {name: {'records': 0, 'outcomes': {}, 'refused': 0, 'accepted_refusable': 0,
                  'generations': set()} for name, _, _ in CLASSES}
    bad_lines = 0
    modes = {name: mode for name, mode, _ in CLASSES}
    with open(path, 'rb') as f:
        f.seek(offset)
        for raw in f:
            try:
                r = json.loads(raw)
            except ValueError:
                bad_lines += 1
                continue
            m = CLASS_RE.search(r.get('sender') or '')
            if not m or m.group(1) not in got:
                continue
            g = got[m.group(1)]
            g['records'] += 1
            g['outcomes'][r['outcome']] = g['outcomes'].get(r['outcome'], 0) + 1
            g['generations'].add(r['policy']['generation'])
            for rc in r['rcpts']:
                g['refused'] += 1 if rc['refused'] else 0
                if (modes[m.group(1)] == 'plain' and rc['domain'] == 'req.' + DOMAIN
                        and not rc['refused']):
                    g['accepted_refusable'] += 1
    return got, bad_lines


def check(args):
    client = read_client(args.client)
    n = sum(c['sessions'] for c in client.values())
    exp = expected(n)
    sink, other = read_sink(args.sink)
    audit = None
    if args.audit:
        audit, bad_lines = read_audit(args.audit, args.audit_offset)
    fails = []

    def want(cond, what):
        if not cond:
            fails.append(what)

    want(set(client) == set(exp), 'client classes %s, want %s' % (sorted(client), sorted(exp)))
    want(other == 0, 'sink: %d messages of no class' % other)
    if audit is not None:
        want(bad_lines == 0, 'audit: %d lines are not JSON' % bad_lines)
    print()
    if args.title:
        print('%s (%d sessions)' % (args.title, n))
        print()
    print('| class | mode | sessions | client acc/ref/tmp/fail | rcpts acc/ref/tmp | 4xx/5xx codes '
          '| sink msgs/rcpts | audit records (outcomes) |')
    print('|---|---|---|---|---|---|---|---|')
    for name, mode, subs in CLASSES:
        c, e, s = client.get(name), exp[name], sink[name]
        if c is None:
            continue
        a = audit[name] if audit is not None else None
        codes = ','.join('%d:%d' % kv for kv in sorted(c['codes'].items())) or '-'
        arec = '-' if a is None else '%d (%s)' % (a['records'], ' '.join(
            '%s %d' % kv for kv in sorted(a['outcomes'].items())))
        print('| %s | %s | %d | %d/%d/%d/%d | %d/%d/%d | %s | %d/%d | %s |' % (
            name, mode, c['sessions'], c['accepted'], c['refused'], c['tempfailed'], c['failed'],
            c['rcpt_accepted'], c['rcpt_refused'], c['rcpt_tempfailed'], codes,
            s['msgs'], s['rcpts'], arec))
        sessions = c['accepted'] + c['refused'] + c['tempfailed'] + c['failed']
        # both modes: nothing lost, nothing accepted unchecked, nothing refusable through
        want(c['failed'] == 0 and c['errors'] == 0,
             '%s: %d sessions failed, %d with errors' % (name, c['failed'], c['errors']))
        want(s['msgs'] == c['accepted'], '%s: sink has %d messages, client saw %d accepted'
             % (name, s['msgs'], c['accepted']))
        want(s['rcpts'] == c['rcpt_accepted'], '%s: sink has %d recipients, client saw %d accepted'
             % (name, s['rcpts'], c['rcpt_accepted']))
        want(s['no_header'] == 0, '%s: %d delivered messages without %s (not checked by the milter)'
             % (name, s['no_header'], HEADER))
        want(s['bad_rcpts'] == 0, '%s: %d recipients that policy refuses were delivered'
             % (name, s['bad_rcpts']))
        ok_rcpts = len(subs) - len(refused_subs(mode, subs))
        want(c['rcpt_accepted'] <= c['accepted'] * ok_rcpts,
             '%s: %d recipients accepted, at most %d may be' % (name, c['rcpt_accepted'], c['accepted'] * ok_rcpts))
        want(c['rcpt_refused'] <= e['rcpt_refused'] and all(
            k == REFUSED_CODE or k // 100 == 4 for k in c['codes']),
            '%s: refusals %s, policy refuses %d recipients with %d only'
            % (name, c['codes'], e['rcpt_refused'], REFUSED_CODE))
        if a is not None:
            want(a['accepted_refusable'] == 0, '%s: audit: %d refusable recipients not refused'
                 % (name, a['accepted_refusable']))
        if args.mode == 'fault':
            want(sessions == e['sessions'], '%s: %d outcomes for %d sessions' % (name, sessions, e['sessions']))
            if a is not None:
                want(a['records'] <= e['sessions'], '%s: audit: %d records for %d sessions'
                     % (name, a['records'], e['sessions']))
            continue
        for k in ('sessions', 'accepted', 'refused', 'tempfailed', 'rcpt_accepted',
                  'rcpt_refused', 'rcpt_tempfailed', 'codes'):
            want(c[k] == e[k], '%s: client %s %s, want %s' % (name, k, c[k], e[k]))
        want(s['msgs'] == e['sink_msgs'] and s['rcpts'] == e['sink_rcpts'],
             '%s: sink %d/%d, want %d/%d' % (name, s['msgs'], s['rcpts'], e['sink_msgs'], e['sink_rcpts']))
        if a is not None:
            want(a['records'] == e['audit_records'] and
                 a['outcomes'] == {e['audit_outcome']: e['audit_records']} and
                 a['refused'] == e['audit_refused'],
                 '%s: audit %d records %s, %d refused recipients; want %d %s, %d'
                 % (name, a['records'], a['outcomes'], a['refused'], e['audit_records'],
                    e['audit_outcome'], e['audit_refused']))
    if audit is not None:
        gens = set().union(*(a['generations'] for a in audit.values()))
        print()
        print('policy generations in the audit records: %s' % (
            '%d..%d (%d distinct)' % (min(gens), max(gens), len(gens)) if gens else 'none'))
    print()
    for f in fails:
        print('FAIL: %s' % f)
    print('%s: %s' % (args.title or 'check', 'PASS' if not fails else 'FAIL (%d)' % len(fails)))
    return 0 if not fails else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    sub.add_parser('classes')
    c = sub.add_parser('check')
    c.add_argument('--client', required=True)
    c.add_argument('--sink', required=True)
    c.add_argument('--audit')
    c.add_argument('--audit-offset', type=int, default=0)
    c.add_argument('--mode', choices=('exact', 'fault'), default='exact')
    c.add_argument('--title', default='')
    args = ap.parse_args()
    if args.cmd == 'classes':
        for name, mode, subs in CLASSES:
            print('%s:%s:%s' % (name, mode, ','.join(rcpts(subs))))
        return 0
    return check(args)


if __name__ == '__main__':
    sys.exit(main())
