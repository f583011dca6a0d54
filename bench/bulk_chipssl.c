/*
 * bulk_chipssl - the chipssl side of the bulk figure: bulk_openssl's
 * program on chipssl's public API (an SSL session, SSL socket options,
 * blocking send/recv carrying plaintext).
 *
 *   bulk_chipssl -c CERT -k KEY -v 12|13 -s BYTES
 *
 * Same protocol and output as bulk_openssl: a child process is the server,
 * the parent the client, 16 KiB sends; "up_MBps=X down_MBps=Y cpu=S".
 */
#include "example_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

static int pump_out(int sd, long long bytes, unsigned char *buf)
{
    int err;
    for (long long left = bytes; left > 0;) {
        int n = send(sd, buf, left < CHUNK ? (int)left : CHUNK, 0, &err);
        if (n <= 0)
            return -1;
        left -= n;
    }
    return 0;
}

static int pump_in(int sd, long long bytes, unsigned char *buf)
{
    int err;
    for (long long left = bytes; left > 0;) {
        int n = recv(sd, buf, left < CHUNK ? (int)left : CHUNK, MSG_BLOCKING, 0, &err);
        if (n <= 0)
            return -1;
        left -= n;
    }
    return 0;
}

/* An SSL session: the server's with its certificate, the client's trusting it. */
static int session(int server, const char *cert, const char *key, int version)
{
    int err;
    if (server ? ex_add_own_cert(cert, key, "server") != 0 : ex_add_root_ca(cert, "ca") != 0)
        return -1;
    SSL_SESSION_NEW_Entry se = {server ? "server" : NULL, 0,
                                version == 12 ? SSL_VERSION_TLS12 : SSL_VERSION_TLS13};
    int s = SSL_SessionNew(&se, &err);
    if (s < 0)
        ex_fail("SSL_SessionNew", err);
    return s;
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL;
    int version = 13, opt, err = 0, one = 1;
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
        fprintf(stderr, "usage: bulk_chipssl -c CERT -k KEY -v 12|13 -s BYTES\n");
        return 2;
    }
    static unsigned char buf[CHUNK];
    memset(buf, 'x', sizeof buf);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int ls = opensocket(SOCK_STREAM, &err);
    if (ls < 0 || bind(ls, &a, &err) != 0 || listen(ls, 1, &err) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) != 0) {
        ex_fail("bulk_chipssl: listen", err);
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) { /* the server */
        int s = session(1, cert, key, version);
        SetSocketOption so = {IP_PROTOTCP_LEVEL, TCP_SSL_SERVER, (const char *)&one, sizeof one};
        SetSocketOption ss = {IP_PROTOTCP_LEVEL, TCP_SSLSESSION, (const char *)&s, sizeof s};
        if (s < 0 || setsockopt(ls, &so, &err) != 0 || setsockopt(ls, &ss, &err) != 0)
            _exit(1);
        int sd = accept(ls, NULL, &err);
        int ok = sd >= 0 && SSL_HandshakeComplete(sd, 0xFFFF) == 1 &&
                 pump_in(sd, bytes, buf) == 0 && send(sd, "k", 1, 0, &err) == 1 &&
                 pump_out(sd, bytes, buf) == 0;
        if (!ok)
            ex_report_io(stderr, "bulk_chipssl server", sd, "transfer", err);
        SSL_ConnClose(sd, &err);
        closesocket(sd, &err);
        closesocket(ls, &err);
        SSL_SessionClose(s, &err);
        _exit(ok ? 0 : 1);
    }
    closesocket(ls, &err);
    int s = session(0, cert, key, version);
    int sd = opensocket(SOCK_STREAM, &err);
    SetSocketOption sc = {IP_PROTOTCP_LEVEL, TCP_SSL_CLIENT, (const char *)&one, sizeof one};
    SetSocketOption ss = {IP_PROTOTCP_LEVEL, TCP_SSLSESSION, (const char *)&s, sizeof s};
    if (s < 0 || sd < 0 || setsockopt(sd, &sc, &err) != 0 || setsockopt(sd, &ss, &err) != 0 ||
        connect(sd, &a, &err) != 0 || SSL_ClientStart(sd, "localhost", &err) != 0 ||
        SSL_HandshakeComplete(sd, 0xFFFF) != 1) {
        ex_report(stderr, "bulk_chipssl client", sd, 0);
        return 1;
    }
    double t0 = now();
    int ok = pump_out(sd, bytes, buf) == 0 && pump_in(sd, 1, buf) == 0;
    double t1 = now();
    ok = ok && pump_in(sd, bytes, buf) == 0;
    double t2 = now();
    SSL_ConnClose(sd, &err);
    closesocket(sd, &err);
    SSL_SessionClose(s, &err);
    int status = 1;
    waitpid(pid, &status, 0);
    if (!ok || status != 0) {
        fprintf(stderr, "bulk_chipssl: transfer failed\n");
        return 1;
    }
    printf("up_MBps=%.1f down_MBps=%.1f cpu=%.3f\n", bytes / (t1 - t0) / 1e6,
           bytes / (t2 - t1) / 1e6, cpu_of(RUSAGE_SELF) + cpu_of(RUSAGE_CHILDREN));
    return 0;
}
