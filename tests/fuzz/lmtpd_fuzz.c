/*
 * lmtpd_fuzz.c - fuzz lda -z's server loop (lda/lmtpd.c: command lines,
 * the phases, MAIL and RCPT parameters, the DATA decoder) with whatever
 * a client may send. The input is the client's whole side of a session,
 * then end of file; recipients starting with "a" are accepted. For any
 * input, without a crash (ASan/UBSan under make check SANITIZE=1):
 *   - a message is handed over only for an accepted recipient, never
 *     larger than the SIZE limit, and the spool holds all of it;
 *   - the server ends (QUIT or end of input), whatever came.
 * Standalone: ./lmtpd_fuzz [iterations] [seed] (random pieces of LMTP
 * commands and data), or ./lmtpd_fuzz FILE... ; libFuzzer: make fuzz.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "lmtpd.h"
#include "log.h"
#include "spool.h"

#define SIZE_MAX_TEST 600

static const uint8_t *cur_in;
static size_t cur_n;

static void
check(void *ctx, const char *sender, long long size, const char *rcpt,
    struct lmtpd_reply *r)
{
	(void)ctx;
	(void)sender;
	(void)size;
	if (rcpt[0] == 'a')
		lmtpd_reply_set(r, 250, "2.1.5", "ok");
	else
		lmtpd_reply_set(r, 550, "5.1.1", "user unknown: %s", rcpt);
}

static void
deliver(void *ctx, struct spool *sp, const char *sender, char *const *rcpts,
    size_t nrcpts, struct lmtpd_reply *r)
{
	char buf[SIZE_MAX_TEST + 1];
	ssize_t n;

	(void)ctx;
	(void)sender;
	if (nrcpts == 0)
		fuzz_fail("a message for no recipient", cur_in, cur_n);
	for (size_t i = 0; i < nrcpts; i++)
		if (rcpts[i][0] != 'a')
			fuzz_fail("a message for a recipient that was refused",
			    cur_in, cur_n);
	if (sp->size > SIZE_MAX_TEST)
		fuzz_fail("a message over the SIZE limit handed over", cur_in,
		    cur_n);
	n = spool_pread(sp, buf, sizeof buf - 1, 0);
	if (n < 0 || n != sp->size)
		fuzz_fail("the spool does not hold the message", cur_in, cur_n);
	for (size_t i = 0; i < nrcpts; i++)
		lmtpd_reply_set(&r[i], 250, "2.0.0", "delivered");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int null = -1;
	struct lmtpd_ops ops = { .check = check, .deliver = deliver,
	    .size_max = SIZE_MAX_TEST, .name = "fuzz" };
	int in;

	if (null == -1) {
		char *why = NULL;
		null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		(void)log_set_system_file("/dev/null", &why);
	}
	cur_in = data;
	cur_n = size;
	in = fuzz_reply_fd(data, size);
	(void)lmtpd_serve(in, null, &ops);
	close(in);
	return 0;
}

#ifndef LDA_LIBFUZZER
int
main(int argc, char **argv)
{
	static const char *const pieces[] = {
		"LHLO x\r\n", "MAIL FROM:<s@x>\r\n", "MAIL FROM:<>", " SIZE=",
		"100", "99999", " BODY=8BITMIME", " BODY=7BIT", " FOO=1",
		"RCPT TO:<a@x>\r\n", "RCPT TO:<b@x>\r\n", "RCPT TO:<", ">",
		"DATA\r\n", "RSET\r\n", "NOOP\r\n", "QUIT\r\n", "HELO x\r\n",
		"\r\n", "\n", "\r", ".", "..", ".\r\n", "\r\n.\r\n", "\n.\n",
		"Subject: x\r\n", "body line", "", "\x7f\x80\xff", " ", ":",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};

	return fuzz_main(argc, argv, pieces, sizeof pieces / sizeof pieces[0],
	    40, 0);
}
#endif
