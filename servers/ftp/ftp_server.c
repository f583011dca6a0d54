/*
 * ftp_server.c - set-up and tear-down of the FTP server (ftp_server.h),
 * the accounts, the per-address limit, the transfer log and the original's
 * calls Get_FTP_Login_Counters, Set_FTPServer_Idle_Timeout and
 * Get_FTPServer_Idle_Timeout (cgi.h).
 */
/* The RTOS names (bind as a macro) would clash with the "bind" field of
 * the configuration: the chipssl_ names are used here. */
#define CHIPSSL_NO_RTOS_NAMES
#include "ftp_server.h"
#include "cgi_server.h"
#include "ftp_srv.h"
#include "inifile.h"
#include "srv_listen.h"

#include <cgi.h>
#include <tcpip.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FTP_BACKLOG 128
#define FTP_GRACE_MS 3000

/* The original gives pointers to the RTOS's counters: they live as long as
 * the process, across restarts of the server. */
static unsigned long login_count, login_fail_count;
static atomic_uint running_timeout = 0xFFFF;

struct listen_ctx {
    struct ftp_server *srv;
    int implicit;
};

static void on_accept(void *arg, struct loop_worker *w, int sd, const struct sockaddr_storage *peer)
{
    struct listen_ctx *lc = arg;
    if (!chipd_accept_allowed_peer(SS_FTP_SERVER, peer)) {
        int e = 0;
        closesocket(sd, &e);
        return;
    }
    ftp_conn_accept(lc->srv, w, sd, lc->implicit, peer);
}

static int open_listener(struct ftp_server *s, int implicit, char *err, size_t errlen, int *api)
{
    struct srv_listen l = {
        .address = s->cfg.ftp.bind,
        .port = implicit ? s->cfg.ftp.ftps_port : s->cfg.ftp.port,
        .backlog = FTP_BACKLOG,
        .tls_session = implicit ? srv_tls_session(&s->tls) : 0,
        .hs_limit = 30,
        .key = implicit ? "[FTP] FTPS_PORT" : "[FTP] PORT",
    };
    int sd = srv_listen_open(&l, &s->port[implicit], err, errlen, api);
    if (sd < 0)
        return -1;
    s->listen_sd[implicit] = sd;
    return 0;
}

static void teardown(struct ftp_server *s)
{
    int e = 0;
    if (s->loop) {
        loop_stop(s->loop);
        loop_free(s->loop);
    }
    for (int i = 0; i < 2; i++)
        if (s->listen_sd[i] >= 0)
            closesocket(s->listen_sd[i], &e);
    ftp_tls_cleanup(s);
    if (s->xfer_log)
        fclose(s->xfer_log);
    pthread_mutex_destroy(&s->ip_mu);
    pthread_mutex_destroy(&s->log_mu);
    free(s->cfg.ftp.accounts.list);
    free(s->ips);
    free(s->listen_ctx);
    free(s);
}

int ftp_server_start(const struct chip_config *cfg, struct ftp_server **out, char *err,
                     size_t errlen, int *api_error)
{
    struct ftp_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        *api_error = API_ENOMEM;
        return -1;
    }
    s->cfg = *cfg;
    s->cfg.web.upload.list = s->cfg.web.secure.list = NULL; /* not ours */
    s->cfg.ftp.accounts.list = NULL;
    s->listen_sd[0] = s->listen_sd[1] = -1;
    pthread_mutex_init(&s->ip_mu, NULL);
    pthread_mutex_init(&s->log_mu, NULL);
    size_t n = cfg->ftp.accounts.count;
    if (n) {
        s->cfg.ftp.accounts.list = malloc(n * sizeof *s->cfg.ftp.accounts.list);
        if (!s->cfg.ftp.accounts.list) {
            snprintf(err, errlen, "out of memory");
            *api_error = API_ENOMEM;
            teardown(s);
            return -1;
        }
        memcpy(s->cfg.ftp.accounts.list, cfg->ftp.accounts.list,
               n * sizeof *s->cfg.ftp.accounts.list);
    }
    if (cfg->ftp.xfer_log[0]) {
        s->xfer_log = fopen(cfg->ftp.xfer_log, "ae");
        if (!s->xfer_log) {
            snprintf(err, errlen, "[FTP] XFER_LOG %s: %s", cfg->ftp.xfer_log, strerror(errno));
            *api_error = API_ENOENT;
            teardown(s);
            return -1;
        }
        setvbuf(s->xfer_log, NULL, _IOLBF, 0);
    }
    if ((cfg->ftp.require_tls || cfg->ftp.ftps_port || cfg->ssl.cert[0]) &&
        ftp_tls_setup(s, err, errlen, api_error) != 0) {
        teardown(s);
        return -1;
    }
    if (open_listener(s, 0, err, errlen, api_error) != 0 ||
        (cfg->ftp.ftps_port && open_listener(s, 1, err, errlen, api_error) != 0)) {
        teardown(s);
        return -1;
    }
    s->loop = loop_new(cfg->web.workers, FTP_GRACE_MS);
    struct listen_ctx *ctx = calloc(2, sizeof *ctx);
    if (!s->loop || !ctx) {
        free(ctx);
        snprintf(err, errlen, "event loop: %s", strerror(errno));
        *api_error = API_ENOMEM;
        teardown(s);
        return -1;
    }
    s->listen_ctx = ctx;
    for (int i = 0; i < 2; i++) {
        ctx[i] = (struct listen_ctx){s, i};
        if (s->listen_sd[i] >= 0 &&
            loop_add_listener(s->loop, s->listen_sd[i], on_accept, &ctx[i]) != 0) {
            snprintf(err, errlen, "event loop: %s", strerror(errno));
            *api_error = API_ENOMEM;
            teardown(s);
            return -1;
        }
    }
    if (loop_start(s->loop) != 0) {
        snprintf(err, errlen, "worker threads: %s", strerror(errno));
        *api_error = API_ENOMEM;
        teardown(s);
        return -1;
    }
    atomic_store(&running_timeout, cfg->ftp.timeout);
    *out = s;
    return 0;
}

int ftp_server_reload(struct ftp_server *s)
{
    return s->tls.on ? ftp_tls_reload(s) : 0;
}

void ftp_server_stop(struct ftp_server *s)
{
    if (!s)
        return;
    atomic_store(&running_timeout, 0xFFFF);
    teardown(s);
}

unsigned ftp_server_port(const struct ftp_server *s, int implicit)
{
    int i = implicit ? 1 : 0;
    return s->listen_sd[i] >= 0 ? s->port[i] : 0;
}

/* ---- accounts ---------------------------------------------------------- */

/* Equal strings, in a time that depends only on the buffer sizes (a wrong
 * password's time tells nothing about how much of it was right). */
static int same_secret(const char *given, const char *want)
{
    char a[CFG_PASSWORD_MAX + 1] = {0}, b[CFG_PASSWORD_MAX + 1] = {0};
    size_t gl = strnlen(given, CFG_PASSWORD_MAX + 1);
    unsigned diff = gl > CFG_PASSWORD_MAX;
    memcpy(a, given, gl > CFG_PASSWORD_MAX ? CFG_PASSWORD_MAX : gl);
    strncpy(b, want, CFG_PASSWORD_MAX);
    for (size_t i = 0; i < sizeof a; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

int ftp_server_login(struct ftp_server *s, const char *user, const char *pass,
                     struct ftp_account *acct)
{
    int ok = 0;
    if (s->cfg.ftp.anonymous && (!strcmp(user, "anonymous") || !strcmp(user, "ftp"))) {
        snprintf(acct->root, sizeof acct->root, "%s", s->cfg.ftp.anon_root);
        acct->anonymous = 1;
        ok = 1;
    } else {
        for (size_t i = 0; i < s->cfg.ftp.accounts.count; i++) {
            const struct cfg_account *a = &s->cfg.ftp.accounts.list[i];
            if (strcmp(a->user, user) != 0)
                continue;
            if (same_secret(pass, a->password)) {
                snprintf(acct->root, sizeof acct->root, "%s", a->root);
                acct->anonymous = 0;
                ok = 1;
            }
            break;
        }
    }
    __atomic_fetch_add(ok ? &login_count : &login_fail_count, 1, __ATOMIC_RELAXED);
    return ok ? 0 : -1;
}

/* ---- sessions per address -------------------------------------------- */

int ftp_server_ip_take(struct ftp_server *s, const unsigned char addr[16])
{
    int rc = 0;
    pthread_mutex_lock(&s->ip_mu);
    size_t i = 0;
    while (i < s->nips && memcmp(s->ips[i].addr, addr, 16) != 0)
        i++;
    if (i == s->nips) {
        if (s->nips == s->ips_cap) {
            size_t cap = s->ips_cap ? 2 * s->ips_cap : 16;
            struct ftp_ip_count *p = realloc(s->ips, cap * sizeof *p);
            if (!p) {
                pthread_mutex_unlock(&s->ip_mu);
                return -1;
            }
            s->ips = p;
            s->ips_cap = cap;
        }
        memcpy(s->ips[i].addr, addr, 16);
        s->ips[i].n = 0;
        s->nips++;
    }
    if (s->ips[i].n >= s->cfg.ftp.max_per_ip)
        rc = -1;
    else
        s->ips[i].n++;
    pthread_mutex_unlock(&s->ip_mu);
    return rc;
}

void ftp_server_ip_release(struct ftp_server *s, const unsigned char addr[16])
{
    pthread_mutex_lock(&s->ip_mu);
    for (size_t i = 0; i < s->nips; i++)
        if (memcmp(s->ips[i].addr, addr, 16) == 0) {
            if (--s->ips[i].n == 0)
                s->ips[i] = s->ips[--s->nips];
            break;
        }
    pthread_mutex_unlock(&s->ip_mu);
}

/* ---- transfer log ------------------------------------------------------ */

void ftp_server_xfer_log(struct ftp_server *s, const struct ftp_conn *c, const struct ftp_xfer *x,
                         unsigned long long bytes, int complete)
{
    if (!s->xfer_log)
        return;
    char when[32];
    struct tm tm;
    time_t now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *dir = x->verb == FTP_STOR || x->verb == FTP_APPE ? "in"
                      : x->verb == FTP_RETR                      ? "out"
                                                                 : "list";
    /* The path as the client named it inside its root; control bytes
     * cannot occur (ftp_path_resolve refuses CR/LF, the parser others). */
    pthread_mutex_lock(&s->log_mu);
    fprintf(s->xfer_log, "%s %s %s %s %s %s %llu %s\n", when, c->peer_text,
            c->sess.st.anonymous ? "(anonymous)" : c->sess.user, ftp_verb_name(x->verb), dir,
            x->vpath, bytes, complete ? "complete" : "aborted");
    pthread_mutex_unlock(&s->log_mu);
}

/* ---- the original's calls (cgi.h) ------------------------------------ */

int Get_FTP_Login_Counters(unsigned long **count, unsigned long **failCount)
{
    if (count)
        *count = &login_count;
    if (failCount)
        *failCount = &login_fail_count;
    return 0;
}

int Set_FTPServer_Idle_Timeout(unsigned int seconds)
{
    char v[16];
    if (seconds < 1 || seconds > 86400)
        return -1;
    snprintf(v, sizeof v, "%u", seconds);
    return BIOS_Set_Ini_String("FTP", "TIMEOUT", v) == 0 ? 0 : -1;
}

unsigned int Get_FTPServer_Idle_Timeout(void)
{
    return atomic_load(&running_timeout);
}
