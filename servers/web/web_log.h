/*
 * web_log - the Web server's logs: the access log in the common log format
 * (one line per response: host ident user [time] "request" status bytes)
 * and the error log (stderr unless a file is named), one line each with
 * the time. Thread-safe: each line is written whole.
 */
#ifndef CHIPD_WEB_LOG_H
#define CHIPD_WEB_LOG_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct web_log {
    FILE *access; /* NULL: off */
    FILE *error;  /* stderr or a file */
    pthread_mutex_t mu;
};

/* web_log_open - open the files (appending); "" access: no access log,
 * "" error: stderr. Returns 0, or -1 with the reason in err. */
int web_log_open(struct web_log *l, const char *access, const char *error, char *err,
                 size_t errlen);
void web_log_close(struct web_log *l);

void web_log_error(struct web_log *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* web_log_access - one line; request is the request line as received
 * (control characters and quotes are escaped), user may be NULL. */
void web_log_access(struct web_log *l, const char *host, const char *user, const char *request,
                    size_t request_len, int status, uint64_t bytes);

#endif
