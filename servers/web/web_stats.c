/*
 * web_stats.c - the status page's registry and counters (web_stats.h).
 */
#include "web_stats.h"

#include <tcpip.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEB_STATS_SESSIONS 16

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
/* Under mu: */
static struct web_stats_session sessions[WEB_STATS_SESSIONS];
static int nsessions;
static struct web_stats_conn *head, *tail; /* oldest first */
static size_t nconns;
static struct {
    const char *reason;
    uint64_t count;
} failures[WEB_STATS_REASONS];
static int nfailures;

/* Lock-free counters. */
static atomic_uint_fast64_t hs_full, hs_resumed, hs_failed, requests, bytes_sent, conns_total;
static atomic_uint_fast64_t status_class[6];

/* The library's list when SSL_SessionProp was never called (tcpip.h). */
static const int default_proposals[] = {0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F,
                                        0xC02C, 0xC030, 0xCCA9, 0xCCA8};

int web_stats_session_register(const char *name, int id, const struct web_stats_session_info *info)
{
    struct web_stats_session s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", name);
    s.id = id;
    s.client_auth = info->client_auth;
    s.server_proposals = info->server_proposals;
    s.skip_validation = info->skip_validation;
    s.versions = info->versions;
    const int *p = info->proposals && info->nproposals > 0 ? info->proposals : default_proposals;
    int n = info->proposals && info->nproposals > 0
                ? info->nproposals
                : (int)(sizeof default_proposals / sizeof default_proposals[0]);
    if (n > WEB_STATS_PROPOSALS)
        n = WEB_STATS_PROPOSALS;
    memcpy(s.proposals, p, (size_t)n * sizeof *p);
    s.nproposals = n;
    int r = 0, i;
    pthread_mutex_lock(&mu);
    for (i = 0; i < nsessions && strcmp(sessions[i].name, s.name) != 0; i++)
        ;
    if (i < WEB_STATS_SESSIONS) {
        sessions[i] = s;
        if (i == nsessions)
            nsessions++;
    } else
        r = -1;
    pthread_mutex_unlock(&mu);
    return r;
}

void web_stats_session_unregister(int id)
{
    pthread_mutex_lock(&mu);
    for (int i = 0; i < nsessions; i++)
        if (sessions[i].id == id) {
            memmove(&sessions[i], &sessions[i + 1], (size_t)(nsessions - i - 1) * sizeof *sessions);
            nsessions--;
            break;
        }
    pthread_mutex_unlock(&mu);
}

void web_stats_conn_open(struct web_stats_conn *e, const char *service,
                         const struct sockaddr_storage *peer)
{
    memset(e, 0, sizeof *e);
    e->service = service;
    e->opened = web_stats_now();
    atomic_init(&e->state, "open");
    atomic_init(&e->requests, 0);
    e->session_id = -1;
    if (peer->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)peer;
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
            inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], e->peer, sizeof e->peer);
        else
            inet_ntop(AF_INET6, &a->sin6_addr, e->peer, sizeof e->peer);
        e->port = ntohs(a->sin6_port);
    } else if (peer->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)peer;
        inet_ntop(AF_INET, &a->sin_addr, e->peer, sizeof e->peer);
        e->port = ntohs(a->sin_port);
    }
    atomic_fetch_add_explicit(&conns_total, 1, memory_order_relaxed);
    pthread_mutex_lock(&mu);
    e->prev = tail;
    if (tail)
        tail->next = e;
    else
        head = e;
    tail = e;
    nconns++;
    pthread_mutex_unlock(&mu);
}

void web_stats_conn_tls(struct web_stats_conn *e, int sd)
{
    SSL_CONN_STATE *st = NULL;
    int err = 0;
    if (SSL_GetConnState(sd, (void **)&st, &err) != 0 || !st)
        return;
    atomic_fetch_add_explicit(st->resumed ? &hs_resumed : &hs_full, 1, memory_order_relaxed);
    pthread_mutex_lock(&mu);
    e->tls_done = 1;
    e->session_id = st->sessionID;
    e->version = st->version;
    e->suite = st->cipherSuite;
    e->resumed = st->resumed;
    snprintf(e->subject, sizeof e->subject, "%s", st->peerSubject);
    snprintf(e->sni, sizeof e->sni, "%s", st->serverName);
    snprintf(e->alpn, sizeof e->alpn, "%.63s", st->alpn); /* protocol names are short */
    pthread_mutex_unlock(&mu);
}

void web_stats_conn_state(struct web_stats_conn *e, const char *state)
{
    if (atomic_load_explicit(&e->state, memory_order_relaxed) != state)
        atomic_store_explicit(&e->state, state, memory_order_relaxed);
}

void web_stats_conn_request(struct web_stats_conn *e, int status, uint64_t bytes)
{
    if (status > 0) {
        int cls = status / 100;
        atomic_fetch_add_explicit(&status_class[cls >= 1 && cls <= 5 ? cls : 0], 1,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&requests, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&e->requests, 1, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&bytes_sent, bytes, memory_order_relaxed);
}

void web_stats_conn_close(struct web_stats_conn *e)
{
    pthread_mutex_lock(&mu);
    if (e->prev)
        e->prev->next = e->next;
    else if (head == e)
        head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else if (tail == e)
        tail = e->prev;
    e->prev = e->next = NULL;
    nconns--;
    pthread_mutex_unlock(&mu);
}

static void count_failure(const char *reason)
{
    atomic_fetch_add_explicit(&hs_failed, 1, memory_order_relaxed);
    pthread_mutex_lock(&mu);
    int i;
    for (i = 0; i < nfailures && strcmp(failures[i].reason, reason) != 0; i++)
        ;
    if (i == nfailures && i == WEB_STATS_REASONS)
        i--; /* full (cannot happen with the fixed texts): the last one takes it */
    if (i == nfailures) {
        failures[i].reason = reason;
        nfailures++;
    }
    failures[i].count++;
    pthread_mutex_unlock(&mu);
}

const char *web_stats_failure_reason(const struct SslProblemS *p)
{
    if (p->errorCode == API_ETIMEDOUT)
        return "timeout";
    /* The engine's words for a request in clear text on the TLS port. */
    if (strstr(p->reason, "http request") || strstr(p->reason, "https proxy request"))
        return "plain HTTP on the HTTPS port";
    if (p->certFlags & PKI_CERT_REVOKED)
        return "client certificate revoked";
    if (p->certFlags & PKI_CERT_EXPIRED)
        return "client certificate expired";
    if (p->certFlags & PKI_CERT_UNKNOWNCA)
        return "client certificate: unknown CA";
    if (p->certFlags & (PKI_CERT_BADCERT | PKI_CERT_NOTVERIFIED))
        return "client certificate rejected";
    if (p->alert >= 0 && !p->alertSent) {
        switch (p->alert) {
        case 48: return "peer refused: unknown CA";
        case 42:
        case 43:
        case 44:
        case 45:
        case 46: return "peer refused our certificate";
        case 70: return "peer refused: protocol version";
        case 40: return "peer refused: handshake failure";
        case 0: return "peer closed during the handshake";
        default: return "peer refused: other alert";
        }
    }
    if (p->alert >= 0) {
        switch (p->alert) {
        case 70: return "protocol version: the client offers only old TLS";
        case 40:
            return strstr(p->reason, "no shared cipher") ? "no common cipher suite"
                                                         : "handshake failure";
        case 116: return "client certificate required";
        case 120: return "no common application protocol";
        case 10:
        case 50: return "not a TLS client hello";
        default: return "protocol error";
        }
    }
    if (strstr(p->reason, "wrong version number") || strstr(p->reason, "unsupported protocol"))
        return "protocol version: the client offers only old TLS";
    if (p->errorCode == API_ECONNRESET || p->errorCode == API_ENOTCONN)
        return "peer closed during the handshake";
    return "other";
}

const char *web_stats_handshake_failed(int sd)
{
    SslProblemS p;
    int err = 0;
    memset(&p, 0, sizeof p);
    p.alert = -1;
    SSL_GetProblem(sd, &p, &err);
    const char *r = web_stats_failure_reason(&p);
    count_failure(r);
    return r;
}

void web_stats_handshake_timeout(void)
{
    count_failure("timeout");
}

void web_stats_handshake_refused(const char *reason)
{
    count_failure(reason);
}

time_t web_stats_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

int web_stats_snapshot(struct web_stats_session *ss, int *nss, struct web_stats_conn **conns,
                       size_t *nc, size_t max_conns, struct web_stats_counters *k)
{
    memset(k, 0, sizeof *k);
    k->hs_full = atomic_load_explicit(&hs_full, memory_order_relaxed);
    k->hs_resumed = atomic_load_explicit(&hs_resumed, memory_order_relaxed);
    k->hs_failed = atomic_load_explicit(&hs_failed, memory_order_relaxed);
    for (int i = 0; i < 6; i++)
        k->status_class[i] = atomic_load_explicit(&status_class[i], memory_order_relaxed);
    k->requests = atomic_load_explicit(&requests, memory_order_relaxed);
    k->bytes_sent = atomic_load_explicit(&bytes_sent, memory_order_relaxed);
    k->conns_total = atomic_load_explicit(&conns_total, memory_order_relaxed);

    *conns = NULL;
    *nc = 0;
    pthread_mutex_lock(&mu);
    size_t want = nconns < max_conns ? nconns : max_conns;
    struct web_stats_conn *list = want ? malloc(want * sizeof *list) : NULL;
    if (want && !list) {
        pthread_mutex_unlock(&mu);
        return -1;
    }
    size_t n = 0;
    k->open = nconns;
    for (const struct web_stats_conn *e = head; e && n < want; e = e->next) {
        struct web_stats_conn *o = &list[n++];
        memcpy(o->peer, e->peer, sizeof o->peer);
        o->service = e->service;
        o->port = e->port;
        o->opened = e->opened;
        atomic_init(&o->state, atomic_load_explicit(&e->state, memory_order_relaxed));
        atomic_init(&o->requests, atomic_load_explicit(&e->requests, memory_order_relaxed));
        o->tls_done = e->tls_done;
        o->session_id = e->session_id;
        o->version = e->version;
        o->suite = e->suite;
        o->resumed = e->resumed;
        memcpy(o->subject, e->subject, sizeof o->subject);
        memcpy(o->sni, e->sni, sizeof o->sni);
        memcpy(o->alpn, e->alpn, sizeof o->alpn);
        o->prev = o->next = NULL;
    }
    int m = *nss < nsessions ? *nss : nsessions;
    memcpy(ss, sessions, (size_t)m * sizeof *ss);
    *nss = m;
    for (int i = 0; i < nfailures; i++) {
        k->failures[i].reason = failures[i].reason;
        k->failures[i].count = failures[i].count;
    }
    k->nfailures = nfailures;
    pthread_mutex_unlock(&mu);
    *conns = list;
    *nc = n;
    return 0;
}
