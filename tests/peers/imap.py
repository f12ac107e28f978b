#!/usr/bin/python3
"""imap.py HOST PORT USER PASSWORD COMMAND ... -- look into a test IMAP store.

Commands (FOLDER as the server names it, e.g. INBOX, INBOX.Spam for bob, or
user.bob.Spam / bulletin when logged in as an admin):
  count FOLDER            print the number of messages in FOLDER
  fetch FOLDER N          write message N's body (RFC822.TEXT), raw bytes, to stdout
  header FOLDER N NAME    print header NAME of message N (unfolded; one line per
                          occurrence; exit 1 if absent)
  list                    print every folder the user can see, one a line

USER may be "authzid*authcid" (e.g. "bob*cyrus"): then it logs in with
AUTHENTICATE PLAIN as admin authcid acting as authzid (Cyrus allows this for
admins). Exit 0 on success, 1 if the message/header is missing, 2 on errors.
Only the python3 standard library; reads mailboxes read-only (EXAMINE).
"""
import imaplib
import re
import sys


def die(msg, code=2):
    sys.stderr.write("imap.py: %s\n" % msg)
    sys.exit(code)


def main(argv):
    if len(argv) < 6:
        die(__doc__.strip().splitlines()[0])
    host, port, user, pw, cmd = argv[1], int(argv[2]), argv[3], argv[4], argv[5]
    args = argv[6:]
    try:
        m = imaplib.IMAP4(host, port, timeout=20)
    except TypeError:  # python < 3.9 has no timeout argument
        m = imaplib.IMAP4(host, port)
    try:
        if "*" in user:
            authz, authc = user.split("*", 1)
            cred = ("%s\0%s\0%s" % (authz, authc, pw)).encode()
            m.authenticate("PLAIN", lambda _: cred)
        else:
            m.login(user, pw)
    except imaplib.IMAP4.error as e:
        die("login as %s failed: %s" % (user, e))

    def examine(folder):
        typ, data = m.select(quote(folder), readonly=True)
        if typ != "OK":
            die("EXAMINE %s: %s %s" % (folder, typ, data))
        return int(data[0])

    def fetch(folder, n, item):
        if n < 1 or n > examine(folder):
            die("%s has no message %d" % (folder, n), 1)
        typ, data = m.fetch(str(n), "(%s)" % item)
        if typ != "OK":
            die("FETCH %s %d: %s %s" % (folder, n, typ, data))
        for part in data:
            if isinstance(part, tuple):
                return part[1]
        return b""

    if cmd == "count" and len(args) == 1:
        print(examine(args[0]))
    elif cmd == "fetch" and len(args) == 2:
        sys.stdout.buffer.write(fetch(args[0], int(args[1]), "BODY.PEEK[TEXT]"))
        sys.stdout.buffer.flush()
    elif cmd == "header" and len(args) == 3:
        raw = fetch(args[0], int(args[1]),
                    "BODY.PEEK[HEADER.FIELDS (%s)]" % args[2])
        text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
        text = re.sub(r"\n[ \t]+", " ", text)  # unfold
        vals = [ln.split(":", 1)[1].strip() for ln in text.split("\n") if ":" in ln]
        if not vals:
            die("no %s header" % args[2], 1)
        print("\n".join(vals))
    elif cmd == "list" and not args:
        typ, data = m.list()
        if typ != "OK":
            die("LIST: %s %s" % (typ, data))
        for line in data:
            if not line:
                continue
            line = line.decode("utf-8", "replace")
            # (\Flags) "sep" name   -- name may be quoted
            name = line.split(") ", 1)[1].split(" ", 1)[1]
            if name.startswith('"') and name.endswith('"'):
                name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            print(name)
    else:
        die("unknown command or wrong arguments: %s" % " ".join([cmd] + args))
    m.logout()
    return 0


def quote(folder):
    return '"%s"' % folder.replace("\\", "\\\\").replace('"', '\\"')


if __name__ == "__main__":
    sys.exit(main(sys.argv))
