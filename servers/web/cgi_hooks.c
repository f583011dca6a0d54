/*
 * cgi_hooks.c - the error-page functions (CGI_Install_Func_OnErr) and the
 * upload switch and callback.
 */
#include <string.h>

#include "cgi_internal.h"
#include "cgi_server.h"

/* The original's error states and the HTTP status each one stands for. */
static const struct {
    unsigned state;
    int status;
} states[] = {
    {CGI_ERR_STATE_UNAUTHORIZED, 401},
    {CGI_ERR_STATE_NOT_FOUND, 404},
    {CGI_ERR_STATE_FILE_SYSTEM, 500},
    {CGI_ERR_STATE_NO_MEMORY, 503},
};
#define NSTATES (sizeof states / sizeof states[0])

static RpCgiFuncPtr errFuncs[NSTATES];
static int uploadEnabled;
static RpCgiFuncPtr uploadFunc;

void cgi_hooks_reset(void)
{
    memset(errFuncs, 0, sizeof errFuncs);
    uploadEnabled = 0;
    uploadFunc = NULL;
}

/* The original passes callbacks as void far *; POSIX guarantees that a
 * function pointer survives the round trip through void * (dlsym). */
static RpCgiFuncPtr as_func(void *p)
{
    RpCgiFuncPtr f;

    memcpy(&f, &p, sizeof f);
    return f;
}

int CGI_Install_Func_OnErr(unsigned int error_state, void *func)
{
    size_t i;

    for (i = 0; i < NSTATES; i++)
        if (states[i].state == error_state) {
            cgi_lock();
            errFuncs[i] = func != NULL ? as_func(func) : NULL;
            cgi_unlock();
            return 0;
        }
    return -1;
}

RpCgiFuncPtr cgi_error_func(int httpStatus)
{
    RpCgiFuncPtr f = NULL;
    size_t i;

    cgi_lock();
    for (i = 0; i < NSTATES; i++)
        if (states[i].status == httpStatus)
            f = errFuncs[i];
    cgi_unlock();
    return f;
}

int CGI_Enable_Upload(int enable)
{
    cgi_lock();
    uploadEnabled = enable != 0;
    cgi_unlock();
    return 0;
}

int CGI_Install_Func_OnUpload(void *func)
{
    cgi_lock();
    uploadFunc = func != NULL ? as_func(func) : NULL;
    cgi_unlock();
    return 0;
}

int cgi_upload_enabled(void)
{
    int r;

    cgi_lock();
    r = uploadEnabled;
    cgi_unlock();
    return r;
}

RpCgiFuncPtr cgi_upload_func(void)
{
    RpCgiFuncPtr f;

    cgi_lock();
    f = uploadFunc;
    cgi_unlock();
    return f;
}
