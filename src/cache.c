/*
 * cache.c - the client resumption cache (cache.h). Small and linear: a
 * session has at most maxCaches entries and a lookup is one per handshake.
 */
#include "cache.h"

#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct cache_entry {
    char key[CACHE_KEY_LEN];
    unsigned gen;
    void *value;
    unsigned long long stamp;
};

struct tls_cache {
    pthread_mutex_t lock;
    void *(*ref)(void *);
    void (*release)(void *);
    int max, n;
    unsigned long long clock;
    struct cache_entry e[];
};

struct tls_cache *tls_cache_new(int max, void *(*ref)(void *), void (*release)(void *))
{
    struct tls_cache *c = calloc(1, sizeof *c + (size_t)max * sizeof c->e[0]);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->ref = ref;
    c->release = release;
    c->max = max;
    return c;
}

void tls_cache_clear(struct tls_cache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->n; i++) {
        c->release(c->e[i].value);
        c->e[i].value = NULL;
    }
    c->n = 0;
    pthread_mutex_unlock(&c->lock);
}

void tls_cache_free(struct tls_cache *c)
{
    if (!c)
        return;
    tls_cache_clear(c);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void tls_cache_put(struct tls_cache *c, const char *key, unsigned gen, void *value)
{
    pthread_mutex_lock(&c->lock);
    int slot = -1;
    for (int i = 0; i < c->n && slot < 0; i++)
        if (strcmp(c->e[i].key, key) == 0)
            slot = i;
    if (slot < 0 && c->n < c->max)
        slot = c->n++;
    if (slot < 0) {
        slot = 0;
        for (int i = 1; i < c->n; i++)
            if (c->e[i].stamp < c->e[slot].stamp)
                slot = i;
    }
    if (c->e[slot].value)
        c->release(c->e[slot].value);
    chip_strlcpy(c->e[slot].key, key, sizeof c->e[slot].key);
    c->e[slot].value = value;
    c->e[slot].gen = gen;
    c->e[slot].stamp = ++c->clock;
    pthread_mutex_unlock(&c->lock);
}

void *tls_cache_get(struct tls_cache *c, const char *key, unsigned gen)
{
    void *v = NULL;
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->e[i].key, key) == 0) {
            if (c->e[i].gen == gen)
                v = c->ref(c->e[i].value);
            break;
        }
    pthread_mutex_unlock(&c->lock);
    return v;
}
