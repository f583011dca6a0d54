/*
 * hostname.h - the host-name matcher (engine independent).
 *
 * The rules are the original's, stricter than RFC 6125 in one way and looser
 * in another: a `*` may stand anywhere in the left-most label and matches
 * zero or more characters within that one label ("f*.com" matches "foo.com"),
 * so a wildcard never spans a dot, and never matches an IP literal ("*.0.0.1"
 * does not match 127.0.0.1); comparison is case-insensitive for the ASCII
 * letters only (every other byte matches itself alone); one trailing dot on
 * either side is ignored. A pattern that is not a valid name (empty labels,
 * `*` outside the first label, two `*`) never matches.
 */
#ifndef CHIPSSL_HOSTNAME_H
#define CHIPSSL_HOSTNAME_H

#include <stddef.h>

/* 1 when name matches pattern (pattern is plen bytes, may hold NULs: then it
 * never matches); 0 otherwise. name is NUL-terminated. */
int chipssl_name_match(const char *pattern, size_t plen, const char *name);

/* 1 when name is an IPv4 or IPv6 literal (then it is matched against IP SANs
 * and never sent as SNI). */
int chipssl_name_is_ip(const char *name);

#endif
