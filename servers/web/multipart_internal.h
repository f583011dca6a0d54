/*
 * multipart_internal.h - between multipart.c and multipart_hdr.c.
 */
#ifndef CHIPD_MULTIPART_INTERNAL_H
#define CHIPD_MULTIPART_INTERNAL_H

#include <stddef.h>

struct multipart;

/* Parses the header lines of a part, h[0..n) (each line ending in CRLF,
 * the blank line excluded), into m->part. Returns 0, or -400 or -413 with
 * *why saying why. */
int multipart_parse_headers(struct multipart *m, const char *h, size_t n, const char **why);

#endif
