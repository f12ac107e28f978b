/*
 * spamd_fuzz.c - fuzz the spamd reply parser (filters/spamassassin.c:
 * read_head, parse_head, read_body, add_xspam, reply_vars; included here
 * to reach them) with whatever spamd may answer to HEADERS. For any reply,
 * without a crash:
 *   - a reply taken gives SPAM_SCORE and SPAM_THRESHOLD as numbers;
 *   - the fields added to the message are spamd's X-Spam-* fields and
 *     their continuation lines only, where a store (repair.c: a bare CR
 *     or LF ends a line, NULs vanish) will see lines: spamd cannot add a
 *     To: or a forged field of another filter.
 * Input: the reply, read from a socketpair.
 * Standalone: ./spamd_fuzz [iterations] [seed]; libFuzzer: make fuzz.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "../../filters/spamassassin.c"

/* check_fields - each line the store will see is X-Spam-* or folded */
static void
check_fields(const struct buf *b, const uint8_t *in, size_t n)
{
	size_t i = 0;

	while (i < b->len) {
		size_t j = i;
		while (j < b->len && b->s[j] != '\n' && b->s[j] != '\r')
			j++;
		{
			size_t k = i;
			while (k < j && b->s[k] == '\0')
				k++;
			if (k < j && b->s[k] != ' ' && b->s[k] != '\t' &&
			    (j - k < 7 || strncasecmp(b->s + k, "X-Spam-", 7) != 0))
				fuzz_fail("spamd's reply adds a field that is no "
				    "X-Spam-*", in, n);
		}
		i = j + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spamd_reply r = { 0 };
	struct verdict v;
	struct buf body;
	char *err = NULL;
	int fd;

	if (size > 60000)
		return 0;
	fd = fuzz_reply_fd(data, size);
	buf_init(&r.head, SPAMD_HEAD_MAX);
	buf_init(&body, 1000 + SPAMD_HEADERS_SLACK);
	verdict_init(&v);
	if (read_head(fd, &r, net_now() + 1000, &err) == 0 &&
	    read_body(fd, &r, &body, -1, net_now() + 1000, &err) == 0) {
		add_xspam(&v, body.s ? body.s : "", body.len);
		reply_vars(&v, &r, NULL);
		if (strspn(r.score, "-0123456789.") != strlen(r.score) ||
		    !r.score[0] || !r.threshold[0])
			fuzz_fail("a score that is no number", data, size);
		check_fields(&v.bottom, data, size);
		check_fields(&v.top, data, size);
	}
	free(err);
	verdict_free(&v);
	buf_free(&r.head);
	buf_free(&body);
	close(fd);
	return 0;
}

#ifndef LDA_LIBFUZZER
static const char *const pieces[] = { "SPAMD/1.1 0 EX_OK\r\n",
	"Spam: True ; 1002.7 / 5.0\r\n", "Spam: False ; -1.0 / 5.0\r\n",
	"Content-length: 40\r\n", "Content-length: ", "\r\n", "\r\n\r\n",
	"X-Spam-Flag: YES\r\n", "X-Spam-Status: Yes, score=1002.7\r\n",
	"\tfolded\r\n", "To: evil\r\n", "\r", "\n", "\0", "X-Spam-A: a\rTo: b",
	"SPAMD/1.0 76 Bad header line\r\n", "1", "-", ";", " ", "Yes" };

int
main(int argc, char **argv)
{
	return fuzz_main(argc, argv, pieces, sizeof pieces / sizeof pieces[0],
	    14, 0);
}
#endif
