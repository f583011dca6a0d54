/*
 * socktable.c - descriptor -> record table of the socket layer. It knows the
 * record's defaults and nothing of TLS: freeing a record's SSL part is
 * sockets.c's (sslsock_release), so this file calls no other layer.
 */
#include "socket.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>

#define BLOCK 1024
#define NBLOCKS (CHIPSSL_MAX_FD / BLOCK)

typedef _Atomic(struct chip_sock *) slot_t;

static _Atomic(slot_t *) blocks[NBLOCKS];
static pthread_mutex_t grow_lock = PTHREAD_MUTEX_INITIALIZER;

static slot_t *slot_of(int fd, int create)
{
    if (fd < 0 || fd >= CHIPSSL_MAX_FD)
        return NULL;
    slot_t *b = atomic_load(&blocks[fd / BLOCK]);
    if (!b && create) {
        pthread_mutex_lock(&grow_lock);
        b = atomic_load(&blocks[fd / BLOCK]);
        if (!b) {
            b = calloc(BLOCK, sizeof *b);
            if (b)
                atomic_store(&blocks[fd / BLOCK], b);
        }
        pthread_mutex_unlock(&grow_lock);
    }
    return b ? &b[fd % BLOCK] : NULL;
}

struct chip_sock *sock_get(int fd)
{
    slot_t *sl = slot_of(fd, 0);
    return sl ? atomic_load(sl) : NULL;
}

static int record_alloc(int fd, int family, int type, slot_t **sl, struct chip_sock **out)
{
    if (fd < 0)
        return -API_EBADF;
    if (fd >= CHIPSSL_MAX_FD)
        return -API_EMFILE;
    *sl = slot_of(fd, 1);
    struct chip_sock *s = *sl ? calloc(1, sizeof *s) : NULL;
    if (!s)
        return -API_ENOMEM;
    s->fd = fd;
    s->family = family;
    s->type = type;
    s->connect_timeout = CHIPSSL_DEFAULT_CONNECT_TIMEOUT;
    s->send_max = CHIP_RECORD_MAX;
    s->deadline = CHIP_FOREVER;
    *out = s;
    return 0;
}

int sock_new(int fd, int family, int type, struct chip_sock **out, struct chip_sock **stale)
{
    slot_t *sl;
    int rc = record_alloc(fd, family, type, &sl, out);
    *stale = rc == 0 ? atomic_exchange(sl, *out) : NULL;
    return rc;
}

int sock_lookup(int fd, struct chip_sock **out)
{
    if ((*out = sock_get(fd)))
        return 0;
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0)
        return -API_EBADF;
    if (!S_ISSOCK(sb.st_mode))
        return -API_ENOTSOCK;
    int type = 0;
    socklen_t tl = sizeof type;
    struct sockaddr_storage ss;
    socklen_t ssl = sizeof ss;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
    int family = getsockname(fd, (struct sockaddr *)&ss, &ssl) == 0 ? ss.ss_family : 0;
    slot_t *sl;
    struct chip_sock *s;
    int rc = record_alloc(fd, family, type, &sl, &s);
    if (rc < 0)
        return rc;
    /* Another thread may have made the record meanwhile: keep the first. */
    struct chip_sock *none = NULL;
    if (!atomic_compare_exchange_strong(sl, &none, s)) {
        free(s);
        s = none;
    }
    *out = s;
    return 0;
}

struct chip_sock *sock_take(int fd)
{
    slot_t *sl = slot_of(fd, 0);
    return sl ? atomic_exchange(sl, NULL) : NULL;
}

int fd_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & O_NONBLOCK);
}
