/*
 * spool_fuzz.c - fuzz lda/spool.c, which takes every message in: any
 * bytes on stdin must give, without a crash,
 *   - the message intact: reading the spool back gives the input, less a
 *     leading mbox From_ line (kept apart, its sender word taken);
 *   - a header index inside the header: every field's bytes within
 *     hdr_len, its name ending at its first ':' (a line without one is
 *     kept as a nameless field), no blank line inside; the body offset
 *     within the message;
 *   - every field findable by its name, and its unfolded value bounded;
 *   - every field the store repair (lda/repair.c) will write is a field
 *     of the index under the same name (issue 11: a forged X-Spam-Flag
 *     behind a bare CR or a NUL must be seen by the filters that drop it).
 * Input: the message.
 * Standalone (random message pieces):
 *   cc -std=c11 -D_GNU_SOURCE -fsanitize=address,undefined -Ilda \
 *     tests/fuzz/spool_fuzz.c lda/{spool,buf,xalloc,log,fdio}.c \
 *     -o spool_fuzz && ./spool_fuzz [iterations] [seed]
 * libFuzzer: the same with clang, -fsanitize=fuzzer and -DLDA_LIBFUZZER.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "buf.h"
#include "repair.h"
#include "spool.h"

/* check_fields - the index against the header text */
static void
check_fields(const struct spool *sp, const uint8_t *in, size_t n)
{
	struct buf v;

	for (size_t i = 0; i < sp->nfields; i++) {
		const struct spool_field *f = &sp->fields[i];
		const char *s = sp->hdr + f->off;
		size_t k = f->name_len;
		char name[256];

		if (f->off > sp->hdr_len || f->len > sp->hdr_len - f->off)
			fuzz_fail("a field outside the header", in, n);
		if (k == 0) {	/* a line without a colon: kept, nameless */
			size_t first = 0;	/* its first line: to a CR or LF */
			while (first < f->len && s[first] != '\n' &&
			    s[first] != '\r')
				first++;
			if (memchr(s, ':', first) != NULL && s[0] != ':')
				fuzz_fail("a nameless line with a colon", in, n);
			continue;
		}
		if (k >= f->len || s[k] != ':')
			fuzz_fail("a field whose name does not end at a colon", in, n);
		if (memmem(s, f->len, "\n\n", 2) != NULL)
			fuzz_fail("a blank line inside a field", in, n);
		if (f->name_len < sizeof name) {	/* as spool_field_is sees it */
			size_t m = 0;
			for (size_t c = 0; c < f->name_len; c++)
				if (s[c] != '\0')
					name[m++] = s[c];
			while (m > 0 && (name[m - 1] == ' ' || name[m - 1] == '\t'))
				m--;
			name[m] = '\0';
			long j = m ? spool_field_find(sp, name, 0) : 0;
			if (j < 0 || (size_t)j > i)
				fuzz_fail("a field not found by its name", in, n);
		}
		buf_init(&v, 1 << 16);
		if (spool_field_value(sp, i, &v) == 0 && v.len > f->len)
			fuzz_fail("an unfolded value longer than its field", in, n);
		buf_free(&v);
	}
}

/* check_repair - each field of the repaired header is in the index */
static void
check_repair(const struct spool *sp, const uint8_t *in, size_t n)
{
	struct repair r;
	struct buf out;
	const char *p, *end;

	buf_init(&out, 0);
	repair_init(&r);
	if (repair_feed(&r, (const char *)in, n, &out) == -1 ||
	    repair_end(&r, &out) == -1)
		fuzz_fail("repair", in, n);
	p = out.s ? out.s : "";
	end = p + out.len;
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		size_t len = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *colon = memchr(p, ':', len);
		if (len == 0)
			break;		/* the header ends */
		if (*p != ' ' && *p != '\t' && colon != NULL) {
			char name[1024];
			size_t m = (size_t)(colon - p), found = 0;
			while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == '\t'))
				m--;
			if (m >= sizeof name)
				fuzz_fail("a repaired name too long", in, n);
			memcpy(name, p, m);
			name[m] = '\0';
			for (size_t i = 0; i < sp->nfields && !found; i++)
				found = spool_field_is(sp, i, name, 0);
			if (!found)
				fuzz_fail("the repair writes a field the index does "
				    "not have", in, n);
		}
		p += len + 2;
	}
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("spool_fuzz", MFD_CLOEXEC);
	struct spool *sp = NULL;
	char *err = NULL, *back;
	size_t skip = 0;

	if (fd == -1 || (size && write(fd, data, size) != (ssize_t)size) ||
	    lseek(fd, 0, SEEK_SET) == -1)
		fuzz_fail("memfd", data, size);
	if (spool_read(fd, NULL, 1, &sp, &err) == -1)
		fuzz_fail(err, data, size);
	close(fd);
	if (sp->from_line) {	/* the first line, its CR (if any) dropped */
		const uint8_t *nl = memchr(data, '\n', size);
		size_t l = strlen(sp->from_line);
		skip = nl ? (size_t)(nl - data) + 1 : size;
		if (size < 5 || memcmp(data, "From ", 5) != 0 || l >= skip ||
		    memcmp(data, sp->from_line, l) != 0)
			fuzz_fail("a From_ line that is not the input's first line",
			    data, size);
	}
	if (sp->size < 0 || (size_t)sp->size + skip != size)
		fuzz_fail("the spool's size is not the input's", data, size);
	back = malloc((size_t)sp->size + 1);
	if (spool_pread(sp, back, (size_t)sp->size, 0) != sp->size ||
	    memcmp(back, data + skip, (size_t)sp->size) != 0)
		fuzz_fail("the spool does not read back as the input", data, size);
	free(back);
	if (sp->body_off < 0 || sp->body_off > sp->size ||
	    sp->hdr_len > (size_t)sp->size)
		fuzz_fail("the header or body offset is outside the message", data,
		    size);
	check_fields(sp, data, size);
	if (sp->from_line == NULL)
		check_repair(sp, data, size);
	spool_free(&sp);
	return 0;
}

#ifndef LDA_LIBFUZZER
static const char *const pieces[] = { "From ", "From a@b  Sat Nov 21\n",
	"Subject: x", "X-A:", ":", "a", " ", "\t", "\r", "\n", "\r\n", "\0",
	"\n\n", "\r\n\r\n", "no colon", "To : b", "\x80\xff", "  folded\n",
	"From: a <a@b>\n", "Received: by x\n\tfor y\n" };

int
main(int argc, char **argv)
{
	return fuzz_main(argc, argv, pieces, sizeof pieces / sizeof pieces[0], 24,
	    0);
}
#endif
