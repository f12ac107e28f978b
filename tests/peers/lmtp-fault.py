#!/usr/bin/python3
"""lmtp-fault.py LISTEN SCRIPT LOG -- a scripted LMTP peer for the faults the
real Cyrus and Dovecot cannot be made to show (a link dropped after DATA, a
garbled or endless reply, a stall, a SIZE limit, AUTH PLAIN on a non-loopback
address). Nothing else: every other store test talks to the real peers.

LISTEN is a unix socket path (starting with '/') or HOST:PORT (PORT 0: any
free port; the port taken is written to LOG.port). The server accepts one
connection per section of SCRIPT (sections are separated by a line "--")
and exits after the last, or after 30 s in all (--timeout N), whichever
comes first. It writes LOG.ready once it listens.

SCRIPT, fdm style, one step a line:
  > TEXT       send TEXT and CRLF ("\\r" and "\\n" in TEXT are sent as they are)
  >> N TEXT    send TEXT repeated N times, then CRLF (an over-long line)
  < REGEX      read one line; log it; a line not matching REGEX is logged as
               "MISMATCH" (the test greps the log)
  <data        read the message up to the lone "." and log "DATA n bytes"
               and "DATA-SHA1 hex" of the undotted bytes
  <quiet N     read for N seconds, log what came, send nothing
  sleep N      wait N seconds (may be fractional)
  close        close the connection at once
  # ...        a comment
LOG gets "< line" for every line read and "> line" for every line sent.
Only the python3 standard library.
"""
import hashlib
import os
import re
import select
import socket
import sys
import time


def main(argv):
    args = argv[1:]
    limit = 30.0
    if len(args) >= 2 and args[0] == "--timeout":
        limit = float(args[1])
        args = args[2:]
    if len(args) != 3:
        sys.stderr.write(__doc__.strip().splitlines()[0] + "\n")
        return 2
    listen, script, logpath = args
    sections = [[]]
    with open(script, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line == "--":
                sections.append([])
            elif line.strip() and not line.startswith("#"):
                sections[-1].append(line)
    log = open(logpath, "a", buffering=1, encoding="utf-8", errors="replace")
    if listen.startswith("/"):
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(listen):
            os.unlink(listen)
        srv.bind(listen)
        os.chmod(listen, 0o666)
    else:
        host, port = listen.rsplit(":", 1)
        host = host.strip("[]")
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        srv = socket.socket(fam, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((host, int(port)))
        with open(logpath + ".port", "w") as p:
            p.write("%d\n" % srv.getsockname()[1])
    srv.listen(8)
    open(logpath + ".ready", "w").close()
    deadline = time.monotonic() + limit
    for steps in sections:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        srv.settimeout(left)
        try:
            conn, _ = srv.accept()
        except OSError:
            break
        log.write("accept\n")
        try:
            run(conn, steps, log, deadline)
        except (OSError, EOFError) as e:
            log.write("error %s\n" % e)
        try:
            conn.close()
        except OSError:
            pass
        log.write("closed\n")
    srv.close()
    return 0


class Lines:
    """Lines from a socket, each read bounded by a deadline (a timed-out
    socket.makefile() cannot be read again, so this keeps its own buffer)."""

    def __init__(self, conn):
        self.conn, self.buf = conn, b""

    def readline(self, until):
        while b"\n" not in self.buf:
            left = until - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out")
            r, _, _ = select.select([self.conn], [], [], left)
            if not r:
                raise socket.timeout("timed out")
            chunk = self.conn.recv(65536)
            if not chunk:
                if self.buf:
                    line, self.buf = self.buf, b""
                    return line
                raise EOFError("client closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"


def run(conn, steps, log, deadline):
    src = Lines(conn)

    def readline():
        return src.readline(deadline)

    for step in steps:
        if step.startswith(">> "):
            n, text = step[3:].split(" ", 1)
            conn.sendall(text.encode() * int(n) + b"\r\n")
            log.write("> (%s x %s)\n" % (n, text))
        elif step.startswith("> ") or step == ">":
            text = step[2:].replace("\\r", "\r").replace("\\n", "\n")
            conn.sendall(text.encode("utf-8", "surrogateescape") + b"\r\n")
            log.write("> %s\n" % text)
        elif step == "<data":
            body, h = 0, hashlib.sha1()
            while True:
                line = readline()
                if line in (b".\r\n", b".\n"):
                    break
                if line.startswith(b".."):
                    line = line[1:]
                body += len(line)
                h.update(line)
            log.write("DATA %d bytes\nDATA-SHA1 %s\n" % (body, h.hexdigest()))
        elif step.startswith("<quiet"):
            end = min(deadline, time.monotonic() + float(step.split()[1]))
            while True:
                try:
                    line = src.readline(end)
                except socket.timeout:
                    break
                log.write("< %s\n" % line.decode("latin-1").rstrip("\r\n"))
        elif step.startswith("<"):
            pat = step[1:].strip()
            line = readline().decode("latin-1").rstrip("\r\n")
            log.write("< %s\n" % line)
            if not re.match(pat, line, re.I):
                log.write("MISMATCH want /%s/\n" % pat)
        elif step.startswith("sleep "):
            time.sleep(float(step.split()[1]))
        elif step == "close":
            return
        else:
            log.write("bad step %r\n" % step)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
