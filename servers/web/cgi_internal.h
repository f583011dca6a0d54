/*
 * cgi_internal.h - shared by the files of the CGI data side: the one lock
 * and the reset hooks of each table.
 */
#ifndef CHIPD_CGI_INTERNAL_H
#define CHIPD_CGI_INTERNAL_H

#include <stddef.h>

#include "cgi.h"

/* One mutex for every table (cgi.h THREADS): the calls are rare and short,
 * so one lock costs nothing and rules out lock-order bugs. */
void cgi_lock(void);
void cgi_unlock(void);

/* Copies src (NUL-terminated) into dst[size]; returns 0, or -1 when it
 * does not fit (dst unchanged). */
int cgi_copy_str(char *dst, size_t size, const char *src);

/* 1 when every byte of s is printable ASCII (0x21..0x7e) or, with
 * allowSpace, a space. */
int cgi_printable(const char *s, int allowSpace);

/* Called under the lock by cgi_reset_all(). */
void cgi_table_reset(void);
void cgi_mime_reset(void);
void cgi_auth_reset(void);
void cgi_hooks_reset(void);
void ssi_reset(void);
void server_ctl_reset(void);

#endif /* CHIPD_CGI_INTERNAL_H */
