/*
 * internal.h - what the library's files share. Never installed.
 *
 * Error idiom, used in every file: argument checks return through
 * chip_fail(error, API_E...) at once; a function that owns resources has a
 * single exit with cleanup (`goto out;`), libtls style.
 */
#ifndef CHIPSSL_INTERNAL_H
#define CHIPSSL_INTERNAL_H

#include "tcpip.h"

#include <stdint.h>

static inline int chip_fail(int *error, int code)
{
    if (error)
        *error = code;
    return API_ERROR;
}

static inline int chip_ok(int *error)
{
    if (error)
        *error = 0;
    return 0;
}

/* Monotonic milliseconds. */
int64_t chip_now_ms(void);

/* A wait deadline: CHIP_FOREVER never expires. */
#define CHIP_FOREVER INT64_MAX

/* Wait until fd is ready for `events` (POLLIN/POLLOUT) or the deadline.
 * Returns 1 ready, 0 deadline passed, -1 with an API code in *error. */
int chip_wait_fd(int fd, short events, int64_t deadline, int *error);

/* Bounded string copy that always terminates (dst of size dstlen > 0). */
void chip_strlcpy(char *dst, const char *src, size_t dstlen);

#endif
