/*
 * test_cgi_drive.c - the original-style application of
 * test_cgi_original_app.c driven from raw HTTP requests: parsed by
 * http_parse_request, turned into rpCgi by cgi_request_fill, looked up in
 * the CGI table, run by cgi_call, answered by cgi_response_head. Each
 * answer is compared byte for byte (what the handler will send, less the
 * socket).
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

#include "cgi_request.h"
#include "cgi_server.h"

int InstallCgiApp(void);

static int setup(void **state)
{
    (void)state;
    cgi_reset_all();
    assert_int_equal(InstallCgiApp(), 0);
    return 0;
}

/* What a handler does with one request; the answer goes to out. */
static void serve(const char *raw, char *out, size_t size)
{
    static struct http_request req;
    struct sockaddr_in peer;
    const char *body;
    size_t blen;
    CGI_Entry e;
    rpCgi rp;
    int n = http_parse_request(raw, strlen(raw), NULL, &req);

    assert_true(n > 0);
    memset(&peer, 0, sizeof peer);
    peer.sin_family = AF_INET;
    peer.sin_addr.s_addr = htonl(0x7f000001);
    size_t need = cgi_request_scratch_size(&req, strlen(raw) - (size_t)n);
    char *scratch = malloc(need);
    assert_non_null(scratch);
    assert_int_equal(cgi_request_fill(&rp, &req, raw + n, strlen(raw) - (size_t)n,
                                      (struct sockaddr *)&peer, sizeof peer, 1, NULL, scratch,
                                      need),
                     0);
    assert_int_equal(cgi_table_lookup(rp.fPathPtr, rp.fHttpRequest, &e, NULL), CGI_LOOKUP_FOUND);
    assert_int_equal(cgi_call(&e, &rp), 0);
    long h = cgi_response_head(&rp, "Connection: close\r\n", out, size, &body, &blen);
    assert_true(h > 0);
    if (rp.fHttpRequest != CgiHttpHead) {
        assert_true((size_t)h + blen < size);
        if (blen > 0) /* body is NULL when there is none */
            memcpy(out + h, body, blen);
        out[(size_t)h + blen] = '\0';
    }
    free(scratch);
}

#define OK_TEXT "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
#define CLOSE "Connection: close\r\n\r\n"

static void test_get_post(void **state)
{
    char out[2048];

    (void)state;
    serve("GET /status?verbose=1 HTTP/1.1\r\nHost: chip.local\r\n\r\n", out, sizeof out);
    assert_string_equal(out, OK_TEXT "Content-Length: 34\r\n" CLOSE
                                     "led=0 host=chip.local ip=127.0.0.1");
    serve("POST /SetLed HTTP/1.1\r\nHost: chip.local\r\nContent-Type: application/"
          "x-www-form-urlencoded\r\nContent-Length: 22\r\n\r\nnote=hello+world&led=1",
          out, sizeof out);
    assert_string_equal(out, "HTTP/1.1 302 Found\r\nLocation: /main.htm\r\nContent-Length: "
                             "0\r\n" CLOSE);
    serve("HEAD /status HTTP/1.0\r\n\r\n", out, sizeof out); /* no Host: "?" */
    assert_string_equal(out, OK_TEXT "Content-Length: 25\r\n" CLOSE);
    serve("GET /clear HTTP/1.1\r\nHost: h\r\n\r\n", out, sizeof out);
    assert_string_equal(out, "HTTP/1.1 204 No Content\r\n" CLOSE);
}

static void test_basic_auth_query(void **state)
{
    char out[2048];
    static const char *const refused[] = {
        "GET /led?state=on HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /led?state=on HTTP/1.1\r\nHost: h\r\nAuthorization: Basic YWRtaW46Y2hpcHM=\r\n\r\n",
    };

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        serve(refused[i], out, sizeof out);
        assert_string_equal(out,
                            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic "
                            "realm=\"LED control\"\r\nContent-Type: text/plain; "
                            "charset=utf-8\r\nContent-Length: 17\r\n" CLOSE "401 Unauthorized\n");
    }
    /* admin:chip */
    serve("GET /led?x=1&state=%6Fn HTTP/1.1\r\nHost: h\r\nAuthorization: Basic "
          "YWRtaW46Y2hpcA==\r\n\r\n",
          out, sizeof out);
    assert_string_equal(out, OK_TEXT "Content-Length: 6\r\n" CLOSE "led on");
    serve("GET /status HTTP/1.1\r\nHost: h\r\n\r\n", out, sizeof out);
    assert_non_null(strstr(out, "\r\n\r\nled=1 host=h"));
    serve("GET /led?state=off HTTP/1.1\r\nHost: h\r\nAuthorization: Basic "
          "YWRtaW46Y2hpcA==\r\n\r\n",
          out, sizeof out);
    assert_string_equal(out, OK_TEXT "Content-Length: 7\r\n" CLOSE "led off");
}

static void test_cookies(void **state)
{
    char out[2048];

    (void)state;
    serve("POST /session HTTP/1.1\r\nHost: h\r\nCookie: lang=de; visits=41; theme=\"dark\"\r\n"
          "Content-Length: 0\r\n\r\n",
          out, sizeof out);
    static const char start[] = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                                "Set-Cookie: visits=42; Expires=";
    assert_memory_equal(out, start, sizeof start - 1);
    assert_non_null(strstr(out, " GMT; Max-Age=3600; Path=/\r\nContent-Length: 34\r\n" CLOSE
                                "<html><body>visit 42</body></html>"));
    serve("GET /session HTTP/1.1\r\nHost: h\r\n\r\n", out, sizeof out);
    assert_non_null(strstr(out, "Set-Cookie: visits=1; "));
    assert_non_null(strstr(out, "\r\n\r\n<html><body>visit 1</body></html>"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_get_post, setup),
        cmocka_unit_test_setup(test_basic_auth_query, setup),
        cmocka_unit_test_setup(test_cookies, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
