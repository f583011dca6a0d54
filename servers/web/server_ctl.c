/*
 * server_ctl.c - BIOS_Server_On_Off / BIOS_Server_State and the accept
 * filters of BIOS_Connection_Handler: state the servers consult.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "cgi_internal.h"
#include "cgi_server.h"

#define NSPEC 4 /* SS_FTP_SERVER .. SS_SSL_WEB_SERVER */

static int suspended[NSPEC];
static CONN_HANDLER filters[NSPEC];
static chipd_server_notify_fn notifyFn[NSPEC];
static void *notifyCtx[NSPEC];

void server_ctl_reset(void)
{
    memset(suspended, 0, sizeof suspended);
    memset(filters, 0, sizeof filters);
    memset(notifyFn, 0, sizeof notifyFn);
    memset(notifyCtx, 0, sizeof notifyCtx);
}

/* Telnet (1) and SSH (4) are not provided here: the original answers -1
 * for a server its build lacks. */
static int spec_ok(SERVER_SPEC which)
{
    return which == SS_FTP_SERVER || which == SS_WEB_SERVER || which == SS_SSL_WEB_SERVER;
}

int BIOS_Server_On_Off(SERVER_SPEC which, unsigned int activate)
{
    chipd_server_notify_fn fn;
    void *ctx;

    /* The original's sense: 0 resumes, 1 suspends. */
    if (!spec_ok(which) || activate > 1)
        return -1;
    cgi_lock();
    if (suspended[which] == (int)activate) {
        cgi_unlock();
        return 1;
    }
    suspended[which] = (int)activate;
    fn = notifyFn[which];
    ctx = notifyCtx[which];
    cgi_unlock();
    if (fn != NULL)
        fn(which, (int)activate, ctx);
    return 0;
}

int BIOS_Server_State(SERVER_SPEC which)
{
    int r;

    if (!spec_ok(which))
        return -1;
    cgi_lock();
    r = suspended[which];
    cgi_unlock();
    return r;
}

int BIOS_Connection_Handler(CONN_HANDLER h, SERVER_SPEC which)
{
    if (!spec_ok(which))
        return -1;
    cgi_lock();
    filters[which] = h;
    cgi_unlock();
    return 0;
}

void chipd_server_set_initial(SERVER_SPEC which, int off)
{
    if (!spec_ok(which))
        return;
    cgi_lock();
    suspended[which] = off != 0;
    cgi_unlock();
}

void chipd_server_set_notify(chipd_server_notify_fn fn, void *ctx)
{
    cgi_lock();
    for (int i = 0; i < NSPEC; i++) {
        notifyFn[i] = fn;
        notifyCtx[i] = ctx;
    }
    cgi_unlock();
}

void chipd_server_set_notify_for(SERVER_SPEC which, chipd_server_notify_fn fn, void *ctx)
{
    if (!spec_ok(which))
        return;
    cgi_lock();
    notifyFn[which] = fn;
    notifyCtx[which] = ctx;
    cgi_unlock();
}

int chipd_accept_allowed(SERVER_SPEC which, const struct sockaddr *peer, socklen_t len)
{
    struct sockaddr_storage ss;
    CONN_HANDLER h;
    int off;

    if (!spec_ok(which) || peer == NULL || len == 0 || len > sizeof ss)
        return 0;
    cgi_lock();
    off = suspended[which];
    h = filters[which];
    cgi_unlock();
    if (off)
        return 0;
    if (h == NULL)
        return 1;
    /* The filter gets its own copy: it may write into it, and the original
     * gave it a whole sockaddr_storage on SC1x3/SC2x. */
    memset(&ss, 0, sizeof ss);
    memcpy(&ss, peer, len);
    return h((struct sockaddr *)&ss) == 0;
}

int chipd_accept_allowed_peer(SERVER_SPEC which, const struct sockaddr_storage *peer)
{
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)peer;
    if (peer->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr)) {
        struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = a6->sin6_port};
        memcpy(&a4.sin_addr, &a6->sin6_addr.s6_addr[12], 4);
        return chipd_accept_allowed(which, (struct sockaddr *)&a4, sizeof a4);
    }
    return chipd_accept_allowed(which, (const struct sockaddr *)peer,
                                peer->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                            : sizeof(struct sockaddr_in));
}
