#!/usr/bin/env python3
"""procmail-diff.t -- TAP: the differential suite, lda against procmail 3.22.

For every case under tests/rc/cases/ (format: tests/rc/README.md) the same
message, rc file and arguments go to both programs, each in its own scratch
directory:

    $BIN [opts] -m MAILDIR=$dir DEFAULT=$dir/INBOX/ ORGMAIL=$dir/ORGMAIL \
         SENDMAIL=$scratch/bin/sendmail SHELL=/bin/sh $scratch/rc [args] < msg

(SENDMAIL and ORGMAIL point into the scratch directory so that nothing can
ever reach the real MTA or /var/mail; SHELL because procmail takes it from
the password file, which differs from machine to machine). Then the folder trees under $dir and
the exit codes are compared (tests/rc/compare.py); an `expect` file in the
case is checked against procmail's result, so a case that does not do what
it claims fails too. A case with `expect-differ` is a deliberate difference
(doc/procmail-differences.md): lda's result is checked against the
case's `lda-expect` instead of procmail's.

Environment: LDA_BIN (required: make check sets it), LDA_TOP (the source
tree; default: two levels up from this file), PROCMAIL (default
/usr/bin/procmail), DIFF_CASES (a regex: run only the matching cases),
DIFF_JOBS (cases run at once, default 6), DIFF_TRACE=0 (no `lda --test`
trace in the diagnostics of a failing case), DIFF_KEEP=1 (keep the scratch tree
and print where it is), DIFF_VERBOSE=1 (print both summaries for each case).

Self-test: LDA_BIN=/usr/bin/procmail compares procmail with itself; every
case must pass. In that mode an expect-differ case is compared plainly, and
its lda-expect must NOT hold for procmail (else the difference is not real).
"""

import concurrent.futures
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get('LDA_TOP') or os.path.dirname(os.path.dirname(HERE))
RCDIR = os.path.join(TOP, 'tests', 'rc')
sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, RCDIR)
import compare  # noqa: E402

PROCMAIL = os.environ.get('PROCMAIL', '/usr/bin/procmail')
DIFFDOC_PATH = 'doc/procmail-differences.md'
try:
    with open(os.path.join(TOP, DIFFDOC_PATH)) as _f:
        DIFFDOC = _f.read()
except OSError:
    DIFFDOC = None
RUN_TIMEOUT = 20
DRAIN = 5   # seconds left to a run's background programs after it exits
RESERVED = ('rc', 'msg', 'msgref', 'opts', 'args', 'env', 'setup', 'expect',
            'expect-differ', 'lda-expect', 'pm-timeout', 'modes', 'no-default',
            'no-orgmail',
            'README')


def read(path, default=None):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        return default


def text(path, default=None):
    b = read(path)
    return default if b is None else b.decode('utf-8')


class Case:
    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(RCDIR, 'cases', name)
        f = lambda n: os.path.join(self.dir, n)
        self.rc = read(f('rc'))
        ref = text(f('msgref'), 'default').strip()
        self.msg = read(f('msg'))
        if self.msg is None:
            self.msg = read(os.path.join(RCDIR, 'msgs', ref))
            if self.msg is None:
                raise ValueError('no message %s' % ref)
        self.opts = text(f('opts'), '').strip()
        self.args = text(f('args'), '').strip()
        self.env = [l for l in text(f('env'), '').splitlines() if '=' in l]
        self.setup = f('setup') if os.path.exists(f('setup')) else None
        self.expect = text(f('expect'), '')
        self.differ = text(f('expect-differ'))
        self.lda_expect = text(f('lda-expect'))
        self.pm_timeout = float(text(f('pm-timeout'), str(RUN_TIMEOUT)))
        self.modes = os.path.exists(f('modes'))
        self.no_orgmail = os.path.exists(f('no-orgmail'))
        self.no_default = os.path.exists(f('no-default'))
        self.extra = sorted(n for n in os.listdir(self.dir) if n not in RESERVED)
        if self.rc is None and self.setup is None:
            raise ValueError('no rc and no setup')
        if (self.differ is not None or self.pm_timeout < RUN_TIMEOUT) and \
                self.lda_expect is None:
            raise ValueError('expect-differ or pm-timeout needs lda-expect')


def subst(s, side):
    return (s.replace('@SCRATCH@', side)
             .replace('@DIR@', os.path.join(side, 'mail'))
             .replace('@BIN@', os.path.join(side, 'bin')))


def prepare(case, side):
    """Make one side's scratch tree: home/, mail/, bin/, tmp/, rc, msg."""
    for d in ('home', 'mail', 'bin', 'tmp'):
        os.makedirs(os.path.join(side, d))
    os.chmod(side, 0o755)
    for n in os.listdir(os.path.join(RCDIR, 'bin')):
        dst = os.path.join(side, 'bin', n)
        shutil.copy(os.path.join(RCDIR, 'bin', n), dst)
        os.chmod(dst, 0o755)
    if case.rc is not None:
        with open(os.path.join(side, 'rc'), 'wb') as f:
            f.write(subst(case.rc.decode('latin-1'), side).encode('latin-1'))
    for n in case.extra:    # other files of the case: included rc files...
        with open(os.path.join(side, n), 'wb') as f:
            f.write(subst(read(os.path.join(case.dir, n)).decode('latin-1'),
                          side).encode('latin-1'))
    with open(os.path.join(side, 'msg'), 'wb') as f:
        f.write(case.msg)
    env = base_env(case, side)
    if case.setup:
        r = subprocess.run(['bash', case.setup], cwd=side, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        if r.returncode != 0:
            raise RuntimeError('setup failed: ' + r.stderr.decode('latin-1')[-500:])
    if os.path.exists(os.path.join(side, 'rc')):
        os.chmod(os.path.join(side, 'rc'), 0o644)
    return env


def base_env(case, side):
    env = {
        'PATH': os.path.join(side, 'bin') + ':/usr/local/bin:/usr/bin:/bin',
        'HOME': os.path.join(side, 'home'),
        'TMPDIR': os.path.join(side, 'tmp'),
        'LANG': 'C', 'LC_ALL': 'C', 'TZ': 'UTC',
        'SCRATCH': side, 'MAILDIR': os.path.join(side, 'mail'),
        'CASE': case.dir,
    }
    for l in case.env:
        k, v = l.split('=', 1)
        env[k] = subst(v, side)
    return env


def run(binary, case, side, env, timeout):
    """Run one program on one side; returns (exit code or 'timeout',
    its output, seconds)."""
    mail = os.path.join(side, 'mail')
    # no-default: the built-in DEFAULT is compared (ORGMAIL still points
    # into the scratch directory, and -m, as in procmail, delivers a
    # DEFAULT nobody set to ORGMAIL)
    argv = [binary] + shlex.split(subst(case.opts, side)) + [
        '-m', 'MAILDIR=' + mail] + ([] if case.no_default else [
        'DEFAULT=' + mail + '/INBOX/']) + ([] if case.no_orgmail else [
        'ORGMAIL=' + mail + '/ORGMAIL']) + [
        'SENDMAIL=' + os.path.join(side, 'bin', 'sendmail'), 'SHELL=/bin/sh',
        os.path.join(side, 'rc')] + shlex.split(subst(case.args, side))
    t0 = time.time()
    # output to a file, not a pipe: a program left running in the background
    # (killed by TIMEOUT, say) must not keep us waiting for EOF
    outpath = os.path.join(side, 'output')
    with open(os.path.join(side, 'msg'), 'rb') as stdin, \
            open(outpath, 'wb') as out:
        p = subprocess.Popen(argv, cwd=side, env=env, stdin=stdin,
                             stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        try:
            code = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(p.pid)
            p.wait()
            code = 'timeout'
    # procmail does not wait for a program without w: give what is left of
    # the group a little time to finish its output, then end it
    drain_group(p.pid, min(DRAIN, max(0.5, timeout - (time.time() - t0))))
    kill_group(p.pid)
    if isinstance(code, int) and code < 0:
        code = 'signal %d' % -code
    return code, read(outpath, b'').decode('latin-1'), time.time() - t0


def group_alive(pgid):
    """Is any process of group pgid still running (zombies aside)?"""
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(')') + 2:].split()
        if fields[0] != 'Z' and fields[2] == str(pgid):
            return True
    return False


def drain_group(pgid, limit):
    end = time.time() + limit
    while time.time() < end and group_alive(pgid):
        time.sleep(0.02)


def trace(case, lda, side):
    """lda --test on the case in a fresh scratch directory: its trace of
    the rc (which recipe matched, and why), for the diagnostics."""
    try:
        env = prepare(case, side)
        case_t = Case.__new__(Case)
        case_t.__dict__.update(case.__dict__)
        case_t.opts = '--test ' + case.opts
        code, out, _ = run(lda, case_t, side, env, RUN_TIMEOUT)
    except Exception as ex:
        return ['lda --test: %s' % ex]
    lines = [l.replace(side, '@SCRATCH@') for l in out.splitlines() if l.strip()]
    more = ['lda --test: ... %d more lines' % (len(lines) - 30)] if len(lines) > 30 else []
    return ['lda --test (exit %s):' % code] + ['  ' + l for l in lines[:30]] + more


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def tail(s, n=6):
    lines = [l for l in s.splitlines() if l.strip()]
    return lines[-n:]


def one(case, lda, selftest, work):
    """Run one case; returns (ok, directive, diag lines)."""
    base = os.path.join(work, case.name)
    a, b = os.path.join(base, 'a'), os.path.join(base, 'b')
    diag = []
    try:
        env_a = prepare(case, a)
        env_b = prepare(case, b)
    except Exception as ex:  # a broken case is a failing case
        return False, '', ['case set-up: %s' % ex]
    # both at once: procmail sleeps a second whenever it creates an mbox
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
        fut = ex.submit(run, lda, case, b, env_b,
                        case.pm_timeout if selftest else RUN_TIMEOUT)
        code_a, err_a, t1 = run(PROCMAIL, case, a, env_a, case.pm_timeout)
        code_b, err_b, t2 = fut.result()
    tree_a = compare.scan(os.path.join(a, 'mail'), a)
    tree_b = compare.scan(os.path.join(b, 'mail'), b)
    name_b = 'procmail(2)' if selftest else 'lda'
    input_msg = compare.parse_message(case.msg)
    if os.environ.get('DIFF_VERBOSE'):
        diag += ['procmail (%.2fs):' % t1] + \
            ['  ' + l for l in compare.summary(tree_a, code_a).splitlines()]
        diag += ['%s (%.2fs):' % (name_b, t2)] + \
            ['  ' + l for l in compare.summary(tree_b, code_b).splitlines()]

    def lda_diag():
        out = ['%s said: %s' % (name_b, l) for l in tail(err_b)]
        if not selftest and os.environ.get('DIFF_TRACE', '1') != '0':
            out += trace(case, lda, os.path.join(base, 'trace'))
        return out

    # procmail too slow (a catastrophic regex, a lock it waits for forever):
    # assert only lda's result
    if code_a == 'timeout':
        if selftest:
            return True, ' # SKIP procmail timed out after %gs' % case.pm_timeout, diag
        if case.lda_expect is None:
            return False, '', diag + ['procmail timed out and the case has no lda-expect']
        fails = compare.check(tree_b, code_b, case.lda_expect, input_msg)
        if code_b == 'timeout':
            fails.insert(0, 'lda timed out too (%ds)' % RUN_TIMEOUT)
        return not fails, '', diag + ['procmail timed out after %gs; checking lda-expect' %
                                      case.pm_timeout] + fails + (lda_diag() if fails else [])

    # the case must do what it says, with procmail
    fails = ['expect (procmail): ' + f for f in
             compare.check(tree_a, code_a, case.expect, input_msg)]
    if fails:
        diag += fails + ['procmail said: ' + l for l in tail(err_a)]

    # every deliberate difference is documented
    if case.differ is not None and DIFFDOC and case.name not in DIFFDOC:
        fails.append('deliberate difference not listed in %s' % DIFFDOC_PATH)
        diag.append(fails[-1])

    if case.differ is not None and not selftest:
        f2 = compare.check(tree_b, code_b, case.lda_expect, input_msg)
        if f2:
            diag += ['deliberate difference: ' + ' '.join(case.differ.split())]
            diag += ['lda-expect: ' + f for f in f2] + \
                ['lda: ' + l for l in compare.summary(tree_b, code_b).splitlines()] + \
                lda_diag()
        return not (fails or f2), '', diag

    if case.differ is not None and selftest:
        if not compare.check(tree_a, code_a, case.lda_expect, input_msg):
            fails.append('lda-expect holds for procmail too: the difference is not real')
            diag.append(fails[-1])

    # and lda too: this is what checks the LOGFILE lines, which the tree
    # comparison leaves out
    f3 = ['expect (%s): %s' % (name_b, f) for f in
          compare.check(tree_b, code_b, case.expect, input_msg)]
    fails += f3
    d = compare.diff(tree_a, tree_b, 'procmail', name_b, modes=case.modes)
    # (most of them say again what the comparison says)
    diag += [f for f in f3 if not d or '.log' in f]
    if str(code_a) != str(code_b):
        d.insert(0, 'exit code: procmail %s, %s %s' % (code_a, name_b, code_b))
    if d:
        diag += d[:25] + (['... %d more' % (len(d) - 25)] if len(d) > 25 else [])
        diag += lda_diag()
    return not (fails or d), '', diag


def main():
    lda = os.environ.get('LDA_BIN')
    if not lda or not os.access(lda, os.X_OK):
        # a failure, not a skip: the suite must not pass without running
        print('1..1\nnot ok 1 - LDA_BIN names the lda to test')
        print('# LDA_BIN %s: run `make check`, or LDA_BIN=path/to/lda %s' % (
            'is not set' if not lda else '=%s is not executable' % lda,
            sys.argv[0]))
        return 1
    if not os.access(PROCMAIL, os.X_OK):
        if os.environ.get('CI'):
            # Under CI every test must run: a skip is never a pass.
            print('1..1\nnot ok 1 - %s not installed (make deps)' % PROCMAIL)
            return 1
        print('1..0 # SKIP %s not installed (apt-get install procmail)' % PROCMAIL)
        return 0
    selftest = os.path.realpath(lda) == os.path.realpath(PROCMAIL)
    casedir = os.path.join(RCDIR, 'cases')
    names = sorted(n for n in os.listdir(casedir)
                   if os.path.isdir(os.path.join(casedir, n)))
    only = os.environ.get('DIFF_CASES')
    if only:
        names = [n for n in names if re.search(only, n)]
    print('1..%d' % len(names))
    if selftest:
        print('# self-test: LDA_BIN is procmail; procmail is compared with itself')
    sys.stdout.flush()
    work = tempfile.mkdtemp(prefix='procmail-diff.')
    os.chmod(work, 0o755)
    jobs = int(os.environ.get('DIFF_JOBS', '6'))
    failed = 0
    cases = []
    for n in names:
        try:
            cases.append(Case(n))
        except Exception as ex:
            cases.append(ex)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
            futs = [ex.submit(one, c, lda, selftest, work)
                    if isinstance(c, Case) else None for c in cases]
            for i, (n, c, fut) in enumerate(zip(names, cases, futs), 1):
                if fut is None:
                    ok, directive, diag = False, '', ['bad case: %s' % c]
                else:
                    try:
                        ok, directive, diag = fut.result()
                    except Exception as e:  # a bug here must not kill the run
                        ok, directive, diag = False, '', ['driver error: %r' % e]
                print('%s %d - %s%s' % ('ok' if ok else 'not ok', i, n, directive))
                sys.stdout.flush()
                # diagnostics of a failure on stderr, where prove shows them
                out = sys.stdout if ok else sys.stderr
                for l in diag:
                    for ll in l.splitlines():
                        print('# ' + ll, file=out)
                out.flush()
                failed += not ok
    finally:
        if os.environ.get('DIFF_KEEP'):
            print('# scratch kept in %s' % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
