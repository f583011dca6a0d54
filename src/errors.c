/*
 * errors.c - the one place where operating-system errno values become the
 * original's API_E... codes, and the small time/wait helpers every file uses.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

int chipssl_errno_to_api(int e)
{
    switch (e) {
    case 0: return 0;
    case EPERM: case EACCES: return API_EPERM;
    case ENOENT: return API_ENOENT;
    case EBADF: return API_EBADF;
    case ENOMEM: return API_ENOMEM;
    case EINVAL: case EFAULT: return API_EINVAL;
    case EMFILE: case ENFILE: return API_EMFILE;
#if EAGAIN != EWOULDBLOCK
    case EAGAIN:
#endif
    case EWOULDBLOCK: return API_EWOULDBLOCK;
    case EINPROGRESS: return API_EINPROGRESS;
    case EALREADY: return API_EALREADY;
    case ENOTSOCK: return API_ENOTSOCK;
    case EMSGSIZE: return API_EMSGSIZE;
    case ENOPROTOOPT: return API_ENOPROTOOPT;
    case EPROTONOSUPPORT: case ESOCKTNOSUPPORT: case EPROTOTYPE:
        return API_EPROTONOSUPPORT;
    case EOPNOTSUPP: return API_EOPNOTSUPP;
    case EAFNOSUPPORT: case EPFNOSUPPORT: return API_EAFNOSUPPORT;
    case EADDRINUSE: return API_EADDRINUSE;
    case EADDRNOTAVAIL: return API_EADDRNOTAVAIL;
    case ENETDOWN: return API_ENETDOWN;
    case ENETUNREACH: return API_ENETUNREACH;
    case ECONNABORTED: return API_ECONNABORTED;
    case ECONNRESET: case EPIPE: return API_ECONNRESET;
    case ENOBUFS: return API_ENOBUFS;
    case EISCONN: return API_EISCONN;
    case ENOTCONN: return API_ENOTCONN;
    case ESHUTDOWN: return API_ESHUTDOWN;
    case ETIMEDOUT: return API_ETIMEDOUT;
    case ECONNREFUSED: return API_ECONNREFUSED;
    case EHOSTDOWN: return API_EHOSTDOWN;
    case EHOSTUNREACH: return API_EHOSTUNREACH;
    default: return API_EINVAL;
    }
}

int64_t chip_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int chip_wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int ms;
        if (deadline == CHIP_FOREVER) {
            ms = -1;
        } else {
            int64_t left = deadline - chip_now_ms();
            if (left <= 0)
                return 0;
            ms = left > INT32_MAX ? INT32_MAX : (int)left;
        }
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, ms);
        if (r > 0) {
            if (p.revents & POLLNVAL)
                return -API_EBADF;
            /* POLLERR/POLLHUP: let the next I/O call report what happened. */
            return 1;
        }
        if (r == 0)
            return 0;
        if (errno != EINTR)
            return -chipssl_errno_to_api(errno);
    }
}

void chip_strlcpy(char *dst, const char *src, size_t dstlen)
{
    size_t n = strlen(src);
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}
