/*
 * ftp_args.c - the argument parsers of PORT, EPRT, EPSV, REST, TYPE, MODE,
 * STRU, PROT, PBSZ, AUTH, and the PORT/EPRT formatters. Strict: digits
 * only where numbers go (no sign, no spaces, no leading "+"), bounded.
 */
#define _POSIX_C_SOURCE 200809L
#include "ftp_cmd.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A decimal of at most max at *p, advancing p. -1 on no digit or overflow. */
static int dec(const char **p, unsigned long long max, unsigned long long *out)
{
    const char *s = *p;
    unsigned long long v = 0;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

int ftp_parse_port(const char *arg, struct ftp_hostport *hp)
{
    unsigned long long n[6];
    const char *p = arg;
    for (int i = 0; i < 6; i++) {
        if (dec(&p, 255, &n[i]) < 0)
            return 501;
        if (*p != (i < 5 ? ',' : '\0'))
            return 501;
        if (i < 5)
            p++;
    }
    memset(hp, 0, sizeof *hp);
    hp->family = 4;
    for (int i = 0; i < 4; i++)
        hp->addr[i] = (unsigned char)n[i];
    hp->port = (unsigned)(n[4] * 256 + n[5]);
    return hp->port ? 0 : 501;
}

int ftp_parse_eprt(const char *arg, struct ftp_hostport *hp)
{
    /* RFC 2428 s.2: the delimiter is any printable ASCII 33..126 that the
     * fields cannot contain; "|" in practice. */
    char d = arg[0];
    if (d < 33 || d > 126 || (d >= '0' && d <= '9') || d == '.' || d == ':' ||
        (d >= 'a' && d <= 'f') || (d >= 'A' && d <= 'F'))
        return 501;
    const char *p = arg + 1;
    unsigned long long proto, port;
    if (dec(&p, 9, &proto) < 0 || *p != d)
        return 501;
    p++;
    const char *end = strchr(p, d);
    if (!end || end == p || end - p >= INET6_ADDRSTRLEN)
        return 501;
    char addr[INET6_ADDRSTRLEN];
    memcpy(addr, p, (size_t)(end - p));
    addr[end - p] = '\0';
    p = end + 1;
    if (dec(&p, 65535, &port) < 0 || port == 0 || p[0] != d || p[1] != '\0')
        return 501;
    memset(hp, 0, sizeof *hp);
    if (proto == 1) {
        hp->family = 4;
        if (inet_pton(AF_INET, addr, hp->addr) != 1)
            return 501;
    } else if (proto == 2) {
        hp->family = 6;
        if (inet_pton(AF_INET6, addr, hp->addr) != 1)
            return 501;
    } else {
        return 522; /* RFC 2428: network protocol not supported, use (1,2) */
    }
    hp->port = (unsigned)port;
    return 0;
}

int ftp_parse_epsv(const char *arg, int *proto)
{
    if (arg[0] == '\0') {
        *proto = 0;
        return 0;
    }
    if (strcasecmp(arg, "ALL") == 0) {
        *proto = -1;
        return 0;
    }
    unsigned long long n;
    const char *p = arg;
    if (dec(&p, 999, &n) < 0 || *p)
        return 501;
    if (n != 1 && n != 2)
        return 522;
    *proto = (int)n;
    return 0;
}

int ftp_parse_rest(const char *arg, unsigned long long *off)
{
    const char *p = arg;
    if (dec(&p, 0x7fffffffffffffffull, off) < 0 || *p)
        return 501;
    return 0;
}

int ftp_parse_type(const char *arg, char *type)
{
    char c = arg[0];
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    if (c == 'I' && arg[1] == '\0') {
        *type = 'I';
        return 0;
    }
    if (c == 'A' && (arg[1] == '\0' || strcasecmp(arg + 1, " N") == 0)) {
        *type = 'A';
        return 0;
    }
    if (c == 'L') {
        unsigned long long n;
        const char *p = arg + 1;
        if (*p++ != ' ' || dec(&p, 255, &n) < 0 || *p)
            return 501;
        if (n != 8)
            return 504;
        *type = 'I';
        return 0;
    }
    if (c == 'E' || (c == 'A' && arg[1] == ' '))
        return 504; /* EBCDIC, Telnet/ASA vertical format */
    return 501;
}

/* A one-letter argument among ok (accepted) or known (504). */
static int letter(const char *arg, const char *ok, const char *known)
{
    char c = arg[0];
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    if (c == '\0' || arg[1] != '\0')
        return 501;
    if (strchr(ok, c))
        return 0;
    return strchr(known, c) ? 504 : 501;
}

int ftp_parse_mode(const char *arg)
{
    return letter(arg, "S", "BCZ");
}
int ftp_parse_stru(const char *arg)
{
    return letter(arg, "F", "RP");
}

int ftp_parse_prot(const char *arg, char *level)
{
    int rc = letter(arg, "CP", "SE");
    if (rc == 504)
        return 536; /* RFC 2228: level not supported by the mechanism */
    if (rc == 0)
        *level = (arg[0] == 'c' || arg[0] == 'C') ? 'C' : 'P';
    return rc;
}

int ftp_parse_pbsz(const char *arg, unsigned long *size)
{
    unsigned long long n;
    const char *p = arg;
    if (dec(&p, 0xffffffffull, &n) < 0 || *p)
        return 501;
    /* RFC 4217 s.8: TLS has no buffer; the reply says PBSZ=0 whatever was
     * asked. */
    *size = 0;
    return 0;
}

int ftp_parse_auth(const char *arg)
{
    if (strcasecmp(arg, "TLS") == 0 || strcasecmp(arg, "TLS-C") == 0 || strcasecmp(arg, "SSL") == 0)
        return 0;
    return 504;
}

int ftp_format_port(char *buf, size_t cap, const struct ftp_hostport *hp)
{
    if (hp->family != 4)
        return -1;
    int n = snprintf(buf, cap, "%u,%u,%u,%u,%u,%u", hp->addr[0], hp->addr[1], hp->addr[2],
                     hp->addr[3], hp->port >> 8 & 255, hp->port & 255);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int ftp_format_eprt(char *buf, size_t cap, const struct ftp_hostport *hp)
{
    char a[INET6_ADDRSTRLEN];
    int af = hp->family == 6 ? AF_INET6 : AF_INET;
    if ((hp->family != 4 && hp->family != 6) || !inet_ntop(af, hp->addr, a, sizeof a))
        return -1;
    int n = snprintf(buf, cap, "|%d|%s|%u|", hp->family == 6 ? 2 : 1, a, hp->port);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int ftp_parse_opts(const char *arg)
{
    if (strcasecmp(arg, "UTF8 ON") == 0 || strcasecmp(arg, "UTF8") == 0)
        return 0;
    return 501;
}
