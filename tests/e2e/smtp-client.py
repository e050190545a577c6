#!/usr/bin/env python3
"""Minimal, fully controllable SMTP client for the tlspolicy end-to-end tests.

Unlike swaks it can do EHLO, STARTTLS and then MAIL FROM *without* a second
EHLO (mode "starttls-noehlo"), which is the session shape that hides the TLS
macros from a milter's helo callback.  Each command is sent only after the
previous reply was read (no pipelining), so Postfix never sees "improper
command pipelining".

Modes:
  plain            EHLO, MAIL, RCPT, DATA (no TLS even if offered)
  starttls         EHLO, STARTTLS, EHLO, MAIL, ... (like swaks --tls)
  starttls-noehlo  EHLO, STARTTLS, MAIL, ...  (no EHLO after the handshake)
  implicit         TLS handshake on connect, EHLO, MAIL, ... (port 465 style)

Exit codes follow swaks where a swaks code exists:
  0 ok, 1 usage, 2 cannot connect, 6 connection closed unexpectedly,
  21 bad banner, 22 EHLO rejected, 23 MAIL rejected, 24 no RCPT accepted,
  25 DATA rejected, 26 message rejected after ".", 29 TLS error
  (STARTTLS not offered / refused / handshake failed), 32 EHLO after TLS rejected.

The transcript (stdout, or --transcript FILE) uses swaks' arrows:
  "->"/"<-" for cleartext, "~>"/"<~" inside TLS, "===" for notes.
The last line is always "=== exit N".
"""

import argparse
import email.utils
import shlex
import socket
import ssl
import sys
import time


class SmtpError(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


class Client:
    def __init__(self, args, out):
        self.a = args
        self.out = out
        self.sock = None
        self.tls = False
        self.buf = b""

    def log(self, prefix, text):
        for line in text.splitlines() or [""]:
            self.out.write("%s %s\n" % (prefix, line))
        self.out.flush()

    def note(self, text):
        self.log("===", text)

    # --- I/O -----------------------------------------------------------
    def send(self, line):
        self.log("~>" if self.tls else "->", line)
        try:
            self.sock.sendall(line.encode("utf-8", "surrogateescape") + b"\r\n")
        except (OSError, ssl.SSLError) as e:
            raise SmtpError(6, "send failed: %s" % e)

    def send_raw(self, data):
        for line in data.rstrip(b"\r\n").split(b"\r\n"):
            self.log("~>" if self.tls else "->", line.decode("utf-8", "replace"))
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            raise SmtpError(6, "send failed: %s" % e)

    def readline(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise SmtpError(6, "timeout waiting for server reply")
            except (OSError, ssl.SSLError) as e:
                raise SmtpError(6, "receive failed: %s" % e)
            if not chunk:
                raise SmtpError(6, "connection closed by server")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """Read one (possibly multi-line) reply; return (code, [lines])."""
        lines = []
        while True:
            line = self.readline()
            self.log("<~" if self.tls else "<-", line)
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                break
        try:
            code = int(lines[-1][:3])
        except ValueError:
            raise SmtpError(6, "malformed reply: %r" % lines[-1])
        return code, lines

    def cmd(self, line, fail_code, ok=(250,)):
        self.send(line)
        code, lines = self.reply()
        if code not in ok:
            raise SmtpError(fail_code, "%s -> %s" % (line.split(" ")[0], lines[-1]))
        return code, lines

    # --- TLS -----------------------------------------------------------
    def context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self.a.cafile:
            ctx.load_verify_locations(self.a.cafile)
            ctx.check_hostname = bool(self.a.sni)
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.a.cert:
            ctx.load_cert_chain(self.a.cert, self.a.key or None)
        if self.a.tls_version:
            v = {
                "1.2": ssl.TLSVersion.TLSv1_2, "tlsv1_2": ssl.TLSVersion.TLSv1_2,
                "1.3": ssl.TLSVersion.TLSv1_3, "tlsv1_3": ssl.TLSVersion.TLSv1_3,
            }[self.a.tls_version.lower()]
            ctx.minimum_version = v
            ctx.maximum_version = v
        return ctx

    def handshake(self):
        try:
            self.sock = self.context().wrap_socket(
                self.sock, server_hostname=self.a.sni or None)
        except (OSError, ssl.SSLError, ValueError) as e:
            raise SmtpError(29, "TLS handshake failed: %s" % e)
        self.tls = True
        self.note("TLS started: %s %s" % (self.sock.version(), self.sock.cipher()[0]))

    # --- session -------------------------------------------------------
    def message(self):
        a = self.a
        hdrs = [
            "Date: %s" % email.utils.formatdate(localtime=True),
            "From: <%s>" % a.mail_from,
            "To: %s" % ", ".join("<%s>" % r for r in a.to),
            "Subject: %s" % a.subject,
            "Message-ID: <%s@client.e2e.test>" % (a.id or "%f" % time.time()),
        ]
        if a.id:
            hdrs.append("X-E2E-Id: %s" % a.id)
        hdrs.extend(a.header)
        body = a.body.replace("\\n", "\n").split("\n")
        lines = hdrs + [""] + body
        # dot-stuffing
        lines = ["." + l if l.startswith(".") else l for l in lines]
        return ("\r\n".join(lines) + "\r\n.\r\n").encode("utf-8")

    def run(self):
        a = self.a
        try:
            self.sock = socket.create_connection(
                (a.server, a.port), timeout=a.timeout,
                source_address=(a.source, 0) if a.source else None)
        except OSError as e:
            raise SmtpError(2, "connect to %s:%s failed: %s" % (a.server, a.port, e))
        self.sock.settimeout(a.timeout)
        self.note("connected to %s:%s mode=%s" % (a.server, a.port, a.mode))
        if a.mode == "implicit":
            self.handshake()
        code, lines = self.reply()
        if code != 220:
            raise SmtpError(21, "banner: %s" % lines[-1])
        if a.quit_after == "banner":
            return self.quit()
        code, lines = self.cmd("EHLO %s" % a.ehlo, 22)
        if a.quit_after == "ehlo":
            return self.quit()
        if a.mode in ("starttls", "starttls-noehlo"):
            if not any(l[4:].strip().upper() == "STARTTLS" for l in lines):
                raise SmtpError(29, "STARTTLS not advertised")
            self.cmd("STARTTLS", 29, ok=(220,))
            self.handshake()
            if a.quit_after == "tls":
                return self.quit()
            if a.mode == "starttls":
                self.cmd("EHLO %s" % a.ehlo, 32)
            else:
                self.note("no EHLO after STARTTLS (by design)")
        self.cmd("MAIL FROM:<%s>%s" % (a.mail_from, "".join(" " + m for m in a.mail_param)), 23)
        if a.quit_after == "mail":
            return self.quit()
        accepted = 0
        last = ""
        for r in a.to:
            self.send("RCPT TO:<%s>" % r)
            code, lines = self.reply()
            last = lines[-1]
            if code in (250, 251):
                accepted += 1
        if not accepted:
            raise SmtpError(24, "no recipient accepted: %s" % last)
        if a.quit_after == "rcpt":
            return self.quit()
        self.cmd("DATA", 25, ok=(354,))
        self.send_raw(self.message())
        code, lines = self.reply()
        if code != 250:
            raise SmtpError(26, "message rejected: %s" % lines[-1])
        return self.quit()

    def quit(self):
        try:
            self.send("QUIT")
            self.reply()
        except SmtpError:
            pass
        return 0

    def close(self):
        try:
            if self.sock:
                self.sock.close()
        except OSError:
            pass


def parser():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", default="starttls-noehlo",
                   choices=["plain", "starttls", "starttls-noehlo", "implicit"])
    p.add_argument("--source", default="", help="connect from this local address (e.g. 127.0.0.2)")
    p.add_argument("--ehlo", default="client.e2e.test")
    p.add_argument("--from", dest="mail_from", default="sender@client.e2e.test")
    p.add_argument("--to", action="append", default=[],
                   help="recipient (repeatable; default rcpt@remote.e2e.test)")
    p.add_argument("--mail-param", action="append", default=[],
                   help="MAIL FROM parameter, e.g. SMTPUTF8 (repeatable)")
    p.add_argument("--subject", default=None)
    p.add_argument("--id", default="", help="unique id: X-E2E-Id header and default subject")
    p.add_argument("--header", action="append", default=[], help='extra header "Name: value"')
    p.add_argument("--body", default="This is an e2e test message.")
    p.add_argument("--cert", help="client certificate (PEM)")
    p.add_argument("--key", help="client key (PEM)")
    p.add_argument("--cafile", help="verify the server against this CA")
    p.add_argument("--sni", default="", help="SNI / name to verify")
    p.add_argument("--tls-version", help="pin TLS version: 1.2|1.3|tlsv1_2|tlsv1_3")
    p.add_argument("--quit-after", choices=["banner", "ehlo", "tls", "mail", "rcpt"])
    p.add_argument("--timeout", type=float, default=20.0)
    p.add_argument("--transcript", help="write transcript here instead of stdout")
    p.add_argument("--batch", help="one session per line of this file: the line's "
                   "arguments (shell words) added to the command line's; "
                   "prints each session's exit code, one a line")
    return p


def session(a):
    """One SMTP session as A says; its exit code."""
    if not a.to:
        a.to = ["rcpt@remote.e2e.test"]
    if a.subject is None:
        a.subject = "e2e %s" % (a.id or "message")

    out = open(a.transcript, "w") if a.transcript else sys.stdout
    c = Client(a, out)
    rc = 0
    try:
        rc = c.run()
    except SmtpError as e:
        c.note("ERROR: %s" % e)
        rc = e.code
        if rc in (21, 22, 23, 24, 25, 26, 32):
            c.quit()
    finally:
        c.close()
    c.note("exit %d" % rc)
    if out is not sys.stdout:
        out.close()
    return rc


def main():
    p = parser()
    a = p.parse_args()
    if not a.batch:
        return session(a)
    # Many sessions from one process: a python start costs seconds on a
    # loaded machine.
    with open(a.batch, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                print(session(p.parse_args(sys.argv[1:] + shlex.split(line))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
