/*
 * cache.h - a client's resumption cache: saved TLS sessions by key (peer
 * address, port and expected name), each tagged with the generation of the
 * context it was negotiated under. Engine-neutral: the values are opaque and
 * the cache is given their reference counting when it is made.
 */
#ifndef CHIPSSL_CACHE_H
#define CHIPSSL_CACHE_H

struct tls_cache;

#define CACHE_KEY_LEN 320

/* NULL on allocation failure. ref returns its argument with one more
 * reference (NULL when it cannot); release drops one. */
struct tls_cache *tls_cache_new(int max_entries, void *(*ref)(void *),
                                void (*release)(void *));
void tls_cache_free(struct tls_cache *c);
/* Forget every entry. */
void tls_cache_clear(struct tls_cache *c);
/* Store value under key (takes the reference); the least recently stored
 * entry goes when the cache is full. */
void tls_cache_put(struct tls_cache *c, const char *key, unsigned gen, void *value);
/* A new reference to the value stored under key for generation gen, or NULL
 * (none, or one negotiated under another context: a session from before a
 * change of options, proposals or trust would resume without the checks the
 * change asked for). */
void *tls_cache_get(struct tls_cache *c, const char *key, unsigned gen);

#endif
