/*
 * cgi_call.c - the serialisation rule of application callbacks
 * (cgi_request.h): one mutex, its own (not the tables' lock), taken around
 * each callback unless concurrency is enabled.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "cgi_request.h"

static pthread_mutex_t serial = PTHREAD_MUTEX_INITIALIZER;
static atomic_int concurrent;

void cgi_set_concurrent(int on)
{
    atomic_store(&concurrent, on != 0);
}

int cgi_get_concurrent(void)
{
    return atomic_load(&concurrent);
}

int cgi_serial_enter(void)
{
    /* Read once: the token says whether this call took the lock, so a
     * change of the setting meanwhile cannot unbalance it. */
    if (atomic_load(&concurrent))
        return 0;
    pthread_mutex_lock(&serial);
    return 1;
}

void cgi_serial_leave(int token)
{
    if (token)
        pthread_mutex_unlock(&serial);
}

int cgi_call_func(RpCgiFuncPtr fn, rpCgi *rp)
{
    if (fn == NULL || rp == NULL)
        return -1;
    int token = cgi_serial_enter();
    fn(rp);
    cgi_serial_leave(token);
    return 0;
}

int cgi_call(const CGI_Entry *entry, rpCgi *rp)
{
    return entry != NULL ? cgi_call_func(entry->CgiFuncPtr, rp) : -1;
}
