/*
 * internal.h - what the library's files share. Never installed.
 *
 * ERROR CONVENTION (one idiom, every file):
 *   - An internal function returns a value >= 0 on success (0, a count, a
 *     descriptor) and the NEGATED API code on failure: `return -API_ENOMEM;`.
 *     "Would block" is a failure like any other (-API_EWOULDBLOCK). Internal
 *     functions never take an `int *error`.
 *   - A function that returns a pointer returns NULL on failure and, when the
 *     cause can be more than one, passes it out through `int *rc` (negated
 *     code), never through an API error pointer.
 *   - Only the public call (the API boundary) writes the caller's *error, and
 *     it writes it exactly once, on every path, with chip_return(error, rc):
 *     rc < 0 becomes *error = -rc and API_ERROR, rc >= 0 becomes *error = 0
 *     and rc. So a later step can never overwrite an earlier failure.
 *   - A function that owns resources has a single exit with cleanup
 *     (`goto out;`), libtls style.
 *   The engine (tls.h) follows it too; its checks that compute return 1
 *   yes, 0 no, or a negated code (an allocation failure is never a "no").
 */
#ifndef CHIPSSL_INTERNAL_H
#define CHIPSSL_INTERNAL_H

#include "tcpip.h"

#include <stdint.h>

/* The API boundary: the one write of *error (see above). */
static inline int chip_return(int *error, int rc)
{
    if (rc < 0) {
        if (error)
            *error = -rc;
        return API_ERROR;
    }
    if (error)
        *error = 0;
    return rc;
}

/* Monotonic milliseconds. */
int64_t chip_now_ms(void);

/* A wait deadline: CHIP_FOREVER never expires. */
#define CHIP_FOREVER INT64_MAX

/* Wait until fd is ready for `events` (POLLIN/POLLOUT) or the deadline.
 * Returns 1 ready, 0 deadline passed, or a negated API code. */
int chip_wait_fd(int fd, short events, int64_t deadline);

/* Bounded string copy that always terminates (dst of size dstlen > 0). */
void chip_strlcpy(char *dst, const char *src, size_t dstlen);

#endif
