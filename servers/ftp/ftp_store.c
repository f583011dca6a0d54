/*
 * ftp_store.c - uploads. By default new data goes to a hidden temporary
 * file beside the target and is renamed over it only when the transfer
 * ended well (ProFTPD's HiddenStores): a cut-off upload never shows as a
 * complete file. rename(2) in one directory is atomic, and it replaces a
 * symlink at the target rather than writing through it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ftp_path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static void store_reset(struct ftp_store *s)
{
    s->fd = s->dirfd = -1;
    s->hidden = 0;
    s->tmp[0] = s->name[0] = '\0';
}

/* Opens an existing regular file for writing, never through a symlink,
 * never blocking on a FIFO. */
static int open_regular(int dirfd, const char *name, int flags)
{
    int fd = openat(dirfd, name, flags | O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                    0644);
    if (fd < 0) {
        if (errno == ENXIO) /* a FIFO without reader, a socket: not a file */
            errno = EACCES;
        return -1;
    }
    return ftp_fd_regular(fd);
}

/* Copies the first len bytes of name (len -1: all of it) into out, for a
 * resumed upload in hidden mode. A missing file with len <= 0 is empty. */
static int copy_prefix(int dirfd, const char *name, long long len, int out)
{
    int in = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT && len <= 0 ? 0 : -1;
    struct stat st;
    int rc = -1;
    if (fstat(in, &st) < 0)
        goto out;
    if (!S_ISREG(st.st_mode)) {
        errno = EACCES;
        goto out;
    }
    if (len < 0)
        len = st.st_size;
    if (len > st.st_size) {
        errno = EINVAL; /* REST beyond the end */
        goto out;
    }
    char buf[32768];
    while (len > 0) {
        size_t want = len < (long long)sizeof buf ? (size_t)len : sizeof buf;
        ssize_t n = read(in, buf, want);
        if (n <= 0) {
            if (n == 0)
                errno = EIO; /* shrank meanwhile */
            if (n < 0 && errno == EINTR)
                continue;
            goto out;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                goto out;
            }
            off += w;
        }
        len -= n;
    }
    rc = 0;
out : {
    int e = errno;
    close(in);
    errno = e;
}
    return rc;
}

/* The hidden temporary file: ".name.part.XXXXXX", created exclusively. */
static int open_hidden(struct ftp_store *s)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (int tries = 0; tries < 64; tries++) {
        unsigned char rnd[6];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
            return -1;
        char x[7];
        for (int i = 0; i < 6; i++)
            x[i] = digits[rnd[i] % 36];
        x[6] = '\0';
        int n = snprintf(s->tmp, sizeof s->tmp, ".%s.part.%s", s->name, x);
        if (n < 0 || (size_t)n >= sizeof s->tmp) {
            errno = ENAMETOOLONG;
            return -1;
        }
        s->fd =
            openat(s->dirfd, s->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (s->fd >= 0 || errno != EEXIST)
            return s->fd < 0 ? -1 : 0;
    }
    errno = EEXIST;
    return -1;
}

int ftp_store_open(const struct ftp_root *r, const char *vpath, enum ftp_store_mode mode,
                   long long offset, struct ftp_store *s)
{
    store_reset(s);
    const char *base;
    s->dirfd = ftp_confine_parent(r, vpath, &base);
    if (s->dirfd < 0)
        return -1;
    if (strlen(base) >= sizeof s->name) {
        errno = ENAMETOOLONG;
        goto fail;
    }
    strcpy(s->name, base);
    switch (mode) {
    case FTP_STORE_HIDDEN:
        if (open_hidden(s) < 0)
            goto fail;
        s->hidden = 1;
        if (offset != 0 && copy_prefix(s->dirfd, s->name, offset, s->fd) < 0)
            goto fail;
        return 0;
    case FTP_STORE_PARTIAL: s->fd = open_regular(s->dirfd, s->name, O_CREAT | O_TRUNC); break;
    case FTP_STORE_APPEND: {
        s->fd = open_regular(s->dirfd, s->name, O_CREAT);
        struct stat st;
        if (s->fd < 0 || fstat(s->fd, &st) < 0)
            goto fail;
        if (offset > st.st_size) {
            errno = EINVAL;
            goto fail;
        }
        /* REST n + STOR: the file becomes its first n bytes and then the
         * new data, exactly what the client has. */
        if (offset >= 0 && ftruncate(s->fd, offset) < 0)
            goto fail;
        if (lseek(s->fd, 0, SEEK_END) < 0)
            goto fail;
        break;
    }
    default: errno = EINVAL; goto fail;
    }
    if (s->fd < 0)
        goto fail;
    return 0;
fail : {
    int e = errno;
    ftp_store_abort(s);
    errno = e;
}
    return -1;
}

int ftp_store_commit(struct ftp_store *s)
{
    int rc = 0;
    if (s->fd >= 0 && close(s->fd) < 0)
        rc = -1; /* a delayed write error (NFS, quota) */
    s->fd = -1;
    if (rc == 0 && s->hidden && renameat(s->dirfd, s->tmp, s->dirfd, s->name) < 0)
        rc = -1;
    if (rc == 0) {
        s->hidden = 0;
    }
    int e = errno;
    ftp_store_abort(s);
    errno = e;
    return rc;
}

void ftp_store_abort(struct ftp_store *s)
{
    if (s->fd >= 0)
        close(s->fd);
    if (s->hidden && s->dirfd >= 0)
        unlinkat(s->dirfd, s->tmp, 0);
    if (s->dirfd >= 0)
        close(s->dirfd);
    store_reset(s);
}
