/*
 * config - the servers' configuration file (chip.ini), read with libinih.
 *
 * Every key is described once, in the table of config_keys.c: section,
 * name, type, default, range and meaning. The parser and the documentation
 * (chip_config_keys_markdown, the source of servers/CONFIG.md) both come
 * from it. A file with an unknown section or key, a bad value, a duplicate
 * key or a missing required key is refused with one message naming the file,
 * the line and what is wrong:
 *   chip.ini:12: [WEB] HTTP_PORT: 70000 is not a port (1-65535)
 */
#ifndef CHIPD_CONFIG_H
#define CHIPD_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#define CFG_PATH_MAX 1024 /* file names, directories */
#define CFG_NAME_MAX 256  /* URL paths, page names */
#define CFG_ADDR_MAX 64   /* an IPv4 or IPv6 literal */
#define CFG_USER_MAX 64
#define CFG_PASSWORD_MAX 128
#define CFG_ACCOUNTS_MAX 100 /* USER0 .. USER99 */
#define CFG_PROPOSALS_MAX 128
#define CFG_ERROR_MAX 512
#define CFG_SNI_IDENTITIES 4 /* [SSL] CERT1/KEY1 .. CERT4/KEY4 */

/* One account: USERn / PASSWORDn (/ ROOTn where the family has roots). */
struct cfg_account {
    int index; /* n */
    char user[CFG_USER_MAX];
    char password[CFG_PASSWORD_MAX];
    char root[CFG_PATH_MAX]; /* empty for families without roots */
};

/* The accounts of one family, in the order of their n. */
struct cfg_accounts {
    struct cfg_account *list;
    size_t count;
};

struct chip_config {
    struct {
        int enable, ssl_enable;
        char bind[CFG_ADDR_MAX]; /* empty: all addresses */
        unsigned http_port, https_port;
        char rootdir[CFG_PATH_MAX];
        char mainpage[CFG_NAME_MAX];
        char status_page[CFG_NAME_MAX]; /* empty: no status page */
        char access_log[CFG_PATH_MAX];  /* empty: no access log */
        char error_log[CFG_PATH_MAX];   /* empty: stderr */
        int redirect_https;
        unsigned workers;               /* 0: one per core */
        unsigned max_connections;
        unsigned max_request_line, max_header_size, max_headers;
        unsigned long long max_body;    /* 0: no limit */
        unsigned header_timeout, idle_timeout, shutdown_timeout; /* seconds */
        int cgi_concurrent;
        int cgi_inline; /* callbacks on the workers (they promise not to block) */
        char secure_path[CFG_NAME_MAX]; /* empty: no secure area */
        int status_secure;
        int demo_cgi; /* 1: the built-in /demo CGI function (web_demo.c) */
        struct cfg_accounts upload, secure;
    } web;
    struct {
        char cert[CFG_PATH_MAX], key[CFG_PATH_MAX], ca[CFG_PATH_MAX];
        /* More identities chosen by SNI (SSL_SessionAddIdentity): CERTn and
         * KEYn, n = 1..CFG_SNI_IDENTITIES; empty: none. */
        char sni_cert[CFG_SNI_IDENTITIES][CFG_PATH_MAX], sni_key[CFG_SNI_IDENTITIES][CFG_PATH_MAX];
        int client_auth;
        int proposals[CFG_PROPOSALS_MAX]; /* IANA numbers, server order */
        int nproposals;                   /* 0: the library's default list */
    } ssl;
    struct {
        int enable;
        char bind[CFG_ADDR_MAX];
        unsigned port, ftps_port; /* ftps_port 0: no implicit FTPS */
        int require_tls;
        unsigned timeout;
        char xfer_log[CFG_PATH_MAX];
        unsigned pasv_min, pasv_max; /* 0, 0: any free port */
        int anonymous, keep_partial;
        char anon_root[CFG_PATH_MAX]; /* ROOT0 when ANONYMOUS=1 */
        unsigned max_clients, max_per_ip;
        struct cfg_accounts accounts;
    } ftp;
};

/* chip_config_defaults - every key at its documented default, no accounts. */
void chip_config_defaults(struct chip_config *cfg);

/* chip_config_load - defaults, then the file at path. Returns 0, or -1 with
 * the reason in err ("chip.ini:12: ..."; the file name as given). On
 * failure cfg holds nothing to free. */
int chip_config_load(const char *path, struct chip_config *cfg, char *err, size_t errlen);

/* chip_config_load_string - the same for the text of a file (for tests and
 * `chipd -t` on standard input); name is used in messages. */
int chip_config_load_string(const char *name, const char *text, struct chip_config *cfg,
                            char *err, size_t errlen);

/* chip_config_free - the account lists; cfg may then be loaded again. */
void chip_config_free(struct chip_config *cfg);

/* chip_config_tls_needed - whether a server of cfg uses TLS (then [SSL]
 * CERT and KEY are required). */
int chip_config_tls_needed(const struct chip_config *cfg);

/* chip_config_keys_markdown - the reference of every key as Markdown
 * tables, one per section: what servers/CONFIG.md holds between its
 * markers. */
void chip_config_keys_markdown(FILE *out);

#endif
