/*
 * cgi_kib - the chipssl side of the CGI figure: an application embedding
 * libchipd (chipd.h) with one CGI function, GET /kib, answering 1 KiB from
 * memory.
 *
 *   cgi_kib -c chip.ini
 *
 * Like chipd: prints "chipd: running, HTTP port N, HTTPS port M" once
 * serving, stops cleanly on SIGTERM/SIGINT (exit 0).
 */
#include <cgi.h>
#include <chipd.h>
#include <tcpip.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

static char kib[1024];

/* Thread-safe (the answer is read-only), so [WEB] CGI_CONCURRENT=1 may run
 * it on every worker at once. */
static void KibFunc(rpCgiPtr rp)
{
    rp->fHttpResponse = CgiHttpOk;
    rp->fDataType = CGIDataTypeText;
    rp->fResponseBufferPtr = kib;
    rp->fResponseBufferLength = (long)sizeof kib;
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "-c") != 0) {
        fprintf(stderr, "usage: cgi_kib -c chip.ini\n");
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    memset(kib, 'k', sizeof kib);
    CGI_Entry e = {"kib", CgiHttpGet, KibFunc};
    int err = 0;
    if (CGI_Install(&e) != 0) {
        fprintf(stderr, "CGI_Install kib failed\n");
        return 1;
    }
    if (chipd_start(argv[2], &err) != 0)
        return 1;
    printf("chipd: running, HTTP port %u, HTTPS port %u\n", chipd_port(0), chipd_port(1));
    fflush(stdout);
    int sig = 0;
    while (sigwait(&set, &sig) != 0)
        ;
    chipd_stop(&err);
    printf("chipd: stopped\n");
    return 0;
}
