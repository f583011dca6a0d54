/*
 * test_config - chip.ini: every key's default, every kind of error with its
 * line number, the accounts, the Markdown reference against the key table,
 * and BIOS_Get/Set_Ini_String(_Ext) over real files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "config_keys.h"
#include "inifile.h"

/* The smallest file the defaults accept: the web root and the TLS identity. */
#define BASE "[WEB]\nROOTDIR=/srv/www\n[SSL]\nCERT=/etc/c.pem\nKEY=/etc/k.pem\n"

static int load(const char *text, struct chip_config *c, char *err)
{
    return chip_config_load_string("chip.ini", text, c, err, CFG_ERROR_MAX);
}

static void test_defaults(void **state)
{
    (void)state;
    struct chip_config *c = calloc(1, sizeof *c);
    char err[CFG_ERROR_MAX] = "";
    assert_non_null(c);
    if (load(BASE, c, err))
        fail_msg("%s", err);
    /* SERVERS.md's table */
    assert_int_equal(c->web.enable, 1);
    assert_int_equal(c->web.ssl_enable, 1);
    assert_string_equal(c->web.bind, "");
    assert_int_equal(c->web.http_port, 8080);
    assert_int_equal(c->web.https_port, 8443);
    assert_string_equal(c->web.rootdir, "/srv/www");
    assert_string_equal(c->web.mainpage, "main.htm");
    assert_string_equal(c->web.status_page, "");
    assert_string_equal(c->web.access_log, "");
    assert_string_equal(c->web.error_log, "");
    assert_int_equal(c->web.redirect_https, 0);
    assert_string_equal(c->ssl.ca, "");
    assert_int_equal(c->ssl.client_auth, 0);
    assert_int_equal(c->ssl.nproposals, 0);
    assert_int_equal(c->ftp.enable, 1);
    assert_string_equal(c->ftp.bind, "");
    assert_int_equal(c->ftp.port, 2121);
    assert_int_equal(c->ftp.ftps_port, 9990);
    assert_int_equal(c->ftp.require_tls, 1);
    assert_int_equal(c->ftp.timeout, 300);
    assert_string_equal(c->ftp.xfer_log, "");
    assert_int_equal(c->ftp.pasv_min, 0);
    assert_int_equal(c->ftp.pasv_max, 0);
    assert_int_equal(c->ftp.anonymous, 0);
    assert_int_equal(c->ftp.keep_partial, 0);
    assert_int_equal(c->ftp.accounts.count, 0);
    /* the additions */
    assert_int_equal(c->web.workers, 0);
    assert_int_equal(c->web.max_connections, 1024);
    assert_int_equal(c->web.max_request_line, 8192);
    assert_int_equal(c->web.max_header_size, 16384);
    assert_int_equal(c->web.max_headers, 100);
    assert_int_equal(c->web.max_body, 1048576);
    assert_int_equal(c->web.header_timeout, 10);
    assert_int_equal(c->web.idle_timeout, 60);
    assert_int_equal(c->web.cgi_concurrent, 0);
    assert_int_equal(c->ftp.max_clients, 64);
    assert_int_equal(c->ftp.max_per_ip, 8);
    chip_config_free(c);

    /* Every default is a value the key accepts, and writing it into the
     * file changes nothing. */
    struct chip_config *d = calloc(1, sizeof *d);
    assert_non_null(d);
    chip_config_defaults(d);
    for (size_t i = 0; i < cfg_nkeys; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        char text[512];
        if (!strcmp(k->name, "ROOTDIR") || !strcmp(k->name, "CERT") || !strcmp(k->name, "KEY"))
            continue; /* in BASE: required, no default */
        snprintf(text, sizeof text, BASE "[%s]\n%s=%s\n", k->section, k->name, k->def);
        if (load(text, c, err))
            fail_msg("default of [%s] %s: %s", k->section, k->name, err);
        assert_memory_equal((char *)c + k->offset, (char *)d + k->offset, k->size);
        chip_config_free(c);
    }
    free(c);
    free(d);
}

static const struct {
    const char *text, *message;
} errors[] = {
    {BASE "[WEB]\nHTTP_PORT=70000\n", "chip.ini:7: [WEB] HTTP_PORT: 70000 is not a port (1-65535)"},
    {BASE "[WEB]\nHTTP_PORT=0\n", "chip.ini:7: [WEB] HTTP_PORT: 0 is not a port (1-65535)"},
    {BASE "[FTP]\nFTPS_PORT=x\n", "chip.ini:7: [FTP] FTPS_PORT: x is not a port (0-65535, 0 = off)"},
    {BASE "[WEB]\nWORKERS=abc\n", "chip.ini:7: [WEB] WORKERS: abc is not a number"},
    {BASE "[WEB]\nWORKERS=-1\n", "chip.ini:7: [WEB] WORKERS: -1 is not a number"},
    {BASE "[WEB]\nWORKERS=999\n", "chip.ini:7: [WEB] WORKERS: 999 is out of range (0-256)"},
    {BASE "[WEB]\nMAX_BODY=99999999999999999999999\n",
     "chip.ini:7: [WEB] MAX_BODY: 99999999999999999999999 is not a number"},
    {BASE "[WEB]\nENABLE=yes\n", "chip.ini:7: [WEB] ENABLE: yes is not 0 or 1"},
    {BASE "[WEB]\nBIND=1.2.3\n", "chip.ini:7: [WEB] BIND: 1.2.3 is not an IPv4 or IPv6 address"},
    {BASE "[FTP]\nBIND=localhost\n", "chip.ini:7: [FTP] BIND: localhost is not an IPv4 or IPv6 address"},
    {BASE "[FTP]\nPASV_PORTS=50100-50000\n",
     "chip.ini:7: [FTP] PASV_PORTS: 50100-50000 is not a port range (LOW-HIGH within 1-65535, e.g. 50000-50100)"},
    {BASE "[FTP]\nPASV_PORTS=50000\n",
     "chip.ini:7: [FTP] PASV_PORTS: 50000 is not a port range (LOW-HIGH within 1-65535, e.g. 50000-50100)"},
    {BASE "[SSL]\nPROPOSALS=0x1302, TLS_FOO\n",
     "chip.ini:7: [SSL] PROPOSALS: TLS_FOO is not a cipher suite chipssl accepts"},
    {BASE "[SSL]\nPROPOSALS=0x0005\n", /* RC4: refused */
     "chip.ini:7: [SSL] PROPOSALS: 0x0005 is not a cipher suite chipssl accepts"},
    {BASE "[SSL]\nPROPOSALS=0x1302,4866\n", "chip.ini:7: [SSL] PROPOSALS: 4866 is listed twice"},
    {BASE "[WEB]\nHTTPPORT=80\n", "chip.ini:7: [WEB] HTTPPORT: unknown key"},
    {BASE "[WEB]\nUSER0=a\n", "chip.ini:7: [WEB] USER0: unknown key"},
    {BASE "[FTP]\nUSER007=a\n", "chip.ini:7: [FTP] USER007: unknown key"},
    {BASE "[FTP]\nUSER100=a\n", "chip.ini:7: [FTP] USER100: unknown key"},
    {"; comment\n[HTTP]\nPORT=1\n" BASE, "chip.ini:2: [HTTP]: unknown section (known: [WEB], [SSL], [FTP])"},
    {BASE "[EMPTY]\n", "chip.ini:6: [EMPTY]: unknown section (known: [WEB], [SSL], [FTP])"},
    {"ROOTDIR=/x\n" BASE, "chip.ini:1: ROOTDIR: outside any section ([WEB], [SSL] or [FTP])"},
    {BASE "[WEB]\nHTTP_PORT=81\n\nhttp_port=82\n", "chip.ini:9: [WEB] HTTP_PORT: set twice (first on line 7)"},
    {BASE "[WEB]\nROOTDIR=/y\n", "chip.ini:7: [WEB] ROOTDIR: set twice (first on line 2)"},
    {BASE "[WEB]\njust words\n", "chip.ini:7: expected [SECTION] or KEY=VALUE"},
    {BASE "[WEB\n", "chip.ini:6: expected [SECTION] or KEY=VALUE"},
    {BASE "[WEB]\n  HTTP_PORT=81\n", "chip.ini:7: indented line (continuation lines are not supported)"},
    {"[WEB]\nENABLE=1\n[SSL]\nCERT=/c\nKEY=/k\n", "chip.ini:1: [WEB] ROOTDIR is required (the web server is enabled)"},
    {"[SSL]\nCERT=/c\nKEY=/k\n", "chip.ini: [WEB] ROOTDIR is required (the web server is enabled)"},
    {"[WEB]\nROOTDIR=//\n[SSL]\nCERT=/c\nKEY=/k\n", "chip.ini:2: [WEB] ROOTDIR: the root may not be /"},
    {"[WEB]\nROOTDIR=/w\n[SSL]\nCERT=/c\n", "chip.ini:3: [SSL] KEY is required (TLS is on)"},
    {"[WEB]\nROOTDIR=/w\n", "chip.ini: [SSL] CERT is required (TLS is on)"},
    {BASE "[SSL]\nCLIENT_AUTH=1\n", "chip.ini:7: [SSL] CLIENT_AUTH=1 needs CA (the client CAs)"},
    {BASE "[WEB]\nSTATUS_PAGE=status\n", "chip.ini:7: [WEB] STATUS_PAGE: status is not a URL path (/...)"},
    {BASE "[WEB]\nSTATUS_SECURE=1\n", "chip.ini:7: [WEB] STATUS_SECURE=1 needs a SECURE_USERn"},
    {BASE "[FTP]\nPORT=8443\n", "chip.ini:7: [FTP] PORT: port 8443 is also [WEB] HTTPS_PORT"},
    {BASE "[FTP]\nUSER1=bob\nROOT1=/f\n",
     "chip.ini:7: [FTP] USER1: no PASSWORD1 (there are no default passwords)"},
    {BASE "[FTP]\nUSER1=bob\nPASSWORD1=\nROOT1=/f\n", "chip.ini:8: [FTP] PASSWORD1: empty"},
    {BASE "[FTP]\nUSER1=bob\nPASSWORD1=x\n", "chip.ini:7: [FTP] USER1: no ROOT1"},
    {BASE "[FTP]\nPASSWORD2=x\n", "chip.ini:7: [FTP] PASSWORD2: no USER2"},
    {BASE "[FTP]\nUSER1=a\nPASSWORD1=x\nROOT1=/a\nUSER2=a\nPASSWORD2=y\nROOT2=/b\n",
     "chip.ini:10: [FTP] USER2: user a already defined on line 7"},
    {BASE "[FTP]\nUSER1=a\nUSER1=b\n", "chip.ini:8: [FTP] USER1: set twice (first on line 7)"},
    {BASE "[FTP]\nANONYMOUS=1\n", "chip.ini:6: [FTP] ANONYMOUS=1 needs ROOT0 (the anonymous root)"},
    {BASE "[FTP]\nANONYMOUS=1\nROOT0=/pub\nROOT3=/x\n", "chip.ini:9: [FTP] ROOT3: no USER3"},
    {BASE "[FTP]\nROOT0=/pub\n", "chip.ini:7: [FTP] ROOT0: no USER0"},
    {BASE "[WEB]\nSECURE_PASSWORD0=x\n", "chip.ini:7: [WEB] SECURE_PASSWORD0: no SECURE_USER0"},
    /* the first error wins */
    {BASE "[WEB]\nHTTP_PORT=0\nHTTPS_PORT=0\n", "chip.ini:7: [WEB] HTTP_PORT: 0 is not a port (1-65535)"},
    {BASE "[WEB]\nbad line\nHTTP_PORT=0\n", "chip.ini:7: expected [SECTION] or KEY=VALUE"},
    {BASE "[WEB]\nHTTP_PORT=0\nbad line\n", "chip.ini:7: [WEB] HTTP_PORT: 0 is not a port (1-65535)"},
};

static void test_errors(void **state)
{
    (void)state;
    struct chip_config *c = calloc(1, sizeof *c);
    assert_non_null(c);
    for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
        char err[CFG_ERROR_MAX] = "";
        if (load(errors[i].text, c, err) != -1 || strcmp(err, errors[i].message))
            fail_msg("case %zu:\n got  \"%s\"\n want \"%s\"", i, err, errors[i].message);
        assert_null(c->ftp.accounts.list); /* nothing to free after a failure */
    }
    /* A line longer than libinih's buffer is refused, not cut. */
    char text[1024], err[CFG_ERROR_MAX];
    snprintf(text, sizeof text, BASE "[WEB]\nACCESS_LOG=/%0400d\n", 0);
    assert_int_equal(load(text, c, err), -1);
    assert_string_equal(err, "chip.ini:7: line too long (at most 197 characters)");
    free(c);
}

static void test_valid(void **state)
{
    (void)state;
    struct chip_config *c = calloc(1, sizeof *c);
    char err[CFG_ERROR_MAX] = "";
    assert_non_null(c);
    const char *text = "; chipd\n# both comment styles\n[web]\nrootdir = /srv/www ; inline comment\n"
                       "BIND=::1\nHTTP_PORT: 80\nWORKERS=4\nSTATUS_PAGE=/status\nSTATUS_SECURE=1\n"
                       "SECURE_USER0=admin\nSECURE_PASSWORD0=s3cret\nUPLOAD_USER3=up\n"
                       "UPLOAD_PASSWORD3=pw\n\r\n[SSL]\r\nCERT=/c\nKEY=/k\nCA=/ca\nCLIENT_AUTH=1\n"
                       "PROPOSALS = 0x1302, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 ,4865\n"
                       "[FTP]\nBIND=127.0.0.1\nFTPS_PORT=0\nPASV_PORTS=50000-50100\nANONYMOUS=1\n"
                       "ROOT0=/pub\nUSER10=zed\nPASSWORD10=z\nROOT10=/z\nUSER2=amy\nPASSWORD2=a b\n"
                       "ROOT2=/a\n";
    if (load(text, c, err))
        fail_msg("%s", err);
    assert_string_equal(c->web.rootdir, "/srv/www");
    assert_string_equal(c->web.bind, "::1");
    assert_int_equal(c->web.http_port, 80);
    assert_int_equal(c->web.workers, 4);
    assert_int_equal(c->web.secure.count, 1);
    assert_string_equal(c->web.secure.list[0].user, "admin");
    assert_string_equal(c->web.secure.list[0].password, "s3cret");
    assert_int_equal(c->web.upload.count, 1);
    assert_int_equal(c->web.upload.list[0].index, 3);
    assert_int_equal(c->ssl.nproposals, 3);
    assert_int_equal(c->ssl.proposals[0], 0x1302);
    assert_int_equal(c->ssl.proposals[1], 0xC02F);
    assert_int_equal(c->ssl.proposals[2], 0x1301);
    assert_int_equal(c->ftp.pasv_min, 50000);
    assert_int_equal(c->ftp.pasv_max, 50100);
    assert_int_equal(c->ftp.ftps_port, 0);
    assert_int_equal(c->ftp.accounts.count, 2); /* ROOT0 alone is the anonymous root */
    assert_int_equal(c->ftp.accounts.list[0].index, 2);
    assert_string_equal(c->ftp.accounts.list[0].user, "amy");
    assert_string_equal(c->ftp.accounts.list[0].password, "a b");
    assert_string_equal(c->ftp.accounts.list[1].root, "/z");
    chip_config_free(c);
    assert_null(c->ftp.accounts.list);
    /* Everything off: nothing is required. */
    if (load("[WEB]\nENABLE=0\nSSL_ENABLE=0\n[FTP]\nENABLE=0\n", c, err))
        fail_msg("%s", err);
    assert_int_equal(chip_config_tls_needed(c), 0);
    chip_config_free(c);
    free(c);
}

static char dir[] = "/tmp/test_config.XXXXXX";

static void path(char *out, const char *name)
{
    snprintf(out, 512, "%s/%s", dir, name);
}

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_all(const char *p)
{
    static char buf[65536];
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_file_errors(void **state)
{
    (void)state;
    struct chip_config *c = calloc(1, sizeof *c);
    char err[CFG_ERROR_MAX], p[512], want[600];
    assert_non_null(c);
    path(p, "missing.ini");
    assert_int_equal(chip_config_load(p, c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory", p);
    assert_string_equal(err, want);
    assert_int_equal(chip_config_load(dir, c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot read: Is a directory", dir);
    assert_string_equal(err, want);
    path(p, "nul.ini");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fwrite("[WEB]\0x", 1, 7, f);
    fclose(f);
    assert_int_equal(chip_config_load(p, c, err, sizeof err), -1);
    assert_non_null(strstr(err, "NUL byte"));
    path(p, "bad.ini");
    write_file(p, BASE "[WEB]\nHTTP_PORT=70000\n");
    assert_int_equal(chip_config_load(p, c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:7: [WEB] HTTP_PORT: 70000 is not a port (1-65535)", p);
    assert_string_equal(err, want);
    path(p, "good.ini");
    write_file(p, BASE);
    assert_int_equal(chip_config_load(p, c, err, sizeof err), 0);
    chip_config_free(c);
    free(c);
}

/* CONFIG.md holds, between its markers, exactly what the table generates. */
static void test_markdown(void **state)
{
    (void)state;
    char *doc = read_all(CONFIG_MD);
    assert_non_null(doc);
    char *begin = strstr(doc, "<!-- keys begin -->\n"), *end = strstr(doc, "<!-- keys end -->");
    assert_non_null(begin);
    assert_non_null(end);
    begin += strlen("<!-- keys begin -->\n");
    char *gen = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&gen, &n);
    assert_non_null(f);
    chip_config_keys_markdown(f);
    fclose(f);
    if (n != (size_t)(end - begin) || memcmp(gen, begin, n))
        fail_msg("servers/CONFIG.md differs from the key table: regenerate it with "
                 "build/servers/tests/config_keys_md");
    /* and every key of the table is in it */
    for (size_t i = 0; i < cfg_nkeys; i++) {
        char name[80];
        snprintf(name, sizeof name, "| `%s` |", cfg_keys[i].name);
        assert_non_null(strstr(begin, name));
    }
    free(gen);
}

static void test_ini_strings(void **state)
{
    (void)state;
    char p[512], out[200];
    struct stat st1, st2;
    path(p, "chip.ini");
    write_file(p, "; top comment\r\n[WEB]\r\nHTTP_PORT = 8080 ; the port\r\n\r\n; about ftp\r\n"
                  "[FTP]\r\nTIMEOUT=300\r\n");
    chmod(p, 0640);
    assert_int_equal(BIOS_Get_Ini_String_Ext(p, "web", "http_port", out, sizeof out), 4);
    assert_string_equal(out, "8080");
    assert_int_equal(BIOS_Get_Ini_String_Ext(p, "WEB", "NOPE", out, sizeof out), 0);
    assert_int_equal(BIOS_Get_Ini_String_Ext(p, "WEB", "HTTP_PORT", out, 3), 2); /* cut */
    assert_string_equal(out, "80");

    /* unchanged: not written (same inode) */
    stat(p, &st1);
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "WEB", "HTTP_PORT", "8080"), 0);
    stat(p, &st2);
    assert_int_equal(st1.st_ino, st2.st_ino);

    /* replace, add to a section, add a section: comments and CRLF kept */
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "Web", "HTTP_PORT", "8081"), 0);
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "WEB", "MAINPAGE", "index.htm"), 0);
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "SSL", "CERT", "/etc/c.pem"), 0);
    assert_string_equal(read_all(p), "; top comment\r\n[WEB]\r\nHTTP_PORT=8081\r\nMAINPAGE=index.htm\r\n"
                                     "\r\n; about ftp\r\n[FTP]\r\nTIMEOUT=300\r\n\r\n[SSL]\r\n"
                                     "CERT=/etc/c.pem\r\n");
    stat(p, &st2);
    assert_int_equal(st2.st_mode & 0777, 0640);
    assert_int_equal(BIOS_Get_Ini_String_Ext(p, "WEB", "MAINPAGE", out, sizeof out), 9);
    assert_string_equal(out, "index.htm");

    /* delete */
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "FTP", "TIMEOUT", NULL), 0);
    assert_int_equal(BIOS_Get_Ini_String_Ext(p, "FTP", "TIMEOUT", out, sizeof out), 0);
    assert_null(strstr(read_all(p), "TIMEOUT"));
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "FTP", "TIMEOUT", NULL), 0); /* already gone */

    /* bad arguments and texts that would not read back */
    char longtext[INI_TEXT_MAX + 2];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = 0;
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "WEB", "X", longtext), -1);
    longtext[INI_TEXT_MAX] = 0;
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "WEB", "X", longtext), 0);
    assert_int_equal(BIOS_Get_Ini_String_Ext(p, "WEB", "X", out, sizeof out), INI_TEXT_MAX);
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "WEB", "X", "a\nb"), -1);
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "WEB", "X", " a"), -1);
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "WEB", "X", "a ;b"), -1);
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "WEB", "A=B", "1"), -1);
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "W]", "A", "1"), -1);
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "", "A", "1"), -1);
    assert_int_equal(BIOS_Set_Ini_String_Ext(p, "A123456789012345678901234567890123456789X", "A", "1"), -1);
    assert_int_equal(BIOS_Get_Ini_String_Ext(p, "WEB", "X", out, 0), -1);

    /* no file: Get -1, Set creates it (0600) */
    char q[512];
    path(q, "new.ini");
    assert_int_equal(BIOS_Get_Ini_String_Ext(q, "FTP", "USER0", out, sizeof out), -1);
    assert_int_equal(BIOS_Set_Ini_String_Ext(q, "FTP", "USER0", "amy"), 0);
    assert_string_equal(read_all(q), "[FTP]\nUSER0=amy\n");
    stat(q, &st2);
    assert_int_equal(st2.st_mode & 0777, 0600);
    assert_int_equal(BIOS_Set_Ini_String_Ext("/nonexistent-dir/x.ini", "A", "B", "1"), -1);

    /* through a symbolic link: the link stays, the file it names changes */
    char l[512];
    path(l, "link.ini");
    assert_int_equal(symlink(q, l), 0);
    assert_int_equal(BIOS_Set_Ini_String_Ext(l, "FTP", "USER1", "bob"), 0);
    struct stat lst;
    assert_int_equal(lstat(l, &lst), 0);
    assert_true(S_ISLNK(lst.st_mode));
    assert_string_equal(read_all(q), "[FTP]\nUSER0=amy\nUSER1=bob\n");
    assert_int_equal(BIOS_Set_Ini_String_Ext(l, "FTP", "USER1", NULL), 0);

    /* the default-file forms, and a round trip through the configuration */
    chip_ini_set_default_file(q);
    assert_int_equal(BIOS_Set_Ini_String("WEB", "ROOTDIR", "/srv"), 0);
    assert_int_equal(BIOS_Set_Ini_String("SSL", "CERT", "/c"), 0);
    assert_int_equal(BIOS_Set_Ini_String("SSL", "KEY", "/k"), 0);
    assert_int_equal(BIOS_Set_Ini_String("FTP", "PASSWORD0", "pw"), 0);
    assert_int_equal(BIOS_Set_Ini_String("FTP", "ROOT0", "/home/amy"), 0);
    assert_int_equal(BIOS_Set_Ini_String("FTP", "TIMEOUT", "120"), 0);
    assert_int_equal(BIOS_Get_Ini_String("FTP", "USER0", out, sizeof out), 3);
    assert_string_equal(read_all(q), "[FTP]\nUSER0=amy\nPASSWORD0=pw\nROOT0=/home/amy\nTIMEOUT=120\n"
                                     "\n[WEB]\nROOTDIR=/srv\n\n[SSL]\nCERT=/c\nKEY=/k\n");
    struct chip_config *c = calloc(1, sizeof *c);
    char err[CFG_ERROR_MAX];
    assert_non_null(c);
    if (chip_config_load(q, c, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(c->ftp.timeout, 120);
    assert_int_equal(c->ftp.accounts.count, 1);
    assert_string_equal(c->ftp.accounts.list[0].root, "/home/amy");
    chip_config_free(c);
    free(c);
    chip_ini_set_default_file(NULL);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),    cmocka_unit_test(test_errors),
        cmocka_unit_test(test_valid),       cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_markdown),    cmocka_unit_test(test_ini_strings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
