/*
 * ftp_path.h - every path an FTP command names goes through here (vsftpd's
 * rule: one function resolves, the others only use the result).
 *
 * Two steps, both confined:
 *  1. ftp_path_resolve: text only. The session's current directory and the
 *     command's argument become one normalized virtual path ("/", "/a/b"),
 *     absolute inside the account's root. ".." at the root stays at the root
 *     (clamped, as in a chroot and as vsftpd, ProFTPD and curl's test server
 *     behave: "CWD ../../.." from "/" is "/"), so no text ever names a place
 *     above it. Components with CR or LF are refused (they could not be
 *     quoted in a reply or a listing), and so are the hidden upload names
 *     ".name.part.XXXXXX" (EACCES): no client can read, rename or remove
 *     another upload's data before it is complete.
 *  2. The use-time helpers below: the virtual path is opened from the root's
 *     directory descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS),
 *     so the kernel refuses (EXDEV) any step that leaves the root, including
 *     through a symbolic link, however the link is written or changed in
 *     between (no check-then-use race). Consequences, documented for users:
 *     symlinks inside the root work when they are relative and stay inside
 *     it; absolute symlinks and any that lead out are refused; /proc-style
 *     magic links are refused. Where openat2 is missing (kernels before
 *     5.6) or filtered (seccomp answering EPERM), found once per root, every
 *     component is opened with O_NOFOLLOW instead: symlinks are then refused
 *     altogether, never followed.
 *  The last component of a path that is created, removed or renamed is never
 *  followed: DELE of a symlink removes the link, STOR over one replaces the
 *  link (hidden mode) or is refused (ELOOP, partial mode).
 *
 * Errors: -1 with errno (ENOENT, EACCES, EXDEV for an escape, ELOOP, ENOTDIR,
 * EISDIR, ENAMETOOLONG, EEXIST, ENOTEMPTY, EBUSY for the root itself);
 * ftp_path_reply maps errno to an FTP reply code.
 *
 * Memory: struct ftp_root holds one directory descriptor (ftp_root_close).
 * Nothing else is kept.
 */
#ifndef CHIPD_FTP_PATH_H
#define CHIPD_FTP_PATH_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Longest virtual path, NUL included. */
#define FTP_PATH_MAX 1024

struct ftp_root {
    int fd;   /* O_PATH | O_DIRECTORY descriptor of the account's root */
    int walk; /* openat2 missing (ENOSYS) or filtered (a seccomp EPERM): the walk */
};

/* ftp_root_open - the account's root directory (a real path on the host).
 * Returns 0 or -1 with errno. */
int ftp_root_open(struct ftp_root *r, const char *dir);
void ftp_root_close(struct ftp_root *r);

/* ftp_path_resolve - cwd (a virtual path from an earlier resolve, or "/")
 * and arg (absolute or relative, ".", "..", repeated slashes; empty = cwd)
 * into out, a normalized virtual path: "/" or "/a/b" with no "." or ".."
 * component, no trailing or double slash. Returns 0, or -1 with errno
 * EINVAL (CR/LF in a component, cwd not absolute), EACCES (a hidden upload
 * name) or ENAMETOOLONG. */
int ftp_path_resolve(const char *cwd, const char *arg, char *out, size_t cap);

/* ftp_path_is_partial - whether a name (one component) has the form of
 * ftp_store's hidden upload files, ".name.part.XXXXXX" ([0-9a-z]). */
int ftp_path_is_partial(const char *name, size_t n);

/* ftp_path_base - the last component of a virtual path ("" for "/"). */
const char *ftp_path_base(const char *vpath);

/* --- confined use (vpath from ftp_path_resolve) --------------------------- */

/* ftp_open_dir - a directory, O_RDONLY | O_DIRECTORY (for listings, CWD
 * checks). Returns the descriptor or -1. */
int ftp_open_dir(const struct ftp_root *r, const char *vpath);
/* ftp_open_read - a regular file for RETR (EISDIR for a directory, EACCES
 * for anything else). Returns the descriptor or -1. */
int ftp_open_read(const struct ftp_root *r, const char *vpath);
/* ftp_stat - what vpath names (symlinks followed inside the root). */
int ftp_stat(const struct ftp_root *r, const char *vpath, struct stat *st);

int ftp_mkdir(const struct ftp_root *r, const char *vpath, mode_t mode);
int ftp_rmdir(const struct ftp_root *r, const char *vpath);
int ftp_unlink(const struct ftp_root *r, const char *vpath);
/* ftp_rename - RNFR/RNTO; replaces an existing file at to (rename(2)). */
int ftp_rename(const struct ftp_root *r, const char *from, const char *to);

/* --- uploads ------------------------------------------------------------- */

enum ftp_store_mode {
    FTP_STORE_HIDDEN,  /* new data under ".name.part.XXXXXX", renamed on commit ([FTP]
                          KEEP_PARTIAL=0) */
    FTP_STORE_PARTIAL, /* the file itself, truncated (KEEP_PARTIAL=1: a cut-off upload stays) */
    FTP_STORE_APPEND,  /* APPE, or REST n + STOR: the file itself, from offset (or its end) */
};

struct ftp_store {
    int fd;                  /* write here */
    int dirfd;               /* the parent directory (confined) */
    int hidden;              /* temporary name in use */
    char tmp[FTP_PATH_MAX];  /* the temporary name in dirfd */
    char name[FTP_PATH_MAX]; /* the final name in dirfd */
};

/* ftp_store_open - opens vpath for an upload. mode FTP_STORE_APPEND with
 * offset: the file is cut to its first offset bytes and the data follows
 * (REST n + STOR, so the result is exactly what the client has; EINVAL
 * beyond the file's size), offset -1 = at the end (APPE). With FTP_STORE_HIDDEN and a non-zero
 * offset, the existing file's first offset bytes are copied into the
 * temporary file first, so a resumed upload is still atomic. Files are
 * created 0644 (umask applies). Returns 0 or -1 with errno. */
int ftp_store_open(const struct ftp_root *r, const char *vpath, enum ftp_store_mode mode,
                   long long offset, struct ftp_store *s);
/* ftp_store_commit - the upload ended well: closes, and (hidden mode)
 * renames the temporary file over the final name. Returns 0 or -1 (the
 * temporary file is then removed). */
int ftp_store_commit(struct ftp_store *s);
/* ftp_store_abort - the upload failed or was cut off: closes; in hidden mode
 * the temporary file is removed, in the others what arrived stays. */
void ftp_store_abort(struct ftp_store *s);

/* ftp_path_reply - the reply code for errno after a failed path operation:
 * 550 (not found, not permitted, escape), 553 (name not allowed), 552
 * (no space), 450 (busy, try again), 451 (I/O). */
int ftp_path_reply(int err);

/* For ftp_store.c: fd (opened O_NONBLOCK) back to blocking when it is a
 * regular file; else closed, -1 with errno EISDIR/EACCES. */
int ftp_fd_regular(int fd);

/* For ftp_store.c and the tests: the parent directory of vpath, opened
 * confined (O_PATH), and its last component in *base (EBUSY for "/"). */
int ftp_confine_parent(const struct ftp_root *r, const char *vpath, const char **base);
/* Tests: non-zero forces the O_NOFOLLOW walk used where openat2 is missing. */
extern int ftp_path_force_walk;

#endif
