/*
 * free_port.h - for the servers' C tests: a loopback port the system hands
 * out now (free a moment later, when the server binds it).
 */
#ifndef CHIPD_TEST_FREE_PORT_H
#define CHIPD_TEST_FREE_PORT_H

#include "tcpip.h"

static inline unsigned free_port(void)
{
    int err = 0, sd = opensocket(SOCK_STREAM, &err);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(sd, &a, &err);
    socklen_t l = sizeof a;
    getsockname(sd, (struct sockaddr *)&a, &l);
    closesocket(sd, &err);
    return ntohs(a.sin_port);
}

#endif
