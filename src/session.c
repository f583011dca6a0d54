/*
 * session.c - SSL_SessionNew/Close/Prop/Opt and SSL_AddClientCA.
 *
 * A session is a counted object: the table holds one reference while the ID
 * is open, every socket bound to it holds one more. Settings are guarded by
 * the session's own mutex and carry a generation number; the TLS context of
 * each role is rebuilt lazily when it is older than the settings or the PKI,
 * so changes apply to the next handshake and never to one in flight.
 */
#include "session.h"

#include "cache.h"
#include "pki.h"
#include "suites.h"
#include "tls.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct chip_session {
    atomic_int refs;
    atomic_int closed;
    int id;
    pthread_mutex_t lock;
    struct tls_config cfg;
    unsigned cfg_gen;
    struct tls_ctx *ctx[2];      /* [0] client, [1] server */
    unsigned ctx_cfg_gen[2];
    unsigned ctx_pki_gen[2];
    struct tls_cache *cache;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct chip_session *table[CHIPSSL_MAX_SESSIONS];

struct chip_session *session_get(int id)
{
    if (id < 1 || id > CHIPSSL_MAX_SESSIONS)
        return NULL;
    pthread_mutex_lock(&table_lock);
    struct chip_session *s = table[id - 1];
    if (s)
        atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&table_lock);
    return s;
}

void session_ref(struct chip_session *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void session_put(struct chip_session *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    for (int i = 0; i < 2; i++)
        tls_ctx_free(s->ctx[i]);
    tls_cache_free(s->cache);
    for (int i = 0; i < s->cfg.ncreds; i++)
        pki_cred_free(s->cfg.creds[i]);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int session_id(const struct chip_session *s)
{
    return s->id;
}

int session_is_closed(struct chip_session *s)
{
    return atomic_load(&s->closed);
}

struct tls_cache *session_cache(struct chip_session *s)
{
    return s->cache;
}

/* Build a context from a copy of the settings, holding no lock: a session
 * whose settings change rebuilds without stalling handshakes on it or on
 * other sessions, and PKI calls go on meanwhile. */
static struct tls_ctx *build_ctx(struct tls_config *cfg, int server, int *rc)
{
    struct tls_trust *trust;
    if (server && cfg->client_auth && cfg->nclient_cas > 0) {
        const char *ids[CHIPSSL_MAX_CLIENT_CAS];
        for (int i = 0; i < cfg->nclient_cas; i++)
            ids[i] = cfg->client_cas[i];
        trust = pki_client_ca_trust(ids, cfg->nclient_cas);
    } else {
        trust = pki_trust(NULL);
    }
    if (!trust) {
        *rc = -API_ENOMEM;
        return NULL;
    }
    struct tls_ctx *c = tls_ctx_new(cfg, trust, server, rc);
    tls_trust_free(trust);
    return c;
}

struct tls_ctx *session_tls_ctx(struct chip_session *s, int server, int *rc)
{
    pthread_mutex_lock(&s->lock);
    unsigned pg = pki_generation(), cg = s->cfg_gen;
    struct tls_ctx *c = s->ctx[server];
    if (c && s->ctx_cfg_gen[server] == cg && s->ctx_pki_gen[server] == pg) {
        tls_ctx_ref(c);
        pthread_mutex_unlock(&s->lock);
        return c;
    }
    struct tls_config cfg = s->cfg;
    for (int i = 0; i < cfg.ncreds; i++)
        pki_cred_ref(cfg.creds[i]);
    pthread_mutex_unlock(&s->lock);

    /* Never fall back to the old context when this fails: it may trust
     * what was deleted or skip checks that were turned on since. */
    c = build_ctx(&cfg, server, rc);
    for (int i = 0; i < cfg.ncreds; i++)
        pki_cred_free(cfg.creds[i]);
    if (!c)
        return NULL;
    pthread_mutex_lock(&s->lock);
    /* Install it unless newer settings came meanwhile (this handshake,
     * started before they were made, still uses it). Connections made with
     * the old context keep their reference. Sessions negotiated under the
     * old settings or trust are not resumed (a resumption skips certificate
     * checks): the server's cache goes with its context, the client's is
     * emptied here. */
    if (s->cfg_gen == cg) {
        if (!server && s->ctx[server])
            tls_cache_clear(s->cache);
        tls_ctx_free(s->ctx[server]);
        s->ctx[server] = c;
        s->ctx_cfg_gen[server] = cg;
        s->ctx_pki_gen[server] = pg;
        tls_ctx_ref(c);
    }
    pthread_mutex_unlock(&s->lock);
    return c;
}

/* The session of an API call, locked, or NULL (API_EINVAL). */
static struct chip_session *lock_session(int id)
{
    struct chip_session *s = session_get(id);
    if (s)
        pthread_mutex_lock(&s->lock);
    return s;
}

static void unlock_session(struct chip_session *s)
{
    pthread_mutex_unlock(&s->lock);
    session_put(s);
}

int SSL_SessionNew(const SSL_SESSION_NEW_Entry *e, int *error)
{
    if (!error)
        return API_ERROR;
    if (!e || e->version == 0 || (e->version & ~0x1F) ||
        e->maxCaches < 0 || e->maxCaches > CHIPSSL_MAX_CACHES)
        return chip_return(error, -API_EINVAL);
    struct pki_cred *cred = NULL;
    if (e->certIdentity && !(cred = pki_cred_get(e->certIdentity)))
        return chip_return(error, -API_EINVAL);

    struct chip_session *s = calloc(1, sizeof *s);
    if (s && e->maxCaches > 0)
        s->cache = tls_cache_new(e->maxCaches, tls_saved_ref, tls_saved_free);
    if (!s || (e->maxCaches > 0 && !s->cache)) {
        free(s);
        pki_cred_free(cred);
        return chip_return(error, -API_ENOMEM);
    }
    atomic_init(&s->refs, 1);
    atomic_init(&s->closed, 0);
    pthread_mutex_init(&s->lock, NULL);
    /* The version rule: obsolete bits alone mean "the secure versions". */
    int modern = e->version & (SSL_VERSION_TLS12 | SSL_VERSION_TLS13);
    s->cfg.tls12 = !modern || (modern & SSL_VERSION_TLS12);
    s->cfg.tls13 = !modern || (modern & SSL_VERSION_TLS13);
    memcpy(s->cfg.suites, chip_default_suites,
           sizeof(int) * (size_t)chip_default_suite_count);
    s->cfg.nsuites = chip_default_suite_count;
    s->cfg.max_caches = e->maxCaches;
    s->cfg.creds[0] = cred;
    s->cfg.ncreds = cred != NULL;
    /* The server's session ID context: unique per session ever made, so
     * no session of another (or of a closed) session ID is resumed. */
    static atomic_uint uids;
    s->cfg.uid = atomic_fetch_add(&uids, 1) + 1;

    /* Build the server context now: an own certificate the engine refuses
     * (its security level: e.g. SHA-1 signed, RSA below 2048 bits) fails
     * here with API_EINVAL, not later in every handshake. */
    if (cred) {
        int err = 0;
        struct tls_ctx *c = session_tls_ctx(s, 1, &err);
        if (!c) {
            session_put(s);
            return chip_return(error, err);
        }
        tls_ctx_free(c);
    }

    int id = -1;
    pthread_mutex_lock(&table_lock);
    for (int i = 0; i < CHIPSSL_MAX_SESSIONS; i++)
        if (!table[i]) {
            id = i + 1;
            s->id = id;
            table[i] = s;
            break;
        }
    pthread_mutex_unlock(&table_lock);
    if (id < 0) {
        session_put(s);
        return chip_return(error, -API_ENOENT);
    }
    return chip_return(error, id);
}

int SSL_SessionClose(int sessionID, int *error)
{
    if (!error)
        return API_ERROR;
    struct chip_session *s = NULL;
    pthread_mutex_lock(&table_lock);
    if (sessionID >= 1 && sessionID <= CHIPSSL_MAX_SESSIONS) {
        s = table[sessionID - 1];
        table[sessionID - 1] = NULL;
    }
    pthread_mutex_unlock(&table_lock);
    if (!s)
        return chip_return(error, -API_EINVAL);
    atomic_store(&s->closed, 1);
    session_put(s);
    return chip_return(error, 0);
}

int SSL_SessionProp(int sessionID, const int *proposals, int count, int *error)
{
    if (!error)
        return API_ERROR;
    if (!proposals || count < 1 || count > CHIPSSL_MAX_PROPOSALS)
        return chip_return(error, -API_EINVAL);
    int has12 = 0, has13 = 0;
    for (int i = 0; i < count; i++) {
        const struct chip_suite *cs = chip_suite_find(proposals[i]);
        if (!cs)
            return chip_return(error, -API_EINVAL);
        for (int j = 0; j < i; j++)
            if (proposals[j] == proposals[i])
                return chip_return(error, -API_EINVAL);
        has13 |= cs->tls13;
        has12 |= !cs->tls13;
    }
    struct chip_session *s = lock_session(sessionID);
    if (!s)
        return chip_return(error, -API_EINVAL);
    int rc = 0;
    if (!((has12 && s->cfg.tls12) || (has13 && s->cfg.tls13))) {
        rc = -API_EINVAL; /* no suite for any version the session allows */
    } else {
        memcpy(s->cfg.suites, proposals, sizeof(int) * (size_t)count);
        s->cfg.nsuites = count;
        s->cfg_gen++;
    }
    unlock_session(s);
    return chip_return(error, rc);
}

int SSL_SessionOpt(int sessionID, int option, int value, int *error)
{
    if (!error)
        return API_ERROR;
    if (option < SSL_OPT_CLIENT_AUTH || option > SSL_OPT_SKIP_CERT_VALIDATION ||
        (value != 0 && value != 1))
        return chip_return(error, -API_EINVAL);
    struct chip_session *s = lock_session(sessionID);
    if (!s)
        return chip_return(error, -API_EINVAL);
    int *slot = option == SSL_OPT_CLIENT_AUTH ? &s->cfg.client_auth
              : option == SSL_OPT_SERVER_PROPOSALS ? &s->cfg.server_pref
                                                   : &s->cfg.skip_verify;
    if (*slot != value) {
        *slot = value;
        s->cfg_gen++;
    }
    unlock_session(s);
    return chip_return(error, 0);
}

int SSL_AddClientCA(int sessionID, const void *caIdPtr, int *error)
{
    if (!error)
        return API_ERROR;
    if (!caIdPtr || strnlen(caIdPtr, CHIPSSL_MAX_ID_LEN + 1) > CHIPSSL_MAX_ID_LEN ||
        !pki_is_ca(caIdPtr))
        return chip_return(error, -API_EINVAL);
    struct chip_session *s = lock_session(sessionID);
    if (!s)
        return chip_return(error, -API_EINVAL);
    int rc = 0, i;
    for (i = 0; i < s->cfg.nclient_cas; i++)
        if (strcmp(s->cfg.client_cas[i], caIdPtr) == 0)
            break;
    if (!s->cfg.client_auth) {
        rc = -API_EINVAL;
    } else if (i == s->cfg.nclient_cas) {
        if (i == CHIPSSL_MAX_CLIENT_CAS) {
            rc = -API_ENOBUFS;
        } else {
            chip_strlcpy(s->cfg.client_cas[i], caIdPtr, sizeof s->cfg.client_cas[i]);
            s->cfg.nclient_cas++;
            s->cfg_gen++;
        }
    }
    unlock_session(s);
    return chip_return(error, rc);
}

int SSL_SessionAddIdentity(int sessionID, const char *certIdentity, int *error)
{
    if (!error)
        return API_ERROR;
    struct pki_cred *cred = certIdentity ? pki_cred_get(certIdentity) : NULL;
    if (!cred)
        return chip_return(error, -API_EINVAL);
    struct chip_session *s = lock_session(sessionID);
    if (!s) {
        pki_cred_free(cred);
        return chip_return(error, -API_EINVAL);
    }
    int rc = 0, i;
    for (i = 0; i < s->cfg.ncreds && s->cfg.creds[i] != cred; i++)
        ;
    if (i < s->cfg.ncreds) {
        pki_cred_free(cred); /* already there */
        unlock_session(s);
        return chip_return(error, 0);
    }
    if (i == CHIPSSL_MAX_IDENTITIES) {
        pki_cred_free(cred);
        unlock_session(s);
        return chip_return(error, -API_ENOBUFS);
    }
    s->cfg.creds[s->cfg.ncreds++] = cred;
    s->cfg_gen++;
    pthread_mutex_unlock(&s->lock);
    /* Build the server context now, so that a certificate the engine
     * refuses fails here, as in SSL_SessionNew, not in every handshake;
     * a failed call leaves the session as it was. */
    struct tls_ctx *c = session_tls_ctx(s, 1, &rc);
    tls_ctx_free(c);
    if (!c) {
        pthread_mutex_lock(&s->lock);
        for (i = 0; i < s->cfg.ncreds && s->cfg.creds[i] != cred; i++)
            ;
        if (i < s->cfg.ncreds) {
            memmove(&s->cfg.creds[i], &s->cfg.creds[i + 1],
                    sizeof s->cfg.creds[0] * (size_t)(s->cfg.ncreds - i - 1));
            s->cfg.ncreds--;
            s->cfg_gen++;
            pki_cred_free(cred);
        }
        pthread_mutex_unlock(&s->lock);
    }
    session_put(s);
    return chip_return(error, c ? 0 : rc);
}

int SSL_SessionALPN(int sessionID, const char *protocols, int *error)
{
    if (!error)
        return API_ERROR;
    if (!protocols)
        protocols = "";
    size_t len = strnlen(protocols, 256);
    if (len > 255)
        return chip_return(error, -API_EINVAL);
    /* Every name 1..255 bytes: no empty ones between, before or after commas. */
    for (const char *p = protocols; len > 0;) {
        size_t n = strcspn(p, ",");
        if (n == 0)
            return chip_return(error, -API_EINVAL);
        if (!p[n])
            break;
        p += n + 1;
        if (!*p)
            return chip_return(error, -API_EINVAL);
    }
    struct chip_session *s = lock_session(sessionID);
    if (!s)
        return chip_return(error, -API_EINVAL);
    if (strcmp(s->cfg.alpn, protocols) != 0) {
        chip_strlcpy(s->cfg.alpn, protocols, sizeof s->cfg.alpn);
        s->cfg_gen++;
    }
    unlock_session(s);
    return chip_return(error, 0);
}
