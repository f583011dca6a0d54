/*
 * sockets.c - the RTOS socket calls (API.md section 7) over POSIX sockets.
 * The header maps the RTOS names to these chipssl_* symbols in application
 * code; here the C library's own functions are meant.
 */
#include "socket.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Free a record taken out of the table, its SSL part first. */
static void record_free(struct chip_sock *s)
{
    if (!s)
        return;
    sslsock_release(s);
    free(s);
}

/* The record of a descriptor the OS just handed out (see sock_new). */
static int record_new(int fd, int family, int type, struct chip_sock **s)
{
    struct chip_sock *stale = NULL;
    int rc = sock_new(fd, family, type, s, &stale);
    record_free(stale);
    return rc;
}

static int os_error(void)
{
    return -chipssl_errno_to_api(errno);
}

/* Length of a sockaddr_in / sockaddr_in6 by its family, 0 when neither. */
static socklen_t addr_len(const void *addr)
{
    sa_family_t f = ((const struct sockaddr *)addr)->sa_family;
    return f == AF_INET ? sizeof(struct sockaddr_in)
         : f == AF_INET6 ? sizeof(struct sockaddr_in6)
                         : 0;
}

/* ---- closing a socket whose connection failed with our fatal alert -----
 * close() of a socket whose receive queue holds data the peer pipelined
 * makes the kernel answer with a reset, and the reset can take the alert
 * still in flight with it: the peer's next write fails with EPIPE or its
 * read with ECONNRESET, and it never reads why. As `openssl s_server` does
 * "to allow the peer to read the alert data", the sending side is shut first
 * (FIN after the alert) and what the peer still sends is read and dropped
 * until it closes too, for LINGER_MS at most. A blocking socket does that
 * inside closesocket(). A non-blocking caller is never made to wait: what
 * has arrived is read at once and the descriptor is parked in a short list
 * (LINGER_MAX entries, the oldest closed first when it is full); the next
 * opensocket/accept/closesocket drains the list and closes the descriptors
 * whose peer closed or whose time is up. */
#define LINGER_MS 500
#define LINGER_MAX 64
#define DRAIN_READS 64 /* at most this many reads per drain (256 KiB) */

static pthread_mutex_t linger_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    int fd;
    int64_t until;
} lingering[LINGER_MAX];
static atomic_int nlinger;
static pid_t linger_pid; /* the process that parked them (under linger_lock) */

/* Read and drop what fd holds now. 1 the peer closed (or the socket
 * failed): nothing more will come; 0 not yet. */
static int drain(int fd)
{
    char sink[4096];
    for (int i = 0; i < DRAIN_READS; i++) {
        ssize_t n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n > 0 || (n < 0 && errno == EINTR))
            continue;
        return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    }
    return 0;
}

static void linger_reap(void)
{
    if (atomic_load(&nlinger) == 0)
        return;
    pthread_mutex_lock(&linger_lock);
    int64_t now = chip_now_ms();
    int n = atomic_load(&nlinger), k = 0;
    for (int i = 0; i < n; i++) {
        if (drain(lingering[i].fd) || now >= lingering[i].until)
            close(lingering[i].fd);
        else
            lingering[k++] = lingering[i];
    }
    atomic_store(&nlinger, k);
    pthread_mutex_unlock(&linger_lock);
}

static void linger_close(int fd, int nonblocking)
{
    shutdown(fd, SHUT_WR);
    int64_t until = chip_now_ms() + LINGER_MS;
    if (!nonblocking) {
        while (!drain(fd) && chip_wait_fd(fd, POLLIN, until) > 0)
            ;
        close(fd);
        return;
    }
    if (drain(fd)) {
        close(fd);
        return;
    }
    pthread_mutex_lock(&linger_lock);
    int n = atomic_load(&nlinger);
    if (n == LINGER_MAX) {
        close(lingering[0].fd);
        memmove(&lingering[0], &lingering[1], (size_t)(n - 1) * sizeof lingering[0]);
        n--;
    }
    lingering[n].fd = fd;
    lingering[n].until = until;
    linger_pid = getpid();
    atomic_store(&nlinger, n + 1);
    pthread_mutex_unlock(&linger_lock);
}

/* A process that exits right after closesocket() of a failed non-blocking
 * socket would take its parked descriptors along, and the kernel would
 * reset those connections, alert and all. At exit() the library finishes
 * them instead, within their LINGER_MS; only in the process that parked
 * them (a forked child leaves its parent's alone). */
__attribute__((destructor)) static void linger_finish(void)
{
    while (atomic_load(&nlinger) > 0) {
        struct pollfd p[LINGER_MAX];
        pthread_mutex_lock(&linger_lock);
        int n = linger_pid == getpid() ? atomic_load(&nlinger) : 0;
        if (n == 0) {
            pthread_mutex_unlock(&linger_lock);
            return;
        }
        int64_t first = lingering[0].until;
        for (int i = 0; i < n; i++) {
            p[i] = (struct pollfd){ .fd = lingering[i].fd, .events = POLLIN };
            if (lingering[i].until < first)
                first = lingering[i].until;
        }
        pthread_mutex_unlock(&linger_lock);
        int64_t left = first - chip_now_ms();
        if (left > 0)
            poll(p, (nfds_t)n, (int)left);
        linger_reap();
    }
}

/* ---- the calls ---------------------------------------------------------- */

int opensocket_ext(unsigned char family, unsigned char type, int *error)
{
    if (!error)
        return API_ERROR;
    linger_reap();
    if (family != AF_INET && family != AF_INET6)
        return chip_return(error, -API_EAFNOSUPPORT);
    if (type != SOCK_STREAM && type != SOCK_DGRAM)
        return chip_return(error, -API_EINVAL);
    int fd = socket(family, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return chip_return(error, os_error());
    if (type == SOCK_STREAM) {
        /* As on the original: every TCP socket is address-reusable. */
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    struct chip_sock *s;
    int rc = record_new(fd, family, type, &s);
    if (rc < 0) {
        close(fd);
        return chip_return(error, rc);
    }
    return chip_return(error, fd);
}

int opensocket(unsigned char type, int *error)
{
    return opensocket_ext(AF_INET, type, error);
}

int closesocket(int sd, int *error)
{
    if (!error)
        return API_ERROR;
    linger_reap();
    if (sd < 0)
        return chip_return(error, -API_EBADF);
    struct chip_sock *s = sock_take(sd);
    int linger = s && sslsock_alert_sent(s);
    record_free(s);
    if (linger) {
        linger_close(sd, fd_nonblocking(sd));
        return chip_return(error, 0);
    }
    return chip_return(error, close(sd) == 0 ? 0 : os_error());
}

/* bind() or connect() with an RTOS address argument. */
static int addr_call(struct chip_sock *s, const void *addr, int connecting)
{
    if (!addr)
        return -API_EINVAL;
    socklen_t len = addr_len(addr);
    if (!len)
        return -API_EAFNOSUPPORT;
    if (!connecting)
        return bind(s->fd, addr, len) == 0 ? 0 : os_error();
    if (connect(s->fd, addr, len) == 0)
        return 0;
    if (errno != EINTR || fd_nonblocking(s->fd))
        return os_error();
    /* Interrupted: the connection goes on (POSIX); wait for its outcome. */
    int so = 0;
    socklen_t sl = sizeof so;
    int rc = chip_wait_fd(s->fd, POLLOUT, CHIP_FOREVER);
    if (rc < 0)
        return rc;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &so, &sl) != 0)
        return os_error();
    return -chipssl_errno_to_api(so);
}

int chipssl_bind(int sd, const void *addr, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = sock_lookup(sd, &s);
    if (rc == 0)
        rc = addr_call(s, addr, 0);
    return sock_return(s, error, rc);
}

int chipssl_connect(int sd, const void *addr, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = sock_lookup(sd, &s);
    if (rc == 0)
        rc = addr_call(s, addr, 1);
    return sock_return(s, error, rc);
}

int chipssl_listen(int sd, int backlog, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = sock_lookup(sd, &s);
    if (rc == 0 && listen(sd, backlog) != 0)
        rc = os_error();
    if (rc == 0)
        s->listening = 1;
    return sock_return(s, error, rc);
}

static int accept_one(struct chip_sock *l, void *addr)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    /* A non-blocking listener (an event loop's) hands out non-blocking
     * sockets: one call less per connection. */
    int flags = SOCK_CLOEXEC | (fd_nonblocking(l->fd) ? SOCK_NONBLOCK : 0);
    int fd;
    do
        fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, flags);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return os_error();
    struct chip_sock *s;
    int rc = record_new(fd, ss.ss_family, SOCK_STREAM, &s);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    sslsock_inherit(s, l);
    /* The peer's address has the listener's family (a v4 peer on a
     * dual-stack v6 listener is v4-mapped), so it fits the caller's type. */
    if (addr)
        memcpy(addr, &ss, addr_len(&ss));
    return fd;
}

int chipssl_accept(int sd, void *addr, int *error)
{
    if (!error)
        return API_ERROR;
    linger_reap();
    struct chip_sock *l;
    int rc = sock_lookup(sd, &l);
    if (rc == 0)
        rc = accept_one(l, addr);
    return sock_return(l, error, rc);
}

int chipssl_send(int sd, const void *buf, int len, int flags, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = sock_lookup(sd, &s);
    if (rc < 0)
        return chip_return(error, rc);
    if (len < 0 || (!buf && len > 0))
        return sock_return(s, error, -API_EINVAL);
    if (s->shut_wr)
        return sock_return(s, error, -API_ESHUTDOWN);
    if (s->ssl_mode != SSL_MODE_NONE && s->type == SOCK_STREAM) {
        int wait = !(flags & MSG_DONTWAIT) && !fd_nonblocking(sd);
        return sock_return(s, error, sslsock_send(s, buf, len, wait ? CHIP_FOREVER : 0));
    }
    ssize_t n;
    do
        n = send(sd, buf, (size_t)len, (flags & ~(MSG_BLOCKING | MSG_TIMEOUT)) | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return sock_return(s, error, n < 0 ? os_error() : (int)n);
}

/* recv on a plain socket, waiting until deadline. */
static int plain_recv(int sd, void *buf, int len, int peek, int64_t deadline)
{
    for (;;) {
        ssize_t r = recv(sd, buf, (size_t)len, MSG_DONTWAIT | (peek ? MSG_PEEK : 0));
        if (r >= 0)
            return (int)r;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return os_error();
        deadline = sock_deadline(sd, deadline);
        int w = chip_wait_fd(sd, POLLIN, deadline);
        if (w <= 0)
            return w == 0 ? -API_EWOULDBLOCK : w;
    }
}

int chipssl_recv(int sd, void *buf, int len, int flags, unsigned long timeout,
                 int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = sock_lookup(sd, &s);
    if (rc < 0)
        return chip_return(error, rc);
    if (!buf || len <= 0)
        return sock_return(s, error, -API_EINVAL);
    if (s->eof)
        return sock_return(s, error, -API_ENOTCONN);
    int64_t deadline;
    if (flags & MSG_DONTWAIT)
        deadline = 0;
    else if (flags & MSG_TIMEOUT)
        deadline = chip_now_ms() + (int64_t)(timeout > 0x7fffffffUL ? 0x7fffffffUL : timeout);
    else if (flags & MSG_BLOCKING)
        deadline = CHIP_FOREVER;
    else
        deadline = CHIP_IF_BLOCKING; /* the descriptor's mode, looked up if it must wait */
    int peek = (flags & MSG_PEEK) != 0;
    int n = s->ssl_mode != SSL_MODE_NONE && s->type == SOCK_STREAM
                ? sslsock_recv(s, buf, len, peek, deadline)
                : plain_recv(sd, buf, len, peek, deadline);
    if (n == 0 && !peek && s->type == SOCK_STREAM)
        s->eof = 1; /* reported once; the next call says ENOTCONN */
    return sock_return(s, error, n);
}

static int set_option(struct chip_sock *s, const SetSocketOption *opt)
{
    if (!opt || (!opt->optionValue && opt->optionLength != 0) || opt->optionLength < 0)
        return -API_EINVAL;
    if (opt->protocol_level == IP_PROTOTCP_LEVEL &&
        opt->optionName >= TCP_SSL_CLIENT && opt->optionName <= TCP_SSL_SEND_MAX_SIZE) {
        if (opt->optionLength != (int)sizeof(int))
            return -API_EINVAL;
        if (s->type != SOCK_STREAM)
            return -API_EOPNOTSUPP;
        int v;
        memcpy(&v, opt->optionValue, sizeof v);
        return sslsock_set_option(s, opt->optionName, v);
    }
    if (setsockopt(s->fd, opt->protocol_level, opt->optionName, opt->optionValue,
                   (socklen_t)opt->optionLength) != 0)
        return os_error();
    return 0;
}

int chipssl_setsockopt(int sd, const SetSocketOption *opt, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = sock_lookup(sd, &s);
    if (rc == 0)
        rc = set_option(s, opt);
    return sock_return(s, error, rc);
}

static int get_option(struct chip_sock *s, const GetSocketOption *opt)
{
    if (!opt || !opt->optionValue || !opt->optionLength || *opt->optionLength < 0)
        return -API_EINVAL;
    if (opt->protocol_level == IP_PROTOTCP_LEVEL &&
        opt->optionName >= TCP_SSL_CLIENT && opt->optionName <= TCP_SSL_SEND_MAX_SIZE) {
        int v;
        if (*opt->optionLength < (int)sizeof(int))
            return -API_EINVAL;
        sslsock_get_option(s, opt->optionName, &v);
        memcpy(opt->optionValue, &v, sizeof v);
        *opt->optionLength = sizeof v;
        return 0;
    }
    socklen_t len = (socklen_t)*opt->optionLength;
    if (getsockopt(s->fd, opt->protocol_level, opt->optionName, opt->optionValue, &len) != 0)
        return os_error();
    *opt->optionLength = (int)len;
    return 0;
}

int chipssl_getsockopt(int sd, const GetSocketOption *opt, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = sock_lookup(sd, &s);
    if (rc == 0)
        rc = get_option(s, opt);
    return sock_return(s, error, rc);
}

int chipssl_shutdown(int sd, int how, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_sock *s;
    int rc = sock_lookup(sd, &s);
    if (rc == 0 && (how < 0 || how > 2))
        rc = -API_EINVAL;
    if (rc == 0 && shutdown(sd, how) != 0)
        rc = os_error();
    if (rc == 0 && how != SHUT_RD)
        s->shut_wr = 1;
    return sock_return(s, error, rc);
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
    struct chip_sock *s;
    int rc = sock_lookup(sd, &s);
    if (rc == 0 && nonblocking > 1)
        rc = -API_EINVAL;
    if (rc == 0) {
        int fl = fcntl(sd, F_GETFL);
        if (fl < 0 || fcntl(sd, F_SETFL, nonblocking ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
            rc = os_error();
    }
    return sock_return(s, error, rc);
}

int get_socketerror(int sd)
{
    struct chip_sock *s;
    if (sock_lookup(sd, &s) < 0)
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
