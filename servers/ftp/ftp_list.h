/*
 * ftp_list.h - directory listings for LIST, NLST, MLSD and MLST, produced
 * from a directory stream into the caller's buffer a chunk at a time: a
 * directory of any size is listed with one fixed-size lister and one
 * buffer, never read whole into memory (and so not sorted: entries come in
 * the directory's order, as from vsftpd with ls_recurse off and ProFTPD).
 *
 * Formats:
 *  - LIST (FTP_LIST_LS): the `ls -ln` line that curl, lftp, FileZilla and
 *    Python's clients parse: "-rw-r--r--    1 1000     1000          123 Mar  5 14:07 name",
 *    numeric owner and group (as vsftpd; names would leak the host's
 *    accounts), times in UTC; "Mon DD  YYYY" for times more than six months
 *    old or in the future (the rule of GNU ls).
 *  - NLST (FTP_LIST_NAMES): names only.
 *  - MLSD / MLST (FTP_LIST_MLSD, RFC 3659 s.7): "type=file;size=5;
 *    modify=20260301120000;perm=adfrw;unique=803g1a2; name", type file, dir,
 *    cdir (the listed directory, first), pdir (its parent), or OS.unix=fifo,
 *    socket, chr, blk, modify in UTC, perm for the account (read-only
 *    accounts get only r / e l).
 *
 * Entries left out: "." and ".." (MLSD gives cdir/pdir instead); names
 * starting with "." unless all (LIST -a; MLSD always shows them); the hidden
 * upload files ".name.part.XXXXXX" (ftp_store) always; names containing CR
 * or LF (RFC 3659 s.2.2 can carry a CR only as CR NUL, a LF not at all, and
 * a LIST line with one would forge a second entry: they are refused rather
 * than escaped); symbolic links that leave the root or dangle (a link inside
 * the root is listed as what it points to, as `ls -lL`).
 *
 * Memory: struct ftp_lister holds an open DIR (ftp_list_close). Lines are at
 * most FTP_LIST_LINE_MAX bytes, so a buffer of that size always makes
 * progress.
 */
#ifndef CHIPD_FTP_LIST_H
#define CHIPD_FTP_LIST_H

#include <dirent.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "ftp_path.h"

/* A longest name (NAME_MAX 255) with the longest facts or ls columns. */
#define FTP_LIST_LINE_MAX 512

enum ftp_list_format { FTP_LIST_LS, FTP_LIST_NAMES, FTP_LIST_MLSD };

struct ftp_lister {
    DIR *dir;
    const struct ftp_root *root;
    enum ftp_list_format fmt;
    int all;      /* dot files too */
    int writable; /* the account may change things (MLSD perm) */
    time_t now;
    int stage;  /* 0, 1: cdir and pdir (MLSD) or the single file; 2: entries */
    int single; /* vpath named a file: one line */
    char vpath[FTP_PATH_MAX];
    char line[FTP_LIST_LINE_MAX]; /* a line that did not fit the last buffer */
    size_t line_len;
};

/* ftp_list_args - LIST/NLST arguments as clients send them: leading words
 * starting with '-' are ls options (only 'a' and 'A' mean something: *all),
 * the rest is the path ("" = current directory). */
void ftp_list_args(const char *arg, int *all, const char **path);

/* ftp_list_open - starts a listing of vpath (a virtual path from
 * ftp_path_resolve). A file gives its own line (LIST, NLST); MLSD of a file
 * is ENOTDIR (RFC 3659 s.7.1: 501). now is the time "six months" counts
 * from. Returns 0 or -1 with errno (as ftp_open_dir). */
int ftp_list_open(struct ftp_lister *l, const struct ftp_root *r, const char *vpath,
                  enum ftp_list_format fmt, int all, int writable, time_t now);

/* ftp_list_read - the next whole lines (CRLF-terminated) into buf. Returns
 * the byte count, 0 at the end, or -1 with errno (EINVAL if cap is smaller
 * than the next line, which cannot happen with FTP_LIST_LINE_MAX). */
long ftp_list_read(struct ftp_lister *l, char *buf, size_t cap);

void ftp_list_close(struct ftp_lister *l);

/* One entry, CRLF-terminated, into buf (NUL after it). Return the length or
 * -1 (does not fit, or a name with CR/LF: EINVAL). */
int ftp_list_line_ls(char *buf, size_t cap, const char *name, const struct stat *st, time_t now);
/* type: NULL for the entry's own (file, dir, OS.unix=...), or "cdir"/"pdir". */
int ftp_list_line_mlsx(char *buf, size_t cap, const char *name, const struct stat *st,
                       const char *type, int writable);

/* ftp_reply_mlst - the whole MLST reply on the control connection (RFC 3659
 * s.7.2): "250-Listing vpath", " facts vpath", "250 End". Returns the length
 * or -1 (does not fit; CR/LF in vpath). */
int ftp_reply_mlst(char *buf, size_t cap, const char *vpath, const struct stat *st, int writable);

/* Whether name is one of ftp_store's hidden upload files. */
int ftp_list_is_partial(const char *name);

#endif
