/*
 * ftp_path.c - the one function that turns a command's path into a virtual
 * path inside the root (text only; ftp_confine.c uses the result).
 */
#include "ftp_path.h"

#include <errno.h>
#include <string.h>

/* Appends the components of p to out (len bytes so far), applying "." and
 * ".." (clamped at the root). */
static int walk(const char *p, char *out, size_t cap, size_t *len)
{
    while (*p) {
        while (*p == '/')
            p++;
        const char *e = p;
        while (*e && *e != '/')
            e++;
        size_t n = (size_t)(e - p);
        if (n == 0 || (n == 1 && p[0] == '.')) {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (*len > 0 && out[*len - 1] != '/')
                (*len)--;
            if (*len > 0)
                (*len)--; /* the slash; at the root nothing is left to drop */
        } else {
            if (memchr(p, '\r', n) || memchr(p, '\n', n)) {
                errno = EINVAL;
                return -1;
            }
            if (ftp_path_is_partial(p, n)) {
                errno = EACCES;
                return -1;
            }
            if (*len + 1 + n >= cap) {
                errno = ENAMETOOLONG;
                return -1;
            }
            out[(*len)++] = '/';
            memcpy(out + *len, p, n);
            *len += n;
        }
        p = e;
    }
    return 0;
}

int ftp_path_resolve(const char *cwd, const char *arg, char *out, size_t cap)
{
    if (!cwd || !arg || !out || cap < 2 || cwd[0] != '/') {
        errno = EINVAL;
        return -1;
    }
    size_t len = 0;
    if (arg[0] != '/' && walk(cwd, out, cap, &len) < 0)
        return -1;
    if (walk(arg, out, cap, &len) < 0)
        return -1;
    if (len == 0)
        out[len++] = '/';
    out[len] = '\0';
    return 0;
}

int ftp_path_is_partial(const char *name, size_t n)
{
    /* ".<name>.part.XXXXXX": a dot, at least one byte, ".part.", six [0-9a-z] */
    if (n < 1 + 1 + 6 + 6 || name[0] != '.' || memcmp(name + n - 12, ".part.", 6) != 0)
        return 0;
    for (size_t i = n - 6; i < n; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'z')))
            return 0;
    return 1;
}

const char *ftp_path_base(const char *vpath)
{
    const char *s = strrchr(vpath, '/');
    return s ? s + 1 : vpath;
}

int ftp_path_reply(int err)
{
    switch (err) {
    case EINVAL:
    case ENAMETOOLONG: return 553; /* file name not allowed */
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
    case EFBIG: return 552; /* exceeded storage allocation */
    case EAGAIN:
    case EINTR: return 450; /* file unavailable (busy): try again */
    case EIO:
    case ENOMEM:
    case EMFILE:
    case ENFILE: return 451; /* local error in processing */
    default: return 550; /* ENOENT EACCES EPERM EXDEV ELOOP ENOTDIR EISDIR EEXIST ENOTEMPTY EBUSY */
    }
}
