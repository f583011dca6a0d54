/*
 * web_log.c - access and error logs (web_log.h).
 */
#include "web_log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

int web_log_open(struct web_log *l, const char *access, const char *error, char *err, size_t errlen)
{
    l->access = NULL;
    l->error = stderr;
    pthread_mutex_init(&l->mu, NULL);
    if (access && *access && !(l->access = fopen(access, "ae"))) {
        snprintf(err, errlen, "[WEB] ACCESS_LOG %s: %s", access, strerror(errno));
        return -1;
    }
    if (error && *error && !(l->error = fopen(error, "ae"))) {
        snprintf(err, errlen, "[WEB] ERROR_LOG %s: %s", error, strerror(errno));
        if (l->access)
            fclose(l->access);
        l->access = NULL;
        l->error = stderr;
        return -1;
    }
    return 0;
}

void web_log_close(struct web_log *l)
{
    if (l->access)
        fclose(l->access);
    if (l->error && l->error != stderr)
        fclose(l->error);
    l->access = NULL;
    l->error = stderr;
    pthread_mutex_destroy(&l->mu);
}

enum { ESC_CONTROLS = 0, ESC_MORE = 1, ESC_BLANKS = 2 };
static void escape(char *out, size_t outsize, const char *s, size_t n, int how);

void web_log_error(struct web_log *l, const char *fmt, ...)
{
    char text[1024], line[4 * sizeof text], stamp[64];
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* One message, one line: a message may carry peer text (the name in a
     * client certificate the TLS layer refused), whose CR, LF or terminal
     * escapes must not start lines of the peer's. */
    escape(line, sizeof line, text, strlen(text), ESC_CONTROLS);
    pthread_mutex_lock(&l->mu);
    fprintf(l->error, "%s chipd: %s\n", stamp, line);
    fflush(l->error);
    pthread_mutex_unlock(&l->mu);
}

/* Peer-chosen text for a log line: control bytes (CR, LF: a forged line;
 * ESC: terminal sequences) as \\xHH; with ESC_MORE non-ASCII, '"' and
 * '\\' too (a quoted field), with ESC_BLANKS also ' ' (a field of its
 * own). So one request is one line that says what was sent. */
static void escape(char *out, size_t outsize, const char *s, size_t n, int how)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < outsize; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7F || (ch == ' ' && how & ESC_BLANKS) ||
            ((ch > 0x7F || ch == '"' || ch == '\\') && how & ESC_MORE))
            k += (size_t)snprintf(out + k, outsize - k, "\\x%02X", ch);
        else
            out[k++] = (char)ch;
    }
    out[k] = '\0';
}

void web_log_access(struct web_log *l, const char *host, const char *user, const char *request,
                    size_t request_len, int status, uint64_t bytes)
{
    if (!l->access)
        return;
    char req[1024], who[1024], stamp[64];
    /* The request line keeps its blanks (it is quoted); a user name (from
     * Basic credentials: any bytes) is a field of its own, blanks escaped. */
    escape(req, sizeof req, request, request_len, ESC_MORE);
    if (user && *user)
        escape(who, sizeof who, user, strlen(user), ESC_MORE | ESC_BLANKS);
    else
        strcpy(who, "-");
    time_t now = time(NULL);
    struct tm tm;
    strftime(stamp, sizeof stamp, "%d/%b/%Y:%H:%M:%S %z", localtime_r(&now, &tm));
    pthread_mutex_lock(&l->mu);
    fprintf(l->access, "%s - %s [%s] \"%s\" %d %llu\n", host, who, stamp, req, status,
            (unsigned long long)bytes);
    fflush(l->access);
    pthread_mutex_unlock(&l->mu);
}
