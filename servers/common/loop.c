/*
 * loop.c - worker threads, epoll, per-worker timer heap (see loop.h).
 */
#include "loop.h"

#include <tcpip.h>

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_LISTENERS 8
#define LOOP_EVENTS 64
#define LOOP_TRIM_MS 1000 /* quiet time before a worker trims the heap */
#define LOOP_ACCEPT_BURST 64
#define LOOP_ACCEPT_PAUSE_MS 100 /* listeners held off after EMFILE and the like */

struct listener {
    int sd;
    loop_accept_fn on_accept;
    void *arg;
    pthread_mutex_t mu;
};

struct loop_task {
    void (*fn)(void *arg);
    void *arg;
    struct loop_task *next;
};

struct loop_worker {
    struct loop *loop;
    unsigned index;
    int ep, evfd;
    pthread_t thread;
    int running, stopping;
    struct loop_conn **heap; /* timer min-heap on deadline */
    size_t nheap, capheap;
    struct loop_conn *conns; /* every connection of this worker */
    pthread_mutex_t post_mu; /* guards posted, ended */
    struct loop_task *posted, **posted_tail;
    int ended; /* the thread has finished: loop_post refuses */
    atomic_int stop_requested;
    uint64_t accept_resume; /* the listeners in `paused` come back then; 0: none */
    unsigned paused;        /* bit i: listener i taken out of ep */
    uint64_t trim_at;       /* malloc_trim then if no event came; 0: none */
};

struct loop {
    unsigned nworkers, grace_ms;
    atomic_int stopped; /* loop_stop has begun: loop_listener_set refuses */
    struct loop_worker *workers;
    struct listener listeners[LOOP_MAX_LISTENERS];
    unsigned nlisteners;
};

uint64_t loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- timer heap ---------------------------------------------------- */

static void heap_set(struct loop_worker *w, size_t i, struct loop_conn *c)
{
    w->heap[i] = c;
    c->heap_index = i + 1;
}

static void heap_up(struct loop_worker *w, size_t i)
{
    struct loop_conn *c = w->heap[i];
    while (i > 0 && w->heap[(i - 1) / 2]->deadline > c->deadline) {
        heap_set(w, i, w->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(w, i, c);
}

static void heap_down(struct loop_worker *w, size_t i)
{
    struct loop_conn *c = w->heap[i];
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= w->nheap)
            break;
        if (k + 1 < w->nheap && w->heap[k + 1]->deadline < w->heap[k]->deadline)
            k++;
        if (w->heap[k]->deadline >= c->deadline)
            break;
        heap_set(w, i, w->heap[k]);
        i = k;
    }
    heap_set(w, i, c);
}

static void heap_remove(struct loop_worker *w, struct loop_conn *c)
{
    if (!c->heap_index)
        return;
    size_t i = c->heap_index - 1;
    c->heap_index = 0;
    struct loop_conn *last = w->heap[--w->nheap];
    if (last == c)
        return;
    heap_set(w, i, last);
    heap_up(w, i);
    heap_down(w, last->heap_index - 1);
}

void loop_conn_timer(struct loop_conn *c, unsigned ms)
{
    struct loop_worker *w = c->worker;
    heap_remove(w, c);
    c->deadline = 0;
    if (!ms)
        return;
    if (w->nheap == w->capheap) {
        size_t cap = w->capheap ? 2 * w->capheap : 64;
        struct loop_conn **h = realloc(w->heap, cap * sizeof *h);
        if (!h)
            return; /* no timer: the connection still ends with its peer */
        w->heap = h;
        w->capheap = cap;
    }
    c->deadline = loop_now_ms() + ms;
    heap_set(w, w->nheap++, c);
    heap_up(w, w->nheap - 1);
}

/* ---- connections ----------------------------------------------------- */

int loop_conn_add(struct loop_worker *w, struct loop_conn *c, unsigned events)
{
    struct epoll_event ev = {.events = events | EPOLLET, .data.ptr = c};
    c->worker = w;
    c->deadline = 0;
    c->heap_index = 0;
    c->watched = events;
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        return -1;
    c->prev = NULL;
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    return 0;
}

int loop_conn_watch(struct loop_conn *c, unsigned events)
{
    if (events == c->watched)
        return 0;
    struct epoll_event ev = {.events = events | EPOLLET, .data.ptr = c};
    c->watched = events;
    return epoll_ctl(c->worker->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

void loop_conn_close(struct loop_conn *c)
{
    struct loop_worker *w = c->worker;
    heap_remove(w, c);
    epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

int loop_stopping(const struct loop_worker *w)
{
    return w->stopping;
}
unsigned loop_worker_index(const struct loop_worker *w)
{
    return w->index;
}
unsigned loop_workers(const struct loop *l)
{
    return l->nworkers;
}

/* ---- the worker ------------------------------------------------------ */

static void accept_some(struct loop_worker *w, struct listener *ls)
{
    pthread_mutex_lock(&ls->mu);
    for (int i = 0; i < LOOP_ACCEPT_BURST && ls->sd >= 0; i++) {
        struct sockaddr_storage peer;
        int err = 0;
        memset(&peer, 0, sizeof peer);
        int sd = accept(ls->sd, &peer, &err);
        if (sd < 0 && (err == API_EMFILE || err == API_ENOBUFS || err == API_ENOMEM)) {
            /* Out of descriptors: the pending connection stays pending and
             * the level-triggered listener would wake this worker at once,
             * again and again (a busy loop). Out of this worker's set for a
             * while; the connection waits in the backlog. */
            epoll_ctl(w->ep, EPOLL_CTL_DEL, ls->sd, NULL);
            w->paused |= 1u << (ls - w->loop->listeners);
            w->accept_resume = loop_now_ms() + LOOP_ACCEPT_PAUSE_MS;
            break;
        }
        if (sd < 0)
            break; /* API_EWOULDBLOCK, an aborted connection: on the next wake-up */
        ls->on_accept(ls->arg, w, sd, &peer);
    }
    pthread_mutex_unlock(&ls->mu);
}

/* The listeners accept_some took out come back (unless stopping). A
 * listener replaced meanwhile (loop_listener_set) is in the set already. */
static void accept_resume(struct loop_worker *w)
{
    struct loop *l = w->loop;
    for (unsigned i = 0; i < l->nlisteners; i++) {
        if (!(w->paused & 1u << i))
            continue;
        struct listener *ls = &l->listeners[i];
        pthread_mutex_lock(&ls->mu);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = ls};
        if (ls->sd >= 0 && !w->stopping)
            epoll_ctl(w->ep, EPOLL_CTL_ADD, ls->sd, &ev); /* EEXIST: a new socket */
        pthread_mutex_unlock(&ls->mu);
    }
    w->paused = 0;
    w->accept_resume = 0;
}

static void stop_all(struct loop_worker *w, int force)
{
    struct loop_conn *c = w->conns, *next;
    for (; c; c = next) {
        next = c->next; /* c may close itself */
        c->ops->on_stop(c, force);
    }
}

static void begin_stop(struct loop_worker *w)
{
    struct loop *l = w->loop;
    w->stopping = 1;
    for (unsigned i = 0; i < l->nlisteners; i++) {
        pthread_mutex_lock(&l->listeners[i].mu); /* against loop_listener_set */
        if (l->listeners[i].sd >= 0)
            epoll_ctl(w->ep, EPOLL_CTL_DEL, l->listeners[i].sd, NULL);
        pthread_mutex_unlock(&l->listeners[i].mu);
    }
    stop_all(w, 0);
}

/* Run the calls other threads posted (loop_post), in order. */
static void run_posted(struct loop_worker *w, int end)
{
    pthread_mutex_lock(&w->post_mu);
    struct loop_task *t = w->posted;
    w->posted = NULL;
    w->posted_tail = &w->posted;
    if (end)
        w->ended = 1;
    pthread_mutex_unlock(&w->post_mu);
    while (t) {
        struct loop_task *next = t->next;
        t->fn(t->arg);
        free(t);
        t = next;
    }
}

int loop_post(struct loop_worker *w, void (*fn)(void *arg), void *arg)
{
    struct loop_task *t = malloc(sizeof *t);
    if (!t)
        return -1;
    *t = (struct loop_task){fn, arg, NULL};
    pthread_mutex_lock(&w->post_mu);
    if (w->ended) {
        pthread_mutex_unlock(&w->post_mu);
        free(t);
        errno = ESHUTDOWN;
        return -1;
    }
    *w->posted_tail = t;
    w->posted_tail = &t->next;
    pthread_mutex_unlock(&w->post_mu);
    uint64_t one = 1;
    if (write(w->evfd, &one, sizeof one) < 0) {
        /* only on counter overflow: the worker is woken anyway */
    }
    return 0;
}

static void *worker_main(void *arg)
{
    struct loop_worker *w = arg;
    struct loop *l = w->loop;
    struct epoll_event evs[LOOP_EVENTS];
    uint64_t grace_end = 0;
    int forced = 0;
    for (;;) {
        uint64_t now = loop_now_ms();
        if (w->stopping) {
            if (!w->conns)
                break;
            if (!forced && now >= grace_end) {
                forced = 1;
                stop_all(w, 1);
                continue;
            }
        }
        int timeout = -1;
        uint64_t next = w->nheap ? w->heap[0]->deadline : 0;
        if (w->stopping && !forced && (!next || grace_end < next))
            next = grace_end;
        if (w->accept_resume && now >= w->accept_resume) {
            accept_resume(w);
            continue;
        }
        if (w->accept_resume && (!next || w->accept_resume < next))
            next = w->accept_resume;
        /* A worker that has been quiet for LOOP_TRIM_MS after some work
         * gives the free memory of that work back to the system: a burst of
         * handshakes leaves tens of KiB per connection free in the heap
         * (OpenSSL's record and handshake buffers), which would otherwise
         * stay in the process's RSS for good. A busy worker never trims. */
        if (w->trim_at && (!next || w->trim_at < next))
            next = w->trim_at;
        if (next)
            timeout = next <= now ? 0 : (int)(next - now > 3600000 ? 3600000 : next - now);
        int n = epoll_wait(w->ep, evs, LOOP_EVENTS, timeout), woken = 0;
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == w) {
                uint64_t v;
                if (read(w->evfd, &v, sizeof v) < 0) { /* nothing to do */
                }
                woken = 1;
            } else if (p >= (void *)l->listeners &&
                       p < (void *)(l->listeners + LOOP_MAX_LISTENERS)) {
                if (!w->stopping)
                    accept_some(w, p);
            } else {
                struct loop_conn *c = p;
                c->ops->on_event(c, evs[i].events);
            }
        }
        /* Posted tasks only after the batch: one may free a connection
         * (a handler's result ends it) whose event is later in evs[]. */
        if (woken) {
            run_posted(w, 0);
            if (atomic_load(&w->stop_requested) && !w->stopping) {
                grace_end = loop_now_ms() + l->grace_ms;
                begin_stop(w);
            }
        }
        now = loop_now_ms();
        if (n > 0)
            w->trim_at = now + LOOP_TRIM_MS;
        else if (w->trim_at && now >= w->trim_at) {
            w->trim_at = 0;
            malloc_trim(0);
        }
        while (w->nheap && w->heap[0]->deadline <= now) {
            struct loop_conn *c = w->heap[0];
            heap_remove(w, c);
            c->deadline = 0;
            c->ops->on_timer(c);
        }
    }
    run_posted(w, 1); /* what came in the meantime; later posts are refused */
    return NULL;
}

/* ---- set-up ---------------------------------------------------------- */

struct loop *loop_new(unsigned nworkers, unsigned grace_ms)
{
    if (!nworkers) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        nworkers = n > 0 ? (unsigned)n : 1;
    }
    struct loop *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->workers = calloc(nworkers, sizeof *l->workers);
    if (!l->workers) {
        free(l);
        return NULL;
    }
    l->nworkers = nworkers;
    l->grace_ms = grace_ms;
    for (unsigned i = 0; i < nworkers; i++) {
        l->workers[i].ep = l->workers[i].evfd = -1;
        pthread_mutex_init(&l->workers[i].post_mu, NULL);
        l->workers[i].posted_tail = &l->workers[i].posted;
    }
    for (unsigned i = 0; i < nworkers; i++) {
        struct loop_worker *w = &l->workers[i];
        w->loop = l;
        w->index = i;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        w->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
        if (w->ep < 0 || w->evfd < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &ev) != 0) {
            int e = errno;
            loop_free(l);
            errno = e;
            return NULL;
        }
    }
    return l;
}

/* Watch sd (>= 0) for ls in every worker's set; all or nothing. */
static int listener_watch(struct loop *l, struct listener *ls, int sd)
{
    int err = 0;
    if (Set_Blocking_Mode(sd, 1, &err) != 0) {
        errno = EINVAL;
        return -1;
    }
    for (unsigned i = 0; i < l->nworkers; i++) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = ls};
        if (epoll_ctl(l->workers[i].ep, EPOLL_CTL_ADD, sd, &ev) != 0) {
            int e = errno;
            for (unsigned k = 0; k < i; k++)
                epoll_ctl(l->workers[k].ep, EPOLL_CTL_DEL, sd, NULL);
            errno = e;
            return -1;
        }
    }
    return 0;
}

int loop_add_listener(struct loop *l, int sd, loop_accept_fn on_accept, void *arg)
{
    if (l->nlisteners == LOOP_MAX_LISTENERS) {
        errno = ENOSPC;
        return -1;
    }
    struct listener *ls = &l->listeners[l->nlisteners];
    if (sd >= 0 && listener_watch(l, ls, sd) != 0)
        return -1;
    ls->sd = sd;
    ls->on_accept = on_accept;
    ls->arg = arg;
    pthread_mutex_init(&ls->mu, NULL);
    l->nlisteners++;
    return 0;
}

int loop_listener_set(struct loop *l, unsigned index, int sd)
{
    if (index >= l->nlisteners) {
        errno = EINVAL;
        return -1;
    }
    struct listener *ls = &l->listeners[index];
    int rc = 0;
    /* Under the lock: no worker is in accept_some on the old socket, and
     * begin_stop (which takes it too) cannot interleave with the change. */
    pthread_mutex_lock(&ls->mu);
    if (atomic_load(&l->stopped)) {
        errno = ESHUTDOWN;
        rc = -1;
    } else if (sd != ls->sd) {
        if (sd >= 0 && listener_watch(l, ls, sd) != 0)
            rc = -1;
        else {
            if (ls->sd >= 0)
                for (unsigned i = 0; i < l->nworkers; i++)
                    epoll_ctl(l->workers[i].ep, EPOLL_CTL_DEL, ls->sd, NULL);
            ls->sd = sd;
        }
    }
    pthread_mutex_unlock(&ls->mu);
    return rc;
}

int loop_start(struct loop *l)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old); /* inherited by the workers */
    int rc = 0;
    for (unsigned i = 0; i < l->nworkers && rc == 0; i++) {
        struct loop_worker *w = &l->workers[i];
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            rc = -1;
        else
            w->running = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        loop_stop(l);
        errno = EAGAIN;
    }
    return rc;
}

void loop_stop(struct loop *l)
{
    uint64_t one = 1;
    /* Set under each listener's lock: a loop_listener_set running now ends
     * before, or sees it. */
    for (unsigned i = 0; i < l->nlisteners; i++) {
        pthread_mutex_lock(&l->listeners[i].mu);
        atomic_store(&l->stopped, 1);
        pthread_mutex_unlock(&l->listeners[i].mu);
    }
    atomic_store(&l->stopped, 1);
    for (unsigned i = 0; i < l->nworkers; i++)
        atomic_store(&l->workers[i].stop_requested, 1);
    for (unsigned i = 0; i < l->nworkers; i++)
        if (l->workers[i].running && write(l->workers[i].evfd, &one, sizeof one) < 0) {
            /* an eventfd write fails only on overflow: the worker is woken anyway */
        }
    for (unsigned i = 0; i < l->nworkers; i++)
        if (l->workers[i].running) {
            pthread_join(l->workers[i].thread, NULL);
            l->workers[i].running = 0;
        }
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    for (unsigned i = 0; i < l->nworkers; i++) {
        struct loop_worker *w = &l->workers[i];
        if (w->ep >= 0)
            close(w->ep);
        if (w->evfd >= 0)
            close(w->evfd);
        free(w->heap);
        run_posted(w, 1);
        pthread_mutex_destroy(&w->post_mu);
    }
    for (unsigned i = 0; i < l->nlisteners; i++)
        pthread_mutex_destroy(&l->listeners[i].mu);
    free(l->workers);
    free(l);
}
