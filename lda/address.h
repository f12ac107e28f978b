/*
 * address.h - the recipient's address: its user part and its detail
 * (bob+lists.linux), and the detail made into a folder name a store can
 * hold. Shared by main (who is the recipient), the plusaddr and bboard
 * filters and the store.
 * Does: choose where the detail comes from (-a, the -d name, EXTENSION,
 * LOCAL, RECIPIENT), split a local part at RCPT_DELIMITER, lower-case the
 * user part when RCPT_DOWNCASE says so, check and map a detail into a
 * folder name (doc/addressing.md has the rules).
 * Does not: look up accounts, read rc variables, open files, log.
 */
#ifndef LDA_ADDRESS_H
#define LDA_ADDRESS_H

#include <stddef.h>

struct invocation;

#define ADDRESS_DELIMITER_DEFAULT "+"
#define ADDRESS_DETAIL_MAX 200	/* bytes of a detail as the MTA gave it */
#define ADDRESS_FOLDER_MAX 200	/* bytes of the folder name it maps to */
#define ADDRESS_USER_MAX 128	/* bytes of a user part that has no account */

/* How local parts are split; read from lda's command line (VAR=value),
   because the user must be known before any rc file runs. */
struct address_opts {
	const char *delims;	/* RCPT_DELIMITER: each byte a delimiter */
	int downcase;		/* RCPT_DOWNCASE: user part in lower case */
};

struct address {
	char *user;		/* the user part; "" for "+board"; NULL when
				   nothing names one (lda runs for itself) */
	char *detail;		/* the detail, or NULL: none ("" counts as none) */
	const char *source;	/* where the detail came from: "-a", "-d",
				   "EXTENSION", "LOCAL", "RECIPIENT" (static) */
};

/* The options from inv's VAR=value words (the last one of a name wins);
   unset: delimiter "+", no lower-casing. Points into inv. */
void address_opts(const struct invocation *inv, struct address_opts *o);

/*
 * Split the local part local (anything from the last '@' on is dropped)
 * at the first byte that is one of o->delims: user part (lower-cased when
 * o->downcase) and detail, the detail keeping its case. Without a
 * delimiter the detail is NULL. Fills *a (allocated; see address_free).
 */
void address_split(const char *local, const struct address_opts *o,
    struct address *a);

/*
 * The address of recipient name (a -d argument), or, with name NULL, of
 * the user lda runs for (LOCAL, else RECIPIENT; a->user stays NULL when
 * neither is set). The detail is the first of: -a's first argument (also
 * when empty: the MTA says there is none), the name's own detail, and,
 * when lda has at most one recipient whose user part they name,
 * EXTENSION, LOCAL's detail, RECIPIENT's detail.
 */
void address_of(const struct invocation *inv, const char *name,
    const struct address_opts *o, struct address *a);

void address_free(struct address *a);

/*
 * The folder name detail maps to on a store whose hierarchy separator is
 * sep ('.' for Maildir++ and Cyrus's netnews namespace, '/' for a store
 * that says so). Both '.' and '/' in detail descend one level. Refused,
 * NULL with *why set (static text): longer than ADDRESS_DETAIL_MAX, a
 * control byte, a leading '.' or '/', an empty part (so no ".."
 * component), 8-bit bytes that are not UTF-8, a result longer than
 * ADDRESS_FOLDER_MAX. Mapped: a printable byte a store or an LMTP
 * address cannot hold unquoted (space " ( ) , : ; < > @ [ \ ] % *)
 * becomes '_'. With utf7 (a folder lda names on disk, Maildir++), UTF-8
 * and '&' become IMAP's modified UTF-7 (RFC 3501 5.1.3), as Dovecot and
 * Courier name folder directories; without (a name for a store's RCPT,
 * which the store maps itself: Cyrus and Dovecot take the detail as the
 * folder's UTF-8 name), '&' stays and 8-bit bytes are refused, since an
 * LMTP address cannot carry them. A leading INBOX part is dropped; ""
 * (allocated) means the INBOX itself.
 */
char *address_folder(const char *detail, char sep, int utf7,
    const char **why);

/* May user (a user part without a Unix account) name an rc file and a
   store recipient? Not empty, at most ADDRESS_USER_MAX bytes, no '/', no
   leading '.', printable ASCII without space, '"', '\\', '<', '>', '@'. */
int address_user_ok(const char *user);

/* s made safe for a log line: bytes outside printable ASCII as \ooo,
   at most max bytes of s shown, then "...". Allocated. */
char *address_visible(const char *s, size_t max);

#endif
