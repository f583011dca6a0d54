/*
 * inmem - the TLS engine's limit: full or resumed handshakes between two SSL
 * objects of OpenSSL over a memory BIO pair, in one thread, no sockets.
 *
 *   inmem -c CERT -k KEY -v 12|13 [-r none|id|psk] [-t SECS | -n COUNT] [-H]
 *
 * The server side is set up as chipssl sets up its servers (stateful
 * resumption: SSL_OP_NO_TICKET, a server session cache, one TLS 1.3 ticket),
 * the client offers X25519 and AES-128-GCM as the load client does. Only the
 * server's calls (SSL_new, the handshake steps, SSL_free) are timed, on the
 * thread's CPU clock: "per second of server CPU" as for the real servers.
 *
 * Output: "done=N resumed=N server_cpu=S total_cpu=S".
 *
 * -H: keep the server SSL objects of the -n handshakes (their clients freed,
 * a null BIO in place of the pair, as a socket server keeps its connections) and
 * print "heap_per_conn_KiB=X rss_per_conn_KiB=Y": the heap OpenSSL holds per
 * idle established connection (mallinfo2: bytes in use) and the resident
 * memory it took (the heap's free fragments included), the engine's part of
 * a server's memory figure.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Resident set size, KiB (/proc/self/statm, in pages). */
static long rss_kib(void)
{
    long size = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static SSL_SESSION *last;
static int keep(SSL *ssl, SSL_SESSION *s)
{
    (void)ssl;
    if (last)
        SSL_SESSION_free(last);
    last = s;
    return 1;
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *rmode = "none";
    int version = 13, opt, hold = 0;
    double secs = 0;
    long long count = 0;
    while ((opt = getopt(argc, argv, "c:k:v:r:t:n:H")) != -1) {
        switch (opt) {
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'v': version = atoi(optarg); break;
        case 'r': rmode = optarg; break;
        case 't': secs = atof(optarg); break;
        case 'n': count = atoll(optarg); break;
        case 'H': hold = 1; break;
        default: return 2;
        }
    }
    if (!cert || !key || (secs <= 0 && count <= 0)) {
        fprintf(stderr,
                "usage: inmem -c CERT -k KEY -v 12|13 [-r none|id|psk] [-t SECS | -n COUNT]\n");
        return 2;
    }
    int resume = strcmp(rmode, "none") != 0, v = version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method()), *cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX *both[2] = {sctx, cctx};
    for (int i = 0; i < 2; i++) {
        SSL_CTX_set_min_proto_version(both[i], v);
        SSL_CTX_set_max_proto_version(both[i], v);
        SSL_CTX_set_options(both[i], SSL_OP_NO_TICKET);
    }
    if (SSL_CTX_use_certificate_chain_file(sctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(sctx, key, SSL_FILETYPE_PEM) != 1 ||
        !SSL_CTX_set_cipher_list(cctx,
                                 "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256") ||
        !SSL_CTX_set_ciphersuites(cctx, "TLS_AES_128_GCM_SHA256") ||
        !SSL_CTX_set1_groups_list(cctx, "X25519:P-256") ||
        !SSL_CTX_load_verify_locations(cctx, cert, NULL)) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(sctx, SSL_MODE_RELEASE_BUFFERS); /* as chipssl and nginx */
    SSL_CTX_set_session_id_context(sctx, (const unsigned char *)"inmem", 5);
    SSL_CTX_set_session_cache_mode(sctx, resume ? SSL_SESS_CACHE_SERVER : SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(sctx, resume ? 1 : 0);
    SSL_CTX_set_session_cache_mode(cctx,
                                   resume ? SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE
                                          : SSL_SESS_CACHE_OFF);
    SSL_CTX_sess_set_new_cb(cctx, keep);

    if (hold && count <= 0)
        return 2;
    SSL **held = hold ? calloc((size_t)count, sizeof *held) : NULL;
    size_t heap0 = mallinfo2().uordblks;
    long rss0 = rss_kib();
    double server_cpu = 0, c0 = cpu_now(), t_end = c0 + secs;
    long long done = 0, resumed = 0;
    while (count ? done < count : cpu_now() < t_end) {
        double s0 = cpu_now();
        SSL *srv = SSL_new(sctx);
        server_cpu += cpu_now() - s0;
        SSL *cli = SSL_new(cctx);
        BIO *cb, *sb;
        BIO_new_bio_pair(&cb, 0, &sb, 0);
        SSL_set_bio(cli, cb, cb);
        SSL_set_bio(srv, sb, sb);
        SSL_set_accept_state(srv);
        SSL_set1_host(cli, "localhost");
        if (resume && last)
            SSL_set_session(cli, last);
        int cdone = 0, sdone = 0;
        for (int round = 0; round < 20 && !(cdone && sdone); round++) {
            if (!cdone) {
                int r = SSL_connect(cli);
                if (r == 1)
                    cdone = 1;
                else if (SSL_get_error(cli, r) != SSL_ERROR_WANT_READ)
                    break;
            }
            if (!sdone) {
                s0 = cpu_now();
                int r = SSL_do_handshake(srv);
                server_cpu += cpu_now() - s0;
                if (r == 1)
                    sdone = 1;
                else if (SSL_get_error(srv, r) != SSL_ERROR_WANT_READ)
                    break;
            }
        }
        if (!cdone || !sdone) {
            ERR_print_errors_fp(stderr);
            fprintf(stderr, "inmem: handshake failed\n");
            return 1;
        }
        /* TLS 1.3: the ticket comes after the handshake; the client reads it */
        char b[16];
        if (resume && version == 13)
            SSL_read(cli, b, sizeof b);
        done++;
        resumed += SSL_session_reused(cli);
        if (hold) {
            SSL_free(cli);
            /* The pair's buffer is no socket's: a null BIO in its place */
            BIO *nb = BIO_new(BIO_s_null());
            SSL_set_bio(srv, nb, nb);
            held[done - 1] = srv;
            continue;
        }
        /* Both close cleanly: OpenSSL drops a session freed without it. */
        SSL_shutdown(cli);
        s0 = cpu_now();
        SSL_shutdown(srv);
        SSL_free(srv);
        server_cpu += cpu_now() - s0;
        SSL_free(cli);
    }
    if (hold) {
        printf("heap_per_conn_KiB=%.1f rss_per_conn_KiB=%.1f\n",
               (double)(mallinfo2().uordblks - heap0) / count / 1024,
               (double)(rss_kib() - rss0) / count);
        for (long long i = 0; i < count; i++)
            SSL_free(held[i]);
        free(held);
    } else {
        printf("done=%lld resumed=%lld server_cpu=%.4f total_cpu=%.4f\n", done, resumed, server_cpu,
               cpu_now() - c0);
    }
    if (last)
        SSL_SESSION_free(last);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return 0;
}
