#!/usr/bin/env python3
"""tests/probe/probe-helper.py -- the servers tlspolicyctl probe's tests need
besides Postfix, on 127.0.0.1:PORT:

  mask UPSTREAM   a TCP proxy to 127.0.0.1:UPSTREAM that rewrites the
                  keyword STARTTLS to XXXXXXXA in the server's replies, as a
                  Cisco ASA with "SMTP inspection" does, until the client
                  sends STARTTLS; then it relays bytes untouched (so TLS
                  through it still works, as it does through the ASA when a
                  client sends STARTTLS anyway)
  tarpit          accepts connections and never says a word
  garbage         answers every connection with an HTTP error, then closes
  hostile         an SMTP server whose replies carry terminal escapes, a
                  byte that is not UTF-8 and a NUL-free but long line; it
                  refuses STARTTLS

It runs until killed (the test stops it by pid). Standard library only.
"""
import socket
import sys
import threading

MASK_FROM = b"STARTTLS"
MASK_TO = b"XXXXXXXA"


def relay(src, dst):
    """Copy bytes src -> dst until either side closes."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def mask_session(client, upstream_port):
    """Rewrite the server's lines until the client says STARTTLS."""
    server = socket.create_connection(("127.0.0.1", upstream_port))
    switched = threading.Event()

    def server_to_client():
        buf = b""
        try:
            while not switched.is_set():
                data = server.recv(65536)
                if not data:
                    client.shutdown(socket.SHUT_WR)
                    return
                lines, sep, buf = (buf + data).rpartition(b"\n")
                if sep:
                    client.sendall((lines + sep).replace(MASK_FROM, MASK_TO))
            if buf:
                client.sendall(buf)
        except OSError:
            return
        relay(server, client)

    t = threading.Thread(target=server_to_client, daemon=True)
    t.start()
    buf = b""
    try:
        while not switched.is_set():
            data = client.recv(65536)
            if not data:
                break
            server.sendall(data)
            *lines, buf = (buf + data).split(b"\n")
            if any(line.strip().upper() == b"STARTTLS" for line in lines):
                switched.set()
    except OSError:
        pass
    relay(client, server)


def serve(port, handler):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def tarpit(conn):
    held.append(conn)          # keep it open, say nothing


def garbage(conn):
    try:
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        conn.close()
    except OSError:
        pass


def hostile(conn):
    f = conn.makefile("rb")
    replies = {
        b"EHLO": b"250-evil\x1b]0;owned\x07 \xff\r\n250-" + b"A" * 600 + b"\r\n250 XXXXXXXA\r\n",
        b"MAIL": b"250 2.1.0 \x1b[2Jok\r\n",
        b"RSET": b"250 2.0.0 ok\r\n",
        b"STARTTLS": b"454 4.7.0 \x1b[31mno TLS\x1b[0m\r\n",
    }
    try:
        conn.sendall(b"220 evil.test \x1b[31mESMTP\x1b[0m \xc3\x28\r\n")
        for line in f:
            verb = line.split()[0].upper() if line.split() else b""
            if verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                break
            conn.sendall(replies.get(verb, b"502 5.5.1 no\r\n"))
        conn.close()
    except OSError:
        pass


held = []

if __name__ == "__main__":
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "mask":
        upstream = int(sys.argv[3])
        serve(port, lambda c: mask_session(c, upstream))
    elif mode == "tarpit":
        serve(port, tarpit)
    elif mode == "garbage":
        serve(port, garbage)
    elif mode == "hostile":
        serve(port, hostile)
    else:
        sys.exit("usage: probe-helper.py mask|tarpit|garbage|hostile PORT [UPSTREAM]")
