/*
 * cgi_state.c - the lock of the CGI data side and the reset of every table.
 */
#include <pthread.h>
#include <string.h>

#include "cgi_internal.h"
#include "cgi_server.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void cgi_lock(void)
{
    pthread_mutex_lock(&lock);
}

void cgi_unlock(void)
{
    pthread_mutex_unlock(&lock);
}

int cgi_copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);

    if (n >= size)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

int cgi_printable(const char *s, int allowSpace)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(c > 0x20 && c < 0x7f) && !(allowSpace && c == ' '))
            return 0;
    }
    return 1;
}

void cgi_reset_all(void)
{
    cgi_lock();
    cgi_table_reset();
    cgi_mime_reset();
    cgi_auth_reset();
    cgi_hooks_reset();
    ssi_reset();
    server_ctl_reset();
    cgi_unlock();
}
