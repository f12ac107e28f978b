#!/usr/bin/python3
"""corpus.py - deterministic test messages and rc files for lda's benchmarks.

  corpus.py small OUTDIR [--n 200] [--tag T] [--seed 1]
      N messages of 3.6-4.6 KB (mean ~4.1 KB, LF line ends, as an MTA hands
      them to an LDA on stdin) as OUTDIR/NNNN.eml.  The mix drives the 20
      filters of rc/filters20.*: about half the messages fall through all
      19 filters to the inbox, the rest hit one of 9 different filters.
  corpus.py big FILE --size BYTES [--needle STRING] [--plain] [--tag T]
      One message of about BYTES bytes: headers, a text part, then a
      base64-looking attachment (with --plain: one text/plain body of
      prose lines); STRING (if given) sits in the last 2 KB of the body,
      so a body condition has to read almost all of it.
  corpus.py medium FILE [--size 10240] [--tag T]
      One plain message of about SIZE bytes with realistic headers that
      matches none of the 200 recipes of rc/rc200.procmailrc except a few
      scoring conditions (the message falls through all of them).
  corpus.py rc200 FILE
      Write the 200-recipe rc (procmailrc syntax). The committed
      rc/rc200.procmailrc is this output; regenerate it with
      `python3 tests/bench/corpus.py rc200 tests/bench/rc/rc200.procmailrc`.
  corpus.py probes OUTDIR
      Variants of the medium message, each meant to satisfy one kind of
      recipe of rc200 (list, From, Subject, score, body, ^TO_, two
      conditions, nested block, ^FROM_DAEMON, Received, negation).
  corpus.py expect OUTDIR
      Print "folder count" lines: where the 20 filters should put the
      messages of OUTDIR (a check that every LDA routed them alike).

The tag goes into every Message-ID.  Everything is a pure function of the
seed, so two runs produce the same bytes.
"""
import argparse
import os
import random
import sys

WORDS = ("a about after all also and any are as at back be because been but by "
         "can come could day do even first for from get give go good have he her "
         "here him his how if in into is it its just know like look make me more "
         "most my new no not now of on one only or other our out over people say "
         "see she so some take than that the their them then there these they "
         "think this time to two up us use very want was way we well what when "
         "which who will with work would year you your queue relay mailbox folder "
         "header filter latency socket spool recipe quota backup review").split()

# kind -> share in percent (sums to 100)
MIX = [("normal", 49), ("spam", 10), ("list-announce", 8), ("list-dev", 8),
       ("list-users", 8), ("notify", 5), ("finance", 3), ("boss", 3),
       ("bounce", 2), ("internal", 2), ("bodyunsub", 2)]

# where rc/filters20.* put each kind (Maildir++ folder, "" = inbox)
FOLDER = {"normal": "", "spam": ".Spam", "list-announce": ".ListsAnnounce",
          "list-dev": ".ListsDev", "list-users": ".ListsUsers",
          "notify": ".Notifications", "finance": ".Finance", "boss": ".Boss",
          "bounce": ".Bounces", "internal": ".Internal", "bodyunsub": ".Bulk"}


def text(rng, nbytes, width=72):
    """nbytes of wrapped prose lines."""
    lines, line, n = [], [], 0
    while n < nbytes:
        w = rng.choice(WORDS)
        if sum(len(x) + 1 for x in line) + len(w) > width:
            lines.append(" ".join(line))
            n += len(lines[-1]) + 1
            line = []
        line.append(w)
    if line:
        lines.append(" ".join(line))
    return "\n".join(lines) + "\n"


def b64ish(rng, n):
    al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return "".join(rng.choice(al) for _ in range(n))


def headers(rng, i, tag, kind):
    ip = "192.0.2.%d" % rng.randint(1, 254)
    if kind == "internal":
        ip = "10.66.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254))
    user = "user%d@example.net" % (i % 89)
    frm = {"notify": "Builds <noreply@ci.example.com>",
           "boss": "The Boss <boss@example.org>",
           "bounce": "Mail Delivery System <MAILER-DAEMON@mx.example.net>"}.get(
               kind, "User %d <%s>" % (i, user))
    subj = {"finance": "Your receipt for order %d" % i,
            "spam": "Cheap watches %d" % i,
            "bounce": "Undelivered Mail Returned to Sender"}.get(
                kind, "Re: thread %d: %s" % (i % 41, " ".join(rng.choice(WORDS) for _ in range(6))))
    h = [
        "Return-Path: <%s>" % user,
        "Received: from mx%d.example.net (mx%d.example.net [%s])\n"
        "\tby mail.example.org (Postfix) with ESMTPS id 4X%06d\n"
        "\tfor <bob@example.org>; Sat, 21 Nov 2026 09:%02d:00 +0000 (UTC)" % (i % 4, i % 4, ip, i, i % 60),
        "Received: from [%s] (helo=client.example.net)\n"
        "\tby mx%d.example.net with esmtpsa (TLS1.3) id 1s%05d-00%d; Sat, 21 Nov 2026 09:%02d:00 +0000"
        % (ip, i % 4, i, i % 10, i % 60),
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=k1;\n"
        "\th=from:to:subject:date:message-id; bh=%s;\n\tb=%s\n\t %s" % (
            b64ish(rng, 44), b64ish(rng, 70), b64ish(rng, 70)),
        "From: %s" % frm,
        "To: Bob <bob@example.org>",
        "Subject: %s" % subj,
        "Date: Sat, 21 Nov 2026 09:%02d:%02d +0000" % (i % 60, (i * 7) % 60),
        "Message-ID: <%s.%d.%s@example.net>" % (tag, i, b64ish(rng, 8).replace("/", "x").replace("+", "y")),
        "MIME-Version: 1.0",
    ]
    if kind == "bounce":
        h.append('Content-Type: multipart/report; report-type=delivery-status; boundary="r1"')
    else:
        h += ["Content-Type: text/plain; charset=us-ascii", "Content-Transfer-Encoding: 7bit"]
    if kind == "spam":
        h += ["X-Spam-Flag: YES", "X-Spam-Status: Yes, score=8.7 required=5.0"]
    else:
        h += ["X-Spam-Flag: NO", "X-Spam-Status: No, score=-0.9 required=5.0"]
    if kind.startswith("list-"):
        name = kind[5:]
        h += ["List-Id: %s list <%s.lists.example.org>" % (name.capitalize(), name),
              "List-Unsubscribe: <mailto:%s-leave@lists.example.org>" % name,
              "Precedence: list"]
    return "\n".join(h) + "\n"


def small_message(rng, i, tag, kind, size):
    h = headers(rng, i, tag, kind)
    body = text(rng, max(300, size - len(h) - 80))
    if kind == "bodyunsub":
        body += "To stop these mails: unsubscribe-here-xyz\n"
    return (h + "\n" + body).encode()


def kind_of(i):
    k = (i * 37) % 100  # any 100 in a row: the whole mix; fewer: a sample of it
    for kind, share in MIX:
        if k < share:
            return kind
        k -= share
    raise AssertionError


def cmd_small(a):
    os.makedirs(a.outdir, exist_ok=True)
    rng = random.Random(a.seed)
    for i in range(a.n):
        p = os.path.join(a.outdir, "%04d.eml" % i)
        with open(p, "wb") as f:
            f.write(small_message(rng, i, a.tag, kind_of(i), rng.randint(3600, 4600)))


def cmd_expect(a):
    counts = {}
    for name in sorted(os.listdir(a.outdir)):
        if name.endswith(".eml"):
            k = kind_of(int(name[:4]))
            counts[FOLDER[k]] = counts.get(FOLDER[k], 0) + 1
    for folder in sorted(counts):
        print(folder or ".", counts[folder])


def cmd_big(a):
    rng = random.Random(a.seed)
    h = headers(rng, 0, a.tag, "normal")
    if a.plain:
        # one text/plain body (a log or a long report): every LDA has to
        # search all of it for a body condition (maildrop searches only
        # the text parts of a MIME message)
        head = (h + "\n" + text(rng, 1500)).encode()
        pool = [text(rng, 60).encode() for _ in range(64)]
    else:
        h = h.replace("Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n",
                      'Content-Type: multipart/mixed; boundary="part-b1"\n')
        head = (h + "\n--part-b1\nContent-Type: text/plain; charset=us-ascii\n\n" + text(rng, 1500) +
                "\n--part-b1\nContent-Type: application/octet-stream; name=\"data.bin\"\n"
                "Content-Transfer-Encoding: base64\n\n").encode()
        # 76-character lines from a pool: fast to write even for 100 MB
        pool = [(b64ish(rng, 76) + "\n").encode() for _ in range(64)]
    tail = b""
    if a.needle:
        tail += pool[1] + ("-- " + a.needle + " --\n").encode()
    tail += pool[2] + (b"" if a.plain else b"--part-b1--\n")
    block = b"".join(pool[(j * 7) % 64] for j in range(4096))
    left = max(0, a.size - len(head) - len(tail))
    with open(a.file, "wb") as f:
        f.write(head)
        while left >= len(block):
            f.write(block)
            left -= len(block)
        # whole lines only
        part = block[:left]
        f.write(part[:part.rfind(b"\n") + 1])
        f.write(tail)


def cmd_medium(a):
    rng = random.Random(a.seed)
    h = headers(rng, 7, a.tag, "normal")
    # a few more headers of the kind real mail carries
    h += ("X-Mailer: Example Mail 4.2\nUser-Agent: Example/4.2\n"
          "Thread-Topic: quarterly planning\nX-Originating-IP: [192.0.2.44]\n"
          "Authentication-Results: mail.example.org; dkim=pass header.d=example.net;\n"
          "\tspf=pass smtp.mailfrom=example.net\n")
    body = text(rng, max(300, a.size - len(h) - 1))
    with open(a.file, "wb") as f:
        f.write((h + "\n" + body).encode())


def cmd_probes(a):
    """Variants of the medium message that each satisfy one recipe of
    rc200 (rc.sh delivers them with procmail and lda and compares the
    folders: a fall-through benchmark alone cannot tell a fast lda from
    one whose conditions never match)."""
    os.makedirs(a.outdir, exist_ok=True)
    rng = random.Random(4)
    base_h = headers(rng, 7, "probe", "normal")
    body = text(rng, 3000)
    subj = [l for l in base_h.split("\n") if l.startswith("Subject:")][0]
    frm = [l for l in base_h.split("\n") if l.startswith("From:")][0]
    probes = {
        "list": (base_h + "List-Id: Dev list <dev.lists.example.org>\n", body),
        "from": (base_h.replace(frm, "From: GitHub <noreply@github.example.com>"), body),
        "subject": (base_h.replace(subj, "Subject: Re: your Invoice 42"), body),
        "score": (base_h.replace(subj, "Subject: You are a WINNER"), body),
        "body": (base_h, body + "Dear Beneficiary, please send money.\n"),
        "to": (base_h + "Cc: Alias <alias17@example.org>\n", body),
        "two-conds": (base_h + "X-Project: proj4\nX-Priority: 1 (Highest)\n", body),
        "nested": (base_h.replace(subj, "Subject: [team-3] standup notes"), body),
        "daemon": (base_h.replace(frm, "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>"), body),
        "received": (base_h.replace("by mail.example.org", "by relay3.example.com"), body),
        "negation": ("\n".join(l for l in base_h.split("\n")
                             if not l.startswith(("Date:", "Message-ID:"))), body),
    }
    for i, (name, (h, b)) in enumerate(probes.items()):
        with open(os.path.join(a.outdir, "p%02d-%s.eml" % (i, name)), "wb") as f:
            f.write((h.rstrip("\n") + "\n\n" + b).encode())


# ------------------------------------------------------------------ rc200
LISTS = ["announce", "dev", "users", "security", "jobs", "ops", "design", "legal",
         "kernel", "golang", "rust", "python", "perl", "postfix", "dovecot",
         "debian-devel", "debian-user", "lwn", "hn-digest", "status", "builds",
         "release", "infra", "sre", "qa", "docs", "i18n", "a11y", "web", "mobile",
         "data", "ml", "finance-team", "hr", "sales", "support", "community",
         "events", "alumni", "board"]
SENDERS = ["noreply@github.example.com", "notifications@gitlab.example.com",
           "jira@tracker.example.com", "alerts@monitor.example.com",
           "billing@cloud.example.com", "no-reply@shop.example.com",
           "newsletter@news.example.com", "calendar@example.org",
           "hr@example.org", "payroll@example.org", "it-helpdesk@example.org",
           "security@example.org", "backup@host1.example.org",
           "cron@host2.example.org", "root@host3.example.org",
           "mom@family.example.net", "bank@secure.example.com",
           "travel@booking.example.com", "tickets@airline.example.com",
           "orders@store.example.com"]
SUBJECTS = ["invoice", "receipt", "payment due", "order shipped", "password reset",
            "verify your", "build failed", "build fixed", "pipeline", "merge request",
            "pull request", "code review", "deploy", "rollback", "incident",
            "outage", "postmortem", "on-call", "pager", "out of office",
            "meeting", "calendar", "invitation", "webinar", "newsletter",
            "digest", "weekly report", "monthly report", "survey", "feedback"]
SPAMWORDS = ["viagra", "casino", "lottery", "winner", "bitcoin", "crypto giveaway",
             "weight loss", "cheap meds", "replica", "work from home",
             "act now", "limited offer", "100% free", "risk-free", "million dollars"]
BODYWORDS = ["wire transfer immediately", "click here to claim", "your account has been suspended",
             "confirm your password", "dear beneficiary"]


def esc(s):
    out = []
    for c in s:
        out.append("\\" + c if c in ".+*?[](){}|^$\\" else c)
    return "".join(out)


def rc200_text():
    """200 recipes: 40 List-Id, 20 From, 30 Subject, 15 spam-word scores,
    5 body conditions, 1 score sum, 39 ^TO_, 20 two-condition X-header
    rules, 10 Received, 10 size/negation/macro rules, and a nested block
    of 9 (counted with its own recipe: 10).  The message of `corpus.py
    medium` satisfies only the block's condition, so it falls through all."""
    out = ["# rc200.procmailrc - 200 recipes for lda's rc benchmark (tests/bench/rc.sh).",
           "# Generated by `tests/bench/corpus.py rc200`; do not edit by hand.",
           "# Header regexes on From/To/Subject/List-Id, body conditions, scoring;",
           "# the benchmark message matches none of the delivering recipes, so",
           "# every condition is evaluated and the message ends in DEFAULT.",
           "SHELL=/bin/sh",
           "MAILDIR=$HOME/Maildir",
           "DEFAULT=$MAILDIR/",
           ""]
    n = 0

    def recipe(flags, conds, action):
        nonlocal n
        n += 1
        out.append(":0" + flags)
        out.extend("* " + c for c in conds)
        out.append(action)
        out.append("")

    for name in LISTS:                                   # 40
        recipe("", ["^List-Id:.*<%s\\.lists\\.example\\.org>" % esc(name)],
               "$MAILDIR/.lists.%s/" % name)
    for s in SENDERS:                                    # 20
        recipe("", ["^From:.*%s" % esc(s)], "$MAILDIR/.from.%s/" % s.split("@")[0])
    for s in SUBJECTS:                                   # 30
        recipe("", ["^Subject:.*%s" % esc(s)], "$MAILDIR/.subj.%s/" % s.replace(" ", "-"))
    for w in SPAMWORDS:                                  # 15 scoring recipes
        recipe("", ["-1^0", "100^1 ^Subject:.*%s" % esc(w)], "$MAILDIR/.Spam/")
    for i, w in enumerate(BODYWORDS):                    # 5 body conditions
        recipe(" B", [esc(w)], "$MAILDIR/.Phish/")
    recipe("", ["-100^0", "50^0 ^X-Spam-Status: Yes", "30^1 ^Received:.*\\[203\\.0\\.113\\.",
                "20^0 ^Subject:.*!!!"], "$MAILDIR/.Spam/")  # 1
    for i in range(39):                                  # 39 ^TO_ rules
        recipe("", ["^TO_alias%d@example\\.org" % i], "$MAILDIR/.alias%d/" % i)
    for i in range(20):                                  # 20 X-header rules
        recipe("", ["^X-Project: proj%d\\>" % i, "^X-Priority: [12]"], "$MAILDIR/.proj%d/" % i)
    for i in range(10):                                  # 10 Received path rules
        recipe("", ["^Received:.*by relay%d\\.example\\.com" % i], "$MAILDIR/.relay%d/" % i)
    # 10 size / negated / variable conditions
    recipe("", ["> 5000000"], "$MAILDIR/.Huge/")
    recipe("", ["< 10"], "$MAILDIR/.Tiny/")
    recipe("", ["!^Message-ID:", "!^Date:"], "$MAILDIR/.Broken/")
    recipe("", ["^From:.*@example\\.org", "!^Received:.*example\\.org"], "$MAILDIR/.Forged/")
    recipe("", ["^Content-Type:.*multipart/report"], "$MAILDIR/.Bounces/")
    recipe("", ["^FROM_DAEMON"], "$MAILDIR/.Daemon/")
    recipe("", ["^FROM_MAILER"], "$MAILDIR/.Mailer/")
    recipe("", ["^Precedence:.*(bulk|junk)"], "$MAILDIR/.Bulk/")
    recipe("", ["^Auto-Submitted:.*auto-(replied|generated)"], "$MAILDIR/.Auto/")
    recipe("", ["^X-Loop: bob@example\\.org"], "/dev/null")
    # a nested block: 9 more recipes inside one condition that holds
    n += 1
    out += [":0", "* ^To:.*bob@example\\.org", "{"]
    for i in range(9):
        n += 1
        out += ["  :0", "  * ^Subject:.*\\[team-%d\\]" % i, "  $MAILDIR/.team%d/" % i, ""]
    out += ["}", ""]
    out.append("# total recipes: %d" % n)
    assert n == 200, n
    return "\n".join(out) + "\n"


def cmd_rc200(a):
    with open(a.file, "w") as f:
        f.write(rc200_text())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("small"); p.add_argument("outdir")
    p.add_argument("--n", type=int, default=200); p.add_argument("--tag", default="t0")
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("big"); p.add_argument("file"); p.add_argument("--size", type=int, required=True)
    p.add_argument("--needle"); p.add_argument("--plain", action="store_true")
    p.add_argument("--tag", default="big"); p.add_argument("--seed", type=int, default=2)
    p = sub.add_parser("medium"); p.add_argument("file"); p.add_argument("--size", type=int, default=10240)
    p.add_argument("--tag", default="med"); p.add_argument("--seed", type=int, default=3)
    p = sub.add_parser("rc200"); p.add_argument("file")
    p = sub.add_parser("expect"); p.add_argument("outdir")
    p = sub.add_parser("probes"); p.add_argument("outdir")
    a = ap.parse_args()
    {"small": cmd_small, "big": cmd_big, "medium": cmd_medium, "rc200": cmd_rc200,
     "expect": cmd_expect, "probes": cmd_probes}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
