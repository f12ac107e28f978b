/*
 * main.c - lda-verify: tells an MTA at RCPT time whether lda could
 * deliver to a recipient, so that mail for unknown users is refused in
 * the SMTP dialogue instead of accepted and bounced (the "mailstorm").
 *
 *   lda-verify [--config FILE] [--store SPEC] [--user NAME]
 *              [--positive-ttl S] [--negative-ttl S] [--timeout S]
 *              (--listen unix:PATH|inet:HOST:PORT | --inetd)
 *              --protocol socketmap|policy
 *
 * Does: read STORE, its SASL settings, RCPT_DELIMITER, RCPT_DOWNCASE,
 * POSTUSER and BOARD_ROOT from the top-level assignments of the system rc
 * lda reads (literal values only; --store overrides STORE); answer
 * sendmail's socket map / postfix's socketmap table, or postfix's policy
 * delegation, for many clients at once (one poll loop); decide as lda
 * does: the user part by lda's addressing rules (address.c: the
 * +detail stripped, lower-cased when RCPT_DOWNCASE says so), then with
 * STORE the store's own answer to an LMTP RCPT in a transaction that is
 * reset (store.c, lmtp.c: the same connection, failover and SASL lda
 * uses), without STORE the Unix account; boards (POSTUSER+board) by the
 * board. Deliverable and unknown answers are cached for a while; a store
 * that is down or slow is "try later" (TEMP / 450), never "unknown".
 * Started as root it binds, then becomes --user for good (priv.c).
 * Does not: deliver, run rc recipes, know domains (the MTA asks only for
 * the domains it hands to lda).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../lda/address.h"
#include "../lda/lmtp.h"
#include "../lda/log.h"
#include "../lda/priv.h"
#include "proto.h"
#include "../rc/rcint.h"
#include "../lda/store.h"
#include "../lda/xalloc.h"

#define EX_USAGE	64
#define EX_CONFIG	78
#define MAX_CLIENTS	256
#define CACHE_SLOTS	4096
#define WRITE_TIMEOUT	10	/* seconds for a client to take an answer */

/* ------------------------------------------------------------ settings */

/* The system rc's literal top-level assignments (the last one wins). */
struct setting {
	char *name, *value;
};
static struct setting *settings;
static size_t nsettings;

static const char *
setting_get(const void *ctx, const char *name)
{
	(void)ctx;
	for (size_t i = nsettings; i-- > 0;)
		if (strcmp(settings[i].name, name) == 0)
			return settings[i].value;
	return NULL;
}

static void
setting_set(const char *name, const char *value)
{
	settings = xreallocarray(settings, nsettings + 1, sizeof *settings);
	settings[nsettings].name = xstrdup(name);
	settings[nsettings].value = value ? xstrdup(value) : NULL;
	nsettings++;
}

/* The settings lda-verify uses; any other assignment is lda's business. */
static int
wanted(const char *name)
{
	static const char *const names[] = { "RCPT_DELIMITER",
	    "RCPT_DOWNCASE", "POSTUSER", "BOARD_ROOT", NULL };

	if (strncmp(name, "STORE", 5) == 0)
		return 1;
	for (size_t i = 0; names[i]; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* read_config - the wanted top-level assignments of path, with one
   surrounding pair of quotes removed; a value that needs expansion
   ($, `) is refused: lda-verify runs no rc. */
static void
read_config(const char *path)
{
	struct rc_file *f;
	char *err = NULL;

	if ((f = rc_parse_path(path, NULL, NULL, &err)) == NULL) {
		log_warn("4.3.5 %s: %s", path, err);
		exit(EX_CONFIG);
	}
	for (const struct rc_node *n = f->first; n; n = n->next) {
		char *v;
		size_t len;

		if (n->kind != RC_NODE_ASSIGN || !wanted(n->name))
			continue;
		if (n->value == NULL) {
			setting_set(n->name, NULL);
			continue;
		}
		v = xstrdup(n->value);
		len = strlen(v);
		if (len >= 2 && (v[0] == '"' || v[0] == '\'') &&
		    v[len - 1] == v[0]) {
			memmove(v, v + 1, len - 2);
			v[len - 2] = '\0';
		}
		if (strpbrk(v, "$`\\") != NULL) {
			log_warn("4.3.5 %s:%d: %s=%s: lda-verify takes literal "
			    "values only (no $, ` or \\); give it with "
			    "--store or as a literal", path, n->line, n->name,
			    n->value);
			exit(EX_CONFIG);
		}
		setting_set(n->name, v);
		free(v);
	}
	rc_file_free(&f);
}

/* --------------------------------------------------------------- cache */

struct slot {
	char key[ADDRESS_USER_MAX + ADDRESS_FOLDER_MAX + 2];
	int verdict;		/* 'O' or 'N'; 0: empty */
	time_t until;
	char text[256];
};
static struct slot cache[CACHE_SLOTS];
static long positive_ttl = 300, negative_ttl = 60;

static struct slot *
slot_of(const char *key)
{
	unsigned long h = 5381;

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = h * 33 + *p;
	return &cache[h % CACHE_SLOTS];
}

static int
cache_get(const char *key, char *text, size_t textsz)
{
	struct slot *s = slot_of(key);

	if (s->verdict == 0 || strcmp(s->key, key) != 0 ||
	    s->until <= time(NULL))
		return 0;
	snprintf(text, textsz, "%s", s->text);
	return s->verdict;
}

static void
cache_put(const char *key, int verdict, const char *text)
{
	struct slot *s = slot_of(key);
	long ttl = verdict == 'O' ? positive_ttl : negative_ttl;

	if (ttl <= 0 || strlen(key) >= sizeof s->key)
		return;
	snprintf(s->key, sizeof s->key, "%s", key);
	snprintf(s->text, sizeof s->text, "%s", text);
	s->verdict = verdict;
	s->until = time(NULL) + ttl;
}

/* ------------------------------------------------------------ deciding */

static struct store *store;	/* NULL: no STORE, Unix accounts decide */

/* probe - the store's answer for user's folder */
static int
probe(const char *user, const char *folder, char *text, size_t textsz)
{
	struct lmtp_reply r;
	char *err = NULL;
	int v;

	if (store_probe(store, user, folder, &r, &err) == -1) {
		snprintf(text, textsz, "cannot ask the store now: %s", err);
		free(err);
		return 'T';
	}
	v = r.code >= 200 && r.code < 300 ? 'O' : r.code >= 500 &&
	    r.code < 600 ? 'N' : 'T';
	if (v != 'O') {
		/* the last line of the store's reply says it shortest */
		const char *last = r.text ? r.text : "no reply", *p;
		while ((p = strstr(last, " / ")) != NULL)
			last = p + 3;
		snprintf(text, textsz, "%s: the store says %s", v == 'N' ?
		    "User unknown" : "Cannot check the user now", last);
	}
	lmtp_reply_free(&r);
	return v;
}

/* account - a Unix account named user? */
static int
account(const char *user, char *text, size_t textsz)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (pw != NULL)
		return 'O';
	if (errno != 0 && errno != ENOENT && errno != ESRCH && errno != EBADF
	    && errno != EPERM) {
		snprintf(text, textsz, "cannot look up the account: %s",
		    strerror(errno));
		return 'T';
	}
	snprintf(text, textsz, "User unknown");
	return 'N';
}

/* local_board - does BOARD_ROOT hold the board's folder? */
static int
local_board(const char *folder, char *text, size_t textsz)
{
	const char *root = setting_get(NULL, "BOARD_ROOT");
	char path[4096];
	struct stat st;

	if (root == NULL || *root == '\0') {
		snprintf(text, textsz, "no BOARD_ROOT for boards");
		return 'N';
	}
	snprintf(path, sizeof path, "%s/%s", root, folder);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 'O';
	if (errno == ENOENT || errno == ENOTDIR) {
		snprintf(text, textsz, "no board %s", folder);
		return 'N';
	}
	snprintf(text, textsz, "cannot look at board %s: %s", folder,
	    strerror(errno));
	return 'T';
}

/* decide - may lda deliver to rcpt (an address, <> optional)? 'O' with
   *text the address, 'N' or 'T' with *text the reason */
static int
decide(const char *rcpt, char *text, size_t textsz)
{
	char local[1024], clean[1024], key[sizeof cache[0].key];
	const char *at, *postuser = setting_get(NULL, "POSTUSER");
	const char *why = NULL;
	struct address_opts o;
	struct address a;
	char *folder = NULL;
	size_t n = strlen(rcpt);
	int v, board;

	if (n >= 2 && rcpt[0] == '<' && rcpt[n - 1] == '>') {
		snprintf(clean, sizeof clean, "%.*s", (int)(n - 2), rcpt + 1);
		rcpt = clean;
		n -= 2;
	}
	at = memchr(rcpt, '@', n);
	if (at != NULL)
		for (const char *p = at; p < rcpt + n; p++)
			if (*p == '@')
				at = p;
	n = at ? (size_t)(at - rcpt) : n;
	if (n == 0 || n >= sizeof local) {
		snprintf(text, textsz, "no local part");
		return 'N';
	}
	memcpy(local, rcpt, n);
	local[n] = '\0';
	o.delims = setting_get(NULL, "RCPT_DELIMITER");
	if (o.delims == NULL || *o.delims == '\0')
		o.delims = ADDRESS_DELIMITER_DEFAULT;
	o.downcase = setting_get(NULL, "RCPT_DOWNCASE") &&
	    strcmp(setting_get(NULL, "RCPT_DOWNCASE"), "yes") == 0;
	address_split(local, &o, &a);
	board = postuser != NULL && a.user != NULL &&
	    strcmp(a.user, postuser) == 0 && a.detail != NULL;
	if (board && (folder = address_folder(a.detail, '.', 0, &why)) ==
	    NULL) {
		snprintf(text, textsz, "no such board: %s", why);
		address_free(&a);
		return 'N';
	}
	if (a.user == NULL || (!board && !address_user_ok(a.user))) {
		snprintf(text, textsz, "User unknown");
		address_free(&a);
		free(folder);
		return 'N';
	}
	snprintf(key, sizeof key, "%s%c%s", a.user, board ? '+' : ' ',
	    board ? folder : "");
	if ((v = cache_get(key, text, textsz)) != 0)
		goto out;
	if (store != NULL)
		v = probe(a.user, board ? folder : NULL, text, textsz);
	else if (board)
		v = local_board(folder, text, textsz);
	else
		v = account(a.user, text, textsz);
	if (v != 'T')
		cache_put(key, v, text);
out:
	if (v == 'O')
		snprintf(text, textsz, "%s", rcpt);
	address_free(&a);
	free(folder);
	return v;
}

/* ------------------------------------------------------------- clients */

struct client {
	int rfd, wfd;		/* -1: the slot is free */
	char in[PROTO_REQUEST_MAX + 64];
	size_t len;
};
static struct client clients[MAX_CLIENTS];
static enum proto protocol;

static void
client_close(struct client *c)
{
	if (c->rfd != -1)
		close(c->rfd);
	if (c->wfd != -1 && c->wfd != c->rfd)
		close(c->wfd);
	c->rfd = c->wfd = -1;
	c->len = 0;
}

/* say - write all of s to c within WRITE_TIMEOUT; -1 when it cannot */
static int
say(struct client *c, const char *s, size_t n)
{
	time_t end = time(NULL) + WRITE_TIMEOUT;

	while (n > 0) {
		ssize_t w = write(c->wfd, s, n);
		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = { .fd = c->wfd, .events = POLLOUT };
			long left = (long)(end - time(NULL));
			if (left > 0 && poll(&p, 1, (int)left * 1000) > 0)
				continue;
		}
		return -1;
	}
	return 0;
}

/* serve - answer every complete request c has sent; -1: close c */
static int
serve(struct client *c)
{
	for (;;) {
		struct proto_req req;
		const char *why = NULL;
		char text[1024] = "", out[1400];
		long used = proto_parse(protocol, c->in, c->len, &req, &why);
		int v, n;

		if (used == 0)
			return 0;
		if (used < 0) {
			log_warn("a client sent garbage (%s): answered and "
			    "closed", why);
			n = proto_answer(protocol, 'P', why, out, sizeof out);
			if (n > 0)
				say(c, out, (size_t)n);
			return -1;
		}
		if (protocol == PROTO_POLICY && (!req.rcpt_stage ||
		    req.key[0] == '\0'))
			v = 'O';	/* not a RCPT question: no opinion */
		else {
			v = decide(req.key, text, sizeof text);
			if (v == 'N')
				log_info("unknown: <%s>: %s", req.key, text);
			else if (v == 'T')
				log_warn("cannot tell: <%s>: %s", req.key,
				    text);
			else
				log_debug("deliverable: <%s>", req.key);
		}
		n = proto_answer(protocol, v, text, out, sizeof out);
		if (n < 0 || say(c, out, (size_t)n) == -1)
			return -1;
		memmove(c->in, c->in + used, c->len - (size_t)used);
		c->len -= (size_t)used;
	}
}

/* client_read - take what c sent; -1: close c */
static int
client_read(struct client *c)
{
	ssize_t r;

	if (c->len == sizeof c->in) {
		const char *why = "request too long";
		char out[256];
		int n = proto_answer(protocol, 'P', why, out, sizeof out);
		log_warn("a client sent garbage (%s): answered and closed",
		    why);
		if (n > 0)
			say(c, out, (size_t)n);
		return -1;
	}
	r = read(c->rfd, c->in + c->len, sizeof c->in - c->len);
	if (r == -1 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (r <= 0)
		return -1;
	c->len += (size_t)r;
	return serve(c);
}

/* ------------------------------------------------------------ listening */

static int
listen_on(const char *spec)
{
	int fd = -1, one = 1;

	if (strncmp(spec, "unix:", 5) == 0 && spec[5] == '/') {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		struct stat st;
		mode_t old;

		if (strlen(spec + 5) >= sizeof sun.sun_path) {
			log_warn("4.3.5 --listen %s: path too long", spec);
			exit(EX_USAGE);
		}
		memcpy(sun.sun_path, spec + 5, strlen(spec + 5) + 1);
		/* a socket left by an earlier run goes; anything else stays */
		if (lstat(sun.sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(sun.sun_path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		old = umask(0111);	/* any local client may ask */
		if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof sun)
		    == -1) {
			log_warn("4.3.5 --listen %s: %s", spec,
			    strerror(errno));
			exit(EX_CONFIG);
		}
		umask(old);
	} else if (strncmp(spec, "inet:", 5) == 0) {
		char *hp = xstrdup(spec + 5), *port = strrchr(hp, ':');
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
		    .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai = NULL;
		int e;

		if (port == NULL || port == hp) {
			log_warn("4.3.5 --listen %s: inet:HOST:PORT", spec);
			exit(EX_USAGE);
		}
		*port++ = '\0';
		if (hp[0] == '[' && hp[strlen(hp) - 1] == ']') {
			hp[strlen(hp) - 1] = '\0';
			memmove(hp, hp + 1, strlen(hp));
		}
		if ((e = getaddrinfo(hp, port, &hints, &ai)) != 0) {
			log_warn("4.3.5 --listen %s: %s", spec,
			    gai_strerror(e));
			exit(EX_CONFIG);
		}
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd != -1)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			    sizeof one);
		if (fd == -1 || bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			log_warn("4.3.5 --listen %s: %s", spec,
			    strerror(errno));
			exit(EX_CONFIG);
		}
		freeaddrinfo(ai);
		free(hp);
	} else {
		log_warn("4.3.5 --listen %s: unix:/PATH or inet:HOST:PORT",
		    spec);
		exit(EX_USAGE);
	}
	if (listen(fd, 128) == -1) {
		log_warn("4.3.5 --listen %s: %s", spec, strerror(errno));
		exit(EX_CONFIG);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* loop - accept and serve clients, forever */
static void
loop(int lfd)
{
	struct pollfd p[MAX_CLIENTS + 1];

	for (;;) {
		size_t np = 0;
		int n;

		if (lfd != -1) {
			p[np].fd = lfd;
			p[np++].events = POLLIN;
		}
		for (size_t i = 0; i < MAX_CLIENTS; i++) {
			p[np].fd = clients[i].rfd;	/* -1 is ignored */
			p[np++].events = POLLIN;
		}
		n = poll(p, np, -1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			log_fatal("poll: %s", strerror(errno));
		}
		for (size_t i = lfd != -1 ? 1 : 0; i < np; i++) {
			struct client *c = &clients[i - (lfd != -1)];
			if (c->rfd == -1 || !(p[i].revents & (POLLIN | POLLHUP
			    | POLLERR)))
				continue;
			if (client_read(c) == -1)
				client_close(c);
		}
		if (lfd == -1) {
			if (clients[0].rfd == -1)
				return;	/* --inetd: the one client left */
			continue;
		}
		if (p[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC |
			    SOCK_NONBLOCK);
			size_t i;
			if (fd == -1)
				continue;
			for (i = 0; i < MAX_CLIENTS && clients[i].rfd != -1;
			    i++)
				;
			if (i == MAX_CLIENTS) {
				log_warn("%d clients at once: one more is "
				    "turned away", MAX_CLIENTS);
				close(fd);
				continue;
			}
			clients[i].rfd = clients[i].wfd = fd;
			clients[i].len = 0;
		}
	}
}

/* ---------------------------------------------------------------- main */

static void
usage(void)
{
	fprintf(stderr, "usage: lda-verify [--config FILE] [--store SPEC] "
	    "[--user NAME] [--positive-ttl S] [--negative-ttl S] "
	    "[--timeout S] (--listen unix:PATH|inet:HOST:PORT | --inetd) "
	    "--protocol socketmap|policy\n");
	exit(EX_USAGE);
}

static long
number(const char *opt, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 86400) {
		log_warn("4.3.5 %s %s: a number of seconds, 0 to 86400", opt,
		    s);
		exit(EX_USAGE);
	}
	return v;
}

int
main(int argc, char **argv)
{
	const char *config = SYSCONFDIR "/lda.rc", *store_spec = NULL;
	const char *listen_spec = NULL, *proto_name = NULL, *user = NULL;
	int inetd = 0, config_given = 0, lfd = -1;
	long timeout = 10;
	struct store_settings set;
	char *err = NULL;

	log_open("lda-verify", 1);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--inetd") == 0) {
			inetd = 1;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--config") == 0) {
			config = v;
			config_given = 1;
		} else if (strcmp(a, "--store") == 0)
			store_spec = v;
		else if (strcmp(a, "--listen") == 0)
			listen_spec = v;
		else if (strcmp(a, "--protocol") == 0)
			proto_name = v;
		else if (strcmp(a, "--user") == 0)
			user = v;
		else if (strcmp(a, "--positive-ttl") == 0)
			positive_ttl = number(a, v);
		else if (strcmp(a, "--negative-ttl") == 0)
			negative_ttl = number(a, v);
		else if (strcmp(a, "--timeout") == 0)
			timeout = number(a, v);
		else
			usage();
	}
	if (proto_name == NULL || (listen_spec == NULL) == !inetd)
		usage();
	if (inetd)	/* stderr is the MTA's socket too: syslog only */
		log_open("lda-verify", 0);
	if (strcmp(proto_name, "socketmap") == 0)
		protocol = PROTO_SOCKETMAP;
	else if (strcmp(proto_name, "policy") == 0)
		protocol = PROTO_POLICY;
	else
		usage();
	if (config_given || access(config, F_OK) == 0)
		read_config(config);
	if (store_spec != NULL)
		setting_set("STORE", store_spec);
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		clients[i].rfd = clients[i].wfd = -1;

	if (listen_spec != NULL)
		lfd = listen_on(listen_spec);
	if (getuid() == 0 || geteuid() == 0) {
		struct passwd *pw;
		if (user == NULL) {
			log_warn("4.3.5 started as root: give --user NAME, the "
			    "unprivileged user to run as");
			exit(EX_USAGE);
		}
		if ((pw = getpwnam(user)) == NULL || pw->pw_uid == 0) {
			log_warn("4.3.5 --user %s: no such user, or root",
			    user);
			exit(EX_CONFIG);
		}
		if (priv_become(pw, &err) == -1)
			log_fatal("cannot become %s: %s", user, err);
	} else if (user != NULL) {
		struct passwd *pw = getpwnam(user);
		if (pw == NULL || pw->pw_uid != getuid()) {
			log_warn("4.3.5 --user %s: only root can change user",
			    user);
			exit(EX_USAGE);
		}
	}

	if (setting_get(NULL, "STORE") && *setting_get(NULL, "STORE")) {
		if (store_settings_read(&set, setting_get, NULL, &err) == -1) {
			log_warn("4.3.5 %s", err);
			exit(EX_CONFIG);
		}
		if (set.connect_timeout > timeout)
			set.connect_timeout = (int)timeout;
		if (set.timeout > timeout)
			set.timeout = (int)timeout;
		store = store_new(&set);
	}
	log_info("answering %s on %s; %s", proto_name, inetd ? "stdin" :
	    listen_spec, store ? setting_get(NULL, "STORE") :
	    "Unix accounts (no STORE)");
	if (inetd) {
		clients[0].rfd = 0;
		clients[0].wfd = 1;
	}
	loop(lfd);
	store_free(&store);
	return 0;
}
