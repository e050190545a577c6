#!/usr/bin/env python3
"""tests/dns/https-server.py PORT CHAIN KEY DOCDIR PIDFILE

An HTTPS server on 127.0.0.1:PORT for MTA-STS policy tests (dns-lib.sh's
dnst_https_start). CHAIN is the server certificate (and its chain), KEY
its key. Each request is answered from DOCDIR/HOST/ where HOST is the
request's Host header (lower case, port removed), so one server plays the
policy host of many domains:
  body      the response body (no file: 404)
  type      Content-Type (default text/plain)
  status    HTTP status (default 200)
  location  a Location header (for redirects)
Only GET /.well-known/mta-sts.txt is served. Each request is logged as
one line "HOST PATH STATUS" to standard error. Writes its pid to PIDFILE
once it listens.
"""
import http.server
import os
import ssl
import sys


def read(path, default=None):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return default


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        docs = os.path.join(self.server.docdir, os.path.basename(host))
        body = read(os.path.join(docs, "body"))
        status = 404
        if self.path == "/.well-known/mta-sts.txt" and host and body is not None:
            status = int(read(os.path.join(docs, "status"), b"200"))
        else:
            body = b"not found\n"
        self.send_response(status)
        ctype = read(os.path.join(docs, "type"), b"text/plain").decode().strip()
        self.send_header("Content-Type", ctype)
        location = read(os.path.join(docs, "location"))
        if location:
            self.send_header("Location", location.decode().strip())
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        sys.stderr.write("%s %s %d\n" % (host, self.path, status))
        sys.stderr.flush()

    def log_message(self, *args):
        pass


def main():
    port, chain, key, docdir, pidfile = sys.argv[1:6]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
    server.docdir = docdir
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(pidfile + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(pidfile + ".tmp", pidfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
