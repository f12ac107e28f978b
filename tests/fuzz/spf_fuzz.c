/*
 * spf_fuzz.c - fuzz the SPF filter's Received parser and the
 * Received-SPF field it writes (filters/spf.c: spf_received_client,
 * spf_received_spf). A sender writes the Received fields below ours, so
 * for any text, without a crash:
 *   - a client address found is an IPv4 or IPv6 address (inet_pton);
 *   - a HELO name found holds no blank, control byte, '(' or ';';
 *   - the Received-SPF value made from them (and the envelope sender,
 *     the comment and the problem, which a sender may choose) is one line
 *     without control bytes: no field can be added through it.
 * Input: "MTA\0VALUE\0SENDER" (missing parts are "").
 * Standalone: ./spf_fuzz [iterations] [seed]; libFuzzer: make fuzz.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "buf.h"
#include "spf.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 3), *mta, *value, *sender, *e;
	char ip[64] = "", helo[256] = "";
	unsigned char a[16];
	struct buf out;

	memcpy(in, data, size);
	in[size] = in[size + 1] = in[size + 2] = '\0';
	mta = in;
	value = mta + strlen(mta) + 1;
	sender = value <= in + size ? value + strlen(value) + 1 : in + size + 2;
	if (value > in + size)
		value = in + size + 1;
	if (spf_received_client(value, *mta ? mta : "mx", ip, sizeof ip, helo,
	    sizeof helo) == 1) {
		if (inet_pton(strchr(ip, ':') ? AF_INET6 : AF_INET, ip, a) != 1)
			fuzz_fail("a client address that is none", data, size);
		for (e = helo; *e; e++)
			if (isspace((unsigned char)*e) ||
			    iscntrl((unsigned char)*e) || *e == '(' || *e == ';')
				fuzz_fail("a HELO name with a blank, a control "
				    "byte, ( or ;", data, size);
	} else
		strcpy(ip, "192.0.2.1");
	buf_init(&out, 1 << 16);
	if (spf_received_spf(&out, "pass", value, ip, sender, helo, "mx",
	    value) == 0)
		for (size_t i = 0; i < out.len; i++)
			if (iscntrl((unsigned char)out.s[i]))
				fuzz_fail("a control byte in Received-SPF", data,
				    size);
	buf_free(&out);
	free(in);
	return 0;
}

#ifndef LDA_LIBFUZZER
static const char *const pieces[] = { "mx", "\0", "from ", "by mx ",
	"by ", "mx", " ", "\t", "\r\n", "(", ")", "[", "]", "192.0.2.1",
	"IPv6:", "2001:db8::1", "helo=", "a.example", "(may be forged)", ";",
	"\"", "\\", "x@y", "\x01", "\x80", "with ESMTP",
	"from a\x01b ([192.0.2.1]) by mx", "from [192.0.2.1] by mx" };

int
main(int argc, char **argv)
{
	return fuzz_main(argc, argv, pieces, sizeof pieces / sizeof pieces[0],
	    20, 0);
}
#endif
