/*
 * test_cgi_ssi_ctl.c - SSI registrations (filters of every match type,
 * tags per server, replace, full, deregister, tag length), SSI_Send_Buffer
 * and SSI_Get_Connection_Params through a memory sink (stale and forged
 * handles refused), and server control (On/Off sense and results, state,
 * notification, accept filters with IPv4 and IPv6 peers).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cgi.h"
#include "cgi_server.h"

static int setup(void **state)
{
    (void)state;
    cgi_reset_all();
    return 0;
}

static void test_file_filter(void **state)
{
    const struct {
        const char *match;
        int type;
        const char *path;
        int want;
    } cases[] = {
        {"table.htm", SSI_MATCH_FILE_NAME, "/web/ssi/table.htm", 1},
        {"table.htm", SSI_MATCH_FILE_NAME, "/TABLE.HTM", 1},
        {"table.htm", SSI_MATCH_FILE_NAME, "/web/xtable.htm", 0},
        {"htm", SSI_MATCH_FILE_EXT, "/a/b.htm", 1},
        {".shtml", SSI_MATCH_FILE_EXT, "/b.SHTML", 1},
        {"htm", SSI_MATCH_FILE_EXT, "/b.html", 0},
        {"htm", SSI_MATCH_FILE_EXT, "/htm", 0},
        {"htm", SSI_MATCH_FILE_EXT, "/htm.d/x", 0},
        {"/web/ssi/table.htm", SSI_MATCH_FILE_PATH, "/web/ssi/table.htm", 1},
        {"/web/ssi/table.htm", SSI_MATCH_FILE_PATH, "/web/ssi/table.html", 0},
        {"ssi", SSI_MATCH_DIR_NAME, "/web/ssi/t.htm", 1},
        {"ssi", SSI_MATCH_DIR_NAME, "/ssi/t.htm", 1},
        {"ssi", SSI_MATCH_DIR_NAME, "/ssi/sub/t.htm", 0},
        {"ssi", SSI_MATCH_DIR_NAME, "/web/xssi/t.htm", 0},
        {"ssi", SSI_MATCH_DIR_NAME, "/ssi", 0},
        {"/web/ssi", SSI_MATCH_DIR_PATH, "/web/ssi/t.htm", 1},
        {"/web/ssi/", SSI_MATCH_DIR_PATH, "/web/ssi/t.htm", 1},
        {"/web/ssi", SSI_MATCH_DIR_PATH, "/web/ssi/sub/t.htm", 0},
        {"/web", SSI_MATCH_DIR_PATH, "/web/ssi/t.htm", 0},
        {"/", SSI_MATCH_DIR_PATH, "/t.htm", 1},
        {"/", SSI_MATCH_DIR_PATH, "/d/t.htm", 0},
    };
    size_t i;

    (void)state;
    assert_false(ssi_file_matches(0, "/x.htm")); /* no filter: no SSI */
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(SSI_Set_File_Filter(cases[i].match, cases[i].type, 1), 0);
        if (ssi_file_matches(1, cases[i].path) != cases[i].want)
            fail_msg("filter case %zu", i);
        if (ssi_file_matches(0, cases[i].path))
            fail_msg("filter case %zu leaked to server 0", i);
    }
    assert_false(ssi_file_matches(2, "/t.htm"));
    assert_false(ssi_file_matches(1, NULL));
    assert_int_equal(SSI_Set_File_Filter("x", 0, 0), CGI_INVALID_METHOD);
    assert_int_equal(SSI_Set_File_Filter("x", 6, 0), CGI_INVALID_METHOD);
    assert_int_equal(SSI_Set_File_Filter("x", 1, 2), CGI_INVALID_METHOD);
    assert_int_equal(SSI_Set_File_Filter("x", 1, -1), CGI_INVALID_METHOD);
    assert_int_equal(SSI_Set_File_Filter(NULL, 1, 0), CGI_INVALID_NAME);
    assert_int_equal(SSI_Set_File_Filter("", 1, 0), CGI_INVALID_NAME);
    assert_int_equal(SSI_Set_File_Filter("a\nb", 1, 0), CGI_INVALID_NAME);
}

static int h1(unsigned long c, const char *t)
{
    (void)c;
    (void)t;
    return SSI_OUTPUT_ENABLE;
}
static int h2(unsigned long c, const char *t)
{
    (void)c;
    (void)t;
    return SSI_OUTPUT_DISABLE;
}

static void test_tags(void **state)
{
    char tag[SSI_MAX_TAGLENGTH + 2];
    const char *text = "<!--#time--> rest";
    size_t len;
    int i;

    (void)state;
    assert_int_equal(SSI_Register_Tag("<!--#time-->", h1, 0), 0);
    assert_int_equal(SSI_Register_Tag("<!--#", h2, 0), 0);
    assert_ptr_equal(ssi_find_tag(0, text, strlen(text), &len), h1); /* longest wins */
    assert_int_equal(len, 12);
    assert_null(ssi_find_tag(1, text, strlen(text), &len)); /* per server */
    assert_int_equal(len, 0);
    assert_ptr_equal(ssi_find_tag(0, text, 6, &len), h2); /* only 6 bytes seen */
    assert_null(ssi_find_tag(0, "<!-", 3, &len));
    /* replace */
    assert_int_equal(SSI_Register_Tag("<!--#time-->", h2, 0), 0);
    assert_ptr_equal(ssi_find_tag(0, text, strlen(text), NULL), h2);
    /* bad arguments */
    assert_int_equal(SSI_Register_Tag("t", NULL, 0), CGI_INVALID_METHOD);
    assert_int_equal(SSI_Register_Tag("t", h1, 2), CGI_INVALID_METHOD);
    assert_int_equal(SSI_Register_Tag(NULL, h1, 0), CGI_INVALID_NAME);
    assert_int_equal(SSI_Register_Tag("", h1, 0), CGI_INVALID_NAME);
    memset(tag, 't', 91);
    tag[91] = '\0';
    assert_int_equal(SSI_Register_Tag(tag, h1, 1), CGI_INVALID_NAME); /* > 90 */
    tag[90] = '\0';
    assert_int_equal(SSI_Register_Tag(tag, h1, 1), 0);
    /* tag length */
    assert_int_equal(ssi_tag_length(), SSI_DEFAULT_TAGLENGTH);
    assert_int_equal(SSI_Set_TagLength(0), -1);
    assert_int_equal(SSI_Set_TagLength(SSI_MAX_TAGLENGTH + 1), -1);
    assert_int_equal(SSI_Set_TagLength(5), 0);
    assert_null(ssi_find_tag(1, tag, 90, NULL)); /* registered, no longer found */
    assert_int_equal(SSI_Register_Tag("123456", h1, 1), CGI_INVALID_NAME);
    assert_int_equal(SSI_Set_TagLength(SSI_MAX_TAGLENGTH), 0);
    memset(tag, 'u', SSI_MAX_TAGLENGTH);
    tag[SSI_MAX_TAGLENGTH] = '\0';
    assert_int_equal(SSI_Register_Tag(tag, h1, 1), 0);
    /* full */
    cgi_reset_all();
    for (i = 0; i < SSI_MAX_TAGS; i++) {
        snprintf(tag, sizeof tag, "<t%d>", i);
        assert_int_equal(SSI_Register_Tag(tag, i % 2 ? h1 : h2, 1), 0);
    }
    assert_int_equal(SSI_Register_Tag("<more>", h1, 1), CGI_NO_FREE_ENTRY);
    assert_int_equal(SSI_Register_Tag("<more>", h1, 0), 0); /* the other server */
    /* deregister: every tag of that handler in that server */
    assert_int_equal(SSI_Deregister_Tag(h1, 1), 0);
    assert_null(ssi_find_tag(1, "<t1>", 4, NULL));
    assert_ptr_equal(ssi_find_tag(1, "<t2>", 4, NULL), h2);
    assert_ptr_equal(ssi_find_tag(0, "<more>", 6, NULL), h1);
    assert_int_equal(SSI_Deregister_Tag(h1, 1), CGI_NOT_FOUND);
    assert_int_equal(SSI_Deregister_Tag(NULL, 1), CGI_NOT_FOUND);
    assert_int_equal(SSI_Deregister_Tag(h1, 3), CGI_INVALID_METHOD);
    assert_int_equal(SSI_Register_Tag("<more>", h1, 1), 0); /* room again */
}

struct mem {
    char buf[64];
    size_t len;
    int fail;
};

static int mem_write(void *ctx, const char *buf, size_t len)
{
    struct mem *m = ctx;

    if (m->fail || m->len + len > sizeof m->buf)
        return -1;
    memcpy(m->buf + m->len, buf, len);
    m->len += len;
    return 0;
}

static void test_send_buffer(void **state)
{
    struct mem m = {{0}, 0, 0};
    struct ssi_sink sink = {mem_write, &m, {0, 1, CgiHttpGet, "/p.htm", "a=1", "192.0.2.7"}};
    struct ssi_sink none = {NULL, NULL, {0}};
    SSI_Params p;
    unsigned long h, h2;

    (void)state;
    assert_int_equal(ssi_sink_attach(NULL), 0);
    assert_int_equal(ssi_sink_attach(&none), 0);
    h = ssi_sink_attach(&sink);
    assert_true(h != 0);
    assert_int_equal(SSI_Send_Buffer(h, "abc", 3, 1), 0);
    assert_int_equal(SSI_Send_Buffer(h, "de", 2, 0), 0);
    assert_int_equal(SSI_Send_Buffer(h, NULL, 0, 1), 0);
    assert_int_equal(m.len, 5);
    assert_memory_equal(m.buf, "abcde", 5);
    assert_int_equal(SSI_Send_Buffer(h, NULL, 1, 1), -1);
    assert_int_equal(SSI_Send_Buffer(h, "x", -1, 1), -1);
    assert_int_equal(SSI_Send_Buffer(h, "x", SSI_MAX_SEND_LEN + 1, 1), -1);
    assert_int_equal(SSI_Send_Buffer(h, "x", 1, 2), -1);
    assert_int_equal(SSI_Send_Buffer(0, "x", 1, 1), -1);
    assert_int_equal(SSI_Send_Buffer(h + 1, "x", 1, 1), -1);
    assert_int_equal(SSI_Send_Buffer(h ^ 0x10000ul, "x", 1, 1), -1); /* other generation */
    assert_int_equal(SSI_Send_Buffer(~0ul, "x", 1, 1), -1);
    m.fail = 1;
    assert_int_equal(SSI_Send_Buffer(h, "x", 1, 1), -1);
    m.fail = 0;

    memset(&p, 0, sizeof p);
    assert_int_equal(SSI_Get_Connection_Params(h, &p), 0);
    assert_int_equal(p.server, 1);
    assert_string_equal(p.pathPtr, "/p.htm");
    assert_string_equal(p.remoteIPPtr, "192.0.2.7");
    p.structVersion = 1;
    assert_int_equal(SSI_Get_Connection_Params(h, &p), -1);
    assert_int_equal(SSI_Get_Connection_Params(h, NULL), -1);

    ssi_sink_detach(h);
    assert_int_equal(SSI_Send_Buffer(h, "x", 1, 1), -1); /* stale */
    p.structVersion = 0;
    assert_int_equal(SSI_Get_Connection_Params(h, &p), -1);
    h2 = ssi_sink_attach(&sink); /* same slot, new handle */
    assert_true(h2 != h);
    assert_int_equal(SSI_Send_Buffer(h, "x", 1, 1), -1);
    assert_int_equal(SSI_Send_Buffer(h2, "x", 1, 1), 0);
    ssi_sink_detach(h); /* stale detach: h2 stays */
    assert_int_equal(SSI_Send_Buffer(h2, "y", 1, 1), 0);
    ssi_sink_detach(h2);
    assert_memory_equal(m.buf + 5, "xy", 2);
}

static int notified, lastWhich, lastState;
static void notify(SERVER_SPEC which, int suspended, void *ctx)
{
    (void)ctx;
    notified++;
    lastWhich = which;
    lastState = suspended;
}

static void test_server_state(void **state)
{
    const SERVER_SPEC ok[] = {SS_FTP_SERVER, SS_WEB_SERVER, SS_SSL_WEB_SERVER};
    size_t i;

    (void)state;
    notified = 0;
    chipd_server_set_notify(notify, NULL);
    for (i = 0; i < 3; i++) {
        assert_int_equal(BIOS_Server_State(ok[i]), 0);
        assert_int_equal(BIOS_Server_On_Off(ok[i], 0), 1); /* already running */
        assert_int_equal(BIOS_Server_On_Off(ok[i], 1), 0); /* 1 suspends */
        assert_int_equal(lastWhich, ok[i]);
        assert_int_equal(lastState, 1);
        assert_int_equal(BIOS_Server_State(ok[i]), 1);
        assert_int_equal(BIOS_Server_On_Off(ok[i], 1), 1);
        assert_int_equal(BIOS_Server_On_Off(ok[i], 0), 0);
        assert_int_equal(lastState, 0);
        assert_int_equal(BIOS_Server_On_Off(ok[i], 2), -1);
    }
    assert_int_equal(notified, 6);
    assert_int_equal(BIOS_Server_State(SS_TELNET_SERVER), -1);
    assert_int_equal(BIOS_Server_State(SS_SSH_SERVER), -1);
    assert_int_equal(BIOS_Server_State((SERVER_SPEC)5), -1);
    assert_int_equal(BIOS_Server_State((SERVER_SPEC)-1), -1);
    assert_int_equal(BIOS_Server_On_Off(SS_TELNET_SERVER, 1), -1);
    chipd_server_set_initial(SS_SSL_WEB_SERVER, 1); /* configuration: off */
    assert_int_equal(BIOS_Server_State(SS_SSL_WEB_SERVER), 1);
    assert_int_equal(notified, 6); /* the server itself set it: no notice */
    assert_int_equal(BIOS_Server_On_Off(SS_SSL_WEB_SERVER, 0), 0); /* can be started */
    chipd_server_set_notify(NULL, NULL);
}

static int filterCalls;
static int only_loopback(struct sockaddr *sa)
{
    filterCalls++;
    if (sa->sa_family == AF_INET)
        return ((struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_LOOPBACK) ? 0 : 1;
    if (sa->sa_family == AF_INET6)
        return memcmp(&((struct sockaddr_in6 *)sa)->sin6_addr, &in6addr_loopback, 16) ? 1 : 0;
    return 1;
}

static void test_accept_filter(void **state)
{
    struct sockaddr_in a4 = {0}, b4 = {0};
    struct sockaddr_in6 a6 = {0};

    (void)state;
    a4.sin_family = AF_INET;
    a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    b4.sin_family = AF_INET;
    b4.sin_addr.s_addr = htonl(0xC0000207);
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_loopback;
#define ALLOWED(w, a) chipd_accept_allowed(w, (const struct sockaddr *)&(a), sizeof(a))
    assert_true(ALLOWED(SS_WEB_SERVER, b4)); /* no filter */
    assert_int_equal(BIOS_Connection_Handler(only_loopback, SS_WEB_SERVER), 0);
    assert_int_equal(BIOS_Connection_Handler(only_loopback, SS_TELNET_SERVER), -1);
    assert_int_equal(BIOS_Connection_Handler(only_loopback, (SERVER_SPEC)9), -1);
    filterCalls = 0;
    assert_true(ALLOWED(SS_WEB_SERVER, a4));
    assert_false(ALLOWED(SS_WEB_SERVER, b4));
    assert_true(ALLOWED(SS_WEB_SERVER, a6));
    assert_int_equal(filterCalls, 3);
    assert_true(ALLOWED(SS_SSL_WEB_SERVER, b4)); /* per server */
    assert_int_equal(filterCalls, 3);
    /* a suspended server accepts nobody, and the filter is not asked */
    assert_int_equal(BIOS_Server_On_Off(SS_WEB_SERVER, 1), 0);
    assert_false(ALLOWED(SS_WEB_SERVER, a4));
    assert_int_equal(filterCalls, 3);
    assert_int_equal(BIOS_Server_On_Off(SS_WEB_SERVER, 0), 0);
    assert_int_equal(BIOS_Connection_Handler(NULL, SS_WEB_SERVER), 0);
    assert_true(ALLOWED(SS_WEB_SERVER, b4));
    assert_false(chipd_accept_allowed(SS_WEB_SERVER, NULL, 16));
    assert_false(chipd_accept_allowed(SS_WEB_SERVER, (const struct sockaddr *)&a4, 0));
    assert_false(chipd_accept_allowed(SS_WEB_SERVER, (const struct sockaddr *)&a4,
                                      sizeof(struct sockaddr_storage) + 1));
    assert_false(ALLOWED(SS_SSH_SERVER, a4));
#undef ALLOWED
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_file_filter, setup),
        cmocka_unit_test_setup(test_tags, setup),
        cmocka_unit_test_setup(test_send_buffer, setup),
        cmocka_unit_test_setup(test_server_state, setup),
        cmocka_unit_test_setup(test_accept_filter, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
