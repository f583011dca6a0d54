/*
 * socktable.c - descriptor -> record table of the socket layer.
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

static void sock_free(struct chip_sock *s)
{
    if (!s)
        return;
    sslsock_release(s);
    free(s);
}

struct chip_sock *sock_new(int fd, int family, int type, int *error)
{
    slot_t *sl = slot_of(fd, 1);
    struct chip_sock *s = sl ? calloc(1, sizeof *s) : NULL;
    if (!s) {
        chip_fail(error, fd >= CHIPSSL_MAX_FD ? API_EMFILE : API_ENOMEM);
        return NULL;
    }
    s->fd = fd;
    s->family = family;
    s->type = type;
    s->connect_timeout = CHIPSSL_DEFAULT_CONNECT_TIMEOUT;
    s->send_max = CHIP_RECORD_MAX;
    s->deadline = CHIP_FOREVER;
    s->st.problem.alert = -1;
    sock_free(atomic_exchange(sl, s));
    return s;
}

struct chip_sock *sock_lookup(int fd, int *error)
{
    struct chip_sock *s = sock_get(fd);
    if (s)
        return s;
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        chip_fail(error, API_EBADF);
        return NULL;
    }
    if (!S_ISSOCK(sb.st_mode)) {
        chip_fail(error, API_ENOTSOCK);
        return NULL;
    }
    int type = 0;
    socklen_t tl = sizeof type;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
    int family = getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 ? ss.ss_family : 0;
    return sock_new(fd, family, type, error);
}

void sock_remove(int fd)
{
    slot_t *sl = slot_of(fd, 0);
    if (sl)
        sock_free(atomic_exchange(sl, NULL));
}

int fd_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & O_NONBLOCK);
}
