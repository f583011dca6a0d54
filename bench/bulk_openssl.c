/*
 * bulk_openssl - the anchor of the bulk figure: the least a program using
 * OpenSSL's SSL_read/SSL_write directly does to move bytes through one TLS
 * connection on 127.0.0.1 (bulk_chipssl is the same program on chipssl).
 *
 *   bulk_openssl -c CERT -k KEY -v 12|13 -s BYTES
 *
 * A child process is the server, the parent the client; one connection,
 * blocking sockets, 16 KiB writes. The client sends BYTES, the server
 * answers one byte when it has them all (up); then the server sends BYTES
 * back (down). Output: "up_MBps=X down_MBps=Y cpu=S" (MB = 10^6 bytes; cpu:
 * both processes' user+system seconds for the whole run).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 16384

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_of(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static SSL_CTX *context(int server, const char *cert, const char *key, int v)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, v);
    SSL_CTX_set_max_proto_version(ctx, v);
    int ok = server ? SSL_CTX_use_certificate_chain_file(ctx, cert) == 1 &&
                          SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1
                    : SSL_CTX_load_verify_locations(ctx, cert, NULL) == 1 &&
                          SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:"
                                                       "ECDHE-RSA-AES128-GCM-SHA256") &&
                          SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") &&
                          SSL_CTX_set1_groups_list(ctx, "X25519:P-256");
    if (!ok) {
        ERR_print_errors_fp(stderr);
        exit(1);
    }
    if (!server)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

static int pump_out(SSL *ssl, long long bytes, unsigned char *buf)
{
    for (long long left = bytes; left > 0;) {
        int n = SSL_write(ssl, buf, left < CHUNK ? (int)left : CHUNK);
        if (n <= 0)
            return -1;
        left -= n;
    }
    return 0;
}

static int pump_in(SSL *ssl, long long bytes, unsigned char *buf)
{
    for (long long left = bytes; left > 0;) {
        int n = SSL_read(ssl, buf, CHUNK);
        if (n <= 0)
            return -1;
        left -= n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL;
    int version = 13, opt;
    long long bytes = 0;
    while ((opt = getopt(argc, argv, "c:k:v:s:")) != -1) {
        switch (opt) {
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'v': version = atoi(optarg); break;
        case 's': bytes = atoll(optarg); break;
        default: return 2;
        }
    }
    if (!cert || !key || bytes <= 0) {
        fprintf(stderr, "usage: bulk_openssl -c CERT -k KEY -v 12|13 -s BYTES\n");
        return 2;
    }
    int v = version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;
    static unsigned char buf[CHUNK];
    memset(buf, 'x', sizeof buf);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 1) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) != 0) {
        perror("bulk_openssl: listen");
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) { /* the server */
        SSL_CTX *ctx = context(1, cert, key, v);
        int fd = accept(ls, NULL, NULL);
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        int ok = SSL_accept(ssl) == 1 && pump_in(ssl, bytes, buf) == 0 &&
                 SSL_write(ssl, "k", 1) == 1 && pump_out(ssl, bytes, buf) == 0;
        SSL_shutdown(ssl);
        SSL_free(ssl);
        close(fd);
        SSL_CTX_free(ctx);
        _exit(ok ? 0 : 1);
    }
    close(ls);
    SSL_CTX *ctx = context(0, cert, key, v);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    SSL *ssl = SSL_new(ctx);
    SSL_set1_host(ssl, "localhost");
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 || !SSL_set_fd(ssl, fd) ||
        SSL_connect(ssl) != 1) {
        ERR_print_errors_fp(stderr);
        return 1;
    }
    double t0 = now();
    int ok = pump_out(ssl, bytes, buf) == 0 && pump_in(ssl, 1, buf) == 0;
    double t1 = now();
    ok = ok && pump_in(ssl, bytes, buf) == 0;
    double t2 = now();
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
    int status = 1;
    waitpid(pid, &status, 0);
    if (!ok || status != 0) {
        fprintf(stderr, "bulk_openssl: transfer failed\n");
        return 1;
    }
    printf("up_MBps=%.1f down_MBps=%.1f cpu=%.3f\n", bytes / (t1 - t0) / 1e6,
           bytes / (t2 - t1) / 1e6, cpu_of(RUSAGE_SELF) + cpu_of(RUSAGE_CHILDREN));
    return 0;
}
