/*
 * cgi_auth.c - the upload and secure accounts (CGI_SetCredentials), the
 * secure path prefixes, and the server's check of a request against them.
 */
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "cgi_internal.h"
#include "cgi_server.h"

struct account {
    char user[CGI_MAX_CRED_LEN + 1]; /* "" = unused */
    char pass[CGI_MAX_CRED_LEN + 1];
};

static struct account accounts[2][CGI_MAX_ACCOUNTS];
static char securePaths[CGI_MAX_SECURE_PATHS][CGI_MAX_PATH_LEN + 1];
/* How many securePaths are set (written under cgi_lock): with none, the
 * per-request check takes no lock. */
static atomic_int nsecure;

void cgi_auth_reset(void)
{
    memset(accounts, 0, sizeof accounts);
    memset(securePaths, 0, sizeof securePaths);
    atomic_store(&nsecure, 0);
}

static int cred_ok(const char *s)
{
    size_t n = strlen(s);

    return n >= 1 && n <= CGI_MAX_CRED_LEN && cgi_printable(s, 0);
}

int CGI_SetCredentials(const char *user, const char *pass, int accType, int accIdx)
{
    struct account a;

    if ((accType != CGI_ACCOUNT_UPLOAD && accType != CGI_ACCOUNT_SECURE) || accIdx < 0 ||
        accIdx >= CGI_MAX_ACCOUNTS)
        return -1;
    memset(&a, 0, sizeof a);
    if (user != NULL && user[0] != '\0') {
        /* Basic credentials are "user:pass": a ':' in the user could never
         * be sent. */
        if (!cred_ok(user) || strchr(user, ':') != NULL || pass == NULL || !cred_ok(pass))
            return -1;
        strcpy(a.user, user);
        strcpy(a.pass, pass);
    }
    cgi_lock();
    accounts[accType][accIdx] = a;
    cgi_unlock();
    return 0;
}

/* Normalised prefix: without a trailing '/' (so "/a/" and "/a" are one). */
static int prefix_norm(const char *prefix, char *out)
{
    size_t n;

    if (prefix == NULL || prefix[0] != '/')
        return -1;
    n = strlen(prefix);
    while (n > 1 && prefix[n - 1] == '/')
        n--;
    if (n < 2 || n > CGI_MAX_PATH_LEN)
        return -1;
    memcpy(out, prefix, n);
    out[n] = '\0';
    return cgi_printable(out, 0) ? 0 : -1;
}

int CGI_SetSecurePath(const char *prefix)
{
    char norm[CGI_MAX_PATH_LEN + 1];
    int i, freeSlot = -1;

    if (prefix_norm(prefix, norm) != 0)
        return -1;
    cgi_lock();
    for (i = 0; i < CGI_MAX_SECURE_PATHS; i++) {
        if (securePaths[i][0] == '\0') {
            if (freeSlot < 0)
                freeSlot = i;
        } else if (strcasecmp(securePaths[i], norm) == 0) {
            cgi_unlock();
            return 0;
        }
    }
    if (freeSlot >= 0) {
        strcpy(securePaths[freeSlot], norm);
        atomic_fetch_add_explicit(&nsecure, 1, memory_order_release);
    }
    cgi_unlock();
    return freeSlot >= 0 ? 0 : -1;
}

int CGI_ClearSecurePaths(void)
{
    cgi_lock();
    memset(securePaths, 0, sizeof securePaths);
    atomic_store_explicit(&nsecure, 0, memory_order_release);
    cgi_unlock();
    return 0;
}

/* Under the lock. Case-insensitive because CGI names are: a prefix must
 * cover every spelling that reaches the same CGI function. */
static int secure_locked(const char *path)
{
    int i;

    for (i = 0; i < CGI_MAX_SECURE_PATHS; i++) {
        size_t n = strlen(securePaths[i]);
        if (n > 0 && strncasecmp(path, securePaths[i], n) == 0 &&
            (path[n] == '\0' || path[n] == '/'))
            return 1;
    }
    return 0;
}

int cgi_path_is_secure(const char *path)
{
    int r;

    if (path == NULL || atomic_load_explicit(&nsecure, memory_order_acquire) == 0)
        return 0;
    cgi_lock();
    r = secure_locked(path);
    cgi_unlock();
    return r;
}

/* Compares without an early exit, so that the time taken does not tell how
 * many leading characters of a guess were right. */
static int same_secret(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b), i;
    unsigned diff = (unsigned)(na ^ nb);

    for (i = 0; i < CGI_MAX_CRED_LEN; i++)
        diff |= (unsigned)(unsigned char)(i < na ? a[i] : 0) ^
                (unsigned)(unsigned char)(i < nb ? b[i] : 0);
    return diff == 0 && na <= CGI_MAX_CRED_LEN;
}

/* Under the lock: user/pass against the accounts of type. */
static enum cgi_auth_result account_locked(int type, const char *user, const char *pass)
{
    int i, any = 0, ok = 0;

    for (i = 0; i < CGI_MAX_ACCOUNTS; i++) {
        const struct account *a = &accounts[type][i];
        if (a->user[0] == '\0')
            continue;
        any = 1;
        if (user != NULL && pass != NULL && strcmp(a->user, user) == 0 &&
            same_secret(a->pass, pass))
            ok = 1;
    }
    if (ok)
        return CGI_AUTH_OK;
    return any ? CGI_AUTH_UNAUTHORIZED : CGI_AUTH_FORBIDDEN;
}

enum cgi_auth_result cgi_auth_check(const char *path, int upload, const char *user,
                                    const char *pass)
{
    enum cgi_auth_result r;

    if (path == NULL)
        return CGI_AUTH_FORBIDDEN;
    cgi_lock();
    if (upload)
        r = account_locked(CGI_ACCOUNT_UPLOAD, user, pass);
    else if (secure_locked(path))
        r = account_locked(CGI_ACCOUNT_SECURE, user, pass);
    else
        r = CGI_AUTH_OK;
    cgi_unlock();
    return r;
}

enum cgi_auth_result cgi_auth_secure_account(const char *user, const char *pass)
{
    enum cgi_auth_result r;

    cgi_lock();
    r = account_locked(CGI_ACCOUNT_SECURE, user, pass);
    cgi_unlock();
    return r;
}
