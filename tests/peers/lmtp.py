#!/usr/bin/python3
"""lmtp.py [-a MECH USER PW] [-o RCPT-OPTION] TARGET FROM RCPT... < MESSAGE

Send stdin as ONE LMTP transaction (one MAIL, one RCPT per recipient, one
DATA) to TARGET: a unix socket path (starts with '/') or HOST:PORT.
-a authenticates first (MECH: PLAIN, LOGIN or CRAM-MD5 -- what python's
smtplib can do). -o adds an option to every RCPT (e.g. -o IGNOREQUOTA).
Prints one line per recipient: "RCPT CODE TEXT" -- the RCPT reply if it was
refused, else that recipient's own DATA reply (LMTP gives one per accepted
recipient, in RCPT order; smtplib.LMTP.sendmail reads only the first, which is
why this exists). Exit 0 if every recipient got 2xx, 1 if not, 2 on a
connection/protocol error. Bare LFs become CRLF and dots are stuffed (smtplib).
Only the python3 standard library.
"""
import smtplib
import sys


def main(argv):
    args = argv[1:]
    mech = None
    rcpt_opts = []
    while args and args[0] in ("-a", "-o"):
        if args[0] == "-a":
            mech, user, pw = args[1:4]
            args = args[4:]
        else:
            rcpt_opts.append(args[1])
            args = args[2:]
    if len(args) < 3:
        sys.stderr.write(__doc__.strip().splitlines()[0] + "\n")
        return 2
    target, sender, rcpts = args[0], args[1], args[2:]
    msg = sys.stdin.buffer.read()
    try:
        if target.startswith("/"):
            lm = smtplib.LMTP(target, timeout=30)
        else:
            host, port = target.rsplit(":", 1)
            lm = smtplib.LMTP(host, int(port), timeout=30)
        lm.ehlo()  # sends LHLO
        if mech:
            lm.user, lm.password = user, pw
            fn = {"PLAIN": lm.auth_plain, "LOGIN": lm.auth_login,
                  "CRAM-MD5": lm.auth_cram_md5}[mech.upper()]
            lm.auth(mech.upper(), fn, initial_response_ok=(mech.upper() == "PLAIN"))
        code, text = lm.mail(sender)
        if code != 250:
            raise smtplib.SMTPException("MAIL: %d %s" % (code, text.decode()))
        result, accepted = {}, []
        for r in rcpts:
            code, text = lm.rcpt(r, rcpt_opts)
            result[r] = (code, text)
            if 200 <= code < 300:
                accepted.append(r)
        if accepted:
            first = lm.data(msg)  # raises unless the server said 354
            result[accepted[0]] = first
            for r in accepted[1:]:
                result[r] = lm.getreply()
        else:
            lm.rset()
        lm.quit()
    except (OSError, smtplib.SMTPException) as e:
        sys.stderr.write("lmtp.py: %s\n" % (e,))
        return 2
    ok = True
    for r in rcpts:
        code, text = result[r]
        print("%s %d %s" % (r, code, text.decode("utf-8", "replace").replace("\n", " ")))
        ok = ok and 200 <= code < 300
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
