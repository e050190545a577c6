#!/usr/bin/env python3
"""milter-count.py -- a transparent milter-protocol proxy that counts round trips.

Usage:
    milter-count.py --listen SOCKET --connect SOCKET [--report FILE] [--ready FILE]
                    [--record FILE]

SOCKET is unix:/path or inet:HOST:PORT (Postfix syntax; inet:PORT@HOST is
accepted too).  Point Postfix's smtpd_milters at --listen; the proxy
connects to the real milter at --connect, once per MTA connection, and
forwards every byte unchanged in both directions (TCP_NODELAY on its inet
sockets, so it adds no Nagle delay of its own).

It parses the milter protocol on both sides (packets of a 4-byte
big-endian length, then a 1-byte command and the data) and learns the
protocol flags the milter negotiated from its SMFIC_OPTNEG ('O') reply.
Then, for every MTA command, it knows whether the MTA waits for a reply:

    'O' negotiate, 'E' end of message      always
    'C' 'H' 'M' 'R' 'T' 'L' 'N' 'B' 'U'    unless the matching SMFIP_NR_*
                                           flag was negotiated
    'D' macros, 'A' abort, 'Q'/'K' quit    never

and it counts, independently, the milter's final responses ('O' 'a' 'c'
'd' 'r' 't' 'y' 's' 'f' '4'); modification actions ('h' 'i' 'm' '+' '-'
'2' 'e' 'b' 'q') and progress ('p') are not replies.  The two counts must
agree ("mismatch" says if not: a milter answering a no-reply command, or
not answering a command the MTA waits for).  It also times each wait (from
forwarding the command to forwarding the final reply), which includes the
proxy's own latency (Python threads: ~0.1 ms).

On SIGTERM or SIGINT it writes the report (JSON) to --report (default
stdout) and exits.  A message is an end-of-message ('E') command; the
per-message figures are totals divided by the number of messages, so run
one message per connection and one recipient per message to read
"replies the MTA waited for per one-recipient message".

--ready FILE is created once the proxy is listening.

--record FILE saves the MTA-to-milter byte stream of the first connection
that carried a whole message (an 'E'), as sent, for bench/milter-replay.
"""

import argparse
import collections
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

# SMFIP_* protocol flags (libmilter mfdef.h)
NR_FLAG = {
    b'C': 0x1000,    # SMFIP_NR_CONN
    b'H': 0x2000,    # SMFIP_NR_HELO
    b'M': 0x4000,    # SMFIP_NR_MAIL
    b'R': 0x8000,    # SMFIP_NR_RCPT
    b'T': 0x10000,   # SMFIP_NR_DATA
    b'U': 0x20000,   # SMFIP_NR_UNKN
    b'N': 0x40000,   # SMFIP_NR_EOH
    b'B': 0x80000,   # SMFIP_NR_BODY
    b'L': 0x80,      # SMFIP_NR_HDR
}
ALWAYS_REPLY = {b'O', b'E'}
NEVER_REPLY = {b'D', b'A', b'Q', b'K'}
FINAL_RESPONSES = set(b'Oacdrtysf4')
CMD_NAMES = {
    'O': 'negotiate', 'C': 'connect', 'H': 'helo', 'M': 'mail', 'R': 'rcpt',
    'T': 'data', 'L': 'header', 'N': 'eoh', 'B': 'body', 'E': 'eom',
    'U': 'unknown', 'D': 'macro', 'A': 'abort', 'Q': 'quit', 'K': 'quit_nc',
}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.connections = 0
        self.mta_packets = collections.Counter()      # by command
        self.mta_waited = collections.Counter()       # commands the MTA waited on
        self.milter_packets = collections.Counter()   # by response
        self.milter_finals = 0
        self.unexpected_replies = 0                   # final reply with nothing pending
        self.mta_bytes = 0
        self.milter_bytes = 0
        self.wait_time = collections.defaultdict(float)  # by command, seconds
        self.negotiated = collections.Counter()       # protocol flags seen

    def report(self):
        with self.lock:
            msgs = self.mta_packets.get('E', 0)
            per = (lambda x: round(x / msgs, 3)) if msgs else (lambda x: None)
            waited = sum(self.mta_waited.values())
            return {
                'connections': self.connections,
                'messages': msgs,
                'replies_waited_for': waited,
                'replies_waited_for_per_message': per(waited),
                'milter_final_responses': self.milter_finals,
                'mismatch': waited != self.milter_finals or self.unexpected_replies != 0,
                'unexpected_replies': self.unexpected_replies,
                'waited_by_command_per_message': {
                    CMD_NAMES.get(k, k): per(v) for k, v in sorted(self.mta_waited.items())},
                'mta_packets_per_message': {
                    CMD_NAMES.get(k, k): per(v) for k, v in sorted(self.mta_packets.items())},
                'milter_packets_per_message': {
                    k: per(v) for k, v in sorted(self.milter_packets.items())},
                'mta_packets_total_per_message': per(sum(self.mta_packets.values())),
                'milter_packets_total_per_message': per(sum(self.milter_packets.values())),
                'bytes_mta_to_milter_per_message': per(self.mta_bytes),
                'bytes_milter_to_mta_per_message': per(self.milter_bytes),
                'mean_wait_ms_by_command': {
                    CMD_NAMES.get(k, k): round(self.wait_time[k] / self.mta_waited[k] * 1e3, 3)
                    for k in sorted(self.mta_waited) if self.mta_waited[k]},
                'negotiated_protocol_flags': {
                    hex(k): v for k, v in sorted(self.negotiated.items())},
            }


STATS = Stats()
RECORD = {'path': None, 'done': False, 'lock': threading.Lock()}


def parse_sock(spec):
    if spec.startswith('unix:'):
        return socket.AF_UNIX, spec[5:]
    if spec.startswith('local:'):
        return socket.AF_UNIX, spec[6:]
    if spec.startswith('inet:'):
        rest = spec[5:]
        if '@' in rest:
            port, host = rest.split('@', 1)
        else:
            host, port = rest.rsplit(':', 1)
        return socket.AF_INET, (host or '127.0.0.1', int(port))
    raise SystemExit('bad socket spec %r (unix:/path or inet:host:port)' % spec)


class Session:
    """One MTA connection and its milter connection."""

    def __init__(self, mta):
        self.mta = mta
        self.stream = bytearray()    # MTA -> milter bytes, for --record
        self.saw_eom = False
        self.proto = None            # negotiated protocol flags
        self.pending = collections.deque()   # (cmd, t) the MTA waits on
        self.done = threading.Event()

    def needs_reply(self, cmd):
        if cmd in ALWAYS_REPLY:
            return True
        if cmd in NEVER_REPLY:
            return False
        flag = NR_FLAG.get(cmd)
        if flag is None:
            return True
        return not (self.proto is not None and self.proto & flag)

    def on_mta_packet(self, cmd, data):
        c = cmd.decode('latin-1')
        if RECORD['path'] and not RECORD['done']:
            self.stream += struct.pack('>I', len(data) + 1) + cmd + data
            if cmd == b'E':
                self.saw_eom = True
        with STATS.lock:
            STATS.mta_packets[c] += 1
        if self.needs_reply(cmd):
            with STATS.lock:
                STATS.mta_waited[c] += 1
            self.pending.append((c, time.monotonic()))

    def on_milter_packet(self, cmd, data):
        c = cmd.decode('latin-1')
        if cmd == b'O' and len(data) >= 12:
            _, _, proto = struct.unpack('>III', data[:12])
            self.proto = proto
            with STATS.lock:
                STATS.negotiated[proto] += 1
        with STATS.lock:
            STATS.milter_packets[c] += 1
        if cmd[0] in FINAL_RESPONSES:
            now = time.monotonic()
            with STATS.lock:
                STATS.milter_finals += 1
                if self.pending:
                    wc, t = self.pending.popleft()
                    STATS.wait_time[wc] += now - t
                else:
                    STATS.unexpected_replies += 1


def pump(src, dst, on_packet, count_bytes, session):
    """Forward src -> dst, calling on_packet for each complete milter packet."""
    buf = b''
    try:
        while True:
            chunk = src.recv(65536)
            if not chunk:
                break
            # Parse before forwarding, so a reply the MTA waits on is
            # registered as pending before the milter can answer it.
            buf += chunk
            while len(buf) >= 5:
                (n,) = struct.unpack('>I', buf[:4])
                if len(buf) < 4 + n:
                    break
                on_packet(buf[4:5], buf[5:4 + n])
                buf = buf[4 + n:]
            count_bytes(len(chunk))
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        for s in (dst, src):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def add_mta_bytes(n):
    with STATS.lock:
        STATS.mta_bytes += n


def add_milter_bytes(n):
    with STATS.lock:
        STATS.milter_bytes += n


def handle(mta, target):
    fam, addr = target
    s = Session(mta)
    milter = socket.socket(fam, socket.SOCK_STREAM)
    try:
        milter.connect(addr)
    except OSError as e:
        print('milter-count: cannot connect to milter %r: %s' % (addr, e), file=sys.stderr)
        mta.close()
        milter.close()
        return
    for sock in (mta, milter):
        if sock.family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with STATS.lock:
        STATS.connections += 1
    t = threading.Thread(target=pump, args=(milter, mta, s.on_milter_packet, add_milter_bytes, s),
                         daemon=True)
    t.start()
    pump(mta, milter, s.on_mta_packet, add_mta_bytes, s)
    t.join()
    if RECORD['path'] and s.saw_eom:
        with RECORD['lock']:
            if not RECORD['done']:
                with open(RECORD['path'], 'wb') as f:
                    f.write(s.stream)
                RECORD['done'] = True
    mta.close()
    milter.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--listen', required=True)
    ap.add_argument('--connect', required=True)
    ap.add_argument('--report', default='-')
    ap.add_argument('--ready')
    ap.add_argument('--record')
    args = ap.parse_args()
    RECORD['path'] = args.record
    lfam, laddr = parse_sock(args.listen)
    target = parse_sock(args.connect)

    ls = socket.socket(lfam, socket.SOCK_STREAM)
    if lfam == socket.AF_UNIX:
        try:
            os.unlink(laddr)
        except FileNotFoundError:
            pass
        old = os.umask(0)
        ls.bind(laddr)
        os.umask(old)
    else:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(laddr)
    ls.listen(256)

    def finish(signum, frame):
        rep = json.dumps(STATS.report(), indent=1, sort_keys=True)
        if args.report == '-':
            print(rep, flush=True)
        else:
            with open(args.report + '.tmp', 'w') as f:
                f.write(rep + '\n')
            os.rename(args.report + '.tmp', args.report)
        if lfam == socket.AF_UNIX:
            try:
                os.unlink(laddr)
            except OSError:
                pass
        os._exit(0)

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    if args.ready:
        open(args.ready, 'w').close()
    while True:
        try:
            conn, _ = ls.accept()
        except InterruptedError:
            continue
        threading.Thread(target=handle, args=(conn, target), daemon=True).start()


if __name__ == '__main__':
    main()
