/*
 * spf.c - the spf.so module: libspf2 for lda's spf filter (filters/spf.c).
 * A module, although libspf2 is light, so that lda's own binary links only
 * what every message needs.
 * Does: an SPF server on the system resolver or on a zone file (tests and
 * offline set-ups: no network), one MAIL FROM check per call, the result,
 * libspf2's header comment and explanation.
 * Does not: choose the client address or write the header (the filter
 * does), cache across processes, log (libspf2's messages are silenced; a
 * fatal libspf2 error ends the process with 75, never an abort()).
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include "../module.h"

#define ZONE_LINE_MAX 4096

struct spf {
	SPF_server_t *server;
	SPF_dns_server_t *zone;	/* the zone layer, or NULL */
	char receiver[256];
};

/* mod_err - a malloc()ed message */
static char * __attribute__((format(printf, 1, 2)))
mod_err(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return strdup(buf);
}

/* fatal - libspf2 gave up (out of memory, a bug): exit 75, the MTA retries */
static void __attribute__((noreturn))
fatal(const char *file, int line, const char *msg)
{
	char buf[512];
	int n = snprintf(buf, sizeof buf, "lda: spf: libspf2 fatal error: "
	    "%s:%d: %s\n", file ? file : "?", line, msg ? msg : "");

	if (n > 0 && write(2, buf, (size_t)n < sizeof buf ? (size_t)n :
	    sizeof buf - 1) < 0)
		n = 0;
	_exit(75);
}

/* hush - libspf2's warnings and debug output go nowhere */
static void
hush(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	(void)msg;
}

/* rr_type - a zone file's type word */
static int
rr_type(const char *w, ns_type *t)
{
	static const struct { const char *name; ns_type t; } types[] = {
		{ "A", ns_t_a }, { "AAAA", ns_t_aaaa }, { "MX", ns_t_mx },
		{ "PTR", ns_t_ptr }, { "TXT", ns_t_txt },
	};

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(w, types[i].name) == 0) {
			*t = types[i].t;
			return 0;
		}
	return -1;
}

/* herrno_of - "!TRY_AGAIN" and friends */
static int
herrno_of(const char *w)
{
	if (strcmp(w, "!HOST_NOT_FOUND") == 0)
		return HOST_NOT_FOUND;
	if (strcmp(w, "!NO_DATA") == 0)
		return NO_DATA;
	if (strcmp(w, "!TRY_AGAIN") == 0)
		return TRY_AGAIN;
	return -1;
}

/* zone_line - add one "name TYPE data" line; 0, or -1 with *err */
static int
zone_line(SPF_dns_server_t *z, char *line, const char *path, long lno,
    char **err)
{
	char *name, *type, *data, *end;
	ns_type t;
	int herr = NETDB_SUCCESS;

	line[strcspn(line, "\r\n")] = '\0';
	name = line + strspn(line, " \t");
	if (*name == '\0' || *name == '#')
		return 0;
	type = name + strcspn(name, " \t");
	if (*type)
		*type++ = '\0';
	type += strspn(type, " \t");
	data = type + strcspn(type, " \t");
	if (*data)
		*data++ = '\0';
	data += strspn(data, " \t");
	end = data + strlen(data);
	if (end - data >= 2 && data[0] == '"' && end[-1] == '"') {
		end[-1] = '\0';
		data++;
	}
	if (rr_type(type, &t) == -1 || *data == '\0') {
		*err = mod_err("%s:%ld: want \"name A|AAAA|MX|PTR|TXT data\"",
		    path, lno);
		return -1;
	}
	if (data[0] == '!' && (herr = herrno_of(data)) == -1) {
		*err = mod_err("%s:%ld: unknown DNS error", path, lno);
		return -1;
	}
	if (SPF_dns_zone_add_str(z, name, t, herr,
	    herr == NETDB_SUCCESS ? data : NULL) != SPF_E_SUCCESS) {
		*err = mod_err("%s:%ld: bad record data", path, lno);
		return -1;
	}
	return 0;
}

/* zone_load - a zone DNS layer from path (no layer below: no network) */
static SPF_dns_server_t *
zone_load(const char *path, char **err)
{
	SPF_dns_server_t *z;
	char line[ZONE_LINE_MAX];
	long lno = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL) {
		*err = mod_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((z = SPF_dns_zone_new(NULL, "lda-zone", 0)) == NULL) {
		fclose(f);
		*err = strdup("SPF_dns_zone_new: out of memory");
		return NULL;
	}
	while (fgets(line, sizeof line, f)) {
		lno++;
		if (zone_line(z, line, path, lno, err) == -1) {
			SPF_dns_free(z);
			fclose(f);
			return NULL;
		}
	}
	fclose(f);
	return z;
}

/* copy - bounded copy of a possibly NULL string */
static void
copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* spf_open - a checker on the resolver or on zonefile */
static void *
spf_open(const char *zonefile, const char *receiver, char **err)
{
	struct spf *h = calloc(1, sizeof *h);

	if (h == NULL) {
		*err = strdup("out of memory");
		return NULL;
	}
	SPF_error_handler = fatal;
	SPF_warning_handler = hush;
	SPF_info_handler = hush;
	SPF_debug_handler = hush;
	if (zonefile) {
		if ((h->zone = zone_load(zonefile, err)) == NULL) {
			free(h);
			return NULL;
		}
		h->server = SPF_server_new_dns(h->zone, 0);
	} else
		h->server = SPF_server_new(SPF_DNS_CACHE, 0);
	if (h->server == NULL) {
		if (h->zone)
			SPF_dns_free(h->zone);
		free(h);
		*err = strdup("SPF_server_new failed");
		return NULL;
	}
	copy(h->receiver, sizeof h->receiver, receiver ? receiver : "localhost");
	SPF_server_set_rec_dom(h->server, h->receiver);
	return h;
}

/* first_error - the first error libspf2 recorded in r, or "" */
static const char *
first_error(SPF_response_t *r)
{
	for (int i = 0; i < SPF_response_messages(r); i++) {
		SPF_error_t *e = SPF_response_message(r, i);
		if (SPF_error_errorp(e))
			return SPF_error_message(e);
	}
	return "";
}

/*
 * answer - libspf2's response into a. libspf2 1.2.10 leaves the result
 * unset when the record cannot be had: a DNS failure is a temperror, a
 * record that does not compile a permerror (RFC 7208, 4.4 and 4.6).
 * Returns 0, or -1 when there is no result at all.
 */
static int
answer(const struct spf *h, SPF_response_t *res, SPF_errcode_t e,
    const char *identity, struct lda_spf_answer *a)
{
	SPF_result_t result = SPF_response_result(res);

	if (result == SPF_RESULT_INVALID && e == SPF_E_SUCCESS)
		return -1;
	if (result == SPF_RESULT_INVALID) {
		result = e == SPF_E_DNS_ERROR ? SPF_RESULT_TEMPERROR :
		    SPF_RESULT_PERMERROR;
		snprintf(a->comment, sizeof a->comment, "%s: error in "
		    "processing during lookup of %s", h->receiver,
		    identity ? identity : "");
		copy(a->problem, sizeof a->problem, SPF_strerror(e));
	} else {
		copy(a->comment, sizeof a->comment,
		    SPF_response_get_header_comment(res));
		if (result == SPF_RESULT_PERMERROR ||
		    result == SPF_RESULT_TEMPERROR)
			copy(a->problem, sizeof a->problem, *first_error(res) ?
			    first_error(res) : SPF_strerror(e));
	}
	copy(a->result, sizeof a->result, SPF_strresult(result));
	if (result == SPF_RESULT_FAIL)
		copy(a->explanation, sizeof a->explanation,
		    SPF_response_get_explanation(res));
	return 0;
}

/* spf_check - one MAIL FROM check */
static int
spf_check(void *spf, const char *ip, const char *helo, const char *sender,
    struct lda_spf_answer *a, char **err)
{
	struct spf *h = spf;
	SPF_request_t *req = SPF_request_new(h->server);
	SPF_response_t *res = NULL;
	SPF_errcode_t e;
	int r;

	memset(a, 0, sizeof *a);
	if (req == NULL) {
		*err = strdup("SPF_request_new: out of memory");
		return -1;
	}
	e = strchr(ip, ':') ? SPF_request_set_ipv6_str(req, ip) :
	    SPF_request_set_ipv4_str(req, ip);
	if (e != SPF_E_SUCCESS) {
		*err = mod_err("client address %s: not an IP address", ip);
		SPF_request_free(req);
		return -1;
	}
	if (helo && *helo)
		SPF_request_set_helo_dom(req, helo);
	if (sender && *sender)
		SPF_request_set_env_from(req, sender);
	e = SPF_request_query_mailfrom(req, &res);
	r = answer(h, res, e, sender && *sender ? sender : helo, a);
	if (r == -1)
		*err = mod_err("libspf2 gave no result");
	SPF_response_free(res);
	SPF_request_free(req);
	return r;
}

/* spf_close - free the checker */
static void
spf_close(void *spf)
{
	struct spf *h = spf;

	if (h == NULL)
		return;
	SPF_server_free(h->server);	/* frees the resolver it made, */
	if (h->zone)			/* not the layer it was given */
		SPF_dns_free(h->zone);
	free(h);
}

const struct lda_spf_module lda_spf_module = {
	.abi = LDA_SPF_ABI,
	.open = spf_open,
	.check = spf_check,
	.close = spf_close,
};
