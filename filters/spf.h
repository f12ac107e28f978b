/*
 * spf.h - what the spf filter offers besides its descriptor: reading the
 * client address and HELO out of the trusted MTA's Received field, and
 * writing the Received-SPF field (RFC 7208, section 9.1).
 * Does not: check SPF (the spf.so module does, with libspf2).
 */
#ifndef LDA_SPF_H
#define LDA_SPF_H

#include <stddef.h>

#include "../lda/buf.h"

/*
 * From one unfolded Received value: when its "by" host is mta (compared
 * without case), the client's address (the bracketed literal in the "from"
 * part, postfix/sendmail "from HELO (RDNS [IP])" or exim "from RDNS ([IP]
 * helo=HELO)") into ip and the HELO name into helo. Returns 1 when found,
 * 0 when this field is not mta's or has no valid address.
 */
int spf_received_client(const char *value, const char *mta, char *ip,
    size_t ipn, char *helo, size_t helon);

/*
 * The value of a Received-SPF field into out: result, the comment (its
 * parentheses and control characters removed), then client-ip,
 * envelope-from (quoted), helo, receiver, identity and, when given,
 * problem. Returns 0, or -1 when out's cap is reached.
 */
int spf_received_spf(struct buf *out, const char *result,
    const char *comment, const char *ip, const char *sender,
    const char *helo, const char *receiver, const char *problem);

#endif
