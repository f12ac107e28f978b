/*
 * clamav.c - the clamav filter: a virus scan of the whole message, by one
 * of two engines. CLAMD set: clamd's INSTREAM protocol over its socket
 * (the engine for the full official database: loaded once, in the
 * daemon). Else libclamav in-process on the signatures in CLAMAV_DB,
 * through the clamav.so module, loaded on first use and once per process
 * (for small local signature sets: loading the official database costs
 * every process seconds and hundreds of MB, see docs).
 * Does: X-Virus-Status and X-Virus-Scanned fields (forged ones dropped),
 * the variable VIRUS_NAME ("" when clean).
 * Does not: decide what to do with a virus (the rc does: a folder, a
 * refusal, /dev/null), link libclamav into lda.
 *
 * Settings: CLAMD (unix:/path | inet:host:port), CLAMD_CONNECT_TIMEOUT (s,
 * 10), CLAMD_TIMEOUT (s, 120), CLAMAV_DB (directory, default
 * /var/lib/clamav), CLAMAV_MAXSIZE (bytes, k/m, default 25m: bigger
 * messages pass with "X-Virus-Status: Unscanned"), CLAMAV_FAILURE (open |
 * closed; default closed), MODULE_PATH (where clamav.so is).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lda/xalloc.h"
#include "filter.h"
#include "module.h"
#include "net.h"

#define CLAMD_CHUNK 65536
#define CLAMD_REPLY_MAX 4096

struct clam {
	char *clamd;		/* clamd's socket, or NULL: libclamav */
	const struct lda_clamav_module *m;
	void *engine;
	unsigned nsigs;
	char *host;		/* for X-Virus-Scanned */
};

/* clam_open - choose the engine; load libclamav's signatures now */
static int
clam_open(struct filter_ctx *c, char **err)
{
	struct clam *cl = xcalloc(1, sizeof *cl);
	const char *clamd = filter_setting(c, "CLAMD");
	const char *db = filter_setting(c, "CLAMAV_DB");
	char host[256];

	if (gethostname(host, sizeof host) == -1)
		lda_strlcpy(host, "localhost", sizeof host);
	host[sizeof host - 1] = '\0';
	cl->host = xstrdup(host);
	c->priv = cl;
	if (clamd) {
		cl->clamd = xstrdup(clamd);
		return 0;
	}
	cl->m = filter_module(c, "clamav", "lda_clamav_module",
	    LDA_CLAMAV_ABI, err);
	if (cl->m == NULL)
		return -1;
	cl->engine = cl->m->load(db ? db : "/var/lib/clamav",
	    c->s && c->s->tmpdir ? c->s->tmpdir : NULL, &cl->nsigs, err);
	return cl->engine ? 0 : -1;
}

/* clam_close - release the engine */
static void
clam_close(struct filter_ctx *c)
{
	struct clam *cl = c->priv;

	if (cl == NULL)
		return;
	if (cl->m && cl->engine)
		cl->m->unload(cl->engine);
	free(cl->clamd);
	free(cl->host);
	free(cl);
	c->priv = NULL;
}

/* instream - send msg as INSTREAM chunks and the closing empty chunk */
static int
instream(int fd, const struct spool *msg, long long deadline, char **err)
{
	static const char cmd[] = "zINSTREAM";	/* with its NUL */
	uint32_t len;
	off_t off = 0;

	if (net_write(fd, cmd, sizeof cmd, deadline, err) == -1)
		return -1;
	while (off < msg->size) {
		off_t n = msg->size - off < CLAMD_CHUNK ? msg->size - off :
		    CLAMD_CHUNK;
		len = htonl((uint32_t)n);
		if (net_write(fd, &len, sizeof len, deadline, err) == -1 ||
		    net_send_spool(fd, msg, off, off + n, deadline, err) == -1)
			return -1;
		off += n;
	}
	len = 0;
	return net_write(fd, &len, sizeof len, deadline, err);
}

/* clamd_reply - read clamd's one NUL-terminated reply line */
static int
clamd_reply(int fd, char *out, size_t n, long long deadline, char **err)
{
	size_t got = 0;

	while (got < n - 1) {
		ssize_t r = net_read(fd, out + got, n - 1 - got, deadline, err);
		if (r == -1)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
		if (memchr(out, '\0', got))
			return 0;
	}
	out[got] = '\0';
	if (got == 0) {
		*err = xasprintf("clamd closed the connection without a reply");
		return -1;
	}
	return 0;
}

/*
 * clamd_verdict - "stream: OK", "stream: NAME FOUND", or an error such as
 * "INSTREAM size limit exceeded. ERROR". Returns 1 with *virus_r, 0, -1.
 */
static int
clamd_verdict(char *reply, char **virus_r, char **err)
{
	size_t n;

	reply[strcspn(reply, "\r\n")] = '\0';
	n = strlen(reply);
	if (strncmp(reply, "stream: ", 8) == 0) {
		char *v = reply + 8;
		if (strcmp(v, "OK") == 0)
			return 0;
		if (n > 8 + 6 && strcmp(reply + n - 6, " FOUND") == 0) {
			*virus_r = xstrndup(v, n - 8 - 6);
			return 1;
		}
	}
	*err = xasprintf("clamd says: %.200s", reply);
	return -1;
}

/* clamd_scan - one INSTREAM exchange */
static int
clamd_scan(struct filter_ctx *c, struct clam *cl, const struct spool *msg,
    char **virus_r, char **err)
{
	char reply[CLAMD_REPLY_MAX], *e = NULL, *re = NULL;
	long long now = net_now(), total, conn, deadline;
	int fd, sent = -1, r = -1;

	*err = NULL;
	conn = filter_setting_num(c, "CLAMD_CONNECT_TIMEOUT", 10, err);
	total = *err ? 0 : filter_setting_num(c, "CLAMD_TIMEOUT", 120, err);
	if (*err)
		return -1;
	deadline = now + total * 1000;
	fd = net_connect(cl->clamd, now + conn * 1000 < deadline ?
	    now + conn * 1000 : deadline, &e);
	if (fd != -1) {
		/*
		 * Read the reply even when sending failed: clamd stops
		 * reading at its size limit and says why before closing.
		 */
		sent = instream(fd, msg, deadline, &e);
		if (clamd_reply(fd, reply, sizeof reply, deadline, &re) == 0)
			r = clamd_verdict(reply, virus_r, &re);
		if (r != -1 && sent == -1) {	/* an answer to half a message */
			free(*virus_r);
			*virus_r = NULL;
			r = -1;
		}
		close(fd);
	}
	if (r == -1)
		*err = xasprintf("clamd %s: %s", cl->clamd, re && (sent == 0 ||
		    strncmp(re, "clamd says", 10) == 0) ? re : e ? e : "failed");
	free(e);
	free(re);
	return r;
}

/* clam_run - scan the message, say so in the header */
static int
clam_run(struct filter_ctx *c, const struct spool *msg, struct verdict *v,
    char **err)
{
	struct clam *cl = c->priv;
	char *virus = NULL, *status, *scanned;
	long long max;
	int r;

	*err = NULL;
	max = filter_setting_num(c, "CLAMAV_MAXSIZE", 25 * 1024 * 1024, err);
	if (max == -1)
		return -1;
	if (msg->size > max)
		r = 2;
	else if (cl->clamd)
		r = clamd_scan(c, cl, msg, &virus, err);
	else
		r = cl->m->scan(cl->engine, msg->fd, &virus, err);
	if (r == -1)
		return -1;
	status = r == 2 ? xstrdup("Unscanned (bigger than CLAMAV_MAXSIZE)") :
	    r == 1 ? xasprintf("Infected (%s)", virus) : xstrdup("Clean");
	scanned = cl->clamd ? xasprintf("ClamAV (clamd) on %s", cl->host) :
	    xasprintf("ClamAV %s (libclamav, %u signatures) on %s",
	    cl->m->version(), cl->nsigs, cl->host);
	verdict_drop(v, "X-Virus-Status");
	verdict_drop(v, "X-Virus-Scanned");
	verdict_field(v, 1, "X-Virus-Scanned", scanned);
	verdict_field(v, 1, "X-Virus-Status", status);
	verdict_var(v, "VIRUS_NAME", r == 1 ? virus : "");
	free(status);
	free(scanned);
	free(virus);
	return 0;
}

static const char *const clam_vars[] = { "VIRUS_NAME", NULL };
static const char *const clam_fields[] = { "X-Virus-Status",
	"X-Virus-Scanned", NULL };

const struct filter filter_clamav = {
	.name = "clamav",
	.prefix = "CLAMAV",
	.fail_closed = 1,
	.vars = clam_vars,
	.fields = clam_fields,
	.open = clam_open,
	.run = clam_run,
	.close = clam_close,
};
