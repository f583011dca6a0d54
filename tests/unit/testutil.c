/*
 * testutil.c - see testutil.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "testutil.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tcpip.h" /* RTOS names: bind/connect/... are the library's here */

static const char *pki_dir(void)
{
    const char *d = getenv("CHIPSSL_PKI_DIR");

    return (d != NULL && d[0] != '\0') ? d : NULL;
}

void tu_require_pki(void)
{
    char path[TU_PATH_MAX];
    struct stat st;
    const char *d = pki_dir();

    if (d == NULL) {
        fprintf(stderr,
                "CHIPSSL_PKI_DIR is not set. Run this test through ctest (the "
                "`pki` fixture generates the certificates), or run\n"
                "  tests/pki/mkpki.sh DIR && CHIPSSL_PKI_DIR=DIR %s\n",
                "<test>");
        exit(1);
    }
    if (stat(tu_path(path, sizeof path, "ca.pem"), &st) != 0) {
        fprintf(stderr,
                "CHIPSSL_PKI_DIR=%s does not hold the test PKI (no %s); "
                "generate it with tests/pki/mkpki.sh %s\n",
                d, path, d);
        exit(1);
    }
}

char *tu_path(char *dst, size_t size, const char *name)
{
    const char *d = pki_dir();

    if (name[0] == '/' || d == NULL)
        snprintf(dst, size, "%s", name);
    else
        snprintf(dst, size, "%s/%s", d, name);
    return dst;
}

char *tu_read(const char *name, size_t *len)
{
    char path[TU_PATH_MAX];
    FILE *f = fopen(tu_path(path, sizeof path, name), "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    buf = malloc((size_t)n + 1);
    if (buf == NULL)
        goto out;
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[n] = '\0';
    if (len != NULL)
        *len = (size_t)n;
out:
    fclose(f);
    return buf;
}

/* What fileNamePtr gets for a PKI file: its path, or (PKI_FMT_MEMORY) its
 * content in *data (to free). NULL when the content cannot be read. */
static const char *tu_source(const char *file, int fmt, char *path, size_t size, char **data)
{
    *data = NULL;
    if (!(fmt & PKI_FMT_MEMORY))
        return tu_path(path, size, file);
    *data = tu_read(file, NULL);
    return *data;
}

int tu_add_cert(const char *file, int fmt, int type, const char *id, const char *caid, int *error)
{
    char path[TU_PATH_MAX];
    char *data;
    PKI_CERT_ADD_Entry e;
    int ret;

    memset(&e, 0, sizeof e);
    e.fileNamePtr = tu_source(file, fmt, path, sizeof path, &data);
    if (e.fileNamePtr == NULL) {
        *error = API_ENOENT;
        return -1;
    }
    e.fileFormat = fmt;
    e.certType = type;
    e.idPtr = id;
    e.idLength = (int)strlen(id);
    e.caIdPtr = caid;
    ret = PKI_CertificateAdd(&e, error);
    free(data);
    return ret;
}

int tu_add_key(const char *file, int fmt, int keytype, int *error)
{
    char path[TU_PATH_MAX];
    char *data;
    PKI_OWNKEYPAIR_ADD_Entry e;
    int ret;

    memset(&e, 0, sizeof e);
    e.fileNamePtr = tu_source(file, fmt, path, sizeof path, &data);
    if (e.fileNamePtr == NULL) {
        *error = API_ENOENT;
        return -1;
    }
    e.fileFormat = fmt;
    e.keyType = keytype;
    ret = PKI_OwnKeyPairAdd(&e, error);
    free(data);
    return ret;
}

int tu_add_local(const char *keyfile, int keytype, const char *certfile, const char *id,
                 const char *caid, int *error)
{
    if (tu_add_key(keyfile, PKI_FMT_PEM, keytype, error) != 0)
        return -1;
    return tu_add_cert(certfile, PKI_FMT_PEM, PKI_CERT_LOCAL, id, caid, error);
}

static const struct tu_own srv_own[] = {
    {"server.key", PKI_KEY_RSA, "server.pem", "srv", "ca"},
};

const struct tu_pki tu_pki_srv = {.own = srv_own, .nown = TU_N(srv_own)};

int tu_pki_add(const struct tu_pki *p)
{
    int err = 0;
    size_t i;

    if (tu_add_cert("ca.pem", PKI_FMT_PEM, TU_ROOT, "ca", NULL, &err) != 0) {
        fprintf(stderr, "setup: ca.pem: *error %d\n", err);
        return -1;
    }
    for (i = 0; i < p->ncerts; i++) {
        const struct tu_cert *c = &p->certs[i];

        if (tu_add_cert(c->file, PKI_FMT_PEM, c->type, c->id, c->caid, &err) != 0) {
            fprintf(stderr, "setup: %s (%s): *error %d\n", c->file, c->id, err);
            return -1;
        }
    }
    for (i = 0; i < p->nown; i++) {
        const struct tu_own *o = &p->own[i];

        if (tu_add_local(o->key, o->keytype, o->cert, o->id, o->caid, &err) != 0) {
            fprintf(stderr, "setup: own certificate %s (%s)%s: *error %d\n", o->id, o->cert,
                    p->lenient ? " not added" : "", err);
            if (!p->lenient)
                return -1;
        }
    }
    return 0;
}

void tu_pki_del(const struct tu_pki *p)
{
    int err;
    size_t i;

    for (i = p->nown; i-- > 0;)
        PKI_CertificateDel(p->own[i].id, PKI_CERT_LOCAL, &err);
    for (i = p->ncerts; i-- > 0;)
        PKI_CertificateDel(p->certs[i].id, PKI_CERT_NONLOCAL, &err);
    PKI_CertificateDel("ca", PKI_CERT_NONLOCAL, &err);
}

int tu_setopt(int sd, int name, int value, int *error)
{
    return tu_setopt_level(sd, IP_PROTOTCP_LEVEL, name, value, error);
}

int tu_setopt_level(int sd, int level, int name, int value, int *error)
{
    SetSocketOption o;

    o.protocol_level = level;
    o.optionName = name;
    o.optionValue = (const char *)&value;
    o.optionLength = (int)sizeof value;
    return setsockopt(sd, &o, error);
}

int tu_getopt(int sd, int name, int *value, int *error)
{
    GetSocketOption o;
    int len = (int)sizeof *value;

    o.protocol_level = IP_PROTOTCP_LEVEL;
    o.optionName = name;
    o.optionValue = (char *)value;
    o.optionLength = &len;
    return getsockopt(sd, &o, error);
}

/* Loopback address of family with port (network order) in *ss. */
static void loopback(int family, unsigned short port_net, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = port_net;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;

        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->sin_port = port_net;
    }
}

int tu_listener(int family, int sid, unsigned short *port, int *error)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int sd, err2;

    sd = opensocket_ext((unsigned char)family, SOCK_STREAM, error);
    if (sd < 0)
        return -1;
    if (sid > 0 && (tu_setopt(sd, TCP_SSL_SERVER, 1, error) != 0 ||
                    tu_setopt(sd, TCP_SSLSESSION, sid, error) != 0))
        goto fail;
    loopback(family, 0, &ss);
    if (bind(sd, &ss, error) != 0 || listen(sd, 16, error) != 0)
        goto fail;
    len = sizeof ss;
    if (getsockname(sd, (struct sockaddr *)&ss, &len) != 0) {
        *error = API_EINVAL;
        goto fail;
    }
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return sd;
fail:
    closesocket(sd, &err2);
    return -1;
}

int tu_client(int family, int sid, unsigned short port, int *error)
{
    return tu_client_opts(family, sid, port, NULL, error);
}

int tu_silent_server(int sid, int limit_s, int *lsn, int *error)
{
    unsigned short port;
    int sd, err2;

    *lsn = tu_listener(AF_INET, 0, &port, error);
    if (*lsn < 0)
        return -1;
    sd = tu_client(AF_INET, sid, port, error);
    if (sd >= 0 && limit_s > 0 && tu_setopt(sd, TCP_SSL_CONNECT_TIMEOUT, limit_s, error) != 0) {
        closesocket(sd, &err2);
        sd = -1;
    }
    if (sd < 0) {
        closesocket(*lsn, &err2);
        *lsn = -1;
    }
    return sd;
}

int tu_client_opts(int family, int sid, unsigned short port, const struct tu_opt *opts, int *error)
{
    struct sockaddr_storage ss;
    int sd, err2;

    sd = opensocket_ext((unsigned char)family, SOCK_STREAM, error);
    if (sd < 0)
        return -1;
    if (sid > 0 && (tu_setopt(sd, TCP_SSL_CLIENT, 1, error) != 0 ||
                    tu_setopt(sd, TCP_SSLSESSION, sid, error) != 0))
        goto fail;
    for (; opts != NULL && opts->name != 0; opts++)
        if (tu_setopt_level(sd, opts->level, opts->name, opts->value, error) != 0)
            goto fail;
    loopback(family, htons(port), &ss);
    if (connect(sd, &ss, error) != 0)
        goto fail;
    return sd;
fail:
    closesocket(sd, &err2);
    return -1;
}

int tu_recv_all(int sd, void *buf, int len, int ms, int *error)
{
    int got = 0, n;

    while (got < len) {
        n = recv(sd, (char *)buf + got, len - got, MSG_TIMEOUT, ms, error);
        if (n <= 0)
            break;
        got += n;
    }
    return got;
}

int tu_readable(int fd, int ms)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};

    return poll(&pf, 1, ms) == 1;
}

/* ------------------------------------------------------------- sessions */

int tu_session_new(const struct tu_scfg *c, int *error)
{
    SSL_SESSION_NEW_Entry e;
    int sid, step = 0, err2;

    memset(&e, 0, sizeof e);
    e.certIdentity = c->cert;
    e.maxCaches = c->caches;
    e.version = c->version ? c->version : (SSL_VERSION_TLS12 | SSL_VERSION_TLS13);
    sid = SSL_SessionNew(&e, error);
    if (sid < 1)
        return TU_SN_NEW;
    if (c->opt1 && SSL_SessionOpt(sid, SSL_OPT_CLIENT_AUTH, 1, error) != 0)
        step = TU_SN_OPT1;
    else if (c->opt2 && SSL_SessionOpt(sid, SSL_OPT_SERVER_PROPOSALS, 1, error) != 0)
        step = TU_SN_OPT2;
    else if (c->opt3 && SSL_SessionOpt(sid, SSL_OPT_SKIP_CERT_VALIDATION, 1, error) != 0)
        step = TU_SN_OPT3;
    else if (c->client_ca && SSL_AddClientCA(sid, (void *)c->client_ca, error) != 0)
        step = TU_SN_CLIENT_CA;
    else if (c->props && SSL_SessionProp(sid, (int *)c->props, c->nprops, error) != 0)
        step = TU_SN_PROPS;
    if (step == 0)
        return sid;
    SSL_SessionClose(sid, &err2);
    return step;
}

char *tu_session_msg(char *buf, size_t size, int code, const struct tu_scfg *c, int error)
{
    static const char *const steps[] = {"option 1", "option 2", "option 3"};

    if (code == TU_SN_NEW)
        snprintf(buf, size, "SSL_SessionNew(%s): %d", c->cert ? c->cert : "NULL", error);
    else if (code == TU_SN_CLIENT_CA)
        snprintf(buf, size, "SSL_AddClientCA(%s): %d", c->client_ca, error);
    else if (code == TU_SN_PROPS)
        snprintf(buf, size, "SSL_SessionProp: %d", error);
    else if (code <= TU_SN_OPT1 && code >= TU_SN_OPT3)
        snprintf(buf, size, "%s: %d", steps[TU_SN_OPT1 - code], error);
    else
        snprintf(buf, size, "session: %d (code %d)", error, code);
    return buf;
}

void tu_session_close(int sid)
{
    int err;

    if (sid > 0)
        SSL_SessionClose(sid, &err);
}

void tu_snapshot(int sd, SSL_CONN_STATE *st, int *st_ok, SslProblemS *prob)
{
    void *p = NULL;
    int err;

    *st_ok = SSL_GetConnState(sd, &p, &err) == 0 && p != NULL;
    if (*st_ok)
        memcpy(st, p, sizeof *st);
    else
        memset(st, 0, sizeof *st);
    if (SSL_GetProblem(sd, prob, &err) != 0) {
        memset(prob, 0, sizeof *prob);
        prob->alert = -100; /* marks "SSL_GetProblem failed" */
    }
}

/* --------------------------------------------------------------- pairs */

/* The server end of tu_pair_connect: accept, handshake. */
struct pair_srv {
    pthread_t tid;
    int lsn, sd, hs, err;
};

static void *pair_srv_main(void *arg)
{
    struct pair_srv *j = arg;

    if (!tu_readable(j->lsn, TU_WAIT_MS)) /* the client never came */
        return NULL;
    j->sd = accept(j->lsn, NULL, &j->err);
    if (j->sd >= 0)
        j->hs = SSL_HandshakeComplete(j->sd, SSL_WAIT_FOREVER);
    return NULL;
}

int tu_pair_connect(struct tu_pair *p, int family, unsigned short port, const char *name,
                    const struct tu_opt *cli_opts)
{
    struct pair_srv j;
    int err2;

    memset(&j, 0, sizeof j);
    j.lsn = p->lsn;
    j.sd = -1;
    j.hs = -1;
    p->cli = p->srv = -1;
    p->cli_hs = -90;
    p->srv_hs = -1;
    p->error = 0;
    if (pthread_create(&j.tid, NULL, pair_srv_main, &j) != 0)
        return -1;
    p->cli = tu_client_opts(family, p->cli_sid, port, cli_opts, &p->error);
    if (p->cli >= 0) {
        if (SSL_ClientStart(p->cli, (char *)name, &p->error) != 0)
            p->cli_hs = -92;
        else
            p->cli_hs = SSL_HandshakeComplete(p->cli, SSL_WAIT_FOREVER);
    }
    if (p->cli_hs != 1 && p->cli >= 0) {
        closesocket(p->cli, &err2); /* lets the server thread end */
        p->cli = -1;
    }
    pthread_join(j.tid, NULL);
    p->srv = j.sd;
    p->srv_hs = j.hs;
    if (p->cli_hs == 1 && p->srv_hs == 1)
        return 0;
    if (p->cli >= 0)
        closesocket(p->cli, &err2);
    if (p->srv >= 0)
        closesocket(p->srv, &err2);
    p->cli = p->srv = -1;
    return -1;
}

int tu_pair_open(struct tu_pair *p, int family, int version, const char *name,
                 const struct tu_opt *lsn_opts, const struct tu_opt *cli_opts)
{
    struct tu_scfg s = {.version = version, .cert = "srv"}, c = {.version = version};
    const struct tu_opt *o = lsn_opts;
    unsigned short port;

    if (family == 0)
        family = AF_INET;
    p->lsn = p->cli = p->srv = -1;
    p->cli_sid = p->srv_sid = 0;
    p->srv_hs = 0;
    p->srv_sid = tu_session_new(&s, &p->error);
    if (p->srv_sid > 0)
        p->cli_sid = tu_session_new(&c, &p->error);
    if (p->srv_sid < 1 || p->cli_sid < 1) {
        p->cli_hs = -93;
        goto fail;
    }
    p->lsn = tu_listener(family, p->srv_sid, &port, &p->error);
    for (; p->lsn >= 0 && o != NULL && o->name != 0; o++)
        if (tu_setopt_level(p->lsn, o->level, o->name, o->value, &p->error) != 0)
            break;
    if (p->lsn < 0 || (o != NULL && o->name != 0)) {
        p->cli_hs = -94;
        goto fail;
    }
    if (tu_pair_connect(p, family, port, name ? name : "localhost", cli_opts) == 0)
        return 0;
fail:
    tu_pair_close(p);
    return -1;
}

void tu_pair_close(struct tu_pair *p)
{
    int err;

    if (p->cli >= 0)
        closesocket(p->cli, &err);
    if (p->srv >= 0)
        closesocket(p->srv, &err);
    if (p->lsn >= 0)
        closesocket(p->lsn, &err);
    tu_session_close(p->cli_sid);
    tu_session_close(p->srv_sid);
    p->lsn = p->cli = p->srv = -1;
    p->cli_sid = p->srv_sid = 0;
}

/* ------------------------------------------------ one whole connection */

static int close_notify_of(int sd)
{
    void *p = NULL;
    int err;

    return SSL_GetConnState(sd, &p, &err) == 0 && p != NULL &&
           ((const SSL_CONN_STATE *)p)->closeNotify;
}

static void end_init(struct tu_end *e)
{
    memset(e, 0, sizeof *e);
    e->eos_rc = 1; /* no end of stream awaited (yet) */
}

int tu_cli_open(int family, int sid, unsigned short port, const char *name, struct tu_end *cli)
{
    int sd;

    end_init(cli);
    sd = tu_client(family ? family : AF_INET, sid, port, &cli->error);
    if (sd < 0) {
        cli->hs = -99;
        return -1;
    }
    if (SSL_ClientStart(sd, (char *)name, &cli->error) != 0)
        cli->hs = -98;
    else
        cli->hs = SSL_HandshakeComplete(sd, SSL_WAIT_FOREVER);
    return sd;
}

void tu_cli_finish(int sd, int flags, struct tu_end *cli)
{
    char buf[64];
    int err;

    if (sd < 0)
        return;
    if (cli->hs == 1) {
        if (send(sd, "ping", 4, 0, &cli->data_err) != 4)
            cli->data_rc = -1;
        else
            cli->data_rc = recv(sd, buf, sizeof buf, MSG_TIMEOUT, TU_WAIT_MS, &cli->data_err);
        cli->data = cli->data_rc == 4 && memcmp(buf, "pong", 4) == 0;
    }
    tu_snapshot(sd, &cli->st, &cli->st_ok, &cli->prob);
    if (cli->data && !(flags & TU_CLI_RUDE)) {
        /* close_notify, then the FIN behind it: the server's wait for our
         * end of stream ends even if the close_notify went missing */
        cli->close_rc = SSL_ConnClose(sd, &cli->close_err);
        shutdown(sd, 1, &err);
        cli->eos_rc = recv(sd, buf, sizeof buf, MSG_TIMEOUT, TU_WAIT_MS, &cli->eos_err);
        cli->close_notify = close_notify_of(sd);
    }
    closesocket(sd, &err);
}

void tu_serve(int sd, int flags, struct tu_end *srv)
{
    char buf[64];
    int err;

    end_init(srv);
    srv->hs = SSL_HandshakeComplete(sd, SSL_WAIT_FOREVER);
    if (srv->hs == 1) {
        srv->data_rc = recv(sd, buf, sizeof buf, MSG_TIMEOUT, TU_WAIT_MS, &srv->data_err);
        srv->data =
            srv->data_rc == 4 && memcmp(buf, "ping", 4) == 0 && send(sd, "pong", 4, 0, &err) == 4;
    }
    tu_snapshot(sd, &srv->st, &srv->st_ok, &srv->prob);
    if (srv->data) {
        /* the client closes first and always sends its FIN */
        srv->eos_rc = recv(sd, buf, sizeof buf, MSG_TIMEOUT, TU_WAIT_MS, &srv->eos_err);
        srv->close_notify = close_notify_of(sd);
        if (!(flags & TU_SRV_RUDE) && srv->eos_rc == 0)
            srv->close_rc = SSL_ConnClose(sd, &srv->close_err);
    }
    closesocket(sd, &err);
}

struct conn_job {
    pthread_t tid;
    int lsn, flags;
    struct tu_end *srv;
};

static void *conn_srv_main(void *arg)
{
    struct conn_job *j = arg;
    int sd, err;

    end_init(j->srv);
    j->srv->hs = -99;
    if (!tu_readable(j->lsn, TU_WAIT_MS)) /* the client never came */
        return NULL;
    sd = accept(j->lsn, NULL, &err);
    if (sd < 0) {
        j->srv->error = err;
        return NULL;
    }
    tu_serve(sd, j->flags, j->srv);
    return NULL;
}

void tu_conn(int lsn, unsigned short port, int cli_sid, const char *name, int flags,
             struct tu_end *cli, struct tu_end *srv)
{
    struct conn_job j = {.lsn = lsn, .flags = flags, .srv = srv};
    int sd;

    if (pthread_create(&j.tid, NULL, conn_srv_main, &j) != 0) {
        end_init(cli);
        end_init(srv);
        cli->hs = srv->hs = -99;
        return;
    }
    sd = tu_cli_open(AF_INET, cli_sid, port, name, cli);
    tu_cli_finish(sd, flags, cli);
    pthread_join(j.tid, NULL);
}

int tu_conn_check(const char *what, const struct tu_end *cli, const struct tu_end *srv, int flags,
                  char *buf, size_t size)
{
    if (cli->hs != 1 || !cli->data) {
        snprintf(buf, size,
                 "%s: client handshake %d (set-up error %d), pong %d/%d; problem: error %d "
                 "flags 0x%x alert %d \"%s\"",
                 what, cli->hs, cli->error, cli->data_rc, cli->data_err, cli->prob.errorCode,
                 (unsigned)cli->prob.certFlags, cli->prob.alert, cli->prob.reason);
        return 0;
    }
    if (srv != NULL && (srv->hs != 1 || !srv->data)) {
        snprintf(buf, size,
                 "%s: server handshake %d, ping %d/%d; problem: error %d flags 0x%x alert %d "
                 "\"%s\"",
                 what, srv->hs, srv->data_rc, srv->data_err, srv->prob.errorCode,
                 (unsigned)srv->prob.certFlags, srv->prob.alert, srv->prob.reason);
        return 0;
    }
    if (!cli->st_ok || (srv != NULL && !srv->st_ok)) {
        snprintf(buf, size, "%s: SSL_GetConnState failed", what);
        return 0;
    }
    if (srv != NULL && (srv->eos_rc != 0 || srv->eos_err != 0)) {
        snprintf(buf, size, "%s: the server's recv of the client's end of stream gave %d/%d", what,
                 srv->eos_rc, srv->eos_err);
        return 0;
    }
    if (!(flags & TU_CLI_RUDE)) {
        if (cli->close_rc != 0) {
            snprintf(buf, size, "%s: the client's SSL_ConnClose gave %d/%d", what, cli->close_rc,
                     cli->close_err);
            return 0;
        }
        if (srv != NULL && !srv->close_notify) {
            snprintf(buf, size,
                     "%s: the client's close_notify never reached the server (its FIN did)", what);
            return 0;
        }
        if (cli->eos_rc != 0 || cli->eos_err != 0) {
            snprintf(buf, size, "%s: the client's recv of the server's end of stream gave %d/%d",
                     what, cli->eos_rc, cli->eos_err);
            return 0;
        }
        if (!(flags & TU_SRV_RUDE) && !cli->close_notify) {
            snprintf(buf, size,
                     "%s: the server's close_notify never reached the client (its FIN did)", what);
            return 0;
        }
    }
    /* (a server that closes after a rude client may meet its reset) */
    if (srv != NULL && !(flags & (TU_SRV_RUDE | TU_CLI_RUDE)) && srv->close_rc != 0) {
        snprintf(buf, size, "%s: the server's SSL_ConnClose gave %d/%d", what, srv->close_rc,
                 srv->close_err);
        return 0;
    }
    buf[0] = '\0';
    return 1;
}

double tu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
