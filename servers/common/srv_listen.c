/*
 * srv_listen.c - a configured listening socket (srv_listen.h).
 */
#include "srv_listen.h"

#include <tcpip.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int srv_listen_open(const struct srv_listen *l, unsigned *bound_port, char *err, size_t errlen,
                    int *api_error)
{
    const char *bindaddr = l->address;
    int e = 0, v6 = strchr(bindaddr, ':') != NULL || !*bindaddr;
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((unsigned short)l->port)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6,
                              .sin6_port = htons((unsigned short)l->port),
                              .sin6_addr = IN6ADDR_ANY_INIT};
    int sd = opensocket_ext(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, &e);
    if (sd < 0 && !*bindaddr) { /* no IPv6 here: all IPv4 addresses */
        v6 = 0;
        sd = opensocket_ext(AF_INET, SOCK_STREAM, &e);
    }
    const char *what = "socket";
    if (sd >= 0) {
        what = "bind";
        if (*bindaddr && (v6 ? inet_pton(AF_INET6, bindaddr, &a6.sin6_addr) != 1
                             : inet_pton(AF_INET, bindaddr, &a4.sin_addr) != 1))
            e = API_EINVAL;
        else if (chipssl_bind(sd, v6 ? (void *)&a6 : (void *)&a4, &e) == 0) {
            what = "listen";
            if (chipssl_listen(sd, l->backlog, &e) == 0)
                e = 0;
        }
    }
    if (sd >= 0 && e == 0 && l->tls_session) {
        int one = 1, session = l->tls_session, limit = l->hs_limit;
        SetSocketOption so = {IP_PROTOTCP_LEVEL, TCP_SSL_SERVER, (const char *)&one, sizeof one};
        SetSocketOption ss = {IP_PROTOTCP_LEVEL, TCP_SSLSESSION, (const char *)&session,
                              sizeof session};
        SetSocketOption st = {IP_PROTOTCP_LEVEL, TCP_SSL_CONNECT_TIMEOUT, (const char *)&limit,
                              sizeof limit};
        what = "TLS socket options";
        if (chipssl_setsockopt(sd, &so, &e) == 0 && chipssl_setsockopt(sd, &ss, &e) == 0 &&
            chipssl_setsockopt(sd, &st, &e) == 0)
            e = 0;
    }
    if (sd < 0 || e != 0) {
        const char *n = chipssl_error_name(e);
        snprintf(err, errlen, "%s %u on %s: %s: %s (%s)", l->key, l->port,
                 *bindaddr ? bindaddr : "all addresses", what, chipssl_strerror(e), n ? n : "?");
        *api_error = e ? e : API_EINVAL;
        if (sd >= 0)
            closesocket(sd, &e);
        return -1;
    }
    struct sockaddr_in6 bound;
    socklen_t bl = sizeof bound;
    getsockname(sd, (struct sockaddr *)&bound, &bl);
    *bound_port = ntohs(bound.sin6_port); /* same offset in sockaddr_in */
    return sd;
}
