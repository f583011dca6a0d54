/*
 * loop - the servers' event loop: N worker threads, each with its own epoll
 * set, its own timer heap and its own connections. A connection lives on the
 * worker that accepted it until it is closed, so nothing of a connection is
 * ever touched by two threads.
 *
 * Listeners: every listener is in every worker's epoll set with
 * EPOLLEXCLUSIVE, so one (or a few) workers wake for a new connection; the
 * woken worker accepts under the listener's mutex (chipssl sockets are
 * "one thread per socket at a time") and keeps what it accepted. This keeps
 * one listening socket per port (no SO_REUSEPORT groups to bind, so "port
 * busy" is one bind error) and spreads connections over busy workers.
 *
 * Timers: one deadline per connection (handshake limit, header timeout, idle
 * timeout - the owner decides which), kept in a binary min-heap per worker;
 * epoll_wait sleeps until the nearest one. A connection whose deadline
 * passes gets its on_timer call.
 *
 * Threads: the workers block SIGINT, SIGTERM, SIGHUP and SIGPIPE, so those
 * reach the application's own threads.
 *
 * Stopping: loop_stop() closes no socket itself. Each worker stops
 * accepting, calls on_stop of every connection (which should finish what it
 * is writing and close cleanly), waits for them to call loop_conn_close for
 * at most the grace period, then calls on_stop again with force = 1 (the
 * connection must close now), and the thread ends.
 */
#ifndef CHIPD_LOOP_H
#define CHIPD_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct loop_worker;
struct loop_conn;
struct sockaddr_storage; /* <sys/socket.h> */

struct loop_conn_ops {
    /* Readiness: an OR of EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP. */
    void (*on_event)(struct loop_conn *c, unsigned events);
    /* The connection's deadline passed (the timer is cleared first). */
    void (*on_timer)(struct loop_conn *c);
    /* The loop is stopping: finish and close (force 0), or close now
     * (force 1). The connection calls loop_conn_close when done. */
    void (*on_stop)(struct loop_conn *c, int force);
};

/* The loop's part of a connection: embed it in the owner's record. */
struct loop_conn {
    int fd; /* the socket (a chipssl sd) */
    const struct loop_conn_ops *ops;
    struct loop_worker *worker;    /* set by loop_conn_add */
    uint64_t deadline;             /* ms of loop_now_ms(); 0 = none */
    size_t heap_index;             /* position in the timer heap + 1; 0 = none */
    unsigned watched;              /* events registered with epoll */
    struct loop_conn *prev, *next; /* the worker's list of connections */
};

/* on_accept - a listener has a new connection: sd is the accepted socket
 * (non-blocking), peer its address. Called on worker w, with the listener's
 * lock held (keep it short: allocate, loop_conn_add, return). */
typedef void (*loop_accept_fn)(void *arg, struct loop_worker *w, int sd,
                               const struct sockaddr_storage *peer);

/* loop_new - a loop with nworkers threads (0: one per online CPU), not yet
 * running. grace_ms: how long loop_stop lets connections finish. NULL on
 * failure (errno). */
struct loop *loop_new(unsigned nworkers, unsigned grace_ms);

/* loop_add_listener - watch a listening chipssl socket (made non-blocking
 * here); before loop_start only. sd -1 reserves the listener without a
 * socket (loop_listener_set gives it one later). Listeners are numbered
 * 0, 1, ... in the order added. Returns 0 or -1. */
int loop_add_listener(struct loop *l, int sd, loop_accept_fn on_accept, void *arg);

/* loop_listener_set - give listener `index` another socket while the loop
 * runs, from any thread (e.g. a server suspended and resumed): sd -1 stops
 * watching the current one; once this returns no worker accepts on it any
 * more, and its owner may close it (then connects are refused). A socket
 * (made non-blocking here) is watched by every worker from now on. The
 * connections already accepted are not touched. Done under the listener's
 * lock with epoll_ctl on each worker's set (epoll_ctl is thread-safe), so
 * no loop_post is needed. Returns 0, or -1 (errno: EINVAL bad index,
 * ESHUTDOWN once loop_stop has begun, or epoll's). The previous socket is
 * not closed here. */
int loop_listener_set(struct loop *l, unsigned index, int sd);

/* loop_start - start the worker threads. Returns 0, or -1 (errno). */
int loop_start(struct loop *l);

/* loop_stop - stop as described above and join the threads. The listeners
 * stay open (their owner closes them). */
void loop_stop(struct loop *l);

/* loop_free - after loop_stop (or instead of loop_start). */
void loop_free(struct loop *l);

/* loop_workers - the number of worker threads. */
unsigned loop_workers(const struct loop *l);

/* On the connection's own worker only: */

/* loop_conn_add - register c (c->fd, c->ops set) with worker w, watching
 * events (EPOLLIN and/or EPOLLOUT; edge-triggered). Returns 0 or -1. */
int loop_conn_add(struct loop_worker *w, struct loop_conn *c, unsigned events);
/* loop_conn_watch - change the events watched (no system call when equal). */
int loop_conn_watch(struct loop_conn *c, unsigned events);
/* loop_conn_close - forget c (epoll, timer, list); the owner closes the
 * socket and frees its record. */
void loop_conn_close(struct loop_conn *c);
/* loop_conn_timer - the deadline ms from now (0: none). */
void loop_conn_timer(struct loop_conn *c, unsigned ms);

/* loop_post - from any thread: call fn(arg) on worker w's thread (in the
 * order posted), e.g. to hand a connection back when work done elsewhere
 * (a blocking handler on another thread) is finished. A worker stops only
 * once its connections are closed, so a connection waiting for such a call
 * keeps its worker alive. Returns 0, or -1 when out of memory or the
 * worker has ended (errno ESHUTDOWN; fn is not called). */
int loop_post(struct loop_worker *w, void (*fn)(void *arg), void *arg);

/* loop_now_ms - a monotonic clock in ms. */
uint64_t loop_now_ms(void);
/* loop_stopping - 1 once loop_stop has begun (for connections that decide
 * whether to keep a connection alive). */
int loop_stopping(const struct loop_worker *w);
/* loop_worker_index - 0 .. nworkers-1, e.g. for per-worker caches. */
unsigned loop_worker_index(const struct loop_worker *w);

#endif
