/*
 * config_keys - every key of chip.ini with its type, default, range and
 * meaning, and the Markdown reference generated from them.
 */
#include "config_keys.h"

#include <stdio.h>
#include <string.h>

#define F(field) offsetof(struct chip_config, field), sizeof(((struct chip_config *)0)->field)
#define NONE 0, 0

const char *const cfg_sections[] = {"WEB", "SSL", "FTP", NULL};

const struct cfg_key cfg_keys[] = {
    /* [WEB]: the HTTP and HTTPS instances (SERVERS.md's table, then limits) */
    {"WEB", "ENABLE", CFG_BOOL, "1", NONE, F(web.enable), NULL, "the HTTP instance on/off"},
    {"WEB", "SSL_ENABLE", CFG_BOOL, "1", NONE, F(web.ssl_enable), NULL, "the HTTPS instance on/off"},
    {"WEB", "BIND", CFG_ADDR, "", NONE, F(web.bind), "all addresses",
     "listen address of both instances (IPv4 or IPv6 literal)"},
    {"WEB", "HTTP_PORT", CFG_PORT, "8080", 1, 65535, F(web.http_port), NULL, "port of the HTTP instance"},
    {"WEB", "HTTPS_PORT", CFG_PORT, "8443", 1, 65535, F(web.https_port), NULL, "port of the HTTPS instance"},
    {"WEB", "ROOTDIR", CFG_PATH, "", NONE, F(web.rootdir), "(required)",
     "web root, served by both instances; required when either is on, may not be `/`"},
    {"WEB", "MAINPAGE", CFG_STRING, "main.htm", NONE, F(web.mainpage), NULL,
     "the page served for `/`, relative to the root"},
    {"WEB", "STATUS_PAGE", CFG_STRING, "", NONE, F(web.status_page), "empty (off)",
     "URL path of the live status page, e.g. `/status` (HTML; the same path with `?format=json` "
     "or `.json` appended gives JSON); empty = no status page"},
    {"WEB", "STATUS_SECURE", CFG_BOOL, "0", NONE, F(web.status_secure), NULL,
     "1 = the status page asks for a secure account (`SECURE_USERn`, HTTP Basic) and is served "
     "over HTTPS only (plain HTTP gets a 301 to the HTTPS instance)"},
    {"WEB", "DEMO_CGI", CFG_BOOL, "0", NONE, F(web.demo_cgi), NULL,
     "1 = install the built-in demo CGI function `/demo` (GET and POST): an HTML page echoing the "
     "form's fields, escaped, and whether the request came over TLS (version, suite, client "
     "certificate); the run command's demo page posts to it"},
    {"WEB", "ACCESS_LOG", CFG_PATH, "", NONE, F(web.access_log), "empty (off)",
     "access log file, common log format"},
    {"WEB", "ERROR_LOG", CFG_PATH, "", NONE, F(web.error_log), "empty (stderr)",
     "error log file: failed TLS handshakes with their reason, server errors"},
    {"WEB", "REDIRECT_HTTPS", CFG_BOOL, "0", NONE, F(web.redirect_https), NULL,
     "1 = the HTTP instance answers every request with a 301 to the HTTPS instance"},
    {"WEB", "WORKERS", CFG_UINT, "0", 0, 256, F(web.workers), "0 (one per core)",
     "worker threads of the event loop; 0 = one per core"},
    {"WEB", "MAX_CONNECTIONS", CFG_UINT, "1024", 1, 1000000, F(web.max_connections), NULL,
     "open connections of both instances together; more are answered 503 and closed"},
    {"WEB", "MAX_REQUEST_LINE", CFG_UINT, "8192", 256, 1048576, F(web.max_request_line), NULL,
     "bytes of the request line; longer: 414"},
    {"WEB", "MAX_HEADER_SIZE", CFG_UINT, "16384", 512, 1048576, F(web.max_header_size), NULL,
     "bytes of the request line and headers together; more: 431"},
    {"WEB", "MAX_HEADERS", CFG_UINT, "100", 1, 100, F(web.max_headers), NULL,
     "header fields of a request; more: 431"},
    {"WEB", "MAX_BODY", CFG_U64, "1048576", 0, 1ULL << 40, F(web.max_body), NULL,
     "bytes of a request body (POST, upload); more: 413; 0 = no limit"},
    {"WEB", "HEADER_TIMEOUT", CFG_UINT, "10", 1, 3600, F(web.header_timeout), NULL,
     "seconds to receive a request's headers (and the TLS handshake) before closing"},
    {"WEB", "IDLE_TIMEOUT", CFG_UINT, "60", 1, 86400, F(web.idle_timeout), NULL,
     "seconds a keep-alive connection may wait for its next request (and a response may stall)"},
    {"WEB", "SHUTDOWN_TIMEOUT", CFG_UINT, "30", 1, 86400, F(web.shutdown_timeout), NULL,
     "seconds a stop (SIGTERM, chipd_stop) lets responses under way finish before closing them"},
    {"WEB", "CGI_INLINE", CFG_BOOL, "0", NONE, F(web.cgi_inline), NULL,
     "1 = CGI callbacks run on the event loop's worker threads, with no hand-over to a handler "
     "thread (faster); the application promises that they never block: a blocking one stalls "
     "every connection of its worker. With `CGI_CONCURRENT=0` they still run one at a time"},
    {"WEB", "CGI_CONCURRENT", CFG_BOOL, "0", NONE, F(web.cgi_concurrent), NULL,
     "0 = CGI callbacks run one at a time (as the original's single web task); 1 = concurrently"},
    {"WEB", "SECURE_PATH", CFG_STRING, "", NONE, F(web.secure_path), "empty (none)",
     "URL path prefix guarded by the secure accounts (HTTP Basic), e.g. `/admin`"},
    /* [SSL]: the identity and the TLS options of both servers */
    {"SSL", "CERT", CFG_PATH, "", NONE, F(ssl.cert), "(required when TLS is on)",
     "PEM file of the server certificate (and its chain)"},
    {"SSL", "KEY", CFG_PATH, "", NONE, F(ssl.key), "(required when TLS is on)",
     "PEM file of the server's private key"},
    {"SSL", "CERT1", CFG_PATH, "", NONE, F(ssl.sni_cert[0]), "empty (none)",
     "one more certificate (PEM, chain allowed), presented to clients that ask by SNI for one of "
     "its names (subjectAltName DNS, else CN; `*.` wildcards); needs `KEY1`. A client without SNI "
     "or with another name gets `CERT`"},
    {"SSL", "KEY1", CFG_PATH, "", NONE, F(ssl.sni_key[0]), "empty (none)", "the private key of `CERT1`"},
    {"SSL", "CERT2", CFG_PATH, "", NONE, F(ssl.sni_cert[1]), "empty (none)",
     "as `CERT1`: a further identity chosen by SNI; needs `KEY2`"},
    {"SSL", "KEY2", CFG_PATH, "", NONE, F(ssl.sni_key[1]), "empty (none)", "the private key of `CERT2`"},
    {"SSL", "CERT3", CFG_PATH, "", NONE, F(ssl.sni_cert[2]), "empty (none)",
     "as `CERT1`: a further identity chosen by SNI; needs `KEY3`"},
    {"SSL", "KEY3", CFG_PATH, "", NONE, F(ssl.sni_key[2]), "empty (none)", "the private key of `CERT3`"},
    {"SSL", "CERT4", CFG_PATH, "", NONE, F(ssl.sni_cert[3]), "empty (none)",
     "as `CERT1`: a further identity chosen by SNI; needs `KEY4`"},
    {"SSL", "KEY4", CFG_PATH, "", NONE, F(ssl.sni_key[3]), "empty (none)", "the private key of `CERT4`"},
    {"SSL", "CA", CFG_PATH, "", NONE, F(ssl.ca), "empty",
     "PEM file of the CAs that client certificates must chain to; required by `CLIENT_AUTH=1`"},
    {"SSL", "CLIENT_AUTH", CFG_BOOL, "0", NONE, F(ssl.client_auth), NULL,
     "1 = session option 1: request and require a client certificate"},
    {"SSL", "PROPOSALS", CFG_SUITES, "", NONE, F(ssl.proposals), "library default",
     "cipher suites in server order, comma-separated IANA numbers (`0x1302`) or names "
     "(`TLS_AES_256_GCM_SHA384`)"},
    /* [FTP] */
    {"FTP", "ENABLE", CFG_BOOL, "1", NONE, F(ftp.enable), NULL, "the FTP server on/off"},
    {"FTP", "BIND", CFG_ADDR, "", NONE, F(ftp.bind), "all addresses",
     "listen address (IPv4 or IPv6 literal)"},
    {"FTP", "PORT", CFG_PORT, "2121", 1, 65535, F(ftp.port), NULL, "control port (explicit FTPS with `AUTH TLS`)"},
    {"FTP", "FTPS_PORT", CFG_PORT, "9990", 0, 65535, F(ftp.ftps_port), NULL,
     "implicit-FTPS port; 0 = off"},
    {"FTP", "REQUIRE_TLS", CFG_BOOL, "1", NONE, F(ftp.require_tls), NULL,
     "1 = no login before `AUTH TLS`; data connections `PROT P` and resuming the control session"},
    {"FTP", "TIMEOUT", CFG_UINT, "300", 1, 86400, F(ftp.timeout), NULL, "idle timeout, seconds"},
    {"FTP", "XFER_LOG", CFG_PATH, "", NONE, F(ftp.xfer_log), "empty (off)",
     "transfer log file (who, what, bytes, complete or aborted)"},
    {"FTP", "PASV_PORTS", CFG_PORT_RANGE, "", NONE, F(ftp.pasv_min), "any free port",
     "passive port range `LOW-HIGH`, e.g. `50000-50100`"},
    {"FTP", "ANONYMOUS", CFG_BOOL, "0", NONE, F(ftp.anonymous), NULL,
     "1 = read-only anonymous login, root `ROOT0` (then required)"},
    {"FTP", "KEEP_PARTIAL", CFG_BOOL, "0", NONE, F(ftp.keep_partial), NULL,
     "1 = a cut-off upload stays under its name for `REST`/`APPE`; 0 = hidden temporary name, "
     "renamed on success"},
    {"FTP", "MAX_CLIENTS", CFG_UINT, "64", 1, 100000, F(ftp.max_clients), NULL,
     "sessions at once; more are refused with 421"},
    {"FTP", "MAX_PER_IP", CFG_UINT, "8", 1, 100000, F(ftp.max_per_ip), NULL,
     "sessions at once from one address; more are refused with 421"},
};
const size_t cfg_nkeys = sizeof cfg_keys / sizeof *cfg_keys;

const struct cfg_family cfg_families[] = {
    {"WEB", "UPLOAD_USER", "UPLOAD_PASSWORD", NULL, offsetof(struct chip_config, web.upload),
     "upload accounts (`CGI_SetCredentials` type 0): HTTP Basic for `CGI_Enable_Upload`"},
    {"WEB", "SECURE_USER", "SECURE_PASSWORD", NULL, offsetof(struct chip_config, web.secure),
     "secure accounts (`CGI_SetCredentials` type 1): HTTP Basic for `SECURE_PATH` and the status page"},
    {"FTP", "USER", "PASSWORD", "ROOT", offsetof(struct chip_config, ftp.accounts),
     "FTP accounts, each confined to its root directory"},
};
const size_t cfg_nfamilies = sizeof cfg_families / sizeof *cfg_families;

static const char *type_text(const struct cfg_key *k, char *buf, size_t n)
{
    switch (k->type) {
    case CFG_BOOL: return "0 or 1";
    case CFG_UINT:
    case CFG_U64:
    case CFG_PORT:
        snprintf(buf, n, "%s %llu-%llu", k->type == CFG_PORT ? "port" : "number", k->min, k->max);
        return buf;
    case CFG_STRING: return "text";
    case CFG_PATH: return "file name";
    case CFG_ADDR: return "IP address";
    case CFG_PORT_RANGE: return "port range";
    case CFG_SUITES: return "suite list";
    }
    return "?";
}

void chip_config_keys_markdown(FILE *out)
{
    char buf[64];
    for (const char *const *s = cfg_sections; *s; s++) {
        fprintf(out, "### [%s]\n\n| key | value | default | meaning |\n|---|---|---|---|\n", *s);
        for (size_t i = 0; i < cfg_nkeys; i++) {
            const struct cfg_key *k = &cfg_keys[i];
            if (strcmp(k->section, *s))
                continue;
            const char *def = k->doc_default ? k->doc_default : k->def;
            fprintf(out, "| `%s` | %s | %s%s%s | %s |\n", k->name, type_text(k, buf, sizeof buf),
                    k->doc_default ? "" : "`", def, k->doc_default ? "" : "`", k->doc);
        }
        for (size_t i = 0; i < cfg_nfamilies; i++) {
            const struct cfg_family *f = &cfg_families[i];
            if (strcmp(f->section, *s))
                continue;
            fprintf(out, "| `%sn`, `%sn`%s%s%s | text (n = 0-%d) | none | %s |\n", f->user,
                    f->password, f->root ? ", `" : "", f->root ? f->root : "", f->root ? "n`" : "",
                    CFG_ACCOUNTS_MAX - 1, f->doc);
        }
        fputs("\n", out);
    }
}
