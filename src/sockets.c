/*
 * sockets.c - the RTOS socket calls (API.md section 7) over POSIX sockets.
 * The header maps the RTOS names to these chipssl_* symbols in application
 * code; here the C library's own functions are meant.
 */
#include "socket.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fail a call on a socket, remembering the code for get_socketerror(). */
static int sock_fail(struct chip_sock *s, int *error, int code)
{
    if (s)
        s->last_error = code;
    return chip_fail(error, code);
}

static int os_fail(struct chip_sock *s, int *error)
{
    return sock_fail(s, error, chipssl_errno_to_api(errno));
}

/* Length of a sockaddr_in / sockaddr_in6 by its family, 0 when neither. */
static socklen_t addr_len(const void *addr)
{
    sa_family_t f = ((const struct sockaddr *)addr)->sa_family;
    return f == AF_INET ? sizeof(struct sockaddr_in)
         : f == AF_INET6 ? sizeof(struct sockaddr_in6)
                         : 0;
}

int opensocket_ext(unsigned char family, unsigned char type, int *error)
{
    if (!error)
        return API_ERROR;
    if (family != AF_INET && family != AF_INET6)
        return chip_fail(error, API_EAFNOSUPPORT);
    if (type != SOCK_STREAM && type != SOCK_DGRAM)
        return chip_fail(error, API_EINVAL);
    int fd = socket(family, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return chip_fail(error, chipssl_errno_to_api(errno));
    if (type == SOCK_STREAM) {
        /* As on the original: every TCP socket is address-reusable. */
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (!sock_new(fd, family, type, error)) {
        close(fd);
        return API_ERROR;
    }
    *error = 0;
    return fd;
}

int opensocket(unsigned char type, int *error)
{
    return opensocket_ext(AF_INET, type, error);
}

int closesocket(int sd, int *error)
{
    if (!error)
        return API_ERROR;
    sock_remove(sd);
    if (sd < 0 || close(sd) != 0)
        return chip_fail(error, sd < 0 ? API_EBADF : chipssl_errno_to_api(errno));
    return chip_ok(error);
}

/* bind() or connect() with an RTOS address argument. */
static int addr_call(int sd, const void *addr, int *error, int connecting)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s = sock_lookup(sd, error);
    if (!s)
        return API_ERROR;
    if (!addr)
        return sock_fail(s, error, API_EINVAL);
    socklen_t len = addr_len(addr);
    if (!len)
        return sock_fail(s, error, API_EAFNOSUPPORT);
    if (!connecting)
        return bind(sd, addr, len) == 0 ? chip_ok(error) : os_fail(s, error);
    if (connect(sd, addr, len) == 0)
        return chip_ok(error);
    if (errno != EINTR || fd_nonblocking(sd))
        return os_fail(s, error);
    /* Interrupted: the connection goes on (POSIX); wait for its outcome. */
    int so = 0;
    socklen_t sl = sizeof so;
    if (chip_wait_fd(sd, POLLOUT, CHIP_FOREVER, error) < 0)
        return sock_fail(s, error, *error);
    if (getsockopt(sd, SOL_SOCKET, SO_ERROR, &so, &sl) != 0)
        return os_fail(s, error);
    return so ? sock_fail(s, error, chipssl_errno_to_api(so)) : chip_ok(error);
}

int chipssl_bind(int sd, const void *addr, int *error)
{
    return addr_call(sd, addr, error, 0);
}

int chipssl_connect(int sd, const void *addr, int *error)
{
    return addr_call(sd, addr, error, 1);
}

int chipssl_listen(int sd, int backlog, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s = sock_lookup(sd, error);
    if (!s)
        return API_ERROR;
    if (listen(sd, backlog) != 0)
        return os_fail(s, error);
    s->listening = 1;
    return chip_ok(error);
}

int chipssl_accept(int sd, void *addr, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *l = sock_lookup(sd, error);
    if (!l)
        return API_ERROR;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd;
    do
        fd = accept4(sd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return os_fail(l, error);
    struct chip_sock *s = sock_new(fd, ss.ss_family, SOCK_STREAM, error);
    if (!s) {
        close(fd);
        return sock_fail(l, error, *error);
    }
    sslsock_inherit(s, l);
    /* The peer's address has the listener's family (a v4 peer on a
     * dual-stack v6 listener is v4-mapped), so it fits the caller's type. */
    if (addr)
        memcpy(addr, &ss, addr_len(&ss));
    *error = 0;
    return fd;
}

int chipssl_send(int sd, const void *buf, int len, int flags, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s = sock_lookup(sd, error);
    if (!s)
        return API_ERROR;
    if (len < 0 || (!buf && len > 0))
        return sock_fail(s, error, API_EINVAL);
    if (s->shut_wr)
        return sock_fail(s, error, API_ESHUTDOWN);
    if (s->ssl_mode != SSL_MODE_NONE && s->type == SOCK_STREAM) {
        int blocking = !(flags & MSG_DONTWAIT) && !fd_nonblocking(sd);
        int n = sslsock_send(s, buf, len, blocking, error);
        if (n < 0)
            s->last_error = *error;
        return n;
    }
    ssize_t n;
    do
        n = send(sd, buf, (size_t)len, (flags & ~(MSG_BLOCKING | MSG_TIMEOUT)) | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return os_fail(s, error);
    *error = 0;
    return (int)n;
}

int chipssl_recv(int sd, void *buf, int len, int flags, unsigned long timeout,
                 int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s = sock_lookup(sd, error);
    if (!s)
        return API_ERROR;
    if (!buf || len <= 0)
        return sock_fail(s, error, API_EINVAL);
    if (s->eof)
        return sock_fail(s, error, API_ENOTCONN);
    int64_t deadline;
    if (flags & MSG_DONTWAIT)
        deadline = 0;
    else if (flags & MSG_TIMEOUT)
        deadline = chip_now_ms() + (int64_t)(timeout > 0x7fffffffUL ? 0x7fffffffUL : timeout);
    else if (flags & MSG_BLOCKING)
        deadline = CHIP_FOREVER;
    else
        deadline = fd_nonblocking(sd) ? 0 : CHIP_FOREVER;
    int peek = (flags & MSG_PEEK) != 0;
    int n;
    if (s->ssl_mode != SSL_MODE_NONE && s->type == SOCK_STREAM) {
        n = sslsock_recv(s, buf, len, peek, deadline, error);
    } else {
        for (;;) {
            ssize_t r = recv(sd, buf, (size_t)len, MSG_DONTWAIT | (peek ? MSG_PEEK : 0));
            if (r >= 0) {
                n = (int)r;
                *error = 0;
                break;
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return os_fail(s, error);
            int w = chip_wait_fd(sd, POLLIN, deadline, error);
            if (w <= 0) {
                n = w == 0 ? chip_fail(error, API_EWOULDBLOCK) : API_ERROR;
                break;
            }
        }
    }
    if (n == 0 && !peek && s->type == SOCK_STREAM)
        s->eof = 1; /* reported once; the next call says ENOTCONN */
    if (n < 0)
        s->last_error = *error;
    return n;
}

int chipssl_setsockopt(int sd, const SetSocketOption *opt, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s = sock_lookup(sd, error);
    if (!s)
        return API_ERROR;
    if (!opt || (!opt->optionValue && opt->optionLength != 0) || opt->optionLength < 0)
        return sock_fail(s, error, API_EINVAL);
    if (opt->protocol_level == IP_PROTOTCP_LEVEL &&
        opt->optionName >= TCP_SSL_CLIENT && opt->optionName <= TCP_SSL_SEND_MAX_SIZE) {
        if (opt->optionLength != (int)sizeof(int))
            return sock_fail(s, error, API_EINVAL);
        if (s->type != SOCK_STREAM)
            return sock_fail(s, error, API_EOPNOTSUPP);
        int v;
        memcpy(&v, opt->optionValue, sizeof v);
        if (sslsock_set_option(s, opt->optionName, v, error) < 0)
            return sock_fail(s, error, *error);
        return 0;
    }
    if (setsockopt(sd, opt->protocol_level, opt->optionName, opt->optionValue,
                   (socklen_t)opt->optionLength) != 0)
        return os_fail(s, error);
    return chip_ok(error);
}

int chipssl_getsockopt(int sd, const GetSocketOption *opt, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s = sock_lookup(sd, error);
    if (!s)
        return API_ERROR;
    if (!opt || !opt->optionValue || !opt->optionLength || *opt->optionLength < 0)
        return sock_fail(s, error, API_EINVAL);
    if (opt->protocol_level == IP_PROTOTCP_LEVEL &&
        opt->optionName >= TCP_SSL_CLIENT && opt->optionName <= TCP_SSL_SEND_MAX_SIZE) {
        int v;
        if (*opt->optionLength < (int)sizeof(int))
            return sock_fail(s, error, API_EINVAL);
        sslsock_get_option(s, opt->optionName, &v);
        memcpy(opt->optionValue, &v, sizeof v);
        *opt->optionLength = sizeof v;
        return chip_ok(error);
    }
    socklen_t len = (socklen_t)*opt->optionLength;
    if (getsockopt(sd, opt->protocol_level, opt->optionName, opt->optionValue, &len) != 0)
        return os_fail(s, error);
    *opt->optionLength = (int)len;
    return chip_ok(error);
}

int chipssl_shutdown(int sd, int how, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s = sock_lookup(sd, error);
    if (!s)
        return API_ERROR;
    if (how < 0 || how > 2)
        return sock_fail(s, error, API_EINVAL);
    if (shutdown(sd, how) != 0)
        return os_fail(s, error);
    if (how != SHUT_RD)
        s->shut_wr = 1;
    return chip_ok(error);
}

int chipssl_inet_addr(const char *str, in_addr_t *addr)
{
    struct in_addr a;
    if (!str || !addr || inet_pton(AF_INET, str, &a) != 1)
        return API_ERROR;
    *addr = a.s_addr;
    return 0;
}

int Set_Blocking_Mode(int sd, unsigned int nonblocking, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s = sock_lookup(sd, error);
    if (!s)
        return API_ERROR;
    if (nonblocking > 1)
        return sock_fail(s, error, API_EINVAL);
    int fl = fcntl(sd, F_GETFL);
    if (fl < 0 || fcntl(sd, F_SETFL, nonblocking ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
        return os_fail(s, error);
    return chip_ok(error);
}

int get_socketerror(int sd)
{
    int e = 0;
    struct chip_sock *s = sock_lookup(sd, &e);
    if (!s)
        return API_ERROR;
    if (s->last_error)
        return s->last_error;
    int so = 0;
    socklen_t l = sizeof so;
    if (getsockopt(sd, SOL_SOCKET, SO_ERROR, &so, &l) != 0)
        return chipssl_errno_to_api(errno);
    return chipssl_errno_to_api(so);
}

int InetToAscii(const in_addr_t *addr, char *str)
{
    if (!addr || !str)
        return API_ERROR;
    struct in_addr a = { .s_addr = *addr };
    return inet_ntop(AF_INET, &a, str, INET_ADDRSTRLEN) ? 0 : API_ERROR;
}

int getHostByName(const char *name, int maxAddrs, in_addr_t *addrs)
{
    if (!name || !addrs || maxAddrs < 1)
        return API_ERROR;
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    if (getaddrinfo(name, NULL, &hints, &res) != 0)
        return 0;
    int n = 0;
    for (struct addrinfo *ai = res; ai && n < maxAddrs; ai = ai->ai_next) {
        in_addr_t a = ((const struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr;
        int dup = 0;
        for (int i = 0; i < n; i++)
            dup |= addrs[i] == a;
        if (!dup)
            addrs[n++] = a;
    }
    freeaddrinfo(res);
    return n;
}

int setNameServer(int family, const void *addr)
{
    (void)family;
    (void)addr;
    return 0;
}
