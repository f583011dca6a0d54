/*
 * web_pool.c - the handler threads: offloaded handlers (web_handler.offload)
 * run here, so that one that blocks stalls no worker. A connection is
 * queued with its request; the thread calls the handler and hands the
 * connection back to its worker with loop_post.
 */
#include "web.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

struct web_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct web_conn *head, **tail;
    int stop;
    unsigned n;
    pthread_t threads[];
};

static void *pool_main(void *arg)
{
    struct web_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        struct web_conn *c = p->head;
        if (!c) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        p->head = c->pool_next;
        if (!p->head)
            p->tail = &p->head;
        pthread_mutex_unlock(&p->mu);
        c->handler_result = c->handler->handle(c->handler->ctx, &c->ex->view, &c->ex->resp);
        /* The connection keeps its worker running until it is closed, so
         * the worker is there to take it back. */
        while (loop_post(c->lc.worker, web_conn_resume, c) != 0) {
            struct timespec ts = {0, 1000000}; /* out of memory: try again */
            nanosleep(&ts, NULL);
        }
    }
}

struct web_pool *web_pool_start(unsigned nthreads)
{
    struct web_pool *p = calloc(1, sizeof *p + nthreads * sizeof(pthread_t));
    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->tail = &p->head;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old); /* inherited by the threads */
    for (; p->n < nthreads; p->n++)
        if (pthread_create(&p->threads[p->n], NULL, pool_main, p) != 0)
            break;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (p->n < nthreads) {
        web_pool_stop(p);
        return NULL;
    }
    return p;
}

void web_pool_submit(struct web_pool *p, struct web_conn *c)
{
    c->pool_next = NULL;
    pthread_mutex_lock(&p->mu);
    *p->tail = c;
    p->tail = &c->pool_next;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void web_pool_stop(struct web_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
