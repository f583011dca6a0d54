/*
 * ftp_list.c - the lister: a directory stream turned into lines, a buffer at
 * a time. A line that does not fit waits in the lister for the next call.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ftp_list.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void ftp_list_args(const char *arg, int *all, const char **path)
{
    *all = 0;
    /* "LIST -la dir": options first; "-" alone or "--" would be a name. */
    while (arg[0] == '-' && arg[1] != '\0' && arg[1] != ' ' && arg[1] != '-') {
        const char *p = arg + 1;
        for (; *p && *p != ' '; p++)
            if (*p == 'a' || *p == 'A')
                *all = 1;
        while (*p == ' ')
            p++;
        arg = p;
    }
    *path = arg;
}

int ftp_list_open(struct ftp_lister *l, const struct ftp_root *r, const char *vpath,
                  enum ftp_list_format fmt, int all, int writable, time_t now)
{
    memset(l, 0, sizeof *l);
    if (strlen(vpath) >= sizeof l->vpath) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(l->vpath, vpath);
    l->root = r;
    l->fmt = fmt;
    l->all = all;
    l->writable = writable;
    l->now = now;
    int fd = ftp_open_dir(r, vpath);
    if (fd < 0) {
        struct stat st;
        if (errno != ENOTDIR || fmt == FTP_LIST_MLSD || ftp_stat(r, vpath, &st) < 0)
            return -1;
        l->single = 1; /* a file: its own line */
        return 0;
    }
    l->dir = fdopendir(fd);
    if (!l->dir) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return 0;
}

/* The line for name (in the listed directory) into l->line; 0 if the entry
 * is left out. */
static int entry_line(struct ftp_lister *l, const char *name)
{
    if (!strcmp(name, ".") || !strcmp(name, "..") || ftp_list_is_partial(name) ||
        strpbrk(name, "\r\n"))
        return 0;
    if (name[0] == '.' && !l->all && l->fmt != FTP_LIST_MLSD)
        return 0;
    struct stat st;
    if (fstatat(dirfd(l->dir), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0; /* gone meanwhile */
    if (S_ISLNK(st.st_mode)) {
        /* As what it points to, if that is inside the root. */
        char vp[FTP_PATH_MAX];
        if (ftp_path_resolve(l->vpath, name, vp, sizeof vp) < 0 || ftp_stat(l->root, vp, &st) < 0)
            return 0;
    }
    int n;
    if (l->fmt == FTP_LIST_NAMES)
        n = snprintf(l->line, sizeof l->line, "%s\r\n", name);
    else if (l->fmt == FTP_LIST_LS)
        n = ftp_list_line_ls(l->line, sizeof l->line, name, &st, l->now);
    else
        n = ftp_list_line_mlsx(l->line, sizeof l->line, name, &st, NULL, l->writable);
    if (n < 0 || (size_t)n >= sizeof l->line)
        return 0; /* a name too long for a line cannot be a real one */
    return n;
}

/* The first lines: cdir and pdir for MLSD, or the single file's line. */
static int head_line(struct ftp_lister *l, int which)
{
    struct stat st;
    const char *base = ftp_path_base(l->vpath);
    if (l->single) {
        if (which > 0 || ftp_stat(l->root, l->vpath, &st) < 0)
            return which > 0 ? 0 : -1;
        if (l->fmt == FTP_LIST_NAMES) {
            int n = snprintf(l->line, sizeof l->line, "%s\r\n", base);
            return n < 0 || (size_t)n >= sizeof l->line ? -1 : n;
        }
        return ftp_list_line_ls(l->line, sizeof l->line, base, &st, l->now);
    }
    if (l->fmt != FTP_LIST_MLSD || which > 1)
        return 0;
    char vp[FTP_PATH_MAX];
    if (ftp_path_resolve(l->vpath, which ? ".." : ".", vp, sizeof vp) < 0 ||
        ftp_stat(l->root, vp, &st) < 0)
        return -1;
    return ftp_list_line_mlsx(l->line, sizeof l->line, which ? ".." : ".", &st,
                              which ? "pdir" : "cdir", l->writable);
}

long ftp_list_read(struct ftp_lister *l, char *buf, size_t cap)
{
    size_t used = 0;
    for (;;) {
        if (l->line_len) {
            if (l->line_len > cap - used) {
                if (used == 0) {
                    errno = EINVAL;
                    return -1;
                }
                return (long)used;
            }
            memcpy(buf + used, l->line, l->line_len);
            used += l->line_len;
            l->line_len = 0;
        }
        int n = 0;
        if (l->stage < 2) { /* stages 0, 1: the head lines */
            n = head_line(l, l->stage++);
            if (n < 0)
                return -1;
        } else if (l->dir) {
            errno = 0;
            struct dirent *e = readdir(l->dir);
            if (!e) {
                if (errno)
                    return -1;
                closedir(l->dir);
                l->dir = NULL;
                return (long)used;
            }
            n = entry_line(l, e->d_name);
        } else {
            return (long)used;
        }
        l->line_len = (size_t)n;
    }
}

void ftp_list_close(struct ftp_lister *l)
{
    if (l->dir)
        closedir(l->dir);
    l->dir = NULL;
}
