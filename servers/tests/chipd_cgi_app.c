/*
 * chipd_cgi_app - an application that embeds chipd and installs CGI
 * functions: the original-style application of
 * servers/web/tests/test_cgi_original_app.c (InstallCgiApp) and a few
 * more for test_chipd_cgi.py (TLS fields, a blocking callback, a secure
 * function, a bad answer, a function answering 404).
 *
 *   chipd_cgi_app -c chip.ini
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
#include <time.h>
#include <unistd.h>

int InstallCgiApp(void);

static _Thread_local char buf[1024];

static void text(rpCgiPtr rp, int status)
{
    rp->fHttpResponse = status;
    rp->fDataType = CGIDataTypeText;
    rp->fResponseBufferPtr = buf;
    rp->fResponseBufferLength = (long)strlen(buf);
}

/* GET /tls: what the callback sees of the connection */
static void TlsFunc(rpCgiPtr rp)
{
    snprintf(buf, sizeof buf, "tls=%d version=%d suite=%04x name=%s subject=%s", rp->fIsTlsFlag,
             rp->fTlsVersion, (unsigned)rp->fTlsCipherSuite, rp->fTlsCipherName,
             rp->fTlsClientSubject);
    text(rp, CgiHttpOk);
}

/* GET /block?ms=N: blocks its thread N milliseconds */
static void BlockFunc(rpCgiPtr rp)
{
    char *name, *value;
    long ms = 0;
    while (CGI_GetArgument(&name, &value, rp) == CGI_ARGUMENT_ERR_OK)
        if (strcmp(name, "ms") == 0)
            sscanf(value, "%ld", &ms);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    snprintf(buf, sizeof buf, "blocked %ld", ms);
    text(rp, CgiHttpOk);
}

/* GET /secure/info: under the secure path */
static void SecureFunc(rpCgiPtr rp)
{
    snprintf(buf, sizeof buf, "secret for %s", rp->fUserNamePtr ? rp->fUserNamePtr : "?");
    text(rp, CgiHttpOk);
}

/* GET /boom: an answer the server cannot use (500) */
static void BoomFunc(rpCgiPtr rp)
{
    rp->fHttpResponse = 99;
}

/* GET /gone: 404 (the application's 404 page) */
static void GoneFunc(rpCgiPtr rp)
{
    rp->fHttpResponse = CgiHttpNotFound;
}

/* refuses 127.0.0.2 */
static int NotTwo(struct sockaddr *addr)
{
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
    return addr->sa_family == AF_INET && ntohl(in->sin_addr.s_addr) == 0x7f000002;
}

/* refuses everyone */
static int RefuseAll(struct sockaddr *addr)
{
    (void)addr;
    return 1;
}

/* GET /ctl?filter=two|none&http=off|on&root=DIR&main=PAGE: the HTTP server's accept
 * filter and state (BIOS_Connection_Handler, BIOS_Server_On_Off), the root
 * (CGI_SetRootDir), the main page (CGI_SetMainPage); https=off|on and
 * tlsfilter=all|none the same for the HTTPS server (the state printed is
 * then the HTTPS server's) */
static void CtlFunc(rpCgiPtr rp)
{
    char *name, *value;
    int r = 0;
    SERVER_SPEC which = SS_WEB_SERVER;
    while (CGI_GetArgument(&name, &value, rp) == CGI_ARGUMENT_ERR_OK) {
        if (strcmp(name, "filter") == 0)
            r |= BIOS_Connection_Handler(strcmp(value, "two") == 0 ? NotTwo : NULL, SS_WEB_SERVER);
        else if (strcmp(name, "main") == 0)
            r |= CGI_SetMainPage(value) != 0;
        else if (strcmp(name, "root") == 0)
            r |= CGI_SetRootDir(value) != 0;
        else if (strcmp(name, "http") == 0)
            r |= BIOS_Server_On_Off(SS_WEB_SERVER, strcmp(value, "off") == 0) < 0;
        else if (strcmp(name, "https") == 0) {
            r |= BIOS_Server_On_Off(SS_SSL_WEB_SERVER, strcmp(value, "off") == 0) < 0;
            which = SS_SSL_WEB_SERVER;
        } else if (strcmp(name, "tlsfilter") == 0)
            r |= BIOS_Connection_Handler(strcmp(value, "all") == 0 ? RefuseAll : NULL,
                                         SS_SSL_WEB_SERVER);
    }
    snprintf(buf, sizeof buf, "ctl %d state %d", r, BIOS_Server_State(which));
    text(rp, CgiHttpOk);
}

/* after each upload: says where the file went */
static void UploadDone(rpCgiPtr rp)
{
    snprintf(buf, sizeof buf, "stored %s by %s", rp->fPathPtr,
             rp->fUserNamePtr ? rp->fUserNamePtr : "?");
    text(rp, CgiHttpOk);
}

/* the 401 and 500 pages */
static void DeniedPage(rpCgiPtr rp)
{
    snprintf(buf, sizeof buf, "app page: who are you?");
    text(rp, CgiHttpOk);
}

/* the 503 page (over MAX_CONNECTIONS) */
static void BusyPage(rpCgiPtr rp)
{
    snprintf(buf, sizeof buf, "app page: too busy, come back later");
    text(rp, CgiHttpOk);
}

static void BrokenPage(rpCgiPtr rp)
{
    snprintf(buf, sizeof buf, "app page: something broke");
    text(rp, CgiHttpOk);
}

/* SSI tags (servers 0 and 1; see test_chipd_cgi.py TestSSI) */
static int SsiEcho(unsigned long con, const char *tag)
{
    SSI_Params p;
    char out[512];
    memset(&p, 0, sizeof p);
    p.structVersion = 0;
    if (SSI_Get_Connection_Params(con, &p) != 0)
        return 7;
    int n = snprintf(out, sizeof out, "[%s server=%d method=%d path=%s query=%s]", tag, p.server,
                     p.method, p.pathPtr, p.queryPtr);
    return SSI_Send_Buffer(con, out, n, 1) == 0 ? SSI_OUTPUT_ENABLE : 7;
}

static int SsiNothing(unsigned long con, const char *tag)
{
    (void)con;
    (void)tag;
    return SSI_OUTPUT_ENABLE;
}

/* 300000 bytes in blocks of at most SSI_Send_Buffer's 32767 */
static int SsiBig(unsigned long con, const char *tag)
{
    static char block[30000];
    (void)tag;
    for (size_t i = 0; i < sizeof block; i++)
        block[i] = (char)('a' + i % 26);
    for (int i = 0; i < 10; i++)
        if (SSI_Send_Buffer(con, block, (int)sizeof block, 1) != 0)
            return 7;
    return SSI_OUTPUT_ENABLE;
}

static int SsiHide(unsigned long con, const char *tag)
{
    (void)con;
    (void)tag;
    return SSI_OUTPUT_DISABLE;
}

static int SsiStop(unsigned long con, const char *tag)
{
    (void)tag;
    SSI_Send_Buffer(con, "[stop]", 6, 1);
    return SSI_ABORT_PAGE;
}

static int SsiBad(unsigned long con, const char *tag)
{
    (void)con;
    (void)tag;
    return 7; /* no SSI result: the server answers 500 */
}

static int InstallSsi(void)
{
    static const struct {
        const char *tag;
        SSI_Handler h;
    } tags[] = {
        {"<!--#echo-->", SsiEcho}, {"<!--#nothing-->", SsiNothing}, {"<!--#big-->", SsiBig},
        {"<!--#hide-->", SsiHide}, {"<!--#show-->", SsiNothing},    {"<!--#stop-->", SsiStop},
        {"<!--#bad-->", SsiBad},
    };
    int r = SSI_Set_File_Filter("shtml", SSI_MATCH_FILE_EXT, 0) |
            SSI_Set_File_Filter("ssi", SSI_MATCH_DIR_NAME, 1);
    for (int server = 0; server < 2; server++)
        for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
            r |= SSI_Register_Tag(tags[i].tag, tags[i].h, server);
    return r;
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "-c") != 0) {
        fprintf(stderr, "usage: chipd_cgi_app -c chip.ini\n");
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    static const CGI_Entry more[] = {
        {"tls", CgiHttpGet, TlsFunc},
        {"block", CgiHttpGet, BlockFunc},
        {"secure/info", CgiHttpGet, SecureFunc},
        {"boom", CgiHttpGet, BoomFunc},
        {"gone", CgiHttpGet, GoneFunc},
        {"ctl", CgiHttpGet, CtlFunc},
    };
    int err = 0;
    if (InstallCgiApp() != 0) {
        fprintf(stderr, "InstallCgiApp failed\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        CGI_Entry e = more[i];
        if (CGI_Install(&e) != 0) {
            fprintf(stderr, "CGI_Install %s failed\n", e.PathPtr);
            return 1;
        }
    }
    if (CGI_Install_Func_OnErr(CGI_ERR_STATE_UNAUTHORIZED, (void *)DeniedPage) != 0 ||
        CGI_Install_Func_OnErr(CGI_ERR_STATE_FILE_SYSTEM, (void *)BrokenPage) != 0 ||
        CGI_Install_Func_OnErr(CGI_ERR_STATE_NO_MEMORY, (void *)BusyPage) != 0 ||
        CGI_Install_Func_OnUpload((void *)UploadDone) != 0) {
        fprintf(stderr, "CGI_Install_Func_OnErr failed\n");
        return 1;
    }
    if (InstallSsi() != 0) {
        fprintf(stderr, "SSI set-up failed\n");
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
