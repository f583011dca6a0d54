/*
 * chipd - run chipssl's servers from a chip.ini file.
 *
 *   chipd -c chip.ini      run until SIGINT or SIGTERM, then stop cleanly
 *   chipd -t -c chip.ini   check the file and exit (0 good, 1 bad)
 *
 * SIGHUP re-reads the certificate, key and CA files. Once running it prints
 * one line on stdout: "chipd: running, HTTP port N, HTTPS port M, FTP port
 * F, FTPS port S" (off when an instance is). Exit status 0 after a clean stop, 1 when it could not
 * start (the reason on stderr).
 */
#include <chipd.h>
#include <tcpip.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f, int code)
{
    fprintf(f, "usage: chipd [-t] [-c FILE]\n"
               "Runs the Web server (HTTP and HTTPS) and the FTP server configured in FILE\n"
               "(default chip.ini).\n"
               "  -c FILE  the configuration file\n"
               "  -t       check the file and exit: 0 when it is good, 1 with the reason\n"
               "  -h       this help\n"
               "Signals: SIGINT, SIGTERM stop cleanly; SIGHUP re-reads [SSL] CERT, KEY, CA.\n");
    _exit(code);
}

int main(int argc, char **argv)
{
    const char *file = "chip.ini";
    int test = 0, opt, err = 0;
    while ((opt = getopt(argc, argv, "c:th")) != -1) {
        switch (opt) {
        case 'c': file = optarg; break;
        case 't': test = 1; break;
        case 'h': usage(stdout, 0); break;
        default: usage(stderr, 1);
        }
    }
    if (optind != argc)
        usage(stderr, 1);
    if (test) {
        if (chipd_check(file, &err) != 0)
            return 1;
        printf("chipd: the configuration file %s is good\n", file);
        return 0;
    }
    /* The signals are taken with sigwait here: block them first, so that
     * every thread (the servers' too) inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (chipd_start(file, &err) != 0)
        return 1;
    char port[4][16];
    for (int i = 0; i < 4; i++) {
        if (chipd_port(i))
            snprintf(port[i], sizeof port[i], "%u", chipd_port(i));
        else
            snprintf(port[i], sizeof port[i], "off");
    }
    printf("chipd: running, HTTP port %s, HTTPS port %s, FTP port %s, FTPS port %s\n", port[0],
           port[1], port[2], port[3]);
    fflush(stdout);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            chipd_reload(&err);
            continue;
        }
        break;
    }
    chipd_stop(&err);
    printf("chipd: stopped\n");
    return 0;
}
