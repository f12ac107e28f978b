#!/usr/bin/python3
"""sieve-diff.py -- the three-way differential test of lda --to-sieve (TAP
lines on stdout; run by sieve-export.t, which starts Cyrus and makes the
service user).

For every case of tests/rc/cases (the procmail differential suite) and of
tests/sieve/cases (realistic rc files, several messages each) the rc is
translated with `lda --to-sieve`. A case the translator reports (exit 3) is
counted and left out. For a translated case, each message is delivered

  (1) by lda running the rc (--config rc -d USER, as the service user) into
      the real Cyrus over LMTP (STORE = Cyrus's unix socket);
  (2) by Cyrus's lmtpd running the exported script (compiled with Cyrus's
      sievec into the user's sieve directory, `mbpath -S`, as active script);
  (3) by Pigeonhole's sieve-test -e on the script exported for Dovecot
      (SIEVE_PREFIX=), into a Maildir;

each to a user of its own, whose folders (those the script names, made
beforehand, except names starting with "Nonexistent") are then read: (1)
and (2) over IMAP, (3) in the Maildir. Folder names, message counts and
flags must be the same.

Environment: LDA_BIN, LDA_TOP, SVC (the service user), T (scratch),
CYRUS_* (tests/peers/cyrus-up.sh's env), SIEVE_CASES (a regex on case
names), SIEVE_VERBOSE=1.
"""
import imaplib
import os
import pwd
import re
import shutil
import smtplib
import subprocess
import sys
import time

LDA = os.environ["LDA_BIN"]
TOP = os.environ["LDA_TOP"]
SVC = os.environ["SVC"]
T = os.environ["T"]
SOCK = os.environ["CYRUS_LMTP_SOCK"]
CONF = os.environ["CYRUS_CONF"]
PW = os.environ["CYRUS_PW"]
IPORT = int(os.environ["CYRUS_IMAP_PORT"])
ONLY = re.compile(os.environ.get("SIEVE_CASES", ""))
VERBOSE = os.environ.get("SIEVE_VERBOSE") == "1"
CYRBIN = "/usr/lib/cyrus/bin"
svc = pwd.getpwnam(SVC)

n_test = 0
failed = 0


def ok(cond, name, detail=None):
    global n_test, failed
    n_test += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n_test, name))
    if not cond:
        failed += 1
        for line in (detail or "").splitlines():
            print("#   " + line)
    sys.stdout.flush()


def diag(s):
    for line in s.splitlines():
        print("# " + line)


admin = imaplib.IMAP4("127.0.0.1", IPORT, timeout=60)
admin.login("cyrus", PW)


def imap_as(user):
    m = imaplib.IMAP4("127.0.0.1", IPORT, timeout=60)
    cred = ("%s\0cyrus\0%s" % (user, PW)).encode()
    m.authenticate("PLAIN", lambda _: cred)
    return m


def mkuser(user, folders):
    typ, data = admin.create("user." + user)
    if typ != "OK":
        raise RuntimeError("CREATE user.%s: %s" % (user, data))
    for f in folders:
        typ, data = admin.create("user.%s.%s" % (user, f))
        if typ != "OK":
            raise RuntimeError("CREATE user.%s.%s: %s" % (user, f, data))
        admin.setacl("user.%s.%s" % (user, f), "anyone", "p")


SYSFLAGS = {"\\Seen": "S", "\\Flagged": "F", "\\Answered": "R",
            "\\Deleted": "T", "\\Draft": "D"}


def cyrus_state(user):
    """{folder: [flags of each message]} over IMAP, INBOX.x named x"""
    m = imap_as(user)
    state = {}
    typ, boxes = m.list()
    for b in boxes:
        name = b.decode().rsplit(' "." ', 1)[1].strip('"')
        typ, data = m.select('"%s"' % name, readonly=True)
        n = int(data[0])
        if n == 0:
            continue
        typ, data = m.fetch("1:*", "(FLAGS)")
        flags = []
        for d in data:
            fl = re.search(rb"FLAGS \(([^)]*)\)", d).group(1).decode().split()
            flags.append("".join(sorted(SYSFLAGS[f] for f in fl
                                        if f in SYSFLAGS)))
        key = "INBOX" if name == "INBOX" else name[len("INBOX."):]
        state[key] = sorted(flags)
    m.logout()
    return state


def maildir_state(root):
    state = {}
    for d in [""] + [x for x in os.listdir(root) if x.startswith(".")
                     and os.path.isdir(os.path.join(root, x, "cur"))]:
        flags = []
        for sub in ("new", "cur"):
            p = os.path.join(root, d, sub)
            for f in os.listdir(p):
                fl = f.split(":2,", 1)[1] if ":2," in f else ""
                flags.append("".join(sorted(c for c in fl if c.isupper())))
        if flags:
            state[d[1:] if d else "INBOX"] = sorted(flags)
    return state


def subst(s, side):
    return (s.replace("@SCRATCH@", side).replace("@DIR@", side + "/mail")
            .replace("@BIN@", side + "/bin"))


def strip_from(msg):
    if msg.startswith(b"From "):
        msg = msg.split(b"\n", 1)[1] if b"\n" in msg else b""
    return msg


def translate(rc, side, prefix):
    args = [LDA, "--to-sieve", rc, "MAILDIR=%s/mail" % side,
            "DEFAULT=%s/mail/INBOX/" % side,
            "ORGMAIL=%s/mail/ORGMAIL" % side]
    if prefix is not None:
        args.append("SIEVE_PREFIX=" + prefix)
    r = subprocess.run(args, capture_output=True, timeout=60)
    return r.returncode, r.stdout.decode("latin-1"), r.stderr.decode("latin-1")


def install_cyrus(user, script, side):
    src = os.path.join(side, "cyrus.sieve")
    with open(src, "w") as f:
        f.write(script)
    sd = subprocess.run(["runuser", "-u", "cyrus", "--", CYRBIN + "/mbpath",
                         "-C", CONF, "-u", "-S", user], capture_output=True,
                        text=True, check=True).stdout.strip()
    os.makedirs(sd, exist_ok=True)
    r = subprocess.run([CYRBIN + "/sievec", "-C", CONF, src, sd + "/lda.bc"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return "sievec: " + r.stdout + r.stderr
    shutil.copy(src, sd + "/lda.script")
    link = sd + "/defaultbc"
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink("lda.bc", link)
    subprocess.run(["chown", "-R", "cyrus", os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.dirname(sd))))], check=True)
    return None


def lmtp(user, sender, msg):
    s = smtplib.LMTP(SOCK)
    try:
        s.sendmail(sender, [user], msg)
    except smtplib.SMTPException as e:
        return str(e)
    finally:
        try:
            s.quit()
        except smtplib.SMTPException:
            pass
    return None


def sieve_test(script, side, k, sender, msg, folders):
    root = os.path.join(side, "dv%d" % k)
    for f in [""] + ["." + x for x in folders]:
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(root, f, sub), exist_ok=True)
    sfile = os.path.join(side, "dv%d.sieve" % k)
    mfile = os.path.join(side, "dv%d.eml" % k)
    with open(sfile, "w") as f:
        f.write(script)
    with open(mfile, "wb") as f:
        f.write(msg)
    conf = os.path.join(side, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("mail_uid = %s\nmail_gid = %d\n" % (SVC, svc.pw_gid))
    subprocess.run(["chown", "-R", SVC, root, side], check=True)
    r = subprocess.run(["sieve-test", "-c", conf, "-e", "-l",
                        "maildir:" + root, "-f", sender or "MAILER-DAEMON",
                        "-r", "user@lda-test", sfile, mfile],
                       capture_output=True, text=True, timeout=60)
    # a fileinto that failed ends in the INBOX ("resolved with successful
    # implicit keep"), as in Dovecot's LMTP; exit 1 says so
    if r.returncode != 0 and "successful implicit keep" not in r.stderr:
        return None, "sieve-test: " + r.stdout + r.stderr
    return maildir_state(root), r.stdout + r.stderr


class Case:
    def __init__(self, d, name, msgs):
        self.dir, self.name, self.msgs = d, name, msgs


def cases():
    out = []
    base = os.path.join(TOP, "tests", "rc", "cases")
    for name in sorted(os.listdir(base)):
        d = os.path.join(base, name)
        ref = "default"
        if os.path.exists(os.path.join(d, "msgref")):
            ref = open(os.path.join(d, "msgref")).read().strip()
        m = os.path.join(d, "msg")
        if not os.path.exists(m):
            m = os.path.join(TOP, "tests", "rc", "msgs", ref)
        out.append(Case(d, "rc/" + name, [m]))
    base = os.path.join(TOP, "tests", "sieve", "cases")
    msgs = os.path.join(TOP, "tests", "sieve", "msgs")
    for name in sorted(os.listdir(base)):
        d = os.path.join(base, name)
        out.append(Case(d, "sieve/" + name, [os.path.join(msgs, x) for x in
                        sorted(os.listdir(msgs))]))
    return [c for c in out if ONLY.search(c.name)]


def prepare(case, side):
    for sub in ("mail", "bin", "home", "tmp"):
        os.makedirs(os.path.join(side, sub))
    skip = ("msg", "msgref", "opts", "args", "env", "setup", "expect", "folders",
            "expect-differ", "lda-expect", "pm-timeout", "modes",
            "no-default", "no-orgmail", "README")
    for n in os.listdir(case.dir):
        if n in skip:
            continue
        with open(os.path.join(case.dir, n), "rb") as f:
            data = f.read().decode("latin-1")
        with open(os.path.join(side, n), "wb") as f:
            f.write(subst(data, side).encode("latin-1"))
    if os.path.exists(os.path.join(case.dir, "setup")):
        env = dict(os.environ, SCRATCH=side, MAILDIR=side + "/mail",
                   CASE=case.dir)
        subprocess.run(["bash", os.path.join(case.dir, "setup")], cwd=side,
                       env=env, capture_output=True, timeout=60)
    subprocess.run(["chmod", "-R", "a+rX", side])


def main():
    figures = {"cases": 0, "exact": 0, "reported": 0, "recipes": 0,
               "recipes_reported": 0, "redirect": 0}
    k = 0
    for case in cases():
        t0 = time.time()
        try:
            k = run_case(case, figures, k)
        finally:
            if time.time() - t0 > 3:
                diag("%s took %.1f s" % (case.name, time.time() - t0))
    report(figures)
    return 1 if failed else 0


def run_case(case, figures, k):
    if True:
        side = os.path.join(T, "c", case.name.replace("/", "_"))
        os.makedirs(side)
        prepare(case, side)
        rc = os.path.join(side, "rc")
        if not os.path.exists(rc):
            return k
        figures["cases"] += 1
        code, script, err = translate(rc, side, None)
        m = re.search(r"^# (\d+) recipes, (\d+) not translated", script, re.M)
        if m:
            figures["recipes"] += int(m.group(1))
            figures["recipes_reported"] += int(m.group(2))
        if code == 3:
            figures["reported"] += 1
            if VERBOSE:
                diag("%s: reported: %s" % (case.name, err.strip()))
            return k
        ok(code == 0, "%s: translated (exit 0)" % case.name, err)
        if code != 0:
            return k
        figures["exact"] += 1
        code2, dscript, err2 = translate(rc, side, "")
        if re.search(r"^\s*redirect", script, re.M):
            figures["redirect"] += 1
            return k
        folders = sorted(set(re.findall(r'fileinto (?::copy )?"INBOX\.([^"]*)"',
                                        script)))
        folders = [f for f in folders if "${" not in f]
        if os.path.exists(os.path.join(case.dir, "folders")):
            # the names a script makes from the message ($MATCH)
            folders += open(os.path.join(case.dir, "folders")).read().split()
        made = [f for f in folders if not f.startswith("Nonexistent")]
        if len(made) > 30:
            # thousands of mailboxes take Cyrus minutes: none, so every
            # copy ends in the INBOX the same way in all three
            made = []
        opts = []
        if os.path.exists(os.path.join(case.dir, "opts")):
            opts = open(os.path.join(case.dir, "opts")).read().split()
        sender = opts[opts.index("-f") + 1] if "-f" in opts else \
            "sender@example.org"
        for mi, mpath in enumerate(case.msgs):
            k += 1
            ua, us = "sva%d" % k, "svs%d" % k
            mkuser(ua, made)
            mkuser(us, made)
            raw = open(mpath, "rb").read()
            msg = strip_from(raw)
            what = "%s msg %s" % (case.name, os.path.basename(mpath))
            # (1) lda running the rc into Cyrus
            r = subprocess.run(["runuser", "-u", SVC, "--", LDA, "--store",
                                "lmtp:unix:" + SOCK, "-f", sender, "--config",
                                rc, "MAILDIR=%s/mail" % side,
                                "DEFAULT=%s/mail/INBOX/" % side,
                                "ORGMAIL=%s/mail/ORGMAIL" % side, "-d", ua],
                               input=raw, capture_output=True, timeout=60)
            # (2) Cyrus's lmtpd running the script
            e = install_cyrus(us, script, side) or lmtp(us, sender, msg)
            # (3) Pigeonhole
            dv, out3 = sieve_test(dscript, side, k, sender, msg, made)
            a = cyrus_state(ua)
            s = cyrus_state(us) if e is None else {"error": e}
            same = r.returncode == 0 and a == s and a == dv
            ok(same, "%s: lda into Cyrus, Cyrus's sieve and Pigeonhole "
               "agree" % what,
               "lda exit %d %s\nlda:        %s\ncyrus sieve: %s\n"
               "pigeonhole:  %s\n%s\nscript:\n%s" % (
                   r.returncode, r.stdout.decode("latin-1")
                   + r.stderr.decode("latin-1"), a, s, dv, out3, script))
            if VERBOSE:
                diag("%s: %s" % (what, a))
    return k


def report(figures):
    diag("cases: %(cases)d; translated exactly: %(exact)d (of which with "
         "redirect, not compared: %(redirect)d); reported: %(reported)d"
         % figures)
    diag("recipes: %(recipes)d; in reported places: %(recipes_reported)d"
         % figures)
    with open(os.path.join(T, "figures"), "w") as f:
        for key, v in figures.items():
            f.write("%s=%d\n" % (key, v))
    print("1..%d" % n_test)


sys.exit(main())
