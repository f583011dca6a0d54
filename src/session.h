/*
 * session.h - the session table: small integer IDs for shared TLS settings.
 */
#ifndef CHIPSSL_SESSION_H
#define CHIPSSL_SESSION_H

struct chip_session;
struct tls_ctx;
struct tls_cache;

/* A counted reference to the open session `id`, or NULL. */
struct chip_session *session_get(int id);
void session_ref(struct chip_session *s);
void session_put(struct chip_session *s);

int session_id(const struct chip_session *s);
int session_is_closed(struct chip_session *s);

/* The session's TLS context for a role (server 1 / client 0), rebuilt first
 * when the session's settings or the PKI changed since it was built. A
 * counted reference (tls_ctx_free), or NULL with *rc a negated API code. */
struct tls_ctx *session_tls_ctx(struct chip_session *s, int server, int *rc);

/* The client resumption cache, or NULL when maxCaches is 0. */
struct tls_cache *session_cache(struct chip_session *s);

#endif
