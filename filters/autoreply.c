/*
 * autoreply.c - make an RFC 3834 reply and hand it to $SENDMAIL (see
 * autoreply.h). Every byte the message gives a header of the reply goes
 * through ar_clean (control bytes blanked, 8-bit bytes as "?", bounded)
 * or ar_msgid (a "<...>" of printable ASCII only); the To: is the sender
 * vacation.c checked. Does not: decide, log.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lda/buf.h"
#include "../lda/fdio.h"
#include "../lda/undo.h"
#include "../lda/xalloc.h"
#include "autoreply.h"

/* ar_clean - append text as one header line's words: control bytes are
   blanks, runs of blanks one, 8-bit bytes "?", at most max bytes */
static void
ar_clean(struct buf *out, const char *text, size_t max)
{
	size_t start = out->len;
	int blank = 1;

	for (const char *p = text; *p && out->len - start < max; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == 0x7f) {
			if (!blank)
				buf_putc(out, ' ');
			blank = 1;
			continue;
		}
		buf_putc(out, c >= 0x80 ? '?' : c);
		blank = 0;
	}
	while (out->len > start && out->s[out->len - 1] == ' ')
		out->s[--out->len] = '\0';
}

/* ar_msgid - the next "<...>" in *p of printable ASCII, bounded, or NULL;
   *p moves past it */
static char *
ar_msgid(const char **p)
{
	const char *s = *p, *lt, *gt;

	while ((lt = strchr(s, '<')) != NULL) {
		for (gt = lt + 1; *gt > ' ' && *gt < 0x7f && *gt != '<' &&
		    *gt != '>'; gt++)
			;
		s = gt;
		if (*gt == '>' && gt - lt > 1 && gt - lt < AUTOREPLY_MSGID_MAX) {
			*p = gt + 1;
			return xstrndup(lt, (size_t)(gt - lt + 1));
		}
	}
	*p = s + strlen(s);
	return NULL;
}

/* ar_field - the first field called name's value, unfolded, bounded */
static char *
ar_field(const struct spool *msg, const char *name, size_t max)
{
	long i = spool_field_find(msg, name, 0);
	struct buf b;

	buf_init(&b, max);
	if (i >= 0)
		(void)spool_field_value(msg, (size_t)i, &b);	/* cut at max */
	return buf_steal(&b);
}

/* ar_threading - In-Reply-To and References for msg's Message-ID */
static void
ar_threading(struct buf *out, const struct spool *msg)
{
	char *mv = ar_field(msg, "Message-ID", 4096);
	char *rv = ar_field(msg, "References", 16384);
	const char *p = mv;
	char *id = ar_msgid(&p), *refs[AUTOREPLY_REFS_MAX], *r;
	size_t n = 0;

	if (id) {
		buf_printf(out, "In-Reply-To: %s\n", id);
		/* the last ones of References, then the message itself */
		for (p = rv; (r = ar_msgid(&p)) != NULL;) {
			if (n == AUTOREPLY_REFS_MAX - 1) {
				free(refs[0]);
				memmove(refs, refs + 1, --n * sizeof *refs);
			}
			refs[n++] = r;
		}
		buf_puts(out, "References:");
		for (size_t i = 0; i < n; i++) {
			buf_printf(out, "%s%s", i ? "\n " : " ", refs[i]);
			free(refs[i]);
		}
		buf_printf(out, "%s%s\n", n ? "\n " : " ", id);
	}
	free(id);
	free(mv);
	free(rv);
}

/* ar_domain - the domain of from for our Message-ID */
static void
ar_msgid_new(struct buf *out, const char *from)
{
	const char *at = strrchr(from, '@');
	unsigned long long rnd = 0;
	struct buf dom;

	buf_init(&dom, 0);
	if (at)
		ar_clean(&dom, at + 1, 200);
	for (char *p = dom.s; *p; p++)
		if (*p == '>' || *p == '<' || *p == ' ')
			*p = '-';
	if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
		rnd ^= (unsigned long long)clock();
	buf_printf(out, "Message-ID: <lda-vacation.%lld.%ld.%016llx@%s>\n",
	    (long long)time(NULL), (long)getpid(), rnd,
	    dom.len ? dom.s : "localhost");
	buf_free(&dom);
}

/* ar_body - append the reply's text file (bounded); 0 or -1 with *err */
static int
ar_body(struct buf *out, const char *path, char **err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char *text = NULL;
	struct stat st;
	ssize_t n = -1;

	if (fd != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size <= AUTOREPLY_BODY_MAX) {
		text = xmalloc((size_t)st.st_size + 1);
		n = fd_read_full(fd, text, (size_t)st.st_size);
	} else if (fd != -1)
		errno = EFBIG;	/* or no regular file */
	if (n < 0) {
		*err = xasprintf("reply text %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		free(text);
		return -1;
	}
	close(fd);
	buf_append(out, text, (size_t)n);
	if (n == 0 || text[n - 1] != '\n')
		buf_putc(out, '\n');
	free(text);
	return 0;
}

/* autoreply_make - the whole reply (autoreply.h) */
char *
autoreply_make(const struct spool *msg, const struct autoreply *a,
    char **err)
{
	char *subj = ar_field(msg, "Subject", 4 * AUTOREPLY_SUBJECT_MAX);
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	struct buf out;

	buf_init(&out, 0);
	buf_puts(&out, "From: ");
	ar_clean(&out, a->from, 300);
	buf_puts(&out, "\nTo: ");
	ar_clean(&out, a->to, 300);
	buf_puts(&out, "\nSubject: ");
	ar_clean(&out, a->prefix, 100);
	if (out.s[out.len - 1] != ' ')
		buf_putc(&out, ' ');
	if (subj[strspn(subj, " \t")] == '\0')
		buf_puts(&out, "your message");
	ar_clean(&out, subj, AUTOREPLY_SUBJECT_MAX);
	free(subj);
	localtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(&out, "\nDate: %s\n", date);
	ar_msgid_new(&out, a->from);
	ar_threading(&out, msg);
	buf_puts(&out, "Auto-Submitted: auto-replied\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n\n");
	if (ar_body(&out, a->body, err) == -1) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}

/* ar_child - in the child: stdin the reply, no output, exec argv */
static void
ar_child(char *const *argv, int in)
{
	int null = open("/dev/null", O_WRONLY);

	if (dup2(in, 0) == -1 || null == -1 || dup2(null, 1) == -1 ||
	    dup2(null, 2) == -1)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	_exit(127);
}

/* ar_wait - the child's exit status within timeout s, or -1 (killed) */
static int
ar_wait(pid_t pid, long timeout, int *timedout)
{
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	long waited = 0;
	int st;
	pid_t r;

	*timedout = 0;
	while ((r = waitpid(pid, &st, WNOHANG)) == 0 ||
	    (r == -1 && errno == EINTR)) {
		if (r == 0 && waited >= timeout * 100) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			*timedout = 1;
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			return -1;
		}
		nanosleep(&nap, NULL);
		waited++;
	}
	if (r == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* autoreply_send - run argv with text on its stdin (autoreply.h) */
int
autoreply_send(char *const *argv, const char *text, const char *tmpdir,
    long timeout, char **err)
{
	int fd = fd_tmpfile(tmpdir ? tmpdir : "/tmp"), st, timedout;
	pid_t pid;

	if (fd == -1 || fd_write_all(fd, text, strlen(text)) == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		*err = xasprintf("temporary file: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if ((pid = fork()) == -1) {
		*err = xasprintf("fork: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		ar_child(argv, fd);
	}
	setpgid(pid, pid);
	undo_program(pid);	/* stopped if the run is (lda/undo.c) */
	close(fd);
	st = ar_wait(pid, timeout, &timedout);
	undo_program(0);
	if (st == -1)
		*err = timedout ? xasprintf("%s: timed out after %ld s, "
		    "killed", argv[0], timeout) : xasprintf("%s: killed or "
		    "lost", argv[0]);
	else if (st == 127)
		*err = xasprintf("%s: cannot be run (exit 127)", argv[0]);
	return st == 127 ? -1 : st;
}
