/*
 * clamd_fuzz.c - fuzz the clamd reply parser (filters/clamav.c:
 * clamd_reply, clamd_verdict; included here to reach them) with whatever
 * clamd may answer to INSTREAM. For any reply, without a crash:
 *   - a virus found has a name, and the name holds no CR, LF or NUL (it
 *     goes into X-Virus-Status and VIRUS_NAME);
 *   - a reply is clean only when it says "stream: OK".
 * Input: the reply, read from a socketpair.
 * Standalone: ./clamd_fuzz [iterations] [seed]; libFuzzer: make fuzz.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "../../filters/clamav.c"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reply[1024], *virus = NULL, *err = NULL;
	int fd, r;

	if (size > 60000)
		return 0;
	fd = fuzz_reply_fd(data, size);
	if (clamd_reply(fd, reply, sizeof reply, net_now() + 1000,
	    &err) == 0) {
		r = clamd_verdict(reply, &virus, &err);
		if (r == 1 && (virus == NULL || !*virus ||
		    strpbrk(virus, "\r\n") != NULL))
			fuzz_fail("a virus without a name, or with a line "
			    "break in it", data, size);
		if (r == 0 && (size < 10 || memcmp(data, "stream: OK", 10) != 0))
			fuzz_fail("clean without \"stream: OK\"", data, size);
	}
	free(virus);
	free(err);
	close(fd);
	return 0;
}

#ifndef LDA_LIBFUZZER
static const char *const pieces[] = { "stream: ", "OK", " FOUND", "Eicar",
	"\0", "\n", "\r", " ", "INSTREAM size limit exceeded. ERROR",
	"stream: OK", "stream: Eicar-Test-Signature FOUND", "x" };

int
main(int argc, char **argv)
{
	return fuzz_main(argc, argv, pieces, sizeof pieces / sizeof pieces[0],
	    10, 0);
}
#endif
