/*
 * ftp_list_fmt.c - one entry as an `ls -ln` line or as RFC 3659 facts.
 */
#include "ftp_list.h"

#include "ftp_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int bad_name(const char *name)
{
    return name[0] == '\0' || strpbrk(name, "\r\n") != NULL;
}

static int done(char *buf, size_t cap, int n)
{
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            buf[0] = '\0';
        errno = n < 0 ? EINVAL : ENOSPC;
        return -1;
    }
    return n;
}

static void mode_string(mode_t m, char s[11])
{
    s[0] = S_ISDIR(m)    ? 'd'
           : S_ISLNK(m)  ? 'l'
           : S_ISFIFO(m) ? 'p'
           : S_ISSOCK(m) ? 's'
           : S_ISCHR(m)  ? 'c'
           : S_ISBLK(m)  ? 'b'
                         : '-';
    static const char rwx[] = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        s[1 + i] = (m & (0400u >> i)) ? rwx[i] : '-';
    /* setuid, setgid, sticky replace x (lower case) or - (upper case), as ls */
    if (m & S_ISUID)
        s[3] = (m & S_IXUSR) ? 's' : 'S';
    if (m & S_ISGID)
        s[6] = (m & S_IXGRP) ? 's' : 'S';
    if (m & S_ISVTX)
        s[9] = (m & S_IXOTH) ? 't' : 'T';
    s[10] = '\0';
}

int ftp_list_line_ls(char *buf, size_t cap, const char *name, const struct stat *st, time_t now)
{
    if (bad_name(name))
        return done(buf, cap, -1);
    char mode[11];
    mode_string(st->st_mode, mode);
    struct tm tm;
    time_t t = st->st_mtime;
    if (!gmtime_r(&t, &tm))
        return done(buf, cap, -1);
    /* GNU ls: the year instead of the time when more than six months (half
     * of 365.2425 days) old, or in the future. */
    char when[32];
    if (t > now || now - t > 15778476)
        snprintf(when, sizeof when, "%s %2d  %d", months[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900);
    else
        snprintf(when, sizeof when, "%s %2d %02d:%02d", months[tm.tm_mon], tm.tm_mday, tm.tm_hour,
                 tm.tm_min);
    int n =
        snprintf(buf, cap, "%s %4lu %-8u %-8u %8lld %s %s\r\n", mode, (unsigned long)st->st_nlink,
                 (unsigned)st->st_uid, (unsigned)st->st_gid, (long long)st->st_size, when, name);
    return done(buf, cap, n);
}

int ftp_list_line_mlsx(char *buf, size_t cap, const char *name, const struct stat *st,
                       const char *type, int writable)
{
    if (bad_name(name))
        return done(buf, cap, -1);
    mode_t m = st->st_mode;
    int dir = S_ISDIR(m);
    if (!type)
        type = dir           ? "dir"
               : S_ISREG(m)  ? "file"
               : S_ISFIFO(m) ? "OS.unix=fifo"
               : S_ISSOCK(m) ? "OS.unix=socket"
               : S_ISCHR(m)  ? "OS.unix=chr"
               : S_ISBLK(m)  ? "OS.unix=blk"
                             : "OS.unix=other";
    /* RFC 3659 s.7.5.5: a append, c create in dir, d delete, e enter dir,
     * f rename, l list dir, m mkdir, p purge dir entries, r retrieve,
     * w store. Only what the account may do. */
    const char *perm = dir ? (writable ? "cdeflmp" : "el") : (writable ? "adfrw" : "r");
    if (dir && !strcmp(type, "cdir") && writable)
        perm = "celmp"; /* the listed directory is not removed or renamed from inside */
    struct tm tm;
    time_t t = st->st_mtime;
    if (!gmtime_r(&t, &tm))
        return done(buf, cap, -1);
    char size[32] = "";
    if (!dir)
        snprintf(size, sizeof size, "size=%lld;", (long long)st->st_size);
    int n = snprintf(
        buf, cap, "type=%s;%smodify=%04d%02d%02d%02d%02d%02d;perm=%s;unique=%llxg%llx; %s\r\n",
        type, size, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
        perm, (unsigned long long)st->st_dev, (unsigned long long)st->st_ino, name);
    return done(buf, cap, n);
}

int ftp_reply_mlst(char *buf, size_t cap, const char *vpath, const struct stat *st, int writable)
{
    char line[FTP_LIST_LINE_MAX + FTP_PATH_MAX];
    int n = ftp_list_line_mlsx(line, sizeof line, vpath, st, NULL, writable);
    if (n < 2)
        return done(buf, cap, -1);
    line[n - 2] = '\0'; /* ftp_reply_multi ends each line itself */
    const char *const lines[] = {line};
    char first[FTP_PATH_MAX + 16];
    snprintf(first, sizeof first, "Listing %s", vpath);
    return ftp_reply_multi(buf, cap, 250, first, lines, 1, "End");
}

int ftp_list_is_partial(const char *name)
{
    return ftp_path_is_partial(name, strlen(name));
}
