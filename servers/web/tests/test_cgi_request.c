/*
 * test_cgi_request.c - the CGI glue: tables of parsed requests and the
 * rpCgi fields they must give, tables of "out" fields and the exact
 * response heads they must give, the checks on bad out fields, the size
 * bound, and the serialisation rule of cgi_call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <pthread.h>
#include <time.h>

#include "cgi_request.h"
#include "cgi_server.h"

/* ------------------------------------------------------------ requests */

enum peer_kind { P_NONE, P_V4, P_V6, P_MAPPED };

struct req_row {
    const char *raw; /* head and body */
    enum peer_kind peer;
    int tls;
    /* expected; NULL: the field must be NULL */
    int method;
    const char *path, *host, *referer, *agent, *language, *cookie, *user, *pass, *args;
    long arglen;
    const char *ip;
    unsigned long date;
};

static const struct req_row rows[] = {
    {"GET /status?led=1&x=%41+b HTTP/1.1\r\nHost: chip.local\r\n\r\n", P_V4, 0, CgiHttpGet,
     "/status", "chip.local", NULL, NULL, NULL, NULL, NULL, NULL, "led=1&x=%41+b", 13, "192.0.2.7",
     0},
    {"HEAD /a%20b/../c/./d HTTP/1.1\r\nHost: h:8080\r\nReferer: http://h/x\r\n"
     "User-Agent: UA/1.0\r\nAccept-Language: de, en;q=0.5\r\nCookie: a=1; b=2\r\n"
     "Authorization: Basic dXNlcjpwYTpzcw==\r\n"
     "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
     P_V6, 1, CgiHttpHead, "/c/d", "h:8080", "http://h/x", "UA/1.0", "de, en;q=0.5", "a=1; b=2",
     "user", "pa:ss", "", 0, "2001:db8::1", 784111777UL},
    {"POST /setled?ignored=1 HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-"
     "urlencoded\r\nContent-Length: 14\r\n\r\nled=1&note=a+b",
     P_MAPPED, 0, CgiHttpPost, "/setled", "h", NULL, NULL, NULL, NULL, NULL, NULL, "led=1&note=a+b",
     14, "198.51.100.9", 0},
    {"GET http://other.example/%7Euser HTTP/1.0\r\nIf-Modified-Since: never\r\n\r\n", P_NONE, 0,
     CgiHttpGet, "/~user", "other.example", NULL, NULL, NULL, NULL, NULL, NULL, "", 0, "", 0},
    {"POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", P_V4, 0, CgiHttpPost, "/p", "h",
     NULL, NULL, NULL, NULL, NULL, NULL, "", 0, "192.0.2.7", 0},
    {"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Basic Og==\r\n\r\n", P_V4, 0, CgiHttpGet, "/",
     "h", NULL, NULL, NULL, NULL, "", "", "", 0, "192.0.2.7", 0},
};

static struct http_request req;

/* Parses raw; *body, *blen: what follows the head. */
static void parse(const char *raw, const char **body, size_t *blen)
{
    int n = http_parse_request(raw, strlen(raw), NULL, &req);
    assert_true(n > 0);
    *body = raw + n;
    *blen = strlen(raw) - (size_t)n;
}

static socklen_t make_peer(enum peer_kind k, struct sockaddr_storage *ss)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof *ss);
    switch (k) {
    case P_V4:
        v4->sin_family = AF_INET;
        inet_pton(AF_INET, "192.0.2.7", &v4->sin_addr);
        return sizeof *v4;
    case P_V6:
        v6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, "2001:db8::1", &v6->sin6_addr);
        return sizeof *v6;
    case P_MAPPED:
        v6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, "::ffff:198.51.100.9", &v6->sin6_addr);
        return sizeof *v6;
    default: return 0;
    }
}

static void str_or_null(const char *got, const char *want)
{
    if (want == NULL)
        assert_null(got);
    else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

static void test_fill_table(void **state)
{
    static const struct cgi_tls_info tls = {1, SSL_VERSION_TLS13, 0x1302, "TLS_AES_256_GCM_SHA384",
                                            "CN=client,O=Example"};
    struct sockaddr_storage ss;
    rpCgi rp;

    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct req_row *t = &rows[i];
        const char *body;
        size_t blen;
        parse(t->raw, &body, &blen);
        socklen_t sl = make_peer(t->peer, &ss);
        size_t need = cgi_request_scratch_size(&req, blen);
        /* exactly the size asked for, on the heap: ASan sees any byte more */
        char *scratch = malloc(need);
        assert_non_null(scratch);
        memset(&rp, 0x5a, sizeof rp);
        assert_int_equal(cgi_request_fill(&rp, &req, body, blen,
                                          t->peer == P_NONE ? NULL : (struct sockaddr *)&ss, sl,
                                          77 + i, t->tls ? &tls : NULL, scratch, need),
                         0);
        assert_int_equal(rp.fConnectionId, 77 + i);
        assert_int_equal(rp.fHttpRequest, t->method);
        str_or_null(rp.fPathPtr, t->path);
        str_or_null(rp.fHostPtr, t->host);
        str_or_null(rp.fRefererPtr, t->referer);
        str_or_null(rp.fAgentPtr, t->agent);
        str_or_null(rp.fLanguagePtr, t->language);
        str_or_null(rp.fCookieHeader, t->cookie);
        str_or_null(rp.fUserNamePtr, t->user);
        str_or_null(rp.fPasswordPtr, t->pass);
        assert_int_equal(rp.fArgumentBufferLength, t->arglen);
        assert_memory_equal(rp.fArgumentBufferPtr, t->args, (size_t)t->arglen + 1); /* the NUL */
        rp.fArgumentBufferPtr[t->arglen] = 'x'; /* writable: ASan would object */
        assert_string_equal(rp.fRemoteIPPtr, t->ip);
        assert_int_equal(rp.fBrowserDate, t->date);
        assert_int_equal(rp.fIsTlsFlag, t->tls);
        assert_int_equal(rp.fTlsVersion, t->tls ? SSL_VERSION_TLS13 : 0);
        assert_int_equal(rp.fTlsCipherSuite, t->tls ? 0x1302 : 0);
        assert_string_equal(rp.fTlsCipherName, t->tls ? "TLS_AES_256_GCM_SHA384" : "");
        assert_string_equal(rp.fTlsClientSubject, t->tls ? "CN=client,O=Example" : "");
        /* zeroed first: the out fields and the rest */
        assert_int_equal(rp.fHttpResponse, CgiHttpNotFound);
        assert_null(rp.fUserDataPtr);
        assert_null(rp.fResponseBufferPtr);
        assert_int_equal(rp.fResponseBufferLength, 0);
        assert_int_equal(rp.fNumOfSetCookieHeaders, 0);
        assert_null(rp.fSetCookieHeaders);
        assert_int_equal(rp.fDataType, 0);
        assert_int_equal(rp.fSetCookieBuffer[0], 0);
        /* one byte less is refused */
        assert_int_equal(
            cgi_request_fill(&rp, &req, body, blen, NULL, 0, 0, NULL, scratch, need - 1), -413);
        free(scratch);
    }
}

static void test_fill_errors(void **state)
{
    static const char *const bad[] = {
        "GET /%00 HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /../x HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a/%2e%2e/%2e%2e/x HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /%zz HTTP/1.1\r\nHost: h\r\n\r\n",
    };
    char scratch[512];
    const char *body;
    size_t blen;
    rpCgi rp;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parse(bad[i], &body, &blen);
        assert_int_equal(
            cgi_request_fill(&rp, &req, body, blen, NULL, 0, 0, NULL, scratch, sizeof scratch),
            -400);
    }
    parse("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n", &body, &blen);
    assert_int_equal(
        cgi_request_fill(&rp, &req, NULL, 3, NULL, 0, 0, NULL, scratch, sizeof scratch),
        -413); /* a length without a body */
    assert_int_equal(cgi_request_fill(&rp, &req, "abc", 3, NULL, 0, 0, NULL, NULL, 100), -413);
    /* a body holding NUL bytes keeps its length */
    assert_int_equal(
        cgi_request_fill(&rp, &req, "a\0b", 3, NULL, 0, 0, NULL, scratch, sizeof scratch), 0);
    assert_int_equal(rp.fArgumentBufferLength, 3);
    assert_memory_equal(rp.fArgumentBufferPtr, "a\0b", 4);
    req.method = 0;
    assert_int_equal(
        cgi_request_fill(&rp, &req, NULL, 0, NULL, 0, 0, NULL, scratch, sizeof scratch), -400);
}

/* ------------------------------------------------------------ responses */

static char page[] = "<p>hi</p>";

struct head_row {
    int response, datatype;
    const char *buf; /* Redirect: URL; Unauthorized: realm */
    long len;
    unsigned long date;
    const char *cookies[3];
    const char *path;
    const char *head, *body;
};

#define CL "Content-Length: "
#define CONN "Connection: close\r\n"
static const struct head_row heads[] = {
    {CgiHttpOk,
     CGIDataTypeHtml,
     page,
     9,
     0,
     {NULL},
     "/p",
     "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n" CL "9\r\n" CONN "\r\n",
     page},
    {CgiHttpOkStatic,
     CGIDataTypeImagePng,
     page,
     4,
     784111777UL,
     {"a=1", "b=2; Path=/"},
     "/p",
     "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 "
     "GMT\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2; Path=/\r\n" CL "4\r\n" CONN "\r\n",
     "<p>h"},
    {CgiHttpOkStatic,
     99,
     NULL,
     0,
     0,
     {NULL},
     "/p",
     "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" CL "0\r\n" CONN "\r\n",
     ""},
    {CgiHttpOk,
     CGIDataTypeJson,
     "{}",
     2,
     0,
     {NULL},
     "/data.CSV",
     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
     "X-Row: csv\r\n" CL "2\r\n" CONN "\r\n",
     "{}"},
    {CgiHttpOk,
     CGIDataTypeText,
     "x",
     1,
     0,
     {NULL},
     "/data.txt",
     "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nX-Row: txt\r\n" CL "1\r\n" CONN
     "\r\n",
     "x"},
    {CgiHttpRedirect,
     0,
     "/main.htm?a=1",
     13,
     0,
     {"s=1"},
     "/p",
     "HTTP/1.1 302 Found\r\nLocation: /main.htm?a=1\r\nSet-Cookie: s=1\r\n" CL "0\r\n" CONN "\r\n",
     NULL},
    {CgiHttpNotModified,
     CGIDataTypeHtml,
     page,
     9,
     0,
     {NULL},
     "/p",
     "HTTP/1.1 304 Not Modified\r\n" CONN "\r\n",
     NULL},
    {CgiHttpUnauthorized,
     0,
     NULL,
     0,
     0,
     {NULL},
     "/p",
     "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"chipd\"\r\nContent-Type: "
     "text/plain; charset=utf-8\r\n" CL "17\r\n" CONN "\r\n",
     "401 Unauthorized\n"},
    {CgiHttpUnauthorized,
     0,
     "my \"lab\" \\ 1",
     0,
     0,
     {NULL},
     "/p",
     "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"my \\\"lab\\\" \\\\ 1\"\r\n"
     "Content-Type: text/plain; charset=utf-8\r\n" CL "17\r\n" CONN "\r\n",
     "401 Unauthorized\n"},
    {CgiHttpNotFound,
     CGIDataTypeHtml,
     page,
     9,
     0,
     {NULL},
     "/p",
     "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n" CL "14\r\n" CONN
     "\r\n",
     "404 Not Found\n"},
    {CgiHttpIntServerErr,
     0,
     NULL,
     0,
     0,
     {"e=1"},
     "/p",
     "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n"
     "Set-Cookie: e=1\r\n" CL "26\r\n" CONN "\r\n",
     "500 Internal Server Error\n"},
    {CgiHttpOKNoDoc,
     CGIDataTypeHtml,
     page,
     9,
     0,
     {"n=1"},
     "/p",
     "HTTP/1.1 204 No Content\r\nSet-Cookie: n=1\r\n" CONN "\r\n",
     NULL},
};

static CUSTOM_MIMETYPES_TABLE mime[] = {{"csv", "text/csv"}, {"txt", "text/plain"}};
static CUSTOM_HEADERS_TABLE rowsHdr[] = {{"Cache-Control: no-store\r\nX-Row: csv"},
                                         {"X-Row: txt\r\n"}};

static int setup_tables(void **state)
{
    (void)state;
    cgi_reset_all();
    assert_int_equal(CGI_Install_MIME_Table(2, mime), 0);
    assert_int_equal(CGI_Install_Headers_Table(2, rowsHdr), 0);
    return 0;
}

static void out_fields(rpCgi *rp, const struct head_row *t, char *path)
{
    memset(rp, 0, sizeof *rp);
    rp->fPathPtr = path;
    rp->fHttpResponse = t->response;
    rp->fDataType = t->datatype;
    rp->fResponseBufferPtr = t->buf;
    rp->fResponseBufferLength = t->len;
    rp->fObjectDate = t->date;
    for (int i = 0; i < 3 && t->cookies[i] != NULL; i++) /* what CGI_SetCookie leaves */
        strcpy(rp->fSetCookieBuffer + (i ? strlen(t->cookies[0]) + 1 : 0), t->cookies[i]);
    for (int i = 0; i < 3 && t->cookies[i] != NULL; i++)
        rp->fNumOfSetCookieHeaders++;
    if (rp->fNumOfSetCookieHeaders > 0)
        rp->fSetCookieHeaders = rp->fSetCookieBuffer;
}

static void test_head_table(void **state)
{
    char out[1024], path[64];
    const char *body;
    size_t blen;
    rpCgi rp;

    (void)state;
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        const struct head_row *t = &heads[i];
        strcpy(path, t->path);
        out_fields(&rp, t, path);
        long n = cgi_response_head(&rp, CONN, out, sizeof out, &body, &blen);
        assert_int_equal(n, (long)strlen(t->head));
        assert_string_equal(out, t->head);
        if (t->body == NULL) {
            assert_int_equal(blen, 0);
        } else {
            assert_int_equal(blen, strlen(t->body));
            assert_memory_equal(body, t->body, blen);
        }
        /* every smaller buffer is refused, the exact one (with the NUL) fits */
        for (size_t s = 0; s <= (size_t)n; s++)
            assert_int_equal(cgi_response_head(&rp, CONN, out, s, &body, &blen), -1);
        assert_int_equal(cgi_response_head(&rp, CONN, out, (size_t)n + 1, &body, &blen), n);
    }
}

static void test_head_bad_fields(void **state)
{
    static const struct {
        int response;
        const char *buf;
        long len;
    } bad[] = {
        {CgiHttpOk, NULL, 5},
        {CgiHttpOk, "x", -1},
        {CgiHttpOkStatic, NULL, 1},
        {CgiHttpRedirect, NULL, 0},
        {CgiHttpRedirect, "", 0},
        {CgiHttpRedirect, "/a\r\nSet-Cookie: x=1", 0},
        {CgiHttpRedirect, "/a b", 0},
        {CgiHttpRedirect, "/\xc3\xa4", 0},
        {CgiHttpUnauthorized, "realm\n", 0},
        {8, NULL, 0},
        {-1, NULL, 0},
    };
    char out[512];
    const char *body;
    size_t blen;
    rpCgi rp;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&rp, 0, sizeof rp);
        rp.fHttpResponse = bad[i].response;
        rp.fResponseBufferPtr = bad[i].buf;
        rp.fResponseBufferLength = bad[i].len;
        assert_int_equal(cgi_response_head(&rp, NULL, out, sizeof out, &body, &blen), -500);
    }
    /* cookie fields CGI_SetCookie cannot have written */
    memset(&rp, 0, sizeof rp);
    rp.fHttpResponse = CgiHttpOKNoDoc;
    rp.fNumOfSetCookieHeaders = 1; /* a count without the pointer */
    assert_int_equal(cgi_response_head(&rp, NULL, out, sizeof out, &body, &blen), -500);
    rp.fSetCookieHeaders = rp.fSetCookieBuffer; /* an empty string */
    assert_int_equal(cgi_response_head(&rp, NULL, out, sizeof out, &body, &blen), -500);
    strcpy(rp.fSetCookieBuffer, "a=1\r\nX: y");
    assert_int_equal(cgi_response_head(&rp, NULL, out, sizeof out, &body, &blen), -500);
    memset(rp.fSetCookieBuffer, 'a', sizeof rp.fSetCookieBuffer); /* no NUL */
    assert_int_equal(cgi_response_head(&rp, NULL, out, sizeof out, &body, &blen), -500);
    strcpy(rp.fSetCookieBuffer, "a=1");
    rp.fNumOfSetCookieHeaders = 2; /* more strings than there are */
    assert_int_equal(cgi_response_head(&rp, NULL, out, sizeof out, &body, &blen), -500);
    rp.fNumOfSetCookieHeaders = -1;
    assert_int_equal(cgi_response_head(&rp, NULL, out, sizeof out, &body, &blen), -500);
    rp.fNumOfSetCookieHeaders = 1;
    assert_int_equal(cgi_response_head(&rp, NULL, out, sizeof out, &body, &blen),
                     (long)strlen("HTTP/1.1 204 No Content\r\nSet-Cookie: a=1\r\n\r\n"));
}

/* The error page: its rpCgi mapped, then the status set by the handler. */
static void test_head_error_page(void **state)
{
    struct cgi_head h;
    char out[512];
    const char *body;
    size_t blen;
    rpCgi rp;

    (void)state;
    memset(&rp, 0, sizeof rp);
    rp.fHttpResponse = CgiHttpOk;
    rp.fDataType = CGIDataTypeHtml;
    rp.fResponseBufferPtr = page;
    rp.fResponseBufferLength = 9;
    assert_int_equal(cgi_response_map(&rp, NULL, &h, &body, &blen), 0);
    h.status = 404;
    static const char want[] = "HTTP/1.1 404 Not Found\r\nContent-Type: text/html; "
                               "charset=utf-8\r\n" CL "9\r\n\r\n";
    assert_int_equal(cgi_head_write(&h, out, sizeof out), (long)strlen(want));
    assert_string_equal(out, want);
    assert_ptr_equal(body, page);
    h.status = 418; /* not in the list */
    assert_int_equal(cgi_head_write(&h, out, sizeof out), -1);
    assert_string_equal(out, "");
    h.status = 401;
    h.realm = "x";
    assert_true(cgi_head_write(&h, out, sizeof out) > 0);
    assert_non_null(strstr(out, "\r\nWWW-Authenticate: Basic realm=\"x\"\r\n"));
}

/* --------------------------------------------------------------- calls */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int inside, most;

/* Waits (up to 300 ms) for a second caller to be inside at the same time. */
static void huge _pascal meet(rpCgi *rp)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 300 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&mu);
    if (++inside > most)
        most = inside;
    pthread_cond_broadcast(&cv);
    while (inside < 2 && pthread_cond_timedwait(&cv, &mu, &until) == 0)
        ;
    inside--;
    pthread_mutex_unlock(&mu);
    rp->fHttpResponse = CgiHttpOKNoDoc;
}

static void *caller(void *arg)
{
    CGI_Entry e = {"meet", CgiHttpGet, meet};
    assert_int_equal(cgi_call(&e, arg), 0);
    return NULL;
}

static int run_two(void)
{
    pthread_t a, b;
    rpCgi ra, rb;

    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    most = 0;
    pthread_create(&a, NULL, caller, &ra);
    pthread_create(&b, NULL, caller, &rb);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    assert_int_equal(ra.fHttpResponse, CgiHttpOKNoDoc);
    assert_int_equal(rb.fHttpResponse, CgiHttpOKNoDoc);
    return most;
}

static void test_call_serial(void **state)
{
    rpCgi rp;
    CGI_Entry none = {"x", CgiHttpGet, NULL};

    (void)state;
    assert_int_equal(cgi_get_concurrent(), 0);
    assert_int_equal(run_two(), 1); /* never two at once */
    cgi_set_concurrent(1);
    assert_int_equal(cgi_get_concurrent(), 1);
    assert_int_equal(run_two(), 2); /* they met */
    cgi_set_concurrent(0);
    assert_int_equal(run_two(), 1);
    assert_int_equal(cgi_call(NULL, &rp), -1);
    assert_int_equal(cgi_call(&none, &rp), -1);
    assert_int_equal(cgi_call_func(meet, NULL), -1);
    /* a token taken before a change is given back correctly */
    int t = cgi_serial_enter();
    cgi_set_concurrent(1);
    cgi_serial_leave(t);
    cgi_set_concurrent(0);
    t = cgi_serial_enter();
    assert_int_equal(t, 1);
    cgi_serial_leave(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_table),
        cmocka_unit_test(test_fill_errors),
        cmocka_unit_test_setup(test_head_table, setup_tables),
        cmocka_unit_test(test_head_bad_fields),
        cmocka_unit_test(test_head_error_page),
        cmocka_unit_test(test_call_serial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
