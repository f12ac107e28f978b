/*
 * relay_fuzz.c - fuzz the lda -z server's reading of what a recipient's
 * child says (lda/relay.c relay_read: the frames, the request of store
 * copies, the done word). As root the child runs as its user, so the
 * server must take any bytes from it. For any input, without a crash
 * (ASan/UBSan under make check SANITIZE=1):
 *   - a request has at most RELAY_COPIES_MAX copies, each with a user
 *     and an address (NUL-terminated strings inside the frame read);
 *   - a done word's exit code is 0-255;
 *   - reading ends (end of input or a bad frame) after a bounded number
 *     of words.
 * Standalone: ./relay_fuzz [iterations] [seed] (random pieces of frames),
 * or ./relay_fuzz FILE... ; libFuzzer: make fuzz.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "log.h"
#include "relay.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int logged;
	struct relay_req r;
	int fd, got, code, words = 0;

	if (!logged) {
		char *why = NULL;
		(void)log_set_system_file("/dev/null", &why);
		logged = 1;
	}
	fd = fuzz_reply_fd(data, size);
	while ((got = relay_read(fd, &r, &code)) > 0) {
		if (++words > (int)size + 1)
			fuzz_fail("more words than the input could hold", data,
			    size);
		if (got == 2 && (code < 0 || code > 255))
			fuzz_fail("a done word with an exit code out of range",
			    data, size);
		if (got == 1) {
			if (r.n > RELAY_COPIES_MAX)
				fuzz_fail("a request over RELAY_COPIES_MAX",
				    data, size);
			for (size_t i = 0; i < r.n; i++)
				if (r.users[i] == NULL || r.addrs[i] == NULL ||
				    strlen(r.users[i]) > size ||
				    strlen(r.addrs[i]) > size)
					fuzz_fail("a copy without a user or "
					    "address", data, size);
			relay_req_free(&r);
		}
	}
	close(fd);
	return 0;
}

#ifndef LDA_LIBFUZZER
int
main(int argc, char **argv)
{
	static const char *const pieces[] = {
		"000000012\n", "000000009\n", "000000030\n", "00000001x\n",
		"999999999\n", "1:R,", "1:D,", "1:0,", "3:255,", "3:256,",
		"2:75,", "5:k:ey,", "0:,", "1:1,", "1:2,", "3:bob,", "9:bob+lists,",
		"4:1000,", "4:1001,", ":", ",", "1", "\n", "x", "-1:,",
	};

	return fuzz_main(argc, argv, pieces, sizeof pieces / sizeof pieces[0],
	    12, 0);
}
#endif
