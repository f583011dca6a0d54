/*
 * ftp_confine.c - opening what a virtual path names, never outside the root.
 * The kernel does the confinement (openat2 RESOLVE_BENEATH): a check in user
 * space followed by a use would race with a client that swaps a directory
 * for a symlink in between.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ftp_path.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int ftp_path_force_walk; /* tests: 1 = the O_NOFOLLOW walk of old kernels */

static long openat2_beneath(int dirfd, const char *rel, int flags, mode_t mode)
{
    struct open_how how = {
        .flags = (unsigned long long)flags,
        .mode = (flags & O_CREAT) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    return syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
}

int ftp_root_open(struct ftp_root *r, const char *dir)
{
    r->walk = 0;
    r->fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (r->fd < 0)
        return -1;
    /* Asked once: a kernel before 5.6 says ENOSYS, a container's seccomp
     * filter may say EPERM; either way every later open takes the walk. */
    long fd = openat2_beneath(r->fd, ".", O_PATH | O_CLOEXEC, 0);
    if (fd >= 0)
        close((int)fd);
    else if (errno == ENOSYS || errno == EPERM)
        r->walk = 1;
    return 0;
}

void ftp_root_close(struct ftp_root *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

/* Kernels before 5.6: every component opened with O_NOFOLLOW. */
static int walk_open(int dirfd, const char *rel, int flags, mode_t mode)
{
    char comp[FTP_PATH_MAX];
    int fd = dirfd;
    for (;;) {
        const char *e = strchr(rel, '/');
        if (!e)
            break;
        size_t n = (size_t)(e - rel);
        if (n >= sizeof comp) {
            errno = ENAMETOOLONG;
            goto fail;
        }
        memcpy(comp, rel, n);
        comp[n] = '\0';
        int next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd != dirfd)
            close(fd);
        fd = next;
        if (fd < 0)
            return -1;
        rel = e + 1;
    }
    int res = openat(fd, rel, flags | O_NOFOLLOW, mode);
    int e = errno;
    struct stat st;
    if (res >= 0 && (flags & O_PATH) && fstat(res, &st) == 0 && S_ISLNK(st.st_mode)) {
        /* O_PATH | O_NOFOLLOW opens the link itself: refuse it as the
         * other opens do. */
        close(res);
        res = -1;
        e = ELOOP;
    }
    if (fd != dirfd)
        close(fd);
    errno = e;
    return res;
fail:
    if (fd != dirfd)
        close(fd);
    return -1;
}

/* Opens vpath (normalized, absolute) below the root. */
static int confined_open(const struct ftp_root *r, const char *vpath, int flags, mode_t mode)
{
    if (!r || r->fd < 0 || !vpath || vpath[0] != '/') {
        errno = EINVAL;
        return -1;
    }
    const char *rel = vpath[1] ? vpath + 1 : ".";
    flags |= O_CLOEXEC;
    if (!r->walk && !ftp_path_force_walk)
        return (int)openat2_beneath(r->fd, rel, flags, mode);
    if (strcmp(rel, ".") == 0)
        return openat(r->fd, ".", flags, mode);
    return walk_open(r->fd, rel, flags, mode);
}

/* The parent of vpath, opened O_PATH, and the last component in base.
 * The root has no parent: EBUSY. */
int ftp_confine_parent(const struct ftp_root *r, const char *vpath, const char **base)
{
    char parent[FTP_PATH_MAX];
    size_t n = strlen(vpath);
    const char *b = ftp_path_base(vpath);
    if (vpath[0] != '/' || n >= sizeof parent) {
        errno = EINVAL;
        return -1;
    }
    if (*b == '\0') {
        errno = EBUSY;
        return -1;
    }
    size_t plen = (size_t)(b - vpath) - 1;
    memcpy(parent, vpath, plen);
    parent[plen] = '\0';
    if (plen == 0)
        strcpy(parent, "/");
    *base = b;
    return confined_open(r, parent, O_PATH | O_DIRECTORY, 0);
}

int ftp_open_dir(const struct ftp_root *r, const char *vpath)
{
    return confined_open(r, vpath, O_RDONLY | O_DIRECTORY, 0);
}

int ftp_fd_regular(int fd)
{
    struct stat st;
    int e = 0;
    if (fstat(fd, &st) < 0)
        e = errno;
    else if (!S_ISREG(st.st_mode))
        e = S_ISDIR(st.st_mode) ? EISDIR : EACCES;
    else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
        e = errno;
    if (e) {
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int ftp_open_read(const struct ftp_root *r, const char *vpath)
{
    /* O_NONBLOCK: opening a FIFO must not hang the session. */
    int fd = confined_open(r, vpath, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
    return fd < 0 ? -1 : ftp_fd_regular(fd);
}

int ftp_stat(const struct ftp_root *r, const char *vpath, struct stat *st)
{
    int fd = confined_open(r, vpath, O_PATH, 0);
    if (fd < 0)
        return -1;
    int rc = fstat(fd, st);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Runs op on the parent directory and the last component of vpath. */
#define PARENT_OP(r, vpath, call)                                                                  \
    do {                                                                                           \
        const char *base;                                                                          \
        int dfd = ftp_confine_parent(r, vpath, &base);                                             \
        if (dfd < 0)                                                                               \
            return -1;                                                                             \
        int rc = (call);                                                                           \
        int e = errno;                                                                             \
        close(dfd);                                                                                \
        errno = e;                                                                                 \
        return rc;                                                                                 \
    } while (0)

int ftp_mkdir(const struct ftp_root *r, const char *vpath, mode_t mode)
{
    PARENT_OP(r, vpath, mkdirat(dfd, base, mode));
}

int ftp_rmdir(const struct ftp_root *r, const char *vpath)
{
    PARENT_OP(r, vpath, unlinkat(dfd, base, AT_REMOVEDIR));
}

int ftp_unlink(const struct ftp_root *r, const char *vpath)
{
    PARENT_OP(r, vpath, unlinkat(dfd, base, 0));
}

int ftp_rename(const struct ftp_root *r, const char *from, const char *to)
{
    const char *b1, *b2;
    int d1 = ftp_confine_parent(r, from, &b1);
    if (d1 < 0)
        return -1;
    int d2 = ftp_confine_parent(r, to, &b2);
    if (d2 < 0) {
        int e = errno;
        close(d1);
        errno = e;
        return -1;
    }
    int rc = renameat(d1, b1, d2, b2);
    int e = errno;
    close(d1);
    close(d2);
    errno = e;
    return rc;
}
