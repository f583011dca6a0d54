/*
 * test_badinput.c - every public function given bad input answers with the
 * return value and *error code tcpip.h documents, and never crashes.
 *
 * One table, one row per case (after libtls regress config/configtest.c):
 * a description, the function that makes the call, its parameters, and what
 * must come back. Each row runs as its own cmocka test, in order, in one
 * process (the PKI store is per process): the group setup creates the few
 * fixtures the rows refer to (a root CA "ca", a server certificate "srv",
 * sessions, a pipe, UDP/TCP sockets, a plain listener).
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tcpip.h"
#include "testutil.h"
#include "tu_cmocka.h"

/* ------------------------------------------------------------------ fixtures */

static int g_sid;      /* client session, no certificate, options off   */
static int g_sid_auth; /* server session "srv" with option 1 on          */
static int g_pipe[2] = {-1, -1};
static int g_closed_fd = -1; /* a descriptor number known to be closed   */
static int g_udp = -1;
static int g_tcp = -1;    /* plain TCP socket, never connected        */
static int g_listen = -1; /* plain TCP listener (never accepts)       */
static unsigned short g_port;
static int g_conn = -1;   /* plain TCP socket connected to g_listen   */
static int g_sslcli = -1; /* TCP_SSL_CLIENT + session, not connected  */

/* Descriptor selectors (0: the row uses none). */
enum { FD_NONE, FD_MINUS1, FD_CLOSED, FD_HUGE, FD_PIPE, FD_UDP, FD_TCP, FD_CONN, FD_SSLCLI };

/* Session selectors: 0 is g_sid; others are literal IDs or these markers. */
#define SID_ZERO INT_MIN       /* the literal ID 0 */
#define SID_AUTH (INT_MIN + 1) /* g_sid_auth       */

struct bad_case;
typedef int (*bad_call)(const struct bad_case *c, int *error);

struct bad_case {
    const char *desc;
    bad_call call;
    /* parameters: each call function says which it uses */
    const char *file; /* PKI file name (NULL: a NULL pointer)         */
    const char *mem;  /* data for PKI_FMT_MEMORY instead of file       */
    int fmt;
    int type;       /* certType / keyType / option name             */
    const char *id; /* PKI ID, certIdentity, CA ID, name, prefix    */
    const char *caid;
    int a, b;         /* further integers                             */
    const int *props; /* SSL_SessionProp list (a entries)             */
    int sid;          /* session selector                             */
    int fd;           /* descriptor selector                          */
    /* expectations */
    int want_ret;
    int want_err;   /* exact *error (when want_flags is 0)          */
    int want_flags; /* these PKI_CERT_* flags must be set in *error,
                       which must be flags (< 0x80), not an API code */
    int no_error;   /* the function has no error argument           */
};

static int fd_of(int sel)
{
    switch (sel) {
    case FD_MINUS1: return -1;
    case FD_CLOSED: return g_closed_fd;
    case FD_HUGE: return INT_MAX;
    case FD_PIPE: return g_pipe[0];
    case FD_UDP: return g_udp;
    case FD_TCP: return g_tcp;
    case FD_CONN: return g_conn;
    case FD_SSLCLI: return g_sslcli;
    default: return -1;
    }
}

static int sid_of(int sel)
{
    if (sel == 0)
        return g_sid;
    if (sel == SID_ZERO)
        return 0;
    if (sel == SID_AUTH)
        return g_sid_auth;
    return sel;
}

static void loopback4(struct sockaddr_in *a, unsigned short port)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons(port);
}

/* --------------------------------------------------------- PKI call functions */

/* PKI_CertificateAdd: file/mem, fmt, type, id (idLength strlen), caid */
static int cert_add(const struct bad_case *c, int *error)
{
    char path[TU_PATH_MAX];
    PKI_CERT_ADD_Entry e;

    memset(&e, 0, sizeof e);
    e.fileNamePtr = c->mem != NULL    ? c->mem
                    : c->file != NULL ? tu_path(path, sizeof path, c->file)
                                      : NULL;
    e.fileFormat = c->fmt;
    e.certType = c->type;
    e.idPtr = c->id;
    e.idLength = c->id != NULL ? (int)strlen(c->id) : 4;
    e.caIdPtr = c->caid;
    return PKI_CertificateAdd(&e, error);
}

/* PKI_CertificateAdd of ca.pem as root with idLength a */
static int cert_add_idlen(const struct bad_case *c, int *error)
{
    char path[TU_PATH_MAX];
    static char longid[CHIPSSL_MAX_ID_LEN + 16];
    PKI_CERT_ADD_Entry e;

    memset(longid, 'L', sizeof longid - 1);
    memset(&e, 0, sizeof e);
    e.fileNamePtr = tu_path(path, sizeof path, "ca.pem");
    e.fileFormat = PKI_FMT_PEM;
    e.certType = PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA;
    e.idPtr = longid;
    e.idLength = c->a;
    return PKI_CertificateAdd(&e, error);
}

static int cert_add_null(const struct bad_case *c, int *error)
{
    (void)c;
    return PKI_CertificateAdd(NULL, error);
}

static int cert_del(const struct bad_case *c, int *error)
{
    return PKI_CertificateDel((void *)c->id, c->type, error);
}

/* PKI_OwnKeyPairAdd: file/mem, fmt, type = keyType */
static int key_add(const struct bad_case *c, int *error)
{
    char path[TU_PATH_MAX];
    PKI_OWNKEYPAIR_ADD_Entry e;

    memset(&e, 0, sizeof e);
    e.fileNamePtr = c->mem != NULL    ? c->mem
                    : c->file != NULL ? tu_path(path, sizeof path, c->file)
                                      : NULL;
    e.fileFormat = c->fmt;
    e.keyType = c->type;
    return PKI_OwnKeyPairAdd(&e, error);
}

static int key_add_null(const struct bad_case *c, int *error)
{
    (void)c;
    return PKI_OwnKeyPairAdd(NULL, error);
}

/* PKI_RootCABundleAdd(file, id as prefix) */
static int bundle_add(const struct bad_case *c, int *error)
{
    char path[TU_PATH_MAX];

    return PKI_RootCABundleAdd(c->file ? tu_path(path, sizeof path, c->file) : NULL, c->id, error);
}

/* PKI_RootCABundleAdd(ca.pem, a prefix of CHIPSSL_MAX_ID_LEN characters) */
static int bundle_long_prefix(const struct bad_case *c, int *error)
{
    char path[TU_PATH_MAX];
    char prefix[CHIPSSL_MAX_ID_LEN + 1];

    (void)c;
    memset(prefix, 'p', sizeof prefix - 1);
    prefix[sizeof prefix - 1] = '\0';
    return PKI_RootCABundleAdd(tu_path(path, sizeof path, "ca.pem"), prefix, error);
}

/* ----------------------------------------------------- session call functions */

/* SSL_SessionNew {id, a = maxCaches, b = version}. A new session is closed
 * again and reported as 0 (or 999 if the ID is out of range). */
static int sess_new(const struct bad_case *c, int *error)
{
    SSL_SESSION_NEW_Entry e;
    int ret, err2;

    e.certIdentity = c->id;
    e.maxCaches = c->a;
    e.version = c->b;
    ret = SSL_SessionNew(&e, error);
    if (ret > 0) {
        SSL_SessionClose(ret, &err2);
        return ret <= CHIPSSL_MAX_SESSIONS ? 0 : 999;
    }
    return ret;
}

static int sess_new_null(const struct bad_case *c, int *error)
{
    (void)c;
    return SSL_SessionNew(NULL, error);
}

/* Fill the session table: the (MAX - 2)th new session must be the last
 * one (the fixtures hold two), the next fails. Returns that failure. */
static int sess_new_exhaust(const struct bad_case *c, int *error)
{
    static int ids[CHIPSSL_MAX_SESSIONS + 1];
    SSL_SESSION_NEW_Entry e = {.certIdentity = NULL, .maxCaches = 0, .version = SSL_VERSION_TLS12};
    int n = 0, ret, err2, i, bad = 0;

    (void)c;
    while (n <= CHIPSSL_MAX_SESSIONS) {
        ret = SSL_SessionNew(&e, error);
        if (ret < 0)
            break;
        if (ret < 1 || ret > CHIPSSL_MAX_SESSIONS) {
            print_error("SSL_SessionNew returned ID %d outside 1..%d\n", ret, CHIPSSL_MAX_SESSIONS);
            bad = 1;
        }
        ids[n++] = ret;
    }
    if (n != CHIPSSL_MAX_SESSIONS - 2) {
        print_error("%d sessions could be created beside 2 fixtures, want %d\n", n,
                    CHIPSSL_MAX_SESSIONS - 2);
        bad = 1;
    }
    ret = (n <= CHIPSSL_MAX_SESSIONS) ? -1 : 0;
    err2 = *error;
    for (i = 0; i < n; i++) {
        int e3;

        SSL_SessionClose(ids[i], &e3);
    }
    *error = err2;
    return bad ? 999 : ret;
}

static int sess_close(const struct bad_case *c, int *error)
{
    return SSL_SessionClose(sid_of(c->sid), error);
}

/* New session, close it (must succeed), close it again: the second result. */
static int sess_close_twice(const struct bad_case *c, int *error)
{
    SSL_SESSION_NEW_Entry e = {.certIdentity = NULL, .maxCaches = 0, .version = SSL_VERSION_TLS12};
    int id = SSL_SessionNew(&e, error);

    (void)c;
    if (id < 1)
        return 998;
    if (SSL_SessionClose(id, error) != 0)
        return 997;
    return SSL_SessionClose(id, error);
}

/* SSL_SessionProp(sid, props, a) */
static int sess_prop(const struct bad_case *c, int *error)
{
    return SSL_SessionProp(sid_of(c->sid), (int *)c->props, c->a, error);
}

/* a suites more than the maximum (all valid, so only the count is wrong) */
static int sess_prop_too_many(const struct bad_case *c, int *error)
{
    static const int known[] = {0x1301, 0x1302, 0x1303, 0xC02B, 0xC02C,
                                0xC02F, 0xC030, 0xCCA9, 0xCCA8};
    int list[CHIPSSL_MAX_PROPOSALS + 1];
    int i;

    (void)c;
    for (i = 0; i < CHIPSSL_MAX_PROPOSALS + 1; i++)
        list[i] = known[i % (int)(sizeof known / sizeof known[0])];
    return SSL_SessionProp(g_sid, list, CHIPSSL_MAX_PROPOSALS + 1, error);
}

/* A TLS-1.3-only session given only TLS 1.2 suites (b = version, props/a). */
static int sess_prop_version(const struct bad_case *c, int *error)
{
    SSL_SESSION_NEW_Entry e = {.certIdentity = NULL, .maxCaches = 0, .version = c->b};
    int id = SSL_SessionNew(&e, error), ret, err2;

    if (id < 1)
        return 998;
    ret = SSL_SessionProp(id, (int *)c->props, c->a, error);
    SSL_SessionClose(id, &err2);
    return ret;
}

/* SSL_SessionOpt(sid, a = option, b = value) */
static int sess_opt(const struct bad_case *c, int *error)
{
    return SSL_SessionOpt(sid_of(c->sid), c->a, c->b, error);
}

/* SSL_AddClientCA(sid, id) */
static int add_client_ca(const struct bad_case *c, int *error)
{
    return SSL_AddClientCA(sid_of(c->sid), (void *)c->id, error);
}

/* The same CA any number of times is harmless; more than
 * CHIPSSL_MAX_CLIENT_CAS distinct CAs: the last add's result (ENOBUFS). */
static int add_client_ca_many(const struct bad_case *c, int *error)
{
    SSL_SESSION_NEW_Entry e = {.certIdentity = "srv", .maxCaches = 0, .version = SSL_VERSION_TLS12};
    char id[32];
    int sid = SSL_SessionNew(&e, error), i, ret = 0, err2, bad = 0;

    (void)c;
    if (sid < 1 || SSL_SessionOpt(sid, SSL_OPT_CLIENT_AUTH, 1, error) != 0)
        return 998;
    for (i = 0; i < 3 * CHIPSSL_MAX_CLIENT_CAS; i++)
        if (SSL_AddClientCA(sid, "ca", error) != 0) {
            print_error("adding the same CA a %dth time failed: %d\n", i + 1, *error);
            bad = 1;
        }
    for (i = 0; i <= CHIPSSL_MAX_CLIENT_CAS && !bad; i++) {
        snprintf(id, sizeof id, "b-clientca-%d", i);
        if (tu_add_cert("ca.pem", PKI_FMT_PEM, PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA, id, NULL,
                        &err2) != 0)
            bad = 1;
        /* "ca" is already one of the CHIPSSL_MAX_CLIENT_CAS */
        ret = SSL_AddClientCA(sid, id, error);
        if (ret != 0 && i + 1 < CHIPSSL_MAX_CLIENT_CAS) {
            print_error("client CA %d of %d refused: %d\n", i + 2, CHIPSSL_MAX_CLIENT_CAS, *error);
            bad = 1;
        }
        if (i + 1 == CHIPSSL_MAX_CLIENT_CAS)
            break;
    }
    err2 = *error;
    for (i = 0; i <= CHIPSSL_MAX_CLIENT_CAS; i++) {
        int e3;

        snprintf(id, sizeof id, "b-clientca-%d", i);
        PKI_CertificateDel(id, PKI_CERT_NONLOCAL, &e3);
    }
    SSL_SessionClose(sid, error);
    *error = err2;
    return bad ? 999 : ret;
}

/* SSL_AddClientCA(g_sid_auth, id) of a non-CA certificate stored in the
 * non-local list just for this call (server.pem, under "b-leaf"). */
static int add_client_ca_leaf(const struct bad_case *c, int *error)
{
    int ret, err2;

    (void)c;
    if (tu_add_cert("server.pem", PKI_FMT_PEM, PKI_CERT_NONLOCAL, "b-leaf", "ca", error) != 0)
        return 998;
    ret = SSL_AddClientCA(g_sid_auth, "b-leaf", error);
    PKI_CertificateDel("b-leaf", PKI_CERT_NONLOCAL, &err2);
    return ret;
}

/* ------------------------------------------------------ socket call functions */

static int s_closesocket(const struct bad_case *c, int *error)
{
    return closesocket(fd_of(c->fd), error);
}

/* Second closesocket of a socket: EBADF. */
static int s_closesocket_twice(const struct bad_case *c, int *error)
{
    int sd = opensocket(SOCK_STREAM, error);

    (void)c;
    if (sd < 0)
        return 998;
    if (closesocket(sd, error) != 0)
        return 997;
    return closesocket(sd, error);
}

static int s_opensocket(const struct bad_case *c, int *error)
{
    int sd = opensocket((unsigned char)c->a, error), err2;

    if (sd >= 0) {
        closesocket(sd, &err2);
        return 0;
    }
    return sd;
}

static int s_opensocket_ext(const struct bad_case *c, int *error)
{
    int sd = opensocket_ext((unsigned char)c->a, (unsigned char)c->b, error), err2;

    if (sd >= 0) {
        closesocket(sd, &err2);
        return 0;
    }
    return sd;
}

static int s_bind(const struct bad_case *c, int *error)
{
    struct sockaddr_in a;

    loopback4(&a, 0);
    return bind(fd_of(c->fd), &a, error);
}

static int s_connect(const struct bad_case *c, int *error)
{
    struct sockaddr_in a;

    loopback4(&a, g_port);
    return connect(fd_of(c->fd), &a, error);
}

static int s_listen(const struct bad_case *c, int *error)
{
    return listen(fd_of(c->fd), 4, error);
}

static int s_accept(const struct bad_case *c, int *error)
{
    struct sockaddr_in a;

    return accept(fd_of(c->fd), &a, error);
}

/* send(fd, "x", a or 1, 0) */
static int s_send(const struct bad_case *c, int *error)
{
    return send(fd_of(c->fd), "x", c->a != 0 ? c->a : 1, 0, error);
}

static int s_recv(const struct bad_case *c, int *error)
{
    char buf[16];

    return recv(fd_of(c->fd), buf, sizeof buf, MSG_DONTWAIT, 0, error);
}

static int s_shutdown(const struct bad_case *c, int *error)
{
    return shutdown(fd_of(c->fd), 2, error);
}

static int s_blocking(const struct bad_case *c, int *error)
{
    return Set_Blocking_Mode(fd_of(c->fd), 1, error);
}

static int s_socketerror(const struct bad_case *c, int *error)
{
    (void)error;
    return get_socketerror(fd_of(c->fd));
}

/* setsockopt(fd, IP_PROTOTCP_LEVEL, type = name, a = value) */
static int s_setopt(const struct bad_case *c, int *error)
{
    return tu_setopt(fd_of(c->fd), c->type, c->a, error);
}

/* setsockopt on a fresh TCP socket: type = name, a = value */
static int s_setopt_fresh(const struct bad_case *c, int *error)
{
    int sd = opensocket(SOCK_STREAM, error), ret, err2;

    if (sd < 0)
        return 998;
    ret = tu_setopt(sd, c->type, c->a, error);
    closesocket(sd, &err2);
    return ret;
}

/* setsockopt with optionLength a (value buffer large enough), name type */
static int s_setopt_len(const struct bad_case *c, int *error)
{
    long long value = 1000; /* 8 bytes */
    SetSocketOption o = {.protocol_level = IP_PROTOTCP_LEVEL,
                         .optionName = c->type,
                         .optionValue = (const char *)&value,
                         .optionLength = c->a};
    int sd = opensocket(SOCK_STREAM, error), ret, err2;

    if (sd < 0)
        return 998;
    ret = setsockopt(sd, &o, error);
    closesocket(sd, &err2);
    return ret;
}

static int s_setopt_nullvalue(const struct bad_case *c, int *error)
{
    SetSocketOption o = {.protocol_level = IP_PROTOTCP_LEVEL,
                         .optionName = c->type,
                         .optionValue = NULL,
                         .optionLength = (int)sizeof(int)};

    return setsockopt(g_tcp, &o, error);
}

static int s_setopt_nullblock(const struct bad_case *c, int *error)
{
    (void)c;
    return setsockopt(g_tcp, NULL, error);
}

/* TCP_SSL_CLIENT on, then TCP_SSL_SERVER on (a = 0) or the reverse (a = 1):
 * the second call's result. */
static int s_setopt_both(const struct bad_case *c, int *error)
{
    int sd = opensocket(SOCK_STREAM, error), ret, err2;
    int first = c->a ? TCP_SSL_SERVER : TCP_SSL_CLIENT;
    int second = c->a ? TCP_SSL_CLIENT : TCP_SSL_SERVER;

    if (sd < 0)
        return 998;
    if (tu_setopt(sd, first, 1, error) != 0) {
        closesocket(sd, &err2);
        return 997;
    }
    ret = tu_setopt(sd, second, 1, error);
    closesocket(sd, &err2);
    return ret;
}

/* TCP_SSLSESSION of a session closed after it was created. */
static int s_setopt_closed_session(const struct bad_case *c, int *error)
{
    SSL_SESSION_NEW_Entry e = {.certIdentity = NULL, .maxCaches = 0, .version = SSL_VERSION_TLS12};
    int id = SSL_SessionNew(&e, error), sd, ret, err2;

    (void)c;
    if (id < 1)
        return 998;
    SSL_SessionClose(id, &err2);
    sd = opensocket(SOCK_STREAM, error);
    if (sd < 0)
        return 997;
    tu_setopt(sd, TCP_SSL_CLIENT, 1, &err2);
    ret = tu_setopt(sd, TCP_SSLSESSION, id, error);
    closesocket(sd, &err2);
    return ret;
}

/* getsockopt(fd, type = name) with a buffer length of b bytes (0: int) */
static int s_getopt(const struct bad_case *c, int *error)
{
    int value[2] = {0, 0};
    int len = c->b != 0 ? c->b : (int)sizeof(int);
    GetSocketOption o = {.protocol_level = IP_PROTOTCP_LEVEL,
                         .optionName = c->type,
                         .optionValue = (char *)value,
                         .optionLength = &len};

    return getsockopt(fd_of(c->fd), &o, error);
}

static int s_getopt_nulllen(const struct bad_case *c, int *error)
{
    int value = 0;
    GetSocketOption o = {.protocol_level = IP_PROTOTCP_LEVEL,
                         .optionName = c->type,
                         .optionValue = (char *)&value,
                         .optionLength = NULL};

    return getsockopt(g_sslcli, &o, error);
}

static int s_inet_addr(const struct bad_case *c, int *error)
{
    in_addr_t a = 0x5a5a5a5a;

    (void)error;
    return inet_addr(c->id, &a);
}

/* inet_addr("255.255.255.255") must succeed with all ones (the classic
 * inet_addr ambiguity): 0 when it does, 99 for a wrong value. */
static int s_inet_addr_bcast(const struct bad_case *c, int *error)
{
    in_addr_t a = 0;
    int ret = inet_addr(c->id, &a);

    (void)error;
    if (ret != 0)
        return ret;
    return a == htonl(0xFFFFFFFFu) ? 0 : 99;
}

static int s_inet_to_ascii_null(const struct bad_case *c, int *error)
{
    char buf[32];

    (void)c;
    (void)error;
    return InetToAscii(NULL, buf);
}

/* InetToAscii(&127.0.0.1, NULL) */
static int s_inet_to_ascii_nullstr(const struct bad_case *c, int *error)
{
    in_addr_t a = htonl(INADDR_LOOPBACK);

    (void)c;
    (void)error;
    return InetToAscii(&a, NULL);
}

/* bind (a = 0) or connect (a = 1) of a fresh TCP socket to: NULL (b = 0),
 * a sockaddr_in of family 99 (b = 1), of family AF_UNIX (b = 2). */
static int s_addr_call(const struct bad_case *c, int *error)
{
    struct sockaddr_in a;
    int sd = opensocket(SOCK_STREAM, error), ret, err2;

    if (sd < 0)
        return 998;
    loopback4(&a, g_port);
    a.sin_family = c->b == 1 ? 99 : AF_UNIX;
    if (c->a == 0)
        ret = bind(sd, c->b == 0 ? NULL : &a, error);
    else
        ret = connect(sd, c->b == 0 ? NULL : &a, error);
    closesocket(sd, &err2);
    return ret;
}

/* recv on the connected plain socket with buffer NULL (b = 1) or not, and
 * length a */
static int s_recv_args(const struct bad_case *c, int *error)
{
    char buf[16];

    return recv(g_conn, c->b ? NULL : buf, c->a, MSG_DONTWAIT, 0, error);
}

/* shutdown(fresh socket connected to g_listen, how = a) */
static int s_shutdown_how(const struct bad_case *c, int *error)
{
    int sd = tu_client(AF_INET, 0, g_port, error), ret, err2;

    if (sd < 0)
        return 998;
    ret = shutdown(sd, c->a, error);
    closesocket(sd, &err2);
    return ret;
}

/* Set_Blocking_Mode(g_tcp, a) */
static int s_blocking_mode(const struct bad_case *c, int *error)
{
    return Set_Blocking_Mode(g_tcp, (unsigned int)c->a, error);
}

/* getHostByName(id, a, addrs or NULL when b = 1). Normalized: the number
 * found when > 0, 0 for "none / bad arguments" (the header allows 0 or -1);
 * 99 when an entry at or beyond maxAddrs was written. */
static int s_gethost(const struct bad_case *c, int *error)
{
    in_addr_t addrs[5];
    int i, n, lim;

    (void)error;
    for (i = 0; i < 5; i++)
        addrs[i] = 0x5a5a5a5a;
    n = getHostByName(c->id, c->a, c->b ? NULL : addrs);
    lim = c->a < 0 ? 0 : c->a > 5 ? 5 : c->a;
    for (i = lim; i < 5; i++)
        if (addrs[i] != 0x5a5a5a5a)
            return 99;
    return n > 0 ? n : 0;
}

/* getHostByName(id, 4, addrs): the count, or 98 when the first address is
 * not 127.0.0.1 */
static int s_gethost_loopback(const struct bad_case *c, int *error)
{
    in_addr_t addrs[4] = {0, 0, 0, 0};
    int n = getHostByName(c->id, 4, addrs);

    (void)error;
    return n >= 1 && addrs[0] != htonl(INADDR_LOOPBACK) ? 98 : n;
}

/* setNameServer(AF_INET, &8.8.8.8) (a = 0) or (AF_INET6, NULL) (a = 1) */
static int s_setnameserver(const struct bad_case *c, int *error)
{
    in_addr_t a = htonl(0x08080808u);

    (void)error;
    return c->a ? setNameServer(AF_INET6, NULL) : setNameServer(AF_INET, &a);
}

/* -------------------------------------------------------- SSL call functions */

static int ssl_client_start(const struct bad_case *c, int *error)
{
    return SSL_ClientStart(fd_of(c->fd), (char *)c->id, error);
}

/* A fresh socket connected to g_listen, with TCP_SSL_CLIENT (a & 1),
 * TCP_SSL_SERVER (a & 2), TCP_SSLSESSION g_sid (a & 4), then
 * SSL_ClientStart(name id). */
static int ssl_client_start_fresh(const struct bad_case *c, int *error)
{
    int sd, ret, err2;

    sd = tu_client(AF_INET, 0, g_port, error);
    if (sd < 0)
        return 998;
    if ((c->a & 1) && tu_setopt(sd, TCP_SSL_CLIENT, 1, error) != 0)
        ret = 997;
    else if ((c->a & 2) && tu_setopt(sd, TCP_SSL_SERVER, 1, error) != 0)
        ret = 997;
    else if ((c->a & 4) && tu_setopt(sd, TCP_SSLSESSION, g_sid, error) != 0)
        ret = 997;
    else
        ret = SSL_ClientStart(sd, (char *)c->id, error);
    closesocket(sd, &err2);
    return ret;
}

/* Bound to a session that is closed before SSL_ClientStart: ENOENT. */
static int ssl_client_start_closed_session(const struct bad_case *c, int *error)
{
    SSL_SESSION_NEW_Entry e = {.certIdentity = NULL, .maxCaches = 0, .version = SSL_VERSION_TLS12};
    int id = SSL_SessionNew(&e, error), sd, ret, err2;

    (void)c;
    if (id < 1)
        return 998;
    sd = tu_client(AF_INET, id, g_port, error);
    SSL_SessionClose(id, &err2);
    if (sd < 0)
        return 997;
    ret = SSL_ClientStart(sd, "localhost", error);
    closesocket(sd, &err2);
    return ret;
}

/* SSL_ClientStart twice on a ready socket: the second gives EALREADY. */
static int ssl_client_start_twice(const struct bad_case *c, int *error)
{
    int sd = tu_client(AF_INET, g_sid, g_port, error), ret, err2;

    (void)c;
    if (sd < 0)
        return 998;
    if (SSL_ClientStart(sd, "localhost", error) != 0)
        ret = 997;
    else
        ret = SSL_ClientStart(sd, "localhost", error);
    closesocket(sd, &err2);
    return ret;
}

/* A server name of a characters. */
static int ssl_client_start_longname(const struct bad_case *c, int *error)
{
    char name[1024];
    int sd = tu_client(AF_INET, g_sid, g_port, error), ret, err2;

    if (sd < 0)
        return 998;
    memset(name, 'a', sizeof name);
    name[c->a] = '\0';
    ret = SSL_ClientStart(sd, name, error);
    closesocket(sd, &err2);
    return ret;
}

static int ssl_hs_complete(const struct bad_case *c, int *error)
{
    (void)error;
    return SSL_HandshakeComplete(fd_of(c->fd), 0);
}

static int ssl_send_flush(const struct bad_case *c, int *error)
{
    return SSL_SendFlush(fd_of(c->fd), error);
}

static int ssl_conn_close(const struct bad_case *c, int *error)
{
    return SSL_ConnClose(fd_of(c->fd), error);
}

/* SSL_GetConnState(fd, a ? NULL : &p) */
static int ssl_conn_state(const struct bad_case *c, int *error)
{
    void *p = NULL;

    return SSL_GetConnState(fd_of(c->fd), c->a ? NULL : &p, error);
}

static int ssl_conn_state_alias(const struct bad_case *c, int *error)
{
    void *p = NULL;

    return SSL_Get_ConnState(fd_of(c->fd), &p, error);
}

/* SSL_GetProblem(fd, a ? NULL : &p) */
static int ssl_problem(const struct bad_case *c, int *error)
{
    SslProblemS p;

    return SSL_GetProblem(fd_of(c->fd), c->a ? NULL : &p, error);
}

static int ssl_wait_events(const struct bad_case *c, int *error)
{
    return SSL_GetWaitEvents(fd_of(c->fd), error);
}

/* ------------------------------------------------------------------- the table */

#define PEM PKI_FMT_PEM
#define DER PKI_FMT_DER
#define MEM PKI_FMT_MEMORY

#define GARBAGE_PEM                                                                                \
    "-----BEGIN CERTIFICATE-----\n!!!! not base64 !!!!\n"                                          \
    "-----END CERTIFICATE-----\n"
/* base64 of 30 03 02 01 05: a DER SEQUENCE { INTEGER 5 }, not a certificate */
#define NOTCERT_PEM "-----BEGIN CERTIFICATE-----\nMAMCAQU=\n-----END CERTIFICATE-----\n"
#define NOTKEY_PEM "-----BEGIN PRIVATE KEY-----\nMAMCAQU=\n-----END PRIVATE KEY-----\n"

/* clang-format off */
static const struct bad_case cases[] = {
    /* ---- PKI_CertificateAdd */
    { .desc = "CertAdd NULL entry", .call = cert_add_null,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd NULL file name", .call = cert_add, .file = NULL, .fmt = PEM,
      .type = TU_ROOT, .id = "b-null-file", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd missing file", .call = cert_add, .file = "/nonexistent/chipssl/x.pem",
      .fmt = PEM, .type = TU_ROOT, .id = "b-missing", .want_ret = -1, .want_err = API_ENOENT },
    { .desc = "CertAdd missing DER file", .call = cert_add, .file = "no-such-file.der",
      .fmt = DER, .type = PKI_CERT_NONLOCAL, .id = "b-missing2", .want_ret = -1,
      .want_err = API_ENOENT },
    { .desc = "CertAdd format 0", .call = cert_add, .file = "ca.pem", .fmt = 0,
      .type = TU_ROOT, .id = "b-fmt0", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd format 0x08", .call = cert_add, .file = "ca.pem", .fmt = 0x08,
      .type = TU_ROOT, .id = "b-fmt8", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd format PEM|DER", .call = cert_add, .file = "ca.pem",
      .fmt = PEM | DER, .type = TU_ROOT, .id = "b-fmt3", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd format MEMORY alone", .call = cert_add, .mem = NOTCERT_PEM,
      .fmt = MEM, .type = TU_ROOT, .id = "b-fmt4", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd certType 0", .call = cert_add, .file = "ca.pem", .fmt = PEM,
      .type = 0, .id = "b-type0", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd certType 0x03", .call = cert_add, .file = "ca.pem", .fmt = PEM,
      .type = 0x03, .id = "b-type3", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd certType 0x08 (root bit alone)", .call = cert_add, .file = "ca.pem",
      .fmt = PEM, .type = 0x08, .id = "b-type8", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd certType 0x09", .call = cert_add, .file = "ca.pem", .fmt = PEM,
      .type = 0x09, .id = "b-type9", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd certType 0x10", .call = cert_add, .file = "ca.pem", .fmt = PEM,
      .type = 0x10, .id = "b-type10", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd certType -1", .call = cert_add, .file = "ca.pem", .fmt = PEM,
      .type = -1, .id = "b-typem1", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd idLength 0", .call = cert_add_idlen, .a = 0,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd idLength -1", .call = cert_add_idlen, .a = -1,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd idLength INT_MIN", .call = cert_add_idlen, .a = INT_MIN,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd idLength MAX+1", .call = cert_add_idlen, .a = CHIPSSL_MAX_ID_LEN + 1,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd NULL idPtr", .call = cert_add, .file = "ca.pem", .fmt = PEM,
      .type = TU_ROOT, .id = NULL, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd garbage PEM in memory", .call = cert_add, .mem = GARBAGE_PEM,
      .fmt = PEM | MEM, .type = TU_ROOT, .id = "b-garbage1", .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "CertAdd PEM of a non-certificate", .call = cert_add, .mem = NOTCERT_PEM,
      .fmt = PEM | MEM, .type = PKI_CERT_NONLOCAL, .id = "b-garbage2", .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "CertAdd text without PEM", .call = cert_add, .mem = "hello, world\n",
      .fmt = PEM | MEM, .type = PKI_CERT_NONLOCAL, .id = "b-garbage3", .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "CertAdd empty PEM string", .call = cert_add, .mem = "",
      .fmt = PEM | MEM, .type = PKI_CERT_NONLOCAL, .id = "b-garbage4", .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "CertAdd garbage DER in memory", .call = cert_add,
      .mem = "\x30\x03\x02\x01\x05", .fmt = DER | MEM, .type = PKI_CERT_NONLOCAL,
      .id = "b-garbage5", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd DER not a SEQUENCE", .call = cert_add, .mem = "\x04\x01\x00",
      .fmt = DER | MEM, .type = PKI_CERT_NONLOCAL, .id = "b-garbage6", .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "CertAdd DER length above CHIPSSL_MAX_PKI_FILE", .call = cert_add,
      .mem = "\x30\x84\x7f\xff\xff\xff\x00\x00\x00\x00", .fmt = DER | MEM,
      .type = PKI_CERT_NONLOCAL, .id = "b-garbage7", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd DER indefinite length", .call = cert_add,
      .mem = "\x30\x80\x00\x00", .fmt = DER | MEM, .type = PKI_CERT_NONLOCAL,
      .id = "b-garbage8", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd DER file read as PEM", .call = cert_add, .file = "ca.der",
      .fmt = PEM, .type = TU_ROOT, .id = "b-derpem", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd PEM file read as DER", .call = cert_add, .file = "ca.pem",
      .fmt = DER, .type = TU_ROOT, .id = "b-pemder", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd key file as certificate", .call = cert_add, .file = "server.key",
      .fmt = PEM, .type = PKI_CERT_NONLOCAL, .id = "b-keycert", .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "CertAdd certificate as CRL", .call = cert_add, .file = "ca.pem",
      .fmt = PEM, .type = PKI_CERT_CRL, .id = "b-certcrl", .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "CertAdd duplicate ID", .call = cert_add, .file = "ca.pem", .fmt = PEM,
      .type = TU_ROOT, .id = "ca", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertAdd duplicate ID, other file", .call = cert_add, .file = "server.pem",
      .fmt = PEM, .type = PKI_CERT_NONLOCAL, .id = "ca", .caid = "ca", .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "CertAdd LOCAL without pending key", .call = cert_add, .file = "server.pem",
      .fmt = PEM, .type = PKI_CERT_LOCAL, .id = "b-nokey", .caid = "ca", .want_ret = -1,
      .want_flags = PKI_CERT_BADCERT | PKI_CERT_KEYMISMATCH },
    { .desc = "CertAdd caIdPtr naming nothing", .call = cert_add, .file = "server.pem",
      .fmt = PEM, .type = PKI_CERT_NONLOCAL, .id = "b-noca", .caid = "no-such-ca",
      .want_ret = -1, .want_flags = PKI_CERT_BADCERT | PKI_CERT_UNKNOWNCA },
    { .desc = "CertAdd root CA that is a self-signed leaf", .call = cert_add,
      .file = "selfsigned.pem", .fmt = PEM, .type = TU_ROOT, .id = "b-selfroot",
      .want_ret = -1, .want_flags = PKI_CERT_BADCERT },
    { .desc = "CertAdd root CA that is not a CA", .call = cert_add, .file = "notca.pem",
      .fmt = PEM, .type = TU_ROOT, .id = "b-notca", .want_ret = -1,
      .want_flags = PKI_CERT_BADCERT },

    /* ---- PKI_CertificateDel */
    { .desc = "CertDel NULL id", .call = cert_del, .id = NULL, .type = 0x03,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertDel unknown id", .call = cert_del, .id = "no-such-id", .type = 0x03,
      .want_ret = -1, .want_err = API_ENOENT },
    { .desc = "CertDel existing id, other list", .call = cert_del, .id = "ca",
      .type = PKI_CERT_LOCAL, .want_ret = -1, .want_err = API_ENOENT },
    { .desc = "CertDel certType 0", .call = cert_del, .id = "ca", .type = 0,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertDel certType 0x04 (no list bit)", .call = cert_del, .id = "ca",
      .type = PKI_CERT_CRL, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "CertDel certType 0x08 (no list bit)", .call = cert_del, .id = "ca",
      .type = PKI_CERT_ROOTCA, .want_ret = -1, .want_err = API_EINVAL },

    /* ---- PKI_OwnKeyPairAdd */
    { .desc = "KeyAdd NULL entry", .call = key_add_null, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "KeyAdd NULL file name", .call = key_add, .file = NULL, .fmt = PEM,
      .type = PKI_KEY_RSA, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd missing file", .call = key_add, .file = "/nonexistent/chipssl/k.key",
      .fmt = PEM, .type = PKI_KEY_RSA, .want_ret = -1, .want_err = API_ENOENT },
    { .desc = "KeyAdd DSA as DSA", .call = key_add, .file = "dsa.key", .fmt = PEM,
      .type = PKI_KEY_DSA, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd DSA as RSA", .call = key_add, .file = "dsa.key", .fmt = PEM,
      .type = PKI_KEY_RSA, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd weak RSA 1024", .call = key_add, .file = "weak-rsa1024.key",
      .fmt = PEM, .type = PKI_KEY_RSA, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd RSA declared EC", .call = key_add, .file = "server.key", .fmt = PEM,
      .type = PKI_KEY_EC, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd EC declared RSA", .call = key_add, .file = "server-ec.key",
      .fmt = PEM, .type = PKI_KEY_RSA, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd Ed25519 declared EC", .call = key_add, .file = "ed25519.key",
      .fmt = PEM, .type = PKI_KEY_EC, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd EC declared Ed25519", .call = key_add, .file = "server-ec.key",
      .fmt = PEM, .type = PKI_KEY_ED25519, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd encrypted PKCS#8", .call = key_add, .file = "encrypted.key",
      .fmt = PEM, .type = PKI_KEY_RSA, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd keyType 7", .call = key_add, .file = "server.key", .fmt = PEM,
      .type = 7, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd keyType -1", .call = key_add, .file = "server.key", .fmt = PEM,
      .type = -1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd format 0", .call = key_add, .file = "server.key", .fmt = 0,
      .type = PKI_KEY_RSA, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd format 0x08", .call = key_add, .file = "server.key", .fmt = 0x08,
      .type = PKI_KEY_RSA, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd PEM file read as DER", .call = key_add, .file = "server.key",
      .fmt = DER, .type = PKI_KEY_RSA, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd certificate as key", .call = key_add, .file = "ca.pem", .fmt = PEM,
      .type = PKI_KEY_RSA, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd garbage PEM in memory", .call = key_add, .mem = NOTKEY_PEM,
      .fmt = PEM | MEM, .type = PKI_KEY_RSA, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd garbage DER in memory", .call = key_add,
      .mem = "\x30\x03\x02\x01\x05", .fmt = DER | MEM, .type = PKI_KEY_RSA,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "KeyAdd empty memory", .call = key_add, .mem = "", .fmt = PEM | MEM,
      .type = PKI_KEY_RSA, .want_ret = -1, .want_err = API_EINVAL },
    /* none of the failed key adds may have left a pending key behind */
    { .desc = "CertAdd LOCAL after failed key adds", .call = cert_add,
      .file = "server.pem", .fmt = PEM, .type = PKI_CERT_LOCAL, .id = "b-nokey2",
      .caid = "ca", .want_ret = -1, .want_flags = PKI_CERT_BADCERT },

    /* ---- PKI_RootCABundleAdd (extension) */
    { .desc = "BundleAdd missing file", .call = bundle_add,
      .file = "/nonexistent/chipssl/bundle.pem", .id = "b-bundle:", .want_ret = -1,
      .want_err = API_ENOENT },
    { .desc = "BundleAdd file without certificates", .call = bundle_add,
      .file = "server.key", .id = "b-bundle:", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "BundleAdd prefix too long", .call = bundle_long_prefix, .want_ret = -1,
      .want_err = API_EINVAL },

    /* ---- SSL_SessionNew */
    { .desc = "SessionNew NULL entry", .call = sess_new_null, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "SessionNew version 0", .call = sess_new, .a = 0, .b = 0,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionNew version 0x20", .call = sess_new, .a = 0, .b = 0x20,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionNew version 0x28", .call = sess_new, .a = 0, .b = 0x28,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionNew version -1", .call = sess_new, .a = 0, .b = -1,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionNew unknown certIdentity", .call = sess_new, .id = "no-such-cert",
      .a = 0, .b = SSL_VERSION_TLS12, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionNew certIdentity of a non-local cert", .call = sess_new, .id = "ca",
      .a = 0, .b = SSL_VERSION_TLS12, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionNew maxCaches -1", .call = sess_new, .a = -1,
      .b = SSL_VERSION_TLS12, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionNew maxCaches MAX+1", .call = sess_new, .a = CHIPSSL_MAX_CACHES + 1,
      .b = SSL_VERSION_TLS12, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionNew maxCaches MAX (valid)", .call = sess_new,
      .a = CHIPSSL_MAX_CACHES, .b = SSL_VERSION_TLS12, .want_ret = 0, .want_err = 0 },
    { .desc = "SessionNew version 3 (valid, obsolete bits)", .call = sess_new, .a = 0,
      .b = 3, .want_ret = 0, .want_err = 0 },
    { .desc = "SessionNew table full", .call = sess_new_exhaust, .want_ret = -1,
      .want_err = API_ENOENT },

    /* ---- SSL_SessionClose */
    { .desc = "SessionClose 0", .call = sess_close, .sid = SID_ZERO, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "SessionClose -1", .call = sess_close, .sid = -1, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "SessionClose 9999", .call = sess_close, .sid = 9999, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "SessionClose MAX+1", .call = sess_close, .sid = CHIPSSL_MAX_SESSIONS + 1,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionClose INT_MAX", .call = sess_close, .sid = INT_MAX, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "SessionClose twice", .call = sess_close_twice, .want_ret = -1,
      .want_err = API_EINVAL },

    /* ---- SSL_SessionProp */
    { .desc = "SessionProp count 0", .call = sess_prop, .props = (const int[]){ 0x1301 },
      .a = 0, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp count -1", .call = sess_prop, .props = (const int[]){ 0x1301 },
      .a = -1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp count MAX+1", .call = sess_prop_too_many, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "SessionProp NULL list", .call = sess_prop, .props = NULL, .a = 1,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp unknown session", .call = sess_prop, .sid = 9999,
      .props = (const int[]){ 0x1301 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp session 0", .call = sess_prop, .sid = SID_ZERO,
      .props = (const int[]){ 0x1301 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp unknown suite 0x1234", .call = sess_prop,
      .props = (const int[]){ 0x1234 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp suite -1", .call = sess_prop,
      .props = (const int[]){ -1 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp suite 0x11301", .call = sess_prop,
      .props = (const int[]){ 0x11301 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp RC4-MD5 0x0004", .call = sess_prop,
      .props = (const int[]){ 0x0004 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp RC4-SHA 0x0005", .call = sess_prop,
      .props = (const int[]){ 0x0005 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp 3DES 0x000A", .call = sess_prop,
      .props = (const int[]){ 0x000A }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp ECDHE-RSA-3DES 0xC012", .call = sess_prop,
      .props = (const int[]){ 0xC012 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp NULL-NULL 0x0000", .call = sess_prop,
      .props = (const int[]){ 0x0000 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp NULL-SHA256 0x003B", .call = sess_prop,
      .props = (const int[]){ 0x003B }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp ECDHE-RSA-NULL 0xC010", .call = sess_prop,
      .props = (const int[]){ 0xC010 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp ADH-RC4 0x0018", .call = sess_prop,
      .props = (const int[]){ 0x0018 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp DH-anon-AES128-GCM 0x00A6", .call = sess_prop,
      .props = (const int[]){ 0x00A6 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp ADH-AES128-SHA 0x0034", .call = sess_prop,
      .props = (const int[]){ 0x0034 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp AECDH-AES128-SHA 0xC018", .call = sess_prop,
      .props = (const int[]){ 0xC018 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp EXPORT-RC4-40 0x0003", .call = sess_prop,
      .props = (const int[]){ 0x0003 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp EXPORT-DES40 0x0008", .call = sess_prop,
      .props = (const int[]){ 0x0008 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp DES-CBC 0x0009", .call = sess_prop,
      .props = (const int[]){ 0x0009 }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp SCSV 0x00FF", .call = sess_prop,
      .props = (const int[]){ 0x00FF }, .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp good then insecure", .call = sess_prop,
      .props = (const int[]){ 0x1301, 0xC02F, 0x0004 }, .a = 3, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "SessionProp duplicate", .call = sess_prop,
      .props = (const int[]){ 0xC02F, 0x1301, 0xC02F }, .a = 3, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "SessionProp TLS1.3-only session, only 1.2 suites", .call = sess_prop_version,
      .b = SSL_VERSION_TLS13, .props = (const int[]){ 0xC02F, 0xC030 }, .a = 2,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp TLS1.2-only session, only 1.3 suites", .call = sess_prop_version,
      .b = SSL_VERSION_TLS12, .props = (const int[]){ 0x1301 }, .a = 1,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionProp valid list (control)", .call = sess_prop,
      .props = (const int[]){ 0x1301, 0xC02F, 0x002F }, .a = 3, .want_ret = 0,
      .want_err = 0 },

    /* ---- SSL_SessionOpt */
    { .desc = "SessionOpt option 0", .call = sess_opt, .a = 0, .b = 1, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "SessionOpt option 4", .call = sess_opt, .a = 4, .b = 1, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "SessionOpt option -1", .call = sess_opt, .a = -1, .b = 0, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "SessionOpt value 2", .call = sess_opt, .a = SSL_OPT_CLIENT_AUTH, .b = 2,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionOpt value -1", .call = sess_opt, .a = SSL_OPT_SERVER_PROPOSALS,
      .b = -1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionOpt unknown session", .call = sess_opt, .sid = 9999,
      .a = SSL_OPT_SKIP_CERT_VALIDATION, .b = 0, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionOpt session 0", .call = sess_opt, .sid = SID_ZERO,
      .a = SSL_OPT_SKIP_CERT_VALIDATION, .b = 0, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SessionOpt option 2 off (control)", .call = sess_opt,
      .a = SSL_OPT_SERVER_PROPOSALS, .b = 0, .want_ret = 0, .want_err = 0 },

    /* ---- SSL_AddClientCA */
    { .desc = "AddClientCA option 1 off", .call = add_client_ca, .id = "ca",
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "AddClientCA unknown CA", .call = add_client_ca, .sid = SID_AUTH,
      .id = "no-such-ca", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "AddClientCA NULL CA", .call = add_client_ca, .sid = SID_AUTH,
      .id = NULL, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "AddClientCA unknown session", .call = add_client_ca, .sid = 9999,
      .id = "ca", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "AddClientCA session 0", .call = add_client_ca, .sid = SID_ZERO,
      .id = "ca", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "AddClientCA ID of a LOCAL certificate", .call = add_client_ca,
      .sid = SID_AUTH, .id = "srv", .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "AddClientCA ID of a non-CA certificate", .call = add_client_ca_leaf,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "AddClientCA valid (control)", .call = add_client_ca, .sid = SID_AUTH,
      .id = "ca", .want_ret = 0, .want_err = 0 },
    { .desc = "AddClientCA same CA repeated, then MAX+1 distinct", .call = add_client_ca_many,
      .want_ret = -1, .want_err = API_ENOBUFS },

    /* ---- opensocket / closesocket */
    { .desc = "opensocket type 99", .call = s_opensocket, .a = 99, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "opensocket type 0", .call = s_opensocket, .a = 0, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "opensocket_ext family 99", .call = s_opensocket_ext, .a = 99,
      .b = SOCK_STREAM, .want_ret = -1, .want_err = API_EAFNOSUPPORT },
    { .desc = "opensocket_ext AF_UNIX", .call = s_opensocket_ext, .a = AF_UNIX,
      .b = SOCK_STREAM, .want_ret = -1, .want_err = API_EAFNOSUPPORT },
    { .desc = "opensocket_ext type 99", .call = s_opensocket_ext, .a = AF_INET6,
      .b = 99, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "closesocket -1", .call = s_closesocket, .fd = FD_MINUS1, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "closesocket closed fd", .call = s_closesocket, .fd = FD_CLOSED,
      .want_ret = -1, .want_err = API_EBADF },
    { .desc = "closesocket INT_MAX", .call = s_closesocket, .fd = FD_HUGE,
      .want_ret = -1, .want_err = API_EBADF },
    { .desc = "closesocket twice", .call = s_closesocket_twice, .want_ret = -1,
      .want_err = API_EBADF },

    /* ---- bad descriptors in the socket calls */
    { .desc = "bind -1", .call = s_bind, .fd = FD_MINUS1, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "bind closed fd", .call = s_bind, .fd = FD_CLOSED, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "bind pipe", .call = s_bind, .fd = FD_PIPE, .want_ret = -1,
      .want_err = API_ENOTSOCK },
    { .desc = "bind NULL address", .call = s_addr_call, .a = 0, .b = 0, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "bind address of family 99", .call = s_addr_call, .a = 0, .b = 1,
      .want_ret = -1, .want_err = API_EAFNOSUPPORT },
    { .desc = "bind address of family AF_UNIX", .call = s_addr_call, .a = 0, .b = 2,
      .want_ret = -1, .want_err = API_EAFNOSUPPORT },
    { .desc = "connect -1", .call = s_connect, .fd = FD_MINUS1, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "connect closed fd", .call = s_connect, .fd = FD_CLOSED, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "connect pipe", .call = s_connect, .fd = FD_PIPE, .want_ret = -1,
      .want_err = API_ENOTSOCK },
    { .desc = "connect NULL address", .call = s_addr_call, .a = 1, .b = 0, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "connect address of family 99", .call = s_addr_call, .a = 1, .b = 1,
      .want_ret = -1, .want_err = API_EAFNOSUPPORT },
    { .desc = "connect address of family AF_UNIX", .call = s_addr_call, .a = 1, .b = 2,
      .want_ret = -1, .want_err = API_EAFNOSUPPORT },
    { .desc = "listen -1", .call = s_listen, .fd = FD_MINUS1, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "listen closed fd", .call = s_listen, .fd = FD_CLOSED, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "listen pipe", .call = s_listen, .fd = FD_PIPE, .want_ret = -1,
      .want_err = API_ENOTSOCK },
    { .desc = "accept -1", .call = s_accept, .fd = FD_MINUS1, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "accept closed fd", .call = s_accept, .fd = FD_CLOSED, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "accept pipe", .call = s_accept, .fd = FD_PIPE, .want_ret = -1,
      .want_err = API_ENOTSOCK },
    { .desc = "send -1", .call = s_send, .fd = FD_MINUS1, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "send closed fd", .call = s_send, .fd = FD_CLOSED, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "send INT_MAX fd", .call = s_send, .fd = FD_HUGE, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "send pipe", .call = s_send, .fd = FD_PIPE, .want_ret = -1,
      .want_err = API_ENOTSOCK },
    { .desc = "send len -1", .call = s_send, .fd = FD_CONN, .a = -1, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "recv -1", .call = s_recv, .fd = FD_MINUS1, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "recv closed fd", .call = s_recv, .fd = FD_CLOSED, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "recv pipe", .call = s_recv, .fd = FD_PIPE, .want_ret = -1,
      .want_err = API_ENOTSOCK },
    { .desc = "recv NULL buffer", .call = s_recv_args, .a = 16, .b = 1, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "recv len 0", .call = s_recv_args, .a = 0, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "recv len -1", .call = s_recv_args, .a = -1, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "recv NULL buffer, len 0", .call = s_recv_args, .a = 0, .b = 1,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "shutdown -1", .call = s_shutdown, .fd = FD_MINUS1, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "shutdown closed fd", .call = s_shutdown, .fd = FD_CLOSED, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "shutdown pipe", .call = s_shutdown, .fd = FD_PIPE, .want_ret = -1,
      .want_err = API_ENOTSOCK },
    { .desc = "shutdown how 3", .call = s_shutdown_how, .a = 3, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "shutdown how -1", .call = s_shutdown_how, .a = -1, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "shutdown how 1 (control)", .call = s_shutdown_how, .a = 1, .want_ret = 0,
      .want_err = 0 },
    { .desc = "Set_Blocking_Mode -1", .call = s_blocking, .fd = FD_MINUS1,
      .want_ret = -1, .want_err = API_EBADF },
    { .desc = "Set_Blocking_Mode closed fd", .call = s_blocking, .fd = FD_CLOSED,
      .want_ret = -1, .want_err = API_EBADF },
    { .desc = "Set_Blocking_Mode 2", .call = s_blocking_mode, .a = 2, .want_ret = -1,
      .want_err = API_EINVAL },
    { .desc = "Set_Blocking_Mode 0xFFFFFFFF", .call = s_blocking_mode, .a = -1,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "Set_Blocking_Mode 0 (control)", .call = s_blocking_mode, .a = 0,
      .want_ret = 0, .want_err = 0 },
    { .desc = "get_socketerror -1", .call = s_socketerror, .fd = FD_MINUS1,
      .want_ret = -1, .no_error = 1 },
    { .desc = "get_socketerror closed fd", .call = s_socketerror, .fd = FD_CLOSED,
      .want_ret = -1, .no_error = 1 },

    /* ---- setsockopt / getsockopt */
    { .desc = "setsockopt -1", .call = s_setopt, .fd = FD_MINUS1, .type = TCP_SSL_CLIENT,
      .a = 1, .want_ret = -1, .want_err = API_EBADF },
    { .desc = "setsockopt closed fd", .call = s_setopt, .fd = FD_CLOSED,
      .type = TCP_SSL_CLIENT, .a = 1, .want_ret = -1, .want_err = API_EBADF },
    { .desc = "setsockopt pipe", .call = s_setopt, .fd = FD_PIPE, .type = TCP_SSL_CLIENT,
      .a = 1, .want_ret = -1, .want_err = API_ENOTSOCK },
    { .desc = "setsockopt optionLength 2", .call = s_setopt_len,
      .type = TCP_SSL_SEND_MAX_SIZE, .a = 2, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt optionLength 8", .call = s_setopt_len,
      .type = TCP_SSL_SEND_MAX_SIZE, .a = 8, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt optionLength 0", .call = s_setopt_len, .type = TCP_SSL_CLIENT,
      .a = 0, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt optionLength -4", .call = s_setopt_len, .type = TCP_SSLSESSION,
      .a = -4, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt NULL optionValue", .call = s_setopt_nullvalue,
      .type = TCP_SSL_CLIENT, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt NULL option block", .call = s_setopt_nullblock,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt CLIENT then SERVER", .call = s_setopt_both, .a = 0,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt SERVER then CLIENT", .call = s_setopt_both, .a = 1,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt TCP_SSLSESSION 9999", .call = s_setopt_fresh,
      .type = TCP_SSLSESSION, .a = 9999, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt TCP_SSLSESSION 0", .call = s_setopt_fresh,
      .type = TCP_SSLSESSION, .a = 0, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt TCP_SSLSESSION -1", .call = s_setopt_fresh,
      .type = TCP_SSLSESSION, .a = -1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt TCP_SSLSESSION of a closed session",
      .call = s_setopt_closed_session, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt SEND_MAX_SIZE 99", .call = s_setopt_fresh,
      .type = TCP_SSL_SEND_MAX_SIZE, .a = 99, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt SEND_MAX_SIZE 16385", .call = s_setopt_fresh,
      .type = TCP_SSL_SEND_MAX_SIZE, .a = 16385, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt SEND_MAX_SIZE 0", .call = s_setopt_fresh,
      .type = TCP_SSL_SEND_MAX_SIZE, .a = 0, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt SEND_MAX_SIZE 100 (valid)", .call = s_setopt_fresh,
      .type = TCP_SSL_SEND_MAX_SIZE, .a = 100, .want_ret = 0, .want_err = 0 },
    { .desc = "setsockopt SEND_MAX_SIZE 16384 (valid)", .call = s_setopt_fresh,
      .type = TCP_SSL_SEND_MAX_SIZE, .a = 16384, .want_ret = 0, .want_err = 0 },
    { .desc = "setsockopt SEND_MIN_SIZE -1", .call = s_setopt_fresh,
      .type = TCP_SSL_SEND_MIN_SIZE, .a = -1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt SEND_MIN_SIZE 16385", .call = s_setopt_fresh,
      .type = TCP_SSL_SEND_MIN_SIZE, .a = 16385, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "setsockopt unknown level-6 option", .call = s_setopt_fresh,
      .type = 0x4020, .a = 1, .want_ret = -1, .want_err = API_ENOPROTOOPT },
    { .desc = "getsockopt -1", .call = s_getopt, .fd = FD_MINUS1, .type = TCP_SSLSESSION,
      .want_ret = -1, .want_err = API_EBADF },
    { .desc = "getsockopt closed fd", .call = s_getopt, .fd = FD_CLOSED,
      .type = TCP_SSLSESSION, .want_ret = -1, .want_err = API_EBADF },
    { .desc = "getsockopt pipe", .call = s_getopt, .fd = FD_PIPE, .type = TCP_SSLSESSION,
      .want_ret = -1, .want_err = API_ENOTSOCK },
    { .desc = "getsockopt buffer of 2 bytes", .call = s_getopt, .fd = FD_SSLCLI,
      .type = TCP_SSLSESSION, .b = 2, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "getsockopt NULL optionLength", .call = s_getopt_nulllen,
      .type = TCP_SSLSESSION, .want_ret = -1, .want_err = API_EINVAL },

    /* ---- SSL_ClientStart */
    { .desc = "ClientStart -1", .call = ssl_client_start, .fd = FD_MINUS1,
      .id = "localhost", .want_ret = -1, .want_err = API_EBADF },
    { .desc = "ClientStart closed fd", .call = ssl_client_start, .fd = FD_CLOSED,
      .id = "localhost", .want_ret = -1, .want_err = API_EBADF },
    { .desc = "ClientStart pipe", .call = ssl_client_start, .fd = FD_PIPE,
      .id = "localhost", .want_ret = -1, .want_err = API_ENOTSOCK },
    { .desc = "ClientStart connected, no SSL options", .call = ssl_client_start,
      .fd = FD_CONN, .id = "localhost", .want_ret = -1, .want_err = API_EPERM },
    { .desc = "ClientStart TCP_SSL_CLIENT without session", .call = ssl_client_start_fresh,
      .a = 1, .id = "localhost", .want_ret = -1, .want_err = API_EPERM },
    { .desc = "ClientStart session without TCP_SSL_CLIENT", .call = ssl_client_start_fresh,
      .a = 4, .id = "localhost", .want_ret = -1, .want_err = API_EPERM },
    { .desc = "ClientStart on a server socket", .call = ssl_client_start_fresh,
      .a = 2 | 4, .id = "localhost", .want_ret = -1, .want_err = API_EPERM },
    { .desc = "ClientStart not connected", .call = ssl_client_start, .fd = FD_SSLCLI,
      .id = "localhost", .want_ret = -1, .want_err = API_ENOTCONN },
    { .desc = "ClientStart session closed since binding",
      .call = ssl_client_start_closed_session, .want_ret = -1, .want_err = API_ENOENT },
    { .desc = "ClientStart twice", .call = ssl_client_start_twice, .want_ret = -1,
      .want_err = API_EALREADY },
    { .desc = "ClientStart name of 256 characters", .call = ssl_client_start_longname,
      .a = 256, .want_ret = -1, .want_err = API_EINVAL },

    /* ---- SSL_HandshakeComplete (no error argument) */
    { .desc = "HandshakeComplete -1", .call = ssl_hs_complete, .fd = FD_MINUS1,
      .want_ret = -2, .no_error = 1 },
    { .desc = "HandshakeComplete closed fd", .call = ssl_hs_complete, .fd = FD_CLOSED,
      .want_ret = -2, .no_error = 1 },
    { .desc = "HandshakeComplete INT_MAX", .call = ssl_hs_complete, .fd = FD_HUGE,
      .want_ret = -2, .no_error = 1 },
    { .desc = "HandshakeComplete pipe", .call = ssl_hs_complete, .fd = FD_PIPE,
      .want_ret = -1, .no_error = 1 },
    { .desc = "HandshakeComplete UDP socket", .call = ssl_hs_complete, .fd = FD_UDP,
      .want_ret = -1, .no_error = 1 },
    { .desc = "HandshakeComplete plain TCP socket", .call = ssl_hs_complete, .fd = FD_TCP,
      .want_ret = 0, .no_error = 1 },
    { .desc = "HandshakeComplete connected plain TCP", .call = ssl_hs_complete,
      .fd = FD_CONN, .want_ret = 0, .no_error = 1 },
    { .desc = "HandshakeComplete client before ClientStart", .call = ssl_hs_complete,
      .fd = FD_SSLCLI, .want_ret = 0, .no_error = 1 },

    /* ---- SSL_SendFlush / SSL_ConnClose */
    { .desc = "SendFlush -1", .call = ssl_send_flush, .fd = FD_MINUS1, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "SendFlush closed fd", .call = ssl_send_flush, .fd = FD_CLOSED,
      .want_ret = -1, .want_err = API_EBADF },
    { .desc = "SendFlush plain TCP", .call = ssl_send_flush, .fd = FD_TCP,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SendFlush connected plain TCP", .call = ssl_send_flush, .fd = FD_CONN,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "SendFlush SSL socket not established", .call = ssl_send_flush,
      .fd = FD_SSLCLI, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "ConnClose -1", .call = ssl_conn_close, .fd = FD_MINUS1, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "ConnClose closed fd", .call = ssl_conn_close, .fd = FD_CLOSED,
      .want_ret = -1, .want_err = API_EBADF },
    { .desc = "ConnClose plain TCP", .call = ssl_conn_close, .fd = FD_TCP,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "ConnClose connected plain TCP", .call = ssl_conn_close, .fd = FD_CONN,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "ConnClose SSL socket not established", .call = ssl_conn_close,
      .fd = FD_SSLCLI, .want_ret = -1, .want_err = API_EINVAL },

    /* ---- SSL_GetConnState / SSL_GetProblem / SSL_GetWaitEvents */
    { .desc = "GetConnState NULL pointer", .call = ssl_conn_state, .fd = FD_SSLCLI,
      .a = 1, .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "GetConnState plain TCP", .call = ssl_conn_state, .fd = FD_TCP,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "GetConnState -1", .call = ssl_conn_state, .fd = FD_MINUS1,
      .want_ret = -1, .want_err = API_EBADF },
    { .desc = "GetConnState closed fd", .call = ssl_conn_state, .fd = FD_CLOSED,
      .want_ret = -1, .want_err = API_EBADF },
    { .desc = "Get_ConnState alias -1", .call = ssl_conn_state_alias, .fd = FD_MINUS1,
      .want_ret = -1, .want_err = API_EBADF },
    { .desc = "GetProblem NULL pointer", .call = ssl_problem, .fd = FD_SSLCLI, .a = 1,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "GetProblem plain TCP", .call = ssl_problem, .fd = FD_TCP,
      .want_ret = -1, .want_err = API_EINVAL },
    { .desc = "GetProblem -1", .call = ssl_problem, .fd = FD_MINUS1, .want_ret = -1,
      .want_err = API_EBADF },
    { .desc = "GetWaitEvents -1", .call = ssl_wait_events, .fd = FD_MINUS1,
      .want_ret = -1, .want_err = API_EBADF },
    { .desc = "GetWaitEvents closed fd", .call = ssl_wait_events, .fd = FD_CLOSED,
      .want_ret = -1, .want_err = API_EBADF },

    /* ---- address helpers (no error argument) */
    { .desc = "inet_addr garbage", .call = s_inet_addr, .id = "garbage", .want_ret = -1,
      .no_error = 1 },
    { .desc = "inet_addr empty", .call = s_inet_addr, .id = "", .want_ret = -1,
      .no_error = 1 },
    { .desc = "inet_addr 1.2.3.256", .call = s_inet_addr, .id = "1.2.3.256",
      .want_ret = -1, .no_error = 1 },
    { .desc = "inet_addr 1.2.3.4.5", .call = s_inet_addr, .id = "1.2.3.4.5",
      .want_ret = -1, .no_error = 1 },
    { .desc = "inet_addr trailing junk", .call = s_inet_addr, .id = "127.0.0.1x",
      .want_ret = -1, .no_error = 1 },
    { .desc = "inet_addr IPv6 literal", .call = s_inet_addr, .id = "::1",
      .want_ret = -1, .no_error = 1 },
    { .desc = "inet_addr 255.255.255.255 (valid)", .call = s_inet_addr_bcast,
      .id = "255.255.255.255", .want_ret = 0, .no_error = 1 },
    { .desc = "inet_addr 127.0.0.1 (valid)", .call = s_inet_addr, .id = "127.0.0.1",
      .want_ret = 0, .no_error = 1 },
    { .desc = "InetToAscii NULL address", .call = s_inet_to_ascii_null, .want_ret = -1,
      .no_error = 1 },
    { .desc = "InetToAscii NULL string", .call = s_inet_to_ascii_nullstr, .want_ret = -1,
      .no_error = 1 },

    /* ---- resolver (no error argument) */
    { .desc = "getHostByName NULL name", .call = s_gethost, .id = NULL, .a = 4,
      .want_ret = 0, .no_error = 1 },
    { .desc = "getHostByName maxAddrs 0", .call = s_gethost, .id = "127.0.0.1", .a = 0,
      .want_ret = 0, .no_error = 1 },
    { .desc = "getHostByName maxAddrs -1", .call = s_gethost, .id = "127.0.0.1", .a = -1,
      .want_ret = 0, .no_error = 1 },
    { .desc = "getHostByName NULL addrs", .call = s_gethost, .id = "127.0.0.1", .a = 4,
      .b = 1, .want_ret = 0, .no_error = 1 },
    /* RFC 6761 6.4: .invalid never resolves (a host without DNS answers
     * at once; one with a DNS server may take its resolver timeout) */
    { .desc = "getHostByName nonexistent.invalid", .call = s_gethost,
      .id = "nonexistent.invalid", .a = 4, .want_ret = 0, .no_error = 1 },
    { .desc = "getHostByName empty name", .call = s_gethost, .id = "", .a = 4,
      .want_ret = 0, .no_error = 1 },
    { .desc = "getHostByName 127.0.0.1, maxAddrs 1 (control)", .call = s_gethost,
      .id = "127.0.0.1", .a = 1, .want_ret = 1, .no_error = 1 },
    { .desc = "getHostByName 127.0.0.1 (control)", .call = s_gethost_loopback,
      .id = "127.0.0.1", .want_ret = 1, .no_error = 1 },
    { .desc = "setNameServer IPv4 address", .call = s_setnameserver, .a = 0,
      .want_ret = 0, .no_error = 1 },
    { .desc = "setNameServer IPv6, NULL address", .call = s_setnameserver, .a = 1,
      .want_ret = 0, .no_error = 1 },
};
/* clang-format on */

/* ------------------------------------------------------------------- runner */

static void run_case(void **state)
{
    const struct bad_case *c = *state;
    int error = 0x7A7A; /* must be overwritten */
    int ret = c->call(c, &error);

    if (ret != c->want_ret)
        fail_msg("%s: returned %d, want %d (*error %d)", c->desc, ret, c->want_ret, error);
    if (c->no_error)
        return;
    if (c->want_flags != 0) {
        if (error >= 0x80 || (error & c->want_flags) != c->want_flags)
            fail_msg("%s: *error 0x%x, want PKI_CERT flags with 0x%x set", c->desc, (unsigned)error,
                     (unsigned)c->want_flags);
    } else if (error != c->want_err) {
        fail_msg("%s: *error %d, want %d", c->desc, error, c->want_err);
    }
}

static int group_setup(void **state)
{
    SSL_SESSION_NEW_Entry se;
    int err, p[2];

    (void)state;
    if (tu_pki_add(&tu_pki_srv) != 0)
        return -1;
    se.certIdentity = NULL;
    se.maxCaches = 0;
    se.version = SSL_VERSION_TLS12 | SSL_VERSION_TLS13;
    g_sid = SSL_SessionNew(&se, &err);
    se.certIdentity = "srv";
    g_sid_auth = SSL_SessionNew(&se, &err);
    if (g_sid < 1 || g_sid_auth < 1 ||
        SSL_SessionOpt(g_sid_auth, SSL_OPT_CLIENT_AUTH, 1, &err) != 0) {
        print_error("setup: sessions failed (%d)\n", err);
        return -1;
    }
    if (pipe(g_pipe) != 0)
        return -1;
    /* a descriptor number far above what the rows open, then closed */
    if (pipe(p) != 0)
        return -1;
    g_closed_fd = fcntl(p[0], F_DUPFD, 700);
    close(p[0]);
    close(p[1]);
    if (g_closed_fd < 0)
        return -1;
    close(g_closed_fd);

    g_udp = opensocket(SOCK_DGRAM, &err);
    g_tcp = opensocket(SOCK_STREAM, &err);
    g_listen = tu_listener(AF_INET, 0, &g_port, &err);
    if (g_udp < 0 || g_tcp < 0 || g_listen < 0) {
        print_error("setup: sockets failed (%d)\n", err);
        return -1;
    }
    g_conn = tu_client(AF_INET, 0, g_port, &err);
    g_sslcli = opensocket(SOCK_STREAM, &err);
    if (g_conn < 0 || g_sslcli < 0 || tu_setopt(g_sslcli, TCP_SSL_CLIENT, 1, &err) != 0 ||
        tu_setopt(g_sslcli, TCP_SSLSESSION, g_sid, &err) != 0) {
        print_error("setup: client sockets failed (%d)\n", err);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    int err;

    (void)state;
    if (g_sslcli >= 0)
        closesocket(g_sslcli, &err);
    if (g_conn >= 0)
        closesocket(g_conn, &err);
    if (g_listen >= 0)
        closesocket(g_listen, &err);
    if (g_tcp >= 0)
        closesocket(g_tcp, &err);
    if (g_udp >= 0)
        closesocket(g_udp, &err);
    if (g_pipe[0] >= 0) {
        close(g_pipe[0]);
        close(g_pipe[1]);
    }
    if (g_sid > 0)
        SSL_SessionClose(g_sid, &err);
    if (g_sid_auth > 0)
        SSL_SessionClose(g_sid_auth, &err);
    tu_pki_del(&tu_pki_srv);
    return 0;
}

int main(void)
{
    enum { N = sizeof cases / sizeof cases[0] };
    static struct CMUnitTest tests[N];
    size_t n = 0;

    tu_require_pki();
    TU_ADD_TABLE(tests, n, cases, run_case);
    return _cmocka_run_group_tests("badinput", tests, n, group_setup, group_teardown);
}
