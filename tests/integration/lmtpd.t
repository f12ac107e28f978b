#!/usr/bin/env python3
"""lmtpd.t -- TAP: `lda -z`, the LMTP server (RFC 2033), driven directly.

Started as root (as under systemd Accept=yes or inetd), with a system rc
that says DEFAULT=$HOME/Maildir/, for two test accounts:
  - LHLO's capabilities; a whole transaction pipelined in one write, with
    a known user, an unknown one (550 5.1.1 at RCPT) and one whose
    delivery fails: one reply per accepted recipient after the dot, each
    the same outcome as `lda -d` gives that recipient alone (exit code ->
    reply code); the copy owned by the user (the child became the user);
  - a dot line split across reads, bare LF line ends, a 1 MB line in the
    message (delivered intact) and a 1 MB command line (500, then on);
  - a client that closes mid-DATA: nothing delivered, nothing in tmp/;
  - SIZE: MAIL's SIZE= over the limit and a message over LMTP_SIZE (552
    for every recipient, nothing delivered); the recipient cap (452);
    RSET, NOOP, out-of-order commands (503), garbage and NUL bytes (500,
    never a crash: the session goes on to QUIT);
  - `-z --test`: the same answers, nothing written;
  - a configuration error (an unreadable --config, an unknown option
    before or after -z, a bad --store, -z with --version, LMTP_SIZE that
    is no number; also under --test), with the client on standard input,
    output and error as postfix spawn connects it: exactly one line
    `421 4.3.5 <the complaint>` CRLF, exit 75, the complaint logged once;
  - 1000 transactions in one session: the server's RSS (VmHWM and VmRSS
    from /proc) after 1000 no more than a bound above after 100.
Needs root (accounts); about 20 s.
"""
import os
import re
import select
import socket
import shutil
import subprocess
import sys
import tempfile
import time

LDA = os.environ['LDA_BIN']
n = 0
failed = 0


def ok(cond, name, *diag):
    global n, failed
    n += 1
    print(('ok %d - %s' if cond else 'not ok %d - %s') % (n, name))
    if not cond:
        failed += 1
        for d in diag:
            for line in str(d).splitlines():
                print('# ' + line)
    sys.stdout.flush()
    return cond


def is_(got, want, name):
    return ok(got == want, name, 'got  %r' % (got,), 'want %r' % (want,))


if os.getuid() != 0:
    print('1..0 # SKIP needs root' if not os.environ.get('CI') else
          '1..1\nnot ok 1 - cannot run under CI: needs root')
    sys.exit(0 if not os.environ.get('CI') else 1)

T = tempfile.mkdtemp(prefix='lda-test.')
os.chmod(T, 0o755)
users = []
LOCK = '/tmp/lda-test-accounts.lock'


def acct(*cmd):
    return subprocess.run(['flock', '-w', '60', LOCK] + list(cmd),
                          stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode


def test_user(tag):
    name = 'ldat%s%d' % (tag, os.getpid())
    users.append(name)
    if acct('useradd', '-m', '-c', 'lda test account', '-s', '/bin/sh',
            name) != 0:
        print('Bail out! cannot make user ' + name)
        sys.exit(1)
    return name


def cleanup():
    for u in users:
        acct('userdel', '-r', '-f', u)
    shutil.rmtree(T, ignore_errors=True)


class Server:
    """lda -z on a pipe pair; replies read with a timeout."""

    def __init__(self, *args, env=None):
        self.p = subprocess.Popen([LDA, '-z', '--config', SYSRC,
                                   '--log-file', LOG] +
                                  list(args), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, env=env)
        self.buf = b''

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def line(self, timeout=30):
        end = time.time() + timeout
        while b'\n' not in self.buf:
            left = end - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if not r:
                return None
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b'\n', 1)
        return line.rstrip(b'\r').decode('latin-1')

    def reply(self):
        """one reply (the lines of a multi-line one joined by |)"""
        lines = []
        while True:
            ln = self.line()
            if ln is None:
                return None if not lines else '|'.join(lines)
            lines.append(ln)
            if len(ln) < 4 or ln[3] != '-':
                return '|'.join(lines)

    def replies(self, k):
        return [self.reply() for _ in range(k)]

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            return self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None

    def status(self, key):
        with open('/proc/%d/status' % self.p.pid) as f:
            for ln in f:
                if ln.startswith(key + ':'):
                    return int(ln.split()[1])
        return -1


def maildir_files(user, sub=('new', 'cur')):
    out = []
    for s in sub:
        d = os.path.join(HOME[user], 'Maildir', s)
        if os.path.isdir(d):
            out += [os.path.join(d, f) for f in sorted(os.listdir(d))]
    return out


def clear(user):
    shutil.rmtree(os.path.join(HOME[user], 'Maildir'), ignore_errors=True)


def greeting_of(args):
    """lda ARGS with one socket on its standard input, output and error
    (as postfix spawn connects them), the client waiting for the
    greeting: what came on the socket, and the exit code"""
    a, b = socket.socketpair()
    p = subprocess.Popen([LDA] + args, stdin=b, stdout=b, stderr=b)
    b.close()
    a.settimeout(30)
    out = b''
    try:
        while True:
            chunk = a.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, OSError):
        p.kill()
    a.close()
    try:
        return out, p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        return out, None


def refused(args, want, name, logged=True):
    """a configuration error under -z: the greeting 421 4.3.5 with the
    complaint (holding want), nothing else, exit 75, logged once"""
    open(LOG, 'w').close()
    out, code = greeting_of(args)
    text = out.decode('latin-1')
    ok(re.fullmatch(r'421 4\.3\.5 [^\r\n]+\r\n', text) is not None and
       want in text and code == 75, name + ': only the greeting 421 4.3.5 '
       'with the complaint, exit 75', 'got %r, exit %r' % (out, code),
       'want 421 4.3.5 ...%s...' % want)
    if logged:
        log = open(LOG).read()
        complaint = text[len('421 4.3.5 '):].rstrip('\r\n')
        ok(complaint and log.count(complaint + '; the m') == 1,
           '... the complaint logged once', log[-600:])


def codes(rs):
    return [r.split(' ')[0].split('-')[0] if r else None for r in rs]


try:
    U = test_user('lza')
    V = test_user('lzb')
    HOME = {}
    for u in (U, V):
        HOME[u] = subprocess.run(['getent', 'passwd', u], capture_output=True,
                                 text=True).stdout.split(':')[5]
    SYSRC = os.path.join(T, 'lda.rc')
    LOG = os.path.join(T, 'lda.log')
    open(LOG, 'w').close()
    os.chmod(LOG, 0o666)
    with open(SYSRC, 'w') as f:
        f.write('DEFAULT=$HOME/Maildir/\nORGMAIL=$HOME/Maildir/\n')
    os.chmod(SYSRC, 0o644)
    # V's delivery fails: its Maildir is a file, so DEFAULT cannot be made
    with open(os.path.join(HOME[V], 'Maildir'), 'w') as f:
        f.write('not a folder\n')

    MSG = ('From: a@example.org\r\nSubject: lmtp\r\n\r\nline one\r\n'
           '..starts with a dot\r\n.\r\n')
    WANT = 'From: a@example.org\nSubject: lmtp\n\nline one\n.starts with a dot\n'

    # V alone under -d: the outcome its LMTP reply must say
    REPLY = {0: '250', 75: '451', 67: '550', 73: '550', 77: '550', 65: '554',
             69: '554'}
    r = subprocess.run([LDA, '--config', SYSRC, '-f', 'a@example.org', '-d',
                        V], input=b'Subject: x\n\nx\n', capture_output=True)
    VCODE, VST = REPLY.get(r.returncode), r.stdout.decode().split(' ')[0]
    ok(VCODE not in (None, '250'), 'lda -d: the second user\'s delivery '
       'fails (exit %d, %s)' % (r.returncode, VST), r.stdout.decode())

    # --- capabilities, pipelining, per-recipient replies ----------------
    s = Server()
    s.send('LHLO client.example\r\nMAIL FROM:<a@example.org>\r\n'
           'RCPT TO:<%s@example.org>\r\nRCPT TO:<nosuchuserlz@example.org>\r\n'
           'RCPT TO:<%s@example.org>\r\nDATA\r\n%sQUIT\r\n' % (U, V, MSG))
    rs = s.replies(10)
    ok(rs[0] and rs[0].startswith('220 '), 'greeting 220', rs[0])
    caps = (rs[1] or '').split('|')
    ok(all(any(c[4:].split(' ')[0] == w for c in caps) for w in
           ('PIPELINING', 'ENHANCEDSTATUSCODES', '8BITMIME', 'SIZE')),
       'LHLO offers PIPELINING, ENHANCEDSTATUSCODES, 8BITMIME, SIZE', caps)
    is_(codes(rs[2:]), ['250', '250', '550', '250', '354', '250', VCODE,
                        '221'],
        'pipelined in one write: MAIL 250, RCPT 250/550/250, DATA 354, '
        'one reply per accepted recipient (delivered 250, failed %s), '
        'QUIT' % VCODE)
    ok(rs[4] and rs[4].startswith('550 5.1.1'), 'unknown user: 550 5.1.1 at '
       'RCPT time', rs[4])
    is_(s.close(), 0, 'exit 0 after QUIT')
    log = open(LOG).read()
    ok('to=<%s>, from=<a@example.org>' % U in log and 'status=sent' in log,
       'MAIL FROM is the envelope sender (lda\'s log line)', log[-600:])
    files = maildir_files(U)
    is_(len(files), 1, 'one copy in the user\'s Maildir')
    if files:
        is_(open(files[0]).read(), WANT, 'the message as sent: dot-stuffing '
            'undone, LF line ends')
        is_(os.stat(files[0]).st_uid,
            int(subprocess.run(['id', '-u', U], capture_output=True,
                               text=True).stdout),
            'the copy belongs to the user: the child became the user')
    ok(rs[8] and rs[8].startswith('%s %s' % (VCODE, VST)),
       'the failed recipient\'s reply is -d\'s outcome for it (%s %s)' %
       (VCODE, VST), rs[8])

    # --- a dot line split across reads, bare LF -------------------------
    clear(U)
    s = Server()
    s.send('LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<%s>\r\nDATA\r\n' % U)
    s.replies(5)
    s.send('Subject: split\r\n\r\nbody\r')
    time.sleep(0.2)
    s.send('\n')
    time.sleep(0.2)
    s.send('.')
    time.sleep(0.2)
    s.send('\r')
    time.sleep(0.2)
    s.send('\n')
    r1 = s.reply()
    s.send('MAIL FROM:<b@x>\nRCPT TO:<%s>\nDATA\n' % U)
    rs = s.replies(3)
    s.send('Subject: bare\n\n..dot\nend\n.\nQUIT\n')
    rs += s.replies(2)
    ok(r1 and r1.startswith('250 '), 'the final dot split over four reads: '
       'delivered', r1)
    is_(codes(rs), ['250', '250', '354', '250', '221'],
        'bare LF line ends from the client: understood')
    s.close()
    bodies = sorted(open(f).read() for f in maildir_files(U))
    is_(bodies, ['Subject: bare\n\n.dot\nend\n', 'Subject: split\n\nbody\n'],
        'both messages intact')

    # --- a 1 MB line in the message, a 1 MB command line ----------------
    clear(U)
    s = Server()
    big = 'x' * (1024 * 1024)
    s.send('LHLO x\r\n' + big + '\r\nNOOP\r\nMAIL FROM:<>\r\nRCPT TO:<%s>\r\n'
           'DATA\r\nSubject: big\r\n\r\n%s\r\n.\r\nQUIT\r\n' % (U, big))
    rs = s.replies(8)
    is_(codes(rs), ['220', '250', '500', '250', '250', '250', '354', '250'],
        'a 1 MB command line: 500, and the session goes on; a 1 MB line '
        'in the message: delivered')
    ok(rs[2] and rs[2].startswith('500 5.5.2'), '... the long line is 500 '
       '5.5.2', rs[2])
    s.reply()
    s.close()
    files = maildir_files(U)
    ok(len(files) == 1 and open(files[0]).read() ==
       'Subject: big\n\n' + big + '\n', 'the 1 MB line delivered intact')

    # --- a client gone mid-DATA ------------------------------------------
    clear(U)
    s = Server()
    s.send('LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<%s>\r\nDATA\r\n'
           'Subject: cut\r\n\r\n' % U + 'y' * 300000)
    s.replies(5)
    code = s.close()
    is_(maildir_files(U, ('new', 'cur', 'tmp')), [],
        'a client that closes mid-DATA: nothing delivered, nothing in tmp/')
    is_(code, 75, '... and lda -z exits 75')

    # --- SIZE, the recipient cap, RSET, order, garbage -------------------
    clear(U)
    s = Server('LMTP_SIZE=1000')
    s.send('LHLO x\r\n')
    rs = s.replies(2)
    ok('SIZE 1000' in (rs[1] or ''), 'LMTP_SIZE=1000: LHLO says SIZE 1000',
       rs[1])
    s.send('MAIL FROM:<a@b> SIZE=5000\r\nMAIL FROM:<a@b> SIZE=500 '
           'BODY=8BITMIME\r\nRCPT TO:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n'
           'Subject: big\r\n\r\n%s\r\n.\r\n' % (U, U, 'z' * 5000))
    rs = s.replies(7)
    is_(codes(rs), ['552', '250', '250', '250', '354', '552', '552'],
        'SIZE= over the limit: 552 at MAIL; a message over it: 552 for '
        'every recipient')
    is_(maildir_files(U, ('new', 'cur', 'tmp')), [], '... nothing delivered')
    s.send('MAIL FROM:<a@b>\r\n' + 'RCPT TO:<%s>\r\n' % U * 1001)
    rs = s.replies(1002)
    is_(codes(rs[1000:]), ['250', '452'], 'the 1001st recipient: 452 (the '
        'cap is 1000)')
    s.send('RSET\r\nDATA\r\nRCPT TO:<%s>\r\nHELO x\r\nEHLO x\r\n'
           'VRFY x\r\n\x00\x01\xff garbage\r\nMAIL FROM:<a@b\r\n'
           'MAIL FROM:<a@b> FOO=1\r\nNOOP\r\nLHLO\r\n' % U)
    rs = s.replies(11)
    is_(codes(rs), ['250', '503', '503', '500', '500', '500', '500', '501',
                    '555', '250', '501'],
        'RSET; DATA and RCPT without MAIL 503; HELO, EHLO, VRFY, garbage '
        '500; bad MAIL 501/555; NOOP 250; LHLO without a name 501')
    s.send('QUIT\r\n')
    is_(s.reply(), '221 2.0.0 bye', 'still serving after all that: QUIT')
    is_(s.close(), 0, '... exit 0')
    s = Server()
    s.send('LHLO x\r\n' + 'garbage\r\n' * 30)
    rs = [s.reply() for _ in range(2 + 21)]
    ok(rs[-1] and rs[-1].startswith('421 '), 'twenty bad commands in a row: '
       '421 and the connection closed', rs[-1])
    is_(s.close(), 75, '... exit 75')
    s = Server()
    s.send('MAIL FROM:<a@b>\r\nQUIT\r\n')
    rs = s.replies(3)
    is_(codes(rs), ['220', '503', '221'], 'MAIL before LHLO: 503')
    s.close()

    # --- -z --test: the answers, nothing written --------------------------
    clear(U)
    s = Server('--test')
    s.send('LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<%s>\r\nRCPT TO:<nosuchuserlz>\r\n'
           'RCPT TO:<%s>\r\nDATA\r\n%sQUIT\r\n' % (U, V, MSG))
    rs = s.replies(10)
    is_(codes(rs), ['220', '250', '250', '250', '550', '250', '354', '250',
                    VCODE, '221'],
        '-z --test: the answers of a real run')
    ok(rs[7] and 'would be delivered' in rs[7], '... saying it would be '
       'delivered', rs[7])
    s.close()
    is_(maildir_files(U, ('new', 'cur', 'tmp')), [], '... and nothing written')

    # --- configuration errors: the greeting 421 4.3.5, nothing else ------
    NONE = os.path.join(T, 'nonexistent.rc')
    for test in ([], ['--test']):
        t = ' (--test)' if test else ''
        refused(['-z'] + test + ['--log-file', LOG, '--config', NONE],
                '--config %s: No such file or directory' % NONE,
                'an unreadable --config' + t)
        refused(['--config', SYSRC, '--log-file', LOG] + test +
                ['--bogus', '-z'], 'unknown option --bogus',
                'an unknown option before -z' + t)
        refused(['-z', '--config', SYSRC, '--log-file', LOG] + test +
                ['--bogus'], 'unknown option --bogus',
                'an unknown option after -z' + t)
        refused(['--config', SYSRC, '--log-file', LOG] + test + ['-kz'],
                'option -k (in -kz)', 'another program\'s option in '
                'the cluster of -z' + t)
        refused(['-z', '--config', SYSRC, '--log-file', LOG, '--store',
                 'bogus:x'] + test, '--store bogus:x: ', 'a bad --store' + t)
    refused(['-z', '--log-file', LOG, '--config', T], '--config %s: Is a '
            'directory' % T, 'a --config that is a directory')
    refused(['-z', '--config', SYSRC, '--log-file', LOG, '--version'],
            '-z cannot be combined with', '-z --version')
    refused(['-z', '--config', SYSRC, '--log-file', os.path.join(NONE, 'x')],
            '--log-file %s/x: ' % NONE, 'an unusable --log-file',
            logged=False)
    refused(['-z', '--config', SYSRC, '--log-file', LOG, 'LMTP_SIZE=abc'],
            'LMTP_SIZE=abc: not a number of bytes', 'LMTP_SIZE that is '
            'no number (found while the session is set up)')

    # --- 1000 transactions, memory flat ----------------------------------
    # (under AddressSanitizer: no quarantine of freed memory, which
    # would grow the RSS without a leak)
    clear(U)
    env = dict(os.environ)
    env['ASAN_OPTIONS'] = (env.get('ASAN_OPTIONS', '') +
                           ':quarantine_size_mb=0').lstrip(':')
    s = Server(env=env)
    s.send('LHLO x\r\n')
    s.replies(2)
    one = ('MAIL FROM:<a@b>\r\nRCPT TO:<%s>\r\nDATA\r\nSubject: n\r\n\r\n'
           'text\r\n.\r\n' % U)
    seen = {}
    good = 0
    for i in range(1, 1001):
        s.send(one)
        rs = s.replies(4)
        good += codes(rs) == ['250', '250', '354', '250']
        if i in (300, 1000):
            seen[i] = (s.status('VmHWM'), s.status('VmRSS'))
    s.send('QUIT\r\n')
    s.reply()
    s.close()
    is_(good, 1000, '1000 transactions in one session, each delivered')
    is_(len(maildir_files(U)), 1000, '... 1000 copies in the Maildir')
    ok(seen[1000][0] <= seen[300][0] + 256 and
       seen[1000][1] <= seen[300][1] + 256,
       'RSS flat: peak and current RSS after 1000 transactions within '
       '256 kB of those after 300', seen)
    print('# RSS (VmHWM, VmRSS) in kB after 300 and 1000: %s' % seen)
finally:
    cleanup()

print('1..%d' % n)
sys.exit(1 if failed else 0)
