#!/usr/bin/python3
"""imapq.py PORT PASSWORD -- one IMAP client for a whole test, as a
coprocess (a python start costs ~0.3 s here): reads queries on stdin,
answers each with one line on stdout.

  count USER FOLDER...      the number of messages in each FOLDER,
                            space-separated
  fetch USER FOLDER N FILE  message N's body (BODY.PEEK[TEXT]) into FILE;
                            answers "ok"

USER is looked at through the Cyrus admin "cyrus" (PASSWORD) acting as
USER (AUTHENTICATE PLAIN with authzid USER; "cyrus" itself for shared
folders); one connection per USER, kept. A failed query answers
"error: ...". Read-only; only the python3 standard library.
"""
import imaplib
import sys

port, pw, conns = int(sys.argv[1]), sys.argv[2], {}


def conn(user):
    if user not in conns:
        m = imaplib.IMAP4("127.0.0.1", port, timeout=60)
        cred = ("%s\0cyrus\0%s" % (user, pw)).encode()
        m.authenticate("PLAIN", lambda _: cred)
        conns[user] = m
    return conns[user]


def count(m, folders):
    got = []
    for f in folders:
        typ, data = m.status('"%s"' % f, "(MESSAGES)")
        if typ != "OK":
            raise Exception("status %s: %s" % (f, data))
        got.append(data[0].decode().split("MESSAGES ")[1].rstrip(")"))
    return " ".join(got)


def fetch(m, folder, n, path):
    typ, data = m.select('"%s"' % folder, readonly=True)
    if typ != "OK":
        raise Exception("select %s: %s" % (folder, data))
    typ, data = m.fetch(n, "(BODY.PEEK[TEXT])")
    with open(path, "wb") as f:
        f.write(b"".join(p[1] for p in data if isinstance(p, tuple)))
    return "ok"


for line in sys.stdin:
    w = line.split()
    try:
        if len(w) >= 3 and w[0] == "count":
            print(count(conn(w[1]), w[2:]))
        elif len(w) == 5 and w[0] == "fetch":
            print(fetch(conn(w[1]), w[2], w[3], w[4]))
        else:
            print("error: bad query: %s" % line.strip())
    except Exception as e:
        print("error: %s" % str(e).replace("\n", " "))
    sys.stdout.flush()
