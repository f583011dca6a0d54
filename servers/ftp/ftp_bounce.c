/*
 * ftp_bounce.c - PORT/EPRT go back to the client only (RFC 2577 s.3):
 * otherwise the server could be told to connect anywhere and send data
 * there (the "FTP bounce" attack, CVE-1999-0017).
 */
#include "ftp_cmd.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

int ftp_hostport_from(const struct sockaddr *sa, struct ftp_hostport *hp)
{
    memset(hp, 0, sizeof *hp);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        hp->family = 4;
        memcpy(hp->addr, &in->sin_addr, 4);
        hp->port = ntohs(in->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        hp->port = ntohs(in6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            hp->family = 4;
            memcpy(hp->addr, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            hp->family = 6;
            memcpy(hp->addr, in6->sin6_addr.s6_addr, 16);
        }
        return 0;
    }
    return -1;
}

int ftp_port_allowed(const struct ftp_hostport *hp, const struct sockaddr *peer, const char **why)
{
    struct ftp_hostport p;
    *why = "";
    if (ftp_hostport_from(peer, &p) < 0 || p.family != hp->family ||
        memcmp(p.addr, hp->addr, hp->family == 4 ? 4 : 16) != 0) {
        *why = "Data connections go to the client's own address only.";
        return 504;
    }
    if (hp->port < 1024) {
        *why = "Data connections to privileged ports are refused.";
        return 504;
    }
    return 0;
}
