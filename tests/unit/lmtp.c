/* lmtp.c - unit tests for lda/lmtp.c against a scripted server in a
   child process: greeting and capabilities, the transaction with and
   without PIPELINING, one reply per accepted recipient, refusals of MAIL,
   RCPT and DATA, dot-stuffing, SIZE, multi-line replies, timeouts,
   garbled and over-long replies; STARTTLS's failures (not offered,
   refused, a reply injected after its 220, a store that cannot speak
   TLS) over loopback TCP. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lmtp.h"
#include "tap.h"

static char dir[] = "/tmp/lda-lmtp-test.XXXXXX";
static char sock[100], result[128], data[128];

#define GREET "> 220 test ready", "< LHLO ", "> 250-test", \
	"> 250-ENHANCEDSTATUSCODES", "> 250-8BITMIME"

/* srv_line - one line from fd (CRLF stripped) into buf; -1 at EOF */
static int
srv_line(int fd, char *buf, size_t n)
{
	size_t i = 0;
	char c;

	while (read(fd, &c, 1) == 1) {
		if (c == '\n') {
			if (i && buf[i - 1] == '\r')
				i--;
			buf[i] = '\0';
			return 0;
		}
		if (i + 1 < n)
			buf[i++] = c;
	}
	return -1;
}

/*
 * serve - the child: accept one connection and run script: "> text"
 * sends, "< prefix" reads a line that must start with prefix, "D" reads
 * the data up to the dot into data, "Q" checks that nothing more came
 * within 100 ms (no pipelining), "E" checks that the client closes
 * without a further byte, "S" sleeps 2 s, "C" closes. The verdict
 * ("ok" or what went wrong) goes to the result file.
 */
static void
serve(int lfd, const char *const *script)
{
	char line[70000], verdict[300] = "ok";
	int fd = accept(lfd, NULL, NULL);
	FILE *df = fopen(data, "w");

	for (int i = 0; fd != -1 && script[i]; i++) {
		const char *s = script[i];
		if (s[0] == '>') {
			if (write(fd, s + 2, strlen(s + 2)) < 0 || write(fd, "\r\n", 2) < 0)
				break;
		} else if (s[0] == '<') {
			if (srv_line(fd, line, sizeof line) == -1 ||
			    strncmp(line, s + 2, strlen(s + 2)) != 0) {
				snprintf(verdict, sizeof verdict, "step %d: got \"%.200s\"",
				    i, line);
				break;
			}
		} else if (s[0] == 'D') {
			while (srv_line(fd, line, sizeof line) == 0 &&
			    strcmp(line, ".") != 0)
				fprintf(df, "%s\n", line);
		} else if (s[0] == 'Q') {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			if (poll(&p, 1, 100) > 0) {
				snprintf(verdict, sizeof verdict, "step %d: pipelined", i);
				break;
			}
		} else if (s[0] == 'E') {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			char c;
			if (poll(&p, 1, 5000) <= 0 || read(fd, &c, 1) != 0) {
				snprintf(verdict, sizeof verdict, "step %d: "
				    "more than the close", i);
				break;
			}
		} else if (s[0] == 'S')
			sleep(2);
		else if (s[0] == 'C')
			break;
	}
	fclose(df);
	{
		FILE *rf = fopen(result, "w");
		fputs(verdict, rf);
		fclose(rf);
	}
	_exit(0);
}

/* start - a server running script; its pid */
static pid_t
start(const char *const *script)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	unlink(sock);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sock);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    listen(lfd, 1) == -1)
		diag("bind %s: %s", sock, strerror(errno));
	if ((pid = fork()) == 0)
		serve(lfd, script);
	close(lfd);
	return pid;
}

/* start_tcp - a server running script on 127.0.0.1; its pid, *port */
static pid_t
start_tcp(const char *const *script, char *port, size_t n)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sin;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(lfd, 1) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1)
		diag("bind 127.0.0.1: %s", strerror(errno));
	snprintf(port, n, "%u", ntohs(sin.sin_port));
	if ((pid = fork()) == 0)
		serve(lfd, script);
	close(lfd);
	return pid;
}

/* verdict - wait for the server; its verdict */
static const char *
verdict(pid_t pid)
{
	static char v[300];
	FILE *f;

	waitpid(pid, NULL, 0);
	v[0] = '\0';
	if ((f = fopen(result, "r")) != NULL) {
		if (fgets(v, sizeof v, f) == NULL)
			v[0] = '\0';
		fclose(f);
	}
	return v;
}

/* The message source: a string, handed out in small pieces. */
struct mem {
	const char *s;
	size_t off, len;
};

static ssize_t
mem_read(void *ctx, char *p, size_t n, char **err)
{
	struct mem *m = ctx;
	size_t k = m->len - m->off < n ? m->len - m->off : n;

	(void)err;
	if (k > 7)
		k = 7;	/* small pieces: dot-stuffing across reads */
	memcpy(p, m->s + m->off, k);
	m->off += k;
	return (ssize_t)k;
}

/* slurp - the data file the server wrote */
static char *
slurp(void)
{
	static char buf[4096];
	FILE *f = fopen(data, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static const struct lmtp_target target = { "lmtp:unix:test", sock, NULL, NULL };

/* open_to - lmtp_open against a server running script */
static struct lmtp_conn *
open_to(const char *const *script, int timeout, pid_t *pid, char **err)
{
	struct lmtp_conn *lc = NULL;

	*pid = start(script);
	*err = NULL;
	if (lmtp_open(&target, NULL, 5, timeout, &lc, err) == -1)
		return NULL;
	return lc;
}

static const char msg[] = "Subject: t\r\n\r\n.\r\n..x\r\nline\r\n";

/* test_pipelined - three recipients, one refused at RCPT, one after DATA */
static void
test_pipelined(void)
{
	static const char *const script[] = { GREET, "> 250-SIZE 100000",
		"> 250-AUTH PLAIN LOGIN", "> 250 PIPELINING",
		"< MAIL FROM:<s@x> SIZE=", "< RCPT TO:<a>", "< RCPT TO:<b>",
		"< RCPT TO:<c>", "< DATA", "> 250 2.1.0 ok", "> 250 2.1.5 ok",
		"> 550-no such", "> 550 5.1.1 user b", "> 250 2.1.5 ok",
		"> 354 go", "D", "> 250 2.1.5 a saved",
		"> 452 4.2.2 c over quota", "< QUIT", "> 221 bye", NULL };
	const char *rcpts[] = { "a", "b", "c" };
	struct lmtp_reply rep[3];
	struct mem m = { msg, 0, sizeof msg - 1 };
	struct lmtp_txn t = { "s@x", sizeof msg - 1, rcpts, 3, { mem_read, &m },
		rep };
	char *err;
	pid_t pid;
	struct lmtp_conn *lc = open_to(script, 5, &pid, &err);

	ok(lc != NULL, "open: greeting and LHLO (%s)", err ? err : "");
	if (lc == NULL)
		return;
	is_int(lmtp_caps(lc), LMTP_CAP_PIPELINING | LMTP_CAP_ENHANCED |
	    LMTP_CAP_8BITMIME | LMTP_CAP_SIZE | LMTP_CAP_AUTH, "capabilities");
	is_int(lmtp_size_max(lc), 100000, "SIZE limit");
	is(lmtp_auth_mechs(lc), "PLAIN LOGIN", "AUTH mechanisms");
	ok(lmtp_is_local(lc), "a unix socket is local");
	is_int(lmtp_send(lc, &t, &err), 0, "transaction ran");
	is_int(rep[0].code, 250, "a: 250 after the dot");
	is(rep[0].text, "250 2.1.5 a saved", "a: the reply text");
	is_int(rep[1].code, 550, "b: refused at RCPT");
	is(rep[1].status, "5.1.1", "b: enhanced code from the last line");
	is(rep[1].text, "550-no such / 550 5.1.1 user b", "b: multi-line text");
	is_int(rep[2].code, 452, "c: its own reply after the dot");
	is(rep[2].status, "4.2.2", "c: 4.2.2");
	ok(lmtp_usable(lc), "the connection is still usable");
	lmtp_close(&lc);
	is(verdict(pid), "ok", "the server saw MAIL, RCPTs, DATA pipelined, QUIT");
	is(slurp(), "Subject: t\n\n..\n...x\nline\n", "dot-stuffed, CRLF");
	for (int i = 0; i < 3; i++)
		lmtp_reply_free(&rep[i]);
}

/* test_lockstep - without PIPELINING: one command at a time */
static void
test_lockstep(void)
{
	static const char *const script[] = { GREET, "> 250 HELP",
		"< MAIL FROM:<> BODY=8BITMIME", "Q", "> 250 ok", "< RCPT TO:<a>", "Q",
		"> 550 5.1.1 no", "< RCPT TO:<b>", "Q", "> 250 ok", "< DATA", "Q",
		"> 354 go", "D", "> 250 2.0.0 b ok", "< QUIT", "> 221 bye", NULL };
	const char *rcpts[] = { "a", "b" };
	struct lmtp_reply rep[2];
	struct mem m = { msg, 0, sizeof msg - 1 };
	struct lmtp_txn t = { "", 10, rcpts, 2, { mem_read, &m }, rep };
	char *err;
	pid_t pid;
	struct lmtp_conn *lc = open_to(script, 5, &pid, &err);

	if (lc == NULL) {
		ok(0, "open: %s", err);
		return;
	}
	is_int(lmtp_send(lc, &t, &err), 0, "lock-step transaction ran");
	ok(rep[0].code == 550 && rep[1].code == 250, "a refused, b delivered");
	lmtp_close(&lc);
	is(verdict(pid), "ok", "no command went out before the last reply");
	lmtp_reply_free(&rep[0]);
	lmtp_reply_free(&rep[1]);
}

/* test_refusals - MAIL refused; DATA refused; nobody accepted */
static void
test_refusals(void)
{
	static const char *const mail[] = { GREET, "> 250 PIPELINING", "< MAIL",
		"< RCPT", "< RCPT", "< DATA", "> 552 5.2.3 too big",
		"> 503 5.5.1 need MAIL", "> 503 5.5.1 need MAIL",
		"> 503 5.5.1 need MAIL", "< QUIT", "> 221 bye", NULL };
	static const char *const data_[] = { GREET, "> 250 PIPELINING", "< MAIL",
		"< RCPT TO:<a>", "< RCPT TO:<b>", "< DATA", "> 250 ok", "> 250 ok",
		"> 450 4.2.0 b busy", "> 451 4.3.0 no data now", "< RSET", "> 250 ok",
		"< QUIT", "> 221 bye", NULL };
	static const char *const none[] = { GREET, "> 250 HELP", "< MAIL",
		"> 250 ok", "< RCPT", "> 550 5.1.1 no", "< RSET", "> 250 ok",
		"< QUIT", "> 221 bye", NULL };
	const char *rcpts[] = { "a", "b" };
	struct lmtp_reply rep[2];
	struct mem m = { msg, 0, sizeof msg - 1 };
	struct lmtp_txn t = { "s", 10, rcpts, 2, { mem_read, &m }, rep };
	char *err;
	pid_t pid;
	struct lmtp_conn *lc = open_to(mail, 5, &pid, &err);

	if (lc) {
		is_int(lmtp_send(lc, &t, &err), 0, "MAIL refused: the transaction ended");
		ok(rep[0].code == 552 && rep[1].code == 552 &&
		    strcmp(rep[1].status, "5.2.3") == 0, "MAIL's refusal for everyone");
		lmtp_close(&lc);
		is(verdict(pid), "ok", "MAIL refused: no data, no RSET");
		lmtp_reply_free(&rep[0]);
		lmtp_reply_free(&rep[1]);
	}
	m.off = 0;
	if ((lc = open_to(data_, 5, &pid, &err)) != NULL) {
		is_int(lmtp_send(lc, &t, &err), 0, "DATA refused: the transaction ended");
		is_int(rep[0].code, 451, "a gets DATA's refusal");
		is_int(rep[1].code, 450, "b keeps its RCPT refusal");
		lmtp_close(&lc);
		is(verdict(pid), "ok", "DATA refused: RSET, QUIT");
		lmtp_reply_free(&rep[0]);
		lmtp_reply_free(&rep[1]);
	}
	t.nrcpts = 1;
	if ((lc = open_to(none, 5, &pid, &err)) != NULL) {
		is_int(lmtp_send(lc, &t, &err), 0, "nobody accepted: ended");
		is_int(rep[0].code, 550, "the RCPT refusal");
		lmtp_close(&lc);
		is(verdict(pid), "ok", "nobody accepted, lock-step: no DATA, RSET");
		lmtp_reply_free(&rep[0]);
	}
}

/* test_faults - SIZE, timeout, garbled, long line, lost link, greeting */
static void
test_faults(void)
{
	static const char *const size[] = { GREET, "> 250-SIZE 20",
		"> 250 PIPELINING", "< QUIT", "> 221 bye", NULL };
	static const char *const stall[] = { GREET, "> 250 PIPELINING", "< MAIL",
		"S", NULL };
	static const char *const garbled[] = { GREET, "> 250 PIPELINING", "< MAIL",
		"> 25O ok", "S", NULL };
	static const char *const mixed[] = { GREET, "> 250 PIPELINING", "< MAIL",
		"> 250-a", "> 251 b", "S", NULL };
	static const char *const lost[] = { GREET, "> 250 PIPELINING", "< MAIL",
		"< RCPT", "< RCPT", "< DATA", "> 250 ok", "> 250 ok", "> 250 ok",
		"> 354 go", "D", "> 250 a ok", "C", NULL };
	static const char *const greet[] = { "> 421 4.3.2 busy", NULL };
	const char *rcpts[] = { "a", "b" };
	struct lmtp_reply rep[2];
	struct mem m = { msg, 0, sizeof msg - 1 };
	struct lmtp_txn t = { "s", 1000, rcpts, 1, { mem_read, &m }, rep };
	char *err, line[3000];
	pid_t pid;
	time_t t0;
	struct lmtp_conn *lc = open_to(size, 5, &pid, &err);

	if (lc) {
		is_int(lmtp_send(lc, &t, &err), 0, "over SIZE: ended");
		ok(rep[0].code == 552 && strcmp(rep[0].status, "5.3.4") == 0,
		    "over SIZE: our own 552 5.3.4");
		like(rep[0].text, "not sent: the store takes at most 20", "... saying so");
		lmtp_close(&lc);
		is(verdict(pid), "ok", "over SIZE: nothing sent but QUIT");
		lmtp_reply_free(&rep[0]);
	}
	t.size = 10;
	if ((lc = open_to(stall, 1, &pid, &err)) != NULL) {
		t0 = time(NULL);
		is_int(lmtp_send(lc, &t, &err), -1, "a stalled store: failure");
		like(err, "timeout (1 s) waiting for the reply to MAIL", "... a timeout");
		ok(time(NULL) - t0 <= 2, "... after about a second");
		is_int(rep[0].code, 0, "... no reply");
		ok(!lmtp_usable(lc), "... the link is out of step");
		free(err);
		lmtp_close(&lc);
		kill(pid, SIGKILL);
		verdict(pid);
	}
	if ((lc = open_to(garbled, 5, &pid, &err)) != NULL) {
		is_int(lmtp_send(lc, &t, &err), -1, "a garbled reply: failure");
		like(err, "garbled reply in MAIL: \"25O ok\"", "... quoted");
		free(err);
		lmtp_close(&lc);
		kill(pid, SIGKILL);
		verdict(pid);
	}
	if ((lc = open_to(mixed, 5, &pid, &err)) != NULL) {
		is_int(lmtp_send(lc, &t, &err), -1, "a reply whose lines differ in code");
		free(err);
		lmtp_close(&lc);
		kill(pid, SIGKILL);
		verdict(pid);
	}
	memset(line, 'x', sizeof line - 1);
	memcpy(line, "> 250 ", 6);
	line[sizeof line - 1] = '\0';
	{
		const char *const longl[] = { GREET, "> 250 PIPELINING", "< MAIL",
			line, "S", NULL };
		if ((lc = open_to(longl, 5, &pid, &err)) != NULL) {
			is_int(lmtp_send(lc, &t, &err), -1, "an over-long reply line");
			like(err, "reply line longer than 2048 bytes", "... said so");
			free(err);
			lmtp_close(&lc);
			kill(pid, SIGKILL);
			verdict(pid);
		}
	}
	t.nrcpts = 2;
	m.off = 0;
	if ((lc = open_to(lost, 5, &pid, &err)) != NULL) {
		is_int(lmtp_send(lc, &t, &err), -1, "the link lost after one of two replies");
		ok(rep[0].code == 250 && rep[1].code == 0, "the first reply stays, "
		    "the second is none");
		like(err, "connection closed by the store in the final dot", "... said so");
		free(err);
		lmtp_reply_free(&rep[0]);
		lmtp_close(&lc);
		verdict(pid);
	}
	lc = open_to(greet, 5, &pid, &err);
	ok(lc == NULL, "a 421 greeting: open fails");
	like(err, "greeting: 421 4.3.2 busy", "... quoting it");
	free(err);
	verdict(pid);
	unlink(sock);
	{
		struct lmtp_target none = { "x", "/nonexistent/sock", NULL, NULL };
		ok(lmtp_open(&none, NULL, 1, 1, &lc, &err) == -1, "no socket: open fails");
		like(err, "connect /nonexistent/sock: No such file", "... saying why");
		free(err);
	}
	{
		struct lmtp_target none = { "x", "/nonexistent/sock", NULL, NULL };
		struct lmtp_target named = { "n", NULL, "localhost", "24" };
		struct lmtp_pre pre;
		ok(lmtp_preconnect(&none, &pre) == -1 && pre.fd == -1,
		    "preconnect to a missing socket: nothing kept");
		ok(lmtp_preconnect(&named, &pre) == -1 && pre.fd == -1,
		    "preconnect to a host name: none (no name lookup ahead)");
		lmtp_pre_close(&pre);
	}
}

/* starttls_to - open a TCP connection to a server running script and
   STARTTLS with mode; lmtp_starttls's result, *status and *err */
static int
starttls_to(const char *const *script, enum lmtp_tls_mode mode,
    struct lmtp_conn **lc, char *status, char **err, pid_t *pid)
{
	char port[16];
	struct lmtp_target t = { "lmtp:inet:127.0.0.1", NULL, "127.0.0.1", port };
	struct lmtp_tls p = { mode, NULL };

	*pid = start_tcp(script, port, sizeof port);
	*lc = NULL;
	status[0] = '\0';
	if (lmtp_open(&t, NULL, 5, 2, lc, err) == -1)
		return -2;
	return lmtp_starttls(*lc, &p, status, err);
}

/* test_starttls - what STARTTLS does when it cannot be had */
static void
test_starttls(void)
{
	static const char *const none[] = { GREET, "> 250 PIPELINING", "< QUIT",
		"> 221 bye", NULL };
	static const char *const refused[] = { GREET, "> 250-STARTTLS",
		"> 250 PIPELINING", "< STARTTLS", "> 454 4.7.0 TLS not available",
		"E", NULL };
	static const char *const injected[] = { GREET, "> 250-STARTTLS",
		"> 250 PIPELINING", "< STARTTLS",
		"> 220 2.0.0 go ahead\r\n250-AUTH PLAIN\r\n250 ok", "E", NULL };
	static const char *const notls[] = { GREET, "> 250-STARTTLS",
		"> 250 PIPELINING", "< STARTTLS", "> 220 2.0.0 go ahead",
		"< ", "> 500 5.5.1 what?", "C", NULL };
	struct lmtp_conn *lc;
	char status[16], *err = NULL;
	pid_t pid;

	is_int(starttls_to(none, LMTP_TLS_REQUIRE, &lc, status, &err, &pid), -1,
	    "TLS required, STARTTLS not offered: failure");
	is(status, "4.7.4", "... 4.7.4");
	like(err, "TLS is required, but the store does not offer STARTTLS",
	    "... saying so");
	free(err);
	lmtp_close(&lc);
	is(verdict(pid), "ok", "... and nothing but QUIT went out");

	is_int(starttls_to(none, LMTP_TLS_MAY, &lc, status, &err, &pid), 0,
	    "STORE_TLS=may, not offered: plaintext as before");
	ok(lc && lmtp_tls_info(lc) == NULL, "... without TLS");
	lmtp_close(&lc);
	is(verdict(pid), "ok", "... QUIT");

	is_int(starttls_to(refused, LMTP_TLS_MAY, &lc, status, &err, &pid), -1,
	    "offered, then refused: failure, no plaintext fall-back");
	is(status, "4.7.0", "... the store's own 4.7.0");
	like(err, "STARTTLS refused: 454 4.7.0 TLS not available", "... quoted");
	free(err);
	lmtp_close(&lc);
	is(verdict(pid), "ok", "... not a word more (no QUIT in plaintext)");

	is_int(starttls_to(injected, LMTP_TLS_REQUIRE, &lc, status, &err, &pid),
	    -1, "lines after the 220, before the handshake: failure");
	is(status, "4.7.5", "... 4.7.5");
	like(err, "sent more after its 220 to STARTTLS", "... saying so");
	free(err);
	lmtp_close(&lc);
	is(verdict(pid), "ok", "... no handshake, no QUIT");

	is_int(starttls_to(notls, LMTP_TLS_REQUIRE, &lc, status, &err, &pid),
	    -1, "a store that answers the handshake in plaintext: failure");
	is(status, "4.7.5", "... 4.7.5");
	like(err, "TLS handshake failed", "... saying so");
	free(err);
	lmtp_close(&lc);
	verdict(pid);
}

/* test_ahead - lda -z's transaction opened at the client's RCPT
   (lmtp_begin, lmtp_rcpt), carried on by lmtp_send with given, or reset */
static void
test_ahead(void)
{
	static const char *const script[] = { GREET, "> 250-SIZE 100000",
		"> 250 PIPELINING",
		/* MAIL refused: no transaction */
		"< MAIL FROM:<bad@x>", "< RCPT TO:<a>", "> 501 5.1.7 bad sender",
		"> 503 5.5.1 MAIL first",
		/* opened ahead: a taken, b refused; then c and the message */
		"< MAIL FROM:<s@x> SIZE=42", "< RCPT TO:<a>", "> 250 2.1.0 ok",
		"> 250 2.1.5 ok", "< RCPT TO:<b>", "> 550 5.1.1 no b",
		"< RCPT TO:<c>", "< DATA", "> 250 2.1.5 ok", "> 354 go", "D",
		"> 250 2.1.5 a saved", "> 250 2.1.5 c saved",
		/* opened ahead and reset */
		"< MAIL FROM:<s@x>", "< RCPT TO:<d>", "> 250 2.1.0 ok",
		"> 250 2.1.5 ok", "< RSET", "> 250 2.0.0 ok",
		"< QUIT", "> 221 bye", NULL };
	const char *rcpts[] = { "a", "b", "c" };
	struct lmtp_reply rep[3], r;
	struct mem m = { msg, 0, sizeof msg - 1 };
	struct lmtp_txn t = { "s@x", sizeof msg - 1, rcpts, 3, { mem_read, &m },
		rep, .given = 2 };
	char *err = NULL;
	pid_t pid;
	struct lmtp_conn *lc = open_to(script, 5, &pid, &err);

	ok(lc != NULL, "ahead: open (%s)", err ? err : "");
	if (lc == NULL)
		return;
	is_int(lmtp_begin(lc, "bad@x", -1, "a", &r, &err), 0,
	    "ahead: a refused MAIL is an answer");
	is_int(r.code, 501, "... MAIL's refusal is the reply");
	ok(!lmtp_in_txn(lc), "... and no transaction is open");
	lmtp_reply_free(&r);
	is_int(lmtp_begin(lc, "s@x", 42, "a", &rep[0], &err), 0,
	    "ahead: MAIL and RCPT in one write");
	is_int(rep[0].code, 250, "... a taken");
	ok(lmtp_in_txn(lc), "... the transaction stays open");
	is_int(lmtp_rcpt(lc, "b", &rep[1], &err), 0, "ahead: one more RCPT");
	is_int(rep[1].code, 550, "... b refused");
	is_int(lmtp_send(lc, &t, &err), 0, "ahead: carried on: RCPT c and DATA "
	    "only");
	is_int(rep[0].code, 250, "... a: its reply after the dot");
	is(rep[0].text, "250 2.1.5 a saved", "... a: the text after the dot");
	is_int(rep[1].code, 550, "... b: still its refusal at RCPT");
	is_int(rep[2].code, 250, "... c: delivered");
	ok(!lmtp_in_txn(lc), "... and the transaction is over");
	for (int i = 0; i < 3; i++)
		lmtp_reply_free(&rep[i]);
	is_int(lmtp_begin(lc, "s@x", -1, "d", &r, &err), 0, "ahead: opened "
	    "again");
	lmtp_reply_free(&r);
	lmtp_reset(lc);
	ok(!lmtp_in_txn(lc) && lmtp_usable(lc), "... reset, still usable");
	lmtp_close(&lc);
	is(verdict(pid), "ok", "ahead: the store saw MAIL once per transaction, "
	    "the RCPTs given once, RSET");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(sock, sizeof sock, "%s/s", dir);
	snprintf(result, sizeof result, "%s/result", dir);
	snprintf(data, sizeof data, "%s/data", dir);
	test_pipelined();
	test_lockstep();
	test_refusals();
	test_faults();
	test_starttls();
	test_ahead();
	unlink(result);
	unlink(data);
	unlink(sock);
	rmdir(dir);
	return done_testing();
}
