/*
 * log.h - the one way lda reports: syslog (mail facility) and stderr.
 * Does: format and emit log lines; log_fatal/log_panic exit 75 after one
 * line, so no failure is a bounce and no failure is silent.
 * Does not: decide outcomes (see outcome.h) except "try again later".
 */
#ifndef LDA_LOG_H
#define LDA_LOG_H

#include <stdarg.h>

/* Open syslog as ident; to_stderr mirrors every line onto stderr. */
void log_open(const char *ident, int to_stderr);
/* The system's copy of each line goes to the file path (--log-file, for
   hosts without syslog) instead of syslog. 0, or -1 with *why (static). */
int log_set_system_file(const char *path, char **why);
/* Every line from now on starts "QUEUEID: message-id=<...>: " (either
   may be NULL; both are shown as given: the caller makes them safe). */
void log_set_context(const char *queue_id, const char *message_id);
/* A process that ends with _exit: write what it kept for stderr (no
   syslog) now; exit() does it by itself. */
void log_end(void);
/* Verbosity of log_debug (0 off). */
void log_set_verbose(int level);
/* Mirror every line onto fd too (--test: stdout), -1 to stop. */
void log_set_echo(int fd);
/* A file to append extra copies of each line to (LOGFILE), or NULL. */
void log_set_file(const char *path);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Log and exit EX_TEMPFAIL: the message stays with the MTA. */
void log_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* Our own bug: log "panic: ..." and exit EX_TEMPFAIL. */
void log_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
