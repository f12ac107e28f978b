"""compare.py - read a folder tree left by procmail or lda, and compare two.

Used by tests/integration/procmail-diff.t (the differential suite against
procmail 3.22); see tests/rc/README.md for the case format.

scan(root, side_root) walks the MAILDIR of one run and returns a dict
    relative path -> Entry
where an Entry is one of
    mbox     a regular file holding messages (starts with "From " or a
             header field); .msgs is the list of messages
    maildir  a directory with cur/, new/ and tmp/; .msgs from new/ and cur/
    mh       a directory with numbered files; .msgs in numeric order
    msgdir   procmail's plain directory folder (files msg.XXXX, names
             ignored, compared as a multiset)
    file     any other regular file; .data is its (normalised) content
    dir      any other directory (kept so that empty ones compare too)
    symlink  .data is the link target
Files named *.log or *.txt are always "file" (LOGFILEs, and what the
cases' programs write: a pipe gets "From " body lines unquoted).

A message is (sender, header, body):
    sender  its "From " line without "From " and without the date (normally
            just the sender address), or None without one
    header  a list of (name, raw field text) in order, continuation lines
            included
    body    bytes after the blank line (None if the message has no blank
            line)
Normalised away: the scratch directory's path (-> @SCRATCH@), From_ line
dates, Maildir/MH file names (Maildir messages are compared as a multiset;
new/ and cur/ are told apart), and the one mbox quirk: procmail ends an mbox
message that lacks a final newline with one "\n", lda with "\n\n" (so the
mbox stays parseable); both are read as the message plus one "\n".

diff(a, b) lists the differences between two scans as readable lines.
check(tree, exitcode, text, input_msg) checks the assertions of an `expect`
or `lda-expect` file (grammar in tests/rc/README.md).
"""

import os
import re
import stat

# the date of a From_ line (ctime format, maybe with a zone), replaced by
# DATE; whatever follows it on the line is kept, so that a From_ line that
# lost its newline still shows
FROM_DATE = re.compile(rb'^(>*From \S+)[ \t]+(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) '
                       rb'(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +'
                       rb'\d{1,2} \d\d:\d\d:\d\d(?: [A-Z]{2,5})? \d{4}'
                       rb'(?: [+-]\d{4})?', re.M)
MSGFILE = re.compile(r'^msg\.[A-Za-z0-9_-]+$')
FIELD = re.compile(rb'^([!-9;-~]+)[ \t]*:')


class Msg:
    __slots__ = ('sender', 'header', 'body', 'where', 'fromline')

    def __init__(self, sender, header, body, where='', fromline=None):
        self.sender = sender
        self.header = header
        self.body = body
        self.where = where
        self.fromline = fromline

    def key(self):
        return (self.sender or b'', tuple(self.header),
                self.body if self.body is not None else b'\0none')

    def names(self):
        return [n for n, _ in self.header]

    def header_text(self):
        return b''.join(t for _, t in self.header)


class Entry:
    __slots__ = ('kind', 'msgs', 'data', 'mode', 'extra')

    def __init__(self, kind, msgs=None, data=None, mode=0, extra=None):
        self.kind = kind
        self.msgs = msgs if msgs is not None else []
        self.data = data
        self.mode = mode
        self.extra = extra or []


def _norm(data, side_root):
    if side_root:
        data = data.replace(side_root.encode(), b'@SCRATCH@')
    return data


def parse_message(data, has_from=True):
    """One message: optional From_ line, header fields, blank line, body."""
    sender = fromline = None
    if has_from and data.startswith(b'From '):
        nl = data.find(b'\n')
        first = fromline = data if nl < 0 else data[:nl]
        # the sender and anything after the date (which should be nothing)
        sender = FROM_DATE.sub(rb'\1 DATE', first)[5:]
        if sender.endswith(b' DATE'):
            sender = sender[:-5]
        data = b'' if nl < 0 else data[nl + 1:]
    # the header ends at the first empty line ("\n" or "\r\n")
    m = re.search(rb'(?:\A|\n)(\r?\n)', data)
    if m is None:
        head, body = data, None
    else:
        head, body = data[:m.start(1)], data[m.end(1):]
    header = []
    for line in head.splitlines(keepends=True):
        if line[:1] in (b' ', b'\t') and header:
            n, t = header[-1]
            header[-1] = (n, t + line)
            continue
        m = FIELD.match(line)
        name = m.group(1).decode('latin-1') if m else \
            '?' + line[:20].decode('latin-1').rstrip('\n')
        header.append((name, line))
    return Msg(sender, header, body, fromline=fromline)


def parse_mbox(data):
    """Split at every line that starts with "From " (body lines are quoted
    as ">From " by both programs)."""
    starts = [m.start() for m in re.finditer(rb'^From ', data, re.M)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    msgs = []
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else len(data)
        chunk = data[s:e]
        # the separating blank line (procmail: one "\n" after a message
        # without a final newline, lda: two)
        if chunk.endswith(b'\n\n'):
            chunk = chunk[:-1]
        msgs.append(parse_message(chunk))
    return msgs


def looks_like_mbox(data):
    if data.startswith(b'From '):
        return True
    first = data.split(b'\n', 1)[0]
    return bool(FIELD.match(first + b'\n')) and b'\n\n' in data


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def scan(root, side_root=None):
    tree = {}
    if not os.path.isdir(root):
        return tree

    def add_file(rel, full, st):
        data = _norm(_read(full), side_root)
        if rel.endswith(('.log', '.txt')) or not data or \
                not looks_like_mbox(data):
            tree[rel] = Entry('file', data=FROM_DATE.sub(rb'\1 DATE', data),
                              mode=st.st_mode & 0o7777)
        else:
            tree[rel] = Entry('mbox', msgs=parse_mbox(data),
                              mode=st.st_mode & 0o7777)

    def walk(rel, full):
        names = sorted(os.listdir(full))
        st = os.lstat(full)
        isdir = lambda n: os.path.isdir(os.path.join(full, n)) and \
            not os.path.islink(os.path.join(full, n))
        rest = names
        if rel and all(n in names and isdir(n) for n in ('cur', 'new', 'tmp')):
            msgs, extra = [], []
            for sub in ('new', 'cur'):
                for n in sorted(os.listdir(os.path.join(full, sub))):
                    m = parse_message(_norm(_read(os.path.join(full, sub, n)),
                                            side_root))
                    m.where = sub
                    msgs.append(m)
            tmp = os.listdir(os.path.join(full, 'tmp'))
            if tmp:
                extra.append('%d file(s) left in tmp/' % len(tmp))
            msgs.sort(key=lambda m: (m.where != 'new', m.key()))
            tree[rel] = Entry('maildir', msgs=msgs, mode=st.st_mode & 0o7777,
                              extra=extra)
            rest = [n for n in names if n not in ('cur', 'new', 'tmp')]
        elif rel and any(n.isdigit() and not isdir(n) for n in names):
            nums = sorted((n for n in names if n.isdigit() and not isdir(n)),
                          key=int)
            msgs = []
            for n in nums:
                m = parse_message(_norm(_read(os.path.join(full, n)), side_root))
                msgs.append(m)
            tree[rel] = Entry('mh', msgs=msgs, mode=st.st_mode & 0o7777)
            rest = [n for n in names if n not in nums and n != '.mh_sequences']
        elif rel and any(MSGFILE.match(n) and not isdir(n) for n in names):
            # procmail's plain directory folder: files named $MSGPREFIX...
            ms = [n for n in names if MSGFILE.match(n) and not isdir(n)]
            msgs = sorted((parse_message(_norm(_read(os.path.join(full, n)),
                                               side_root)) for n in ms),
                          key=Msg.key)
            tree[rel] = Entry('msgdir', msgs=msgs, mode=st.st_mode & 0o7777)
            rest = [n for n in names if n not in ms]
        elif rel:
            tree[rel] = Entry('dir', mode=st.st_mode & 0o7777)
        for n in rest:
            r = rel + '/' + n if rel else n
            f = os.path.join(full, n)
            st = os.lstat(f)
            if stat.S_ISLNK(st.st_mode):
                tree[r] = Entry('symlink', data=_norm(os.readlink(f).encode(),
                                                      side_root))
            elif stat.S_ISDIR(st.st_mode):
                walk(r, f)
            elif stat.S_ISREG(st.st_mode):
                add_file(r, f, st)
            else:
                tree[r] = Entry('special')

    walk('', root)
    return tree


# ------------------------------------------------------------------ output

def _show(b, n=60):
    if b is None:
        return '(none)'
    s = repr(b[:n])[2:-1]
    return "'%s'%s (%d bytes)" % (s, '...' if len(b) > n else '', len(b))


def _first_diff(a, b):
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        i += 1
    lo = max(0, i - 20)
    return i, a[lo:i + 40], b[lo:i + 40]


def describe_msg(m):
    return 'from=%s header=[%s] body=%s' % (
        m.sender.decode('latin-1') if m.sender is not None else '-',
        ','.join(m.names()), _show(m.body, 40))


def summary(tree, exitcode=None):
    out = []
    if exitcode is not None:
        out.append('exit %s' % exitcode)
    for rel in sorted(tree):
        e = tree[rel]
        if e.kind in ('mbox', 'maildir', 'mh', 'msgdir'):
            out.append('%s %s %d msg%s' % (rel, e.kind, len(e.msgs),
                                           ''.join(' [%s]' % x for x in e.extra)))
            for i, m in enumerate(e.msgs, 1):
                out.append('  #%d%s %s' % (i, ' (%s)' % m.where if m.where and
                                            m.where != 'new' else '',
                                            describe_msg(m)))
        elif e.kind in ('file', 'symlink'):
            out.append('%s %s %s' % (rel, e.kind, _show(e.data, 70)))
        else:
            out.append('%s %s' % (rel, e.kind))
    return '\n'.join(out)


def diff_msg(where, a, b, na, nb):
    d = []
    if a.sender != b.sender:
        d.append('%s: From_ sender %s: %r, %s: %r' % (where, na, a.sender, nb, b.sender))
    if a.names() != b.names():
        d.append('%s: header fields differ\n  %s: %s\n  %s: %s' % (
            where, na, ','.join(a.names()), nb, ','.join(b.names())))
    else:
        for (n, ta), (_, tb) in zip(a.header, b.header):
            if ta != tb:
                d.append('%s: header %s differs: %s: %s, %s: %s' % (
                    where, n, na, _show(ta), nb, _show(tb)))
    if a.body != b.body:
        if a.body is None or b.body is None:
            d.append('%s: body %s: %s, %s: %s' % (where, na, _show(a.body),
                                                   nb, _show(b.body)))
        else:
            i, x, y = _first_diff(a.body, b.body)
            d.append('%s: body differs at byte %d (%s %d bytes, %s %d bytes): '
                     '%s: %r, %s: %r' % (where, i, na, len(a.body), nb,
                                         len(b.body), na, x, nb, y))
    return d


def diff(ta, tb, na='procmail', nb='lda', modes=False):
    d = []
    for rel in sorted(set(ta) | set(tb)):
        a, b = ta.get(rel), tb.get(rel)
        if a is None or b is None:
            have, name = (a, na) if a else (b, nb)
            other = nb if a else na
            what = have.kind
            if have.kind in ('mbox', 'maildir', 'mh', 'msgdir'):
                what += ' with %d message(s)' % len(have.msgs)
            elif have.data is not None:
                what += ' ' + _show(have.data, 50)
            d.append('%s: %s has %s, %s has nothing' % (rel, name, what, other))
            continue
        if a.kind != b.kind:
            d.append('%s: %s has a %s, %s a %s' % (rel, na, a.kind, nb, b.kind))
            continue
        # modes: the permission bits (UMASK); for files the x bits aside
        # (procmail sets o+x on an mbox it created)
        mask = 0o7777 if a.kind in ('maildir', 'mh', 'msgdir', 'dir') else 0o7666
        if modes and a.mode & mask != b.mode & mask:
            d.append('%s: mode %s %o, %s %o' % (rel, na, a.mode, nb, b.mode))
        if a.extra != b.extra:
            d.append('%s: %s: %s; %s: %s' % (rel, na, a.extra or 'ok', nb,
                                             b.extra or 'ok'))
        if a.kind in ('file', 'symlink'):
            if rel.endswith('.log'):
                continue    # logs: see the case's `expect` lines instead
            if a.data != b.data:
                i, x, y = _first_diff(a.data, b.data)
                d.append('%s: content differs at byte %d: %s: %r, %s: %r' % (
                    rel, i, na, x, nb, y))
            continue
        if len(a.msgs) != len(b.msgs):
            d.append('%s (%s): %s has %d message(s), %s has %d' % (
                rel, a.kind, na, len(a.msgs), nb, len(b.msgs)))
            for name, e in ((na, a), (nb, b)):
                for i, m in enumerate(e.msgs[:4], 1):
                    d.append('  %s #%d: %s' % (name, i, describe_msg(m)))
            continue
        for i, (x, y) in enumerate(zip(a.msgs, b.msgs), 1):
            if x.where != y.where:
                d.append('%s #%d: %s in %s/, %s in %s/' % (rel, i, na, x.where,
                                                          nb, y.where))
            d.extend(diff_msg('%s #%d' % (rel, i), x, y, na, nb))
    return d


# ------------------------------------------------------------------ assertions

KINDS = ('mbox', 'maildir', 'mh', 'msgdir', 'file', 'dir', 'symlink')


def _unescape(s):
    return s.encode('latin-1').decode('unicode_escape').encode('latin-1')


def check(tree, exitcode, text, input_msg):
    """Check the lines of an expect / lda-expect file; returns failures.

    exit N | exit !N          the exit code is (not) N
    folder PATH KIND N        PATH is a KIND folder with N messages
    absent PATH               PATH does not exist
    only PATH...              the message folders are exactly these
    msg PATH#I = input        message I is the input message (From_ aside)
    msg PATH#I header = input / body = input
    msg PATH#I header ~ RE    a Python regex searched (re.M) in the part
    msg PATH#I body ~ RE      (!~ for "does not match")
    msg PATH#I from = WORD    the From_ sender ('-': no From_ line)
    msg PATH#I fromline = TEXT  the whole From_ line, date included ('-': none)
    file PATH ~ RE            a file's content (!~ for "does not match")
    file PATH = TEXT          exact content, \\n escapes allowed
    I may be * in msg lines: some message (~, =) / every message (!~).
    """
    fails = []
    folders = {k: e for k, e in tree.items() if e.kind in ('mbox', 'maildir', 'mh', 'msgdir')}
    for ln in text.splitlines():
        line = ln.strip()
        if not line or line.startswith('#'):
            continue
        w = line.split()
        try:
            op = w[0]
            if op == 'exit':
                want = w[1]
                ok = (str(exitcode) != want[1:]) if want.startswith('!') \
                    else str(exitcode) == want
                if not ok:
                    fails.append('%s: got exit %s' % (line, exitcode))
            elif op == 'folder':
                path, kind, n = w[1], w[2], int(w[3])
                assert kind in KINDS, 'unknown kind ' + kind
                e = tree.get(path)
                if e is None:
                    fails.append('%s: %s does not exist' % (line, path))
                elif e.kind != kind or len(e.msgs) != n:
                    fails.append('%s: got %s with %d message(s)' % (line, e.kind, len(e.msgs)))
            elif op == 'absent':
                if w[1] in tree:
                    fails.append('%s: it exists (%s)' % (line, tree[w[1]].kind))
            elif op == 'only':
                if set(w[1:]) != set(folders):
                    fails.append('%s: the folders are %s' % (line, ' '.join(sorted(folders)) or '(none)'))
            elif op in ('msg', 'file'):
                fails.extend(_check_part(op, line, w, tree, input_msg))
            else:
                raise ValueError('unknown assertion')
        except (IndexError, ValueError, AssertionError, re.error) as ex:
            fails.append('bad assertion %r: %s' % (line, ex))
    return fails


def _check_part(op, line, w, tree, input_msg):
    if op == 'file':
        path, rel, arg = w[1], w[2], line.split(None, 3)[3] if len(w) > 3 else ''
        e = tree.get(path)
        if e is None:
            return ['%s: %s does not exist' % (line, path)]
        data = e.data if e.data is not None else b''
        if e.kind == 'mbox':
            return ['%s: %s is an mbox, not a plain file' % (line, path)]
        return _match(line, rel, arg, [data], any_=True)
    path, sel = w[1].rsplit('#', 1)
    part = 'all'
    i = 2
    if w[2] in ('header', 'body', 'from', 'fromline'):
        part, i = w[2], 3
    rel = w[i]
    arg = line.split(None, i + 1)[i + 1] if len(w) > i + 1 else ''
    e = tree.get(path)
    if e is None or e.kind not in ('mbox', 'maildir', 'mh', 'msgdir'):
        return ['%s: %s is not a folder' % (line, path)]
    if sel == '*':
        msgs = e.msgs
        if not msgs:
            return ['%s: %s is empty' % (line, path)]
    else:
        k = int(sel)
        if not 1 <= k <= len(e.msgs):
            return ['%s: %s has %d message(s)' % (line, path, len(e.msgs))]
        msgs = [e.msgs[k - 1]]

    def pick(m):
        if part == 'header':
            return m.header_text()
        if part == 'body':
            return m.body if m.body is not None else b''
        if part == 'from':
            return m.sender if m.sender is not None else b'-'
        if part == 'fromline':
            return m.fromline if m.fromline is not None else b'-'
        return m.header_text() + b'\n' + (m.body or b'')

    if rel == '=' and arg == 'input':
        want = pick(input_msg)
        got = [pick(m) for m in msgs]
        if want in got:
            return []
        return ['%s: got %s' % (line, _show(got[0], 80))]
    return _match(line, rel, arg, [pick(m) for m in msgs], any_=(sel == '*'))


def _match(line, rel, arg, datas, any_):
    if rel == '=':
        want = _unescape(arg)
        ok = want in datas
    elif rel == '~':
        rx = re.compile(arg.encode('latin-1'), re.M)
        ok = any(rx.search(d) for d in datas)
    elif rel == '!~':
        rx = re.compile(arg.encode('latin-1'), re.M)
        ok = not any(rx.search(d) for d in datas)
    else:
        return ['bad assertion %r: operator %s' % (line, rel)]
    return [] if ok else ['%s: got %s' % (line, _show(datas[0], 80))]
