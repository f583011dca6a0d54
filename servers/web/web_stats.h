/*
 * web_stats - what the status page shows: the process's TLS sessions, its
 * open connections, and counters. One registry for the whole process, so
 * that every server (Web, FTP) reports into the same page.
 *
 * Design (why it is cheap for the workers):
 * - Counters are relaxed atomics: a worker adds without a lock; the page
 *   reads them one by one (a page may be off by a request in flight, never
 *   torn).
 * - A connection's summary (struct web_stats_conn) is storage the server
 *   embeds in its own connection record. It joins a mutex-protected list at
 *   open and leaves it at close: two short locked sections per connection.
 *   Its TLS details are filled once, at the end of the handshake, by the
 *   thread that owns the socket (SSL_GetConnState is read there, never from
 *   another thread), under the same mutex. Its request counter and state
 *   are atomics the owner updates without the lock.
 * - The status page takes a snapshot: it copies the sessions and the
 *   summaries under the mutex (memcpy of small records) and renders from
 *   the copy, outside the lock. It never touches a connection's socket.
 *
 * For another server (the FTP server): the whole integration is
 *   web_stats_session_register("FTPS", sid, &info);        at set-up
 *   web_stats_session_unregister(sid);                      at tear-down
 *   web_stats_conn_open(&conn->st, "ftp", &peer);           at accept
 *   web_stats_conn_tls(&conn->st, sd);                      after the handshake
 *   web_stats_handshake_failed(sd) or _timeout();           when it fails
 *   web_stats_handshake_refused("reason");                  refused after it
 *   web_stats_conn_request(&conn->st, status, bytes);       per command/transfer
 *   web_stats_conn_close(&conn->st);                        before closesocket
 * with service "ftp" (control) or "ftp-data" (data connections), and
 * status the reply code class's HTTP equivalent (2xx, 4xx, 5xx) or 0 for
 * "not counted as a request". Every call is thread-safe.
 */
#ifndef CHIPD_WEB_STATS_H
#define CHIPD_WEB_STATS_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#define WEB_STATS_NAME 32
#define WEB_STATS_TEXT 256
#define WEB_STATS_PROPOSALS 128

/* What a session was created with. chipssl has no getter for a session's
 * options and proposals, so the creator says what it set. */
struct web_stats_session_info {
    int client_auth;      /* option 1 */
    int server_proposals; /* option 2 */
    int skip_validation;  /* option 3 */
    int versions;         /* SSL_VERSION_* mask of SSL_SessionNew */
    const int *proposals; /* IANA numbers in server order; NULL/0: the library's default */
    int nproposals;
};

/* A session as the page shows it (a copy). */
struct web_stats_session {
    char name[WEB_STATS_NAME];
    int id;
    int client_auth, server_proposals, skip_validation, versions;
    int proposals[WEB_STATS_PROPOSALS];
    int nproposals; /* the effective list: the default one when none was given */
};

/* web_stats_session_register - show session id under name (e.g. "HTTPS",
 * "FTPS"). Registering a name again replaces the entry of that name (a
 * reload's new session). Returns 0, -1 when the table (16) is full. */
int web_stats_session_register(const char *name, int id, const struct web_stats_session_info *info);
/* web_stats_session_unregister - forget session id (no-op when unknown). */
void web_stats_session_unregister(int id);

/* One connection's summary: embedded in the server's connection record;
 * only web_stats_* calls touch it. */
struct web_stats_conn {
    struct web_stats_conn *prev, *next; /* the registry's list (under its mutex) */
    const char *service;                /* "http", "https", "ftp", "ftp-data" (a constant) */
    char peer[64];                      /* address text */
    unsigned port;                      /* peer port */
    time_t opened;                      /* web_stats_now() at the open */
    _Atomic(const char *) state;        /* a constant text, e.g. "handshake", "idle" */
    atomic_uint_fast64_t requests;
    /* Filled at the end of the handshake (under the registry's mutex). */
    int tls_done;
    int session_id;
    int version; /* SSL_VERSION_* */
    int suite;   /* IANA number */
    int resumed;
    char subject[WEB_STATS_TEXT]; /* client certificate subject, "" none */
    char sni[WEB_STATS_TEXT];     /* the name the client sent, "" none */
    char alpn[64];
};

/* web_stats_conn_open - a new connection of service from peer. */
void web_stats_conn_open(struct web_stats_conn *e, const char *service,
                         const struct sockaddr_storage *peer);
/* web_stats_conn_tls - the handshake on sd has ended: copy its details
 * (version, suite, resumed, client certificate, SNI) and count it as a full
 * or resumed handshake. Called by the thread that owns sd. */
void web_stats_conn_tls(struct web_stats_conn *e, int sd);
/* web_stats_conn_state - what the connection does now (a constant text). */
void web_stats_conn_state(struct web_stats_conn *e, const char *state);
/* web_stats_conn_request - a request answered with status (its class is
 * counted; 0: not counted) and bytes of body sent. */
void web_stats_conn_request(struct web_stats_conn *e, int status, uint64_t bytes);
/* web_stats_conn_close - the connection ends (leaves the list). */
void web_stats_conn_close(struct web_stats_conn *e);

/* web_stats_handshake_failed - the handshake on sd failed: count it under
 * the readable category of SSL_GetProblem's record. Returns the category. */
const char *web_stats_handshake_failed(int sd);
/* web_stats_handshake_timeout - a handshake ended by the server's own
 * timer (no SSL_GetProblem record). */
void web_stats_handshake_timeout(void);
/* web_stats_handshake_refused - a handshake that completed but that the
 * server refused on its own grounds (reason: a constant text), e.g. an FTP
 * data connection that did not resume its control connection's session.
 * Counted as failed (and not as full or resumed). */
void web_stats_handshake_refused(const char *reason);

/* The counters as the page shows them. */
#define WEB_STATS_REASONS 32
struct web_stats_counters {
    uint64_t hs_full, hs_resumed, hs_failed;
    uint64_t status_class[6]; /* [1] 1xx .. [5] 5xx; [0] other */
    uint64_t requests, bytes_sent;
    uint64_t conns_total; /* connections opened since the start */
    uint64_t open;        /* connections open now (all, also those not copied) */
    struct {
        const char *reason; /* a constant text */
        uint64_t count;
    } failures[WEB_STATS_REASONS];
    int nfailures; /* in first-seen order */
};

/* web_stats_snapshot - a consistent copy of everything: the sessions (up
 * to *nsessions), the connections (the oldest max_conns at most, malloc'ed
 * into *conns, *nconns of them; the caller frees) and the counters. Returns
 * 0, -1 when out of memory (then *conns is NULL). */
int web_stats_snapshot(struct web_stats_session *sessions, int *nsessions,
                       struct web_stats_conn **conns, size_t *nconns, size_t max_conns,
                       struct web_stats_counters *counters);

/* web_stats_now - seconds of a clock that does not jump (CLOCK_MONOTONIC):
 * for ages. */
time_t web_stats_now(void);

/* web_stats_failure_reason - the category of a failed handshake's
 * problem record (exposed for tests). */
struct SslProblemS;
const char *web_stats_failure_reason(const struct SslProblemS *p);

#endif
