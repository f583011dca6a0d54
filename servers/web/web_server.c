/*
 * web_server.c - set-up and tear-down of the Web server (web_server.h).
 */
#include "web_server.h"
#include "srv_listen.h"
#include "web.h"
#include "web_cgi.h"
#include "web_demo.h"

/* The RTOS names (bind, listen as macros) would clash with the "bind"
 * field of the configuration: the chipssl_ names are used here. */
#define CHIPSSL_NO_RTOS_NAMES
#include <tcpip.h>

#include "cgi_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WEB_BACKLOG 511

struct listen_ctx {
    struct web_server *srv;
    int tls;
};

static void on_accept(void *arg, struct loop_worker *w, int sd, const struct sockaddr_storage *peer)
{
    struct listen_ctx *lc = arg;
    if (!web_cgi_accept_allowed(lc->tls, peer)) {
        int e = 0;
        closesocket(sd, &e);
        return;
    }
    web_conn_accept(lc->srv, w, sd, lc->tls, peer);
}

/* Bind and listen on port (0: the configured one) for the instance. */
static int open_listener(struct web_server *s, int tls, unsigned port, char *err, size_t errlen,
                         int *api)
{
    struct srv_listen l = {
        .address = s->cfg.web.bind,
        .port = port  ? port
                : tls ? s->cfg.web.https_port
                      : s->cfg.web.http_port,
        .backlog = WEB_BACKLOG,
        .tls_session = tls ? srv_tls_session(&s->tls) : 0,
        .hs_limit = (int)s->cfg.web.header_timeout,
        .key = tls ? "[WEB] HTTPS_PORT" : "[WEB] HTTP_PORT",
    };
    int sd = srv_listen_open(&l, &s->port[tls], err, errlen, api);
    if (sd < 0)
        return -1;
    s->listen_sd[tls] = sd;
    return 0;
}

/* BIOS_Server_On_Off for the Web server: suspending closes the instance's
 * listening socket (connects are refused, as with a server that is not
 * there; accepted connections go on), resuming binds it again on the same
 * port. ctl_srv is the running server (one per process, as chipd_start
 * allows); the notification holds ctl_mu, so teardown, which clears
 * ctl_srv under it first, never frees a server a notification is using. */
static pthread_mutex_t ctl_mu = PTHREAD_MUTEX_INITIALIZER;
static struct web_server *ctl_srv;

static void on_off(SERVER_SPEC which, int suspended, void *ctx)
{
    int tls = which == SS_SSL_WEB_SERVER, e = 0;
    (void)ctx;
    pthread_mutex_lock(&ctl_mu);
    struct web_server *s = ctl_srv;
    if (!s || (which != SS_WEB_SERVER && which != SS_SSL_WEB_SERVER)) {
        pthread_mutex_unlock(&ctl_mu);
        return;
    }
    int sd = s->listen_sd[tls];
    if (suspended && sd >= 0) {
        if (loop_listener_set(s->loop, (unsigned)tls, -1) == 0) {
            s->listen_sd[tls] = -1;
            closesocket(sd, &e);
        }
    } else if (!suspended && sd < 0) {
        char err[256];
        int api = 0;
        if (tls && !s->tls.on)
            web_log_error(&s->log,
                          "HTTPS server not resumed: [WEB] SSL_ENABLE is 0, no TLS set up");
        else if (open_listener(s, tls, s->port[tls], err, sizeof err, &api) != 0)
            web_log_error(&s->log, "%s server not resumed: %s", tls ? "HTTPS" : "HTTP", err);
        else if (loop_listener_set(s->loop, (unsigned)tls, s->listen_sd[tls]) != 0) {
            closesocket(s->listen_sd[tls], &e);
            s->listen_sd[tls] = -1;
        }
    }
    pthread_mutex_unlock(&ctl_mu);
}

static void teardown(struct web_server *s)
{
    int e = 0;
    pthread_mutex_lock(&ctl_mu);
    if (ctl_srv == s) {
        chipd_server_set_notify_for(SS_WEB_SERVER, NULL, NULL);
        chipd_server_set_notify_for(SS_SSL_WEB_SERVER, NULL, NULL);
        ctl_srv = NULL;
    }
    pthread_mutex_unlock(&ctl_mu);
    web_demo_remove(); /* only when this start installed it */
    if (s->loop) {
        loop_stop(s->loop); /* waits for connections with a handler thread */
        loop_free(s->loop);
    }
    web_pool_stop(s->pool);
    for (int i = 0; i < 2; i++)
        if (s->listen_sd[i] >= 0)
            closesocket(s->listen_sd[i], &e);
    web_tls_cleanup(s);
    if (s->rootfd >= 0)
        close(s->rootfd);
    web_log_close(&s->log);
    free(s->listen_ctx);
    free(s);
}

int web_server_start(const struct chip_config *cfg, struct web_server **out, char *err,
                     size_t errlen, int *api_error)
{
    struct web_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        *api_error = API_ENOMEM;
        return -1;
    }
    s->cfg = *cfg;
    s->cfg.web.upload.list = s->cfg.web.secure.list = s->cfg.ftp.accounts.list =
        NULL; /* not ours */
    s->listen_sd[0] = s->listen_sd[1] = s->rootfd = -1;
    s->started = time(NULL);
    s->limits = (struct http_limits){cfg->web.max_request_line, cfg->web.max_header_size,
                                     cfg->web.max_headers, cfg->web.max_body};
    if (web_log_open(&s->log, cfg->web.access_log, cfg->web.error_log, err, errlen) != 0) {
        *api_error = API_ENOENT;
        teardown(s);
        return -1;
    }
    char real[PATH_MAX];
    s->rootfd = open(cfg->web.rootdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    const char *why = NULL;
    if (s->rootfd < 0 || !realpath(cfg->web.rootdir, real))
        why = strerror(errno);
    else if (strcmp(real, "/") == 0)
        why = "the root may not be /";
    if (why) {
        snprintf(err, errlen, "[WEB] ROOTDIR %s: %s", cfg->web.rootdir, why);
        *api_error = API_ENOENT;
        teardown(s);
        return -1;
    }
    if (cfg->web.ssl_enable && web_tls_setup(s, err, errlen, api_error) != 0) {
        teardown(s);
        return -1;
    }
    if ((cfg->web.enable && open_listener(s, 0, 0, err, errlen, api_error) != 0) ||
        (cfg->web.ssl_enable && open_listener(s, 1, 0, err, errlen, api_error) != 0)) {
        teardown(s);
        return -1;
    }
    s->loop = loop_new(cfg->web.workers, 1000u * cfg->web.shutdown_timeout);
    struct listen_ctx *ctx = calloc(2, sizeof *ctx);
    if (!s->loop || !ctx) {
        free(ctx);
        snprintf(err, errlen, "event loop: %s", strerror(errno));
        *api_error = API_ENOMEM;
        teardown(s);
        return -1;
    }
    for (int i = 0; i < 2; i++) { /* listener i is instance i, open or not (on_off) */
        ctx[i] = (struct listen_ctx){s, i};
        if (loop_add_listener(s->loop, s->listen_sd[i], on_accept, &ctx[i]) != 0) {
            snprintf(err, errlen, "event loop: %s", strerror(errno));
            *api_error = API_ENOMEM;
            free(ctx);
            teardown(s);
            return -1;
        }
    }
    s->listen_ctx = ctx;
    s->pool = web_pool_start(cfg->web.cgi_concurrent ? loop_workers(s->loop) : 1);
    if (!s->pool) {
        snprintf(err, errlen, "handler threads: %s", strerror(errno));
        *api_error = API_ENOMEM;
        teardown(s);
        return -1;
    }
    if (web_cgi_install(cfg, err, errlen) != 0) {
        *api_error = API_EINVAL;
        teardown(s);
        return -1;
    }
    if (cfg->web.demo_cgi && web_demo_install() != 0) {
        snprintf(err, errlen, "[WEB] DEMO_CGI: the CGI table has no room for /demo");
        *api_error = API_ENOBUFS;
        teardown(s);
        return -1;
    }
    if (loop_start(s->loop) != 0) {
        snprintf(err, errlen, "worker threads: %s", strerror(errno));
        *api_error = API_ENOMEM;
        teardown(s);
        return -1;
    }
    /* The configuration gives the start state (BIOS_Server_State); then
     * BIOS_Server_On_Off opens and closes the listeners. */
    chipd_server_set_initial(SS_WEB_SERVER, !cfg->web.enable);
    chipd_server_set_initial(SS_SSL_WEB_SERVER, !cfg->web.ssl_enable);
    pthread_mutex_lock(&ctl_mu);
    ctl_srv = s;
    chipd_server_set_notify_for(SS_WEB_SERVER, on_off, NULL);
    chipd_server_set_notify_for(SS_SSL_WEB_SERVER, on_off, NULL);
    pthread_mutex_unlock(&ctl_mu);
    *out = s;
    return 0;
}

int web_server_reload(struct web_server *s)
{
    if (!s->cfg.web.ssl_enable)
        return 0;
    return web_tls_reload(s);
}

void web_server_stop(struct web_server *s)
{
    if (s)
        teardown(s);
}

unsigned web_server_port(const struct web_server *s, int tls)
{
    /* The instance's port once bound, also while suspended (it comes back
     * on it); 0 when it never listened. */
    return s->port[tls ? 1 : 0];
}
