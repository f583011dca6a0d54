/*
 * cgi_server.h - what the Web server (and chipd) calls on the CGI data
 * side: lookups of the tables that the application fills through cgi.h.
 * Internal to chipd (not installed). Every function is thread-safe; none
 * calls an application callback while holding the lock, and none returns
 * a pointer into a table that a concurrent cgi.h call could change (they
 * copy), except the MIME/header strings, which the application owns
 * (cgi.h MEMORY POLICY).
 */
#ifndef CHIPD_CGI_SERVER_H
#define CHIPD_CGI_SERVER_H

#include <stddef.h>
#include <sys/socket.h>

#include "cgi.h"

/* ---------------------------------------------------------------- table */

enum cgi_lookup_result {
    CGI_LOOKUP_NONE = 0,   /* no entry of that name: a file request        */
    CGI_LOOKUP_FOUND = 1,  /* *out filled                                  */
    CGI_LOOKUP_METHOD = 2, /* the name exists for other methods: 405; *allow
                              = bit (1 << method) per method that exists  */
};

/* The entry for a decoded URL path ("/emcy" or "emcy", no query) and a
 * method (CgiHttpGet/Head/Post): own method first, then CgiHttpAll, and for
 * HEAD a GET entry. out and allow may be NULL. */
enum cgi_lookup_result cgi_table_lookup(const char *path, int method, CGI_Entry *out,
                                        unsigned *allow);

/* Entries in the table now; for the status page and CGISTAT-like views:
 * copies up to max entries into out (PathPtr then points into names, max *
 * (CGI_MAX_PATH_LEN + 1) bytes). Returns the number copied. */
int cgi_table_list(CGI_Entry *out, char *names, int max);

/* Copies of the main pages and the root (the library's strings may change
 * while the server reads them). Return 0, or -1 when size is too small. */
int cgi_main_page_copy(char *buf, size_t size);
int cgi_main_page_post_copy(char *buf, size_t size);
int cgi_root_dir_copy(char *buf, size_t size); /* "" when none is set */
/* A number that changes whenever CGI_SetRootDir (or a reset) changes the
 * root: a caller may keep what it derived from one value. */
unsigned cgi_root_generation(void);

/* ----------------------------------------------------- MIME, data types */

struct cgi_mime_info {
    const char *type;     /* Content-Type, never NULL                       */
    const char *encoding; /* Content-Encoding, NULL for none               */
    const char *headers;  /* extra header lines (cgi.h format), NULL       */
};

/* By the extension of a path's last component (case-insensitive):
 * application table, then built-in, else application/octet-stream. */
void cgi_mime_lookup(const char *path, struct cgi_mime_info *out);

/* Content-Type of a CGI response's fDataType (octet-stream when unknown). */
const char *cgi_datatype_mime(int dataType);

/* --------------------------------------------------- accounts, security */

enum cgi_auth_result {
    CGI_AUTH_OK = 0,             /* serve it                                  */
    CGI_AUTH_UNAUTHORIZED = 401, /* answer 401 with a Basic challenge       */
    CGI_AUTH_FORBIDDEN = 403,    /* no account of the needed type exists     */
};

/* May this request go on? path: the decoded URL path; upload: 1 for an
 * upload request (needs an upload account, whatever the path), else a
 * path under a secure prefix needs a secure account. user/pass: from the
 * Authorization: Basic header, NULL when none. */
enum cgi_auth_result cgi_auth_check(const char *path, int upload, const char *user,
                                    const char *pass);

/* The secure accounts alone, whatever the path (the status page with
 * [WEB] STATUS_SECURE=1): OK, UNAUTHORIZED (none matches), FORBIDDEN (no
 * secure account exists). */
enum cgi_auth_result cgi_auth_secure_account(const char *user, const char *pass);

/* 1 when path is under a secure prefix. */
int cgi_path_is_secure(const char *path);

/* ----------------------------------------------- error pages and upload */

/* The error-page function for an HTTP status (401, 404, 500, 503), NULL
 * when none is installed. */
RpCgiFuncPtr cgi_error_func(int httpStatus);

int cgi_upload_enabled(void);
RpCgiFuncPtr cgi_upload_func(void);

/* ------------------------------------------------------------------ SSI */

/* Where SSI_Send_Buffer's bytes go: the server implements one per page it
 * builds. write returns 0, or -1 when the connection failed. */
struct ssi_sink {
    int (*write)(void *ctx, const char *buf, size_t len);
    void *ctx;
    SSI_Params params; /* what SSI_Get_Connection_Params reports (strings
                          must live until ssi_sink_detach)               */
};

/* Registers the sink of a page being built and returns its conHandle for
 * the handlers (never 0), or 0 when CHIPD_SSI_MAX_SINKS pages are being
 * built at once. The sink must stay valid until ssi_sink_detach(h), after
 * which SSI_Send_Buffer(h, ...) answers -1 (handles are not reused soon:
 * a generation number is part of them). */
unsigned long ssi_sink_attach(struct ssi_sink *sink);
void ssi_sink_detach(unsigned long conHandle);

/* 1 when urlPath matches the file filter of server (0/1). */
int ssi_file_matches(int server, const char *urlPath);

/* The current tag length, and the handler of the tag at text (exact
 * match of a registered tag that is a prefix of text[0..len)); *tagLen =
 * its length. NULL when no tag starts there. */
int ssi_tag_length(void);
SSI_Handler ssi_find_tag(int server, const char *text, size_t len, size_t *tagLen);

/* A copy of the tags of server (0/1) that the parser looks for now (those
 * no longer than the tag length), for one page: out gets up to max of
 * them; returns how many. A page keeps the set it started with. */
struct ssi_tag_copy {
    SSI_Handler h;
    size_t len;
    char text[SSI_MAX_TAGLENGTH + 1];
};
int ssi_tags_snapshot(int server, struct ssi_tag_copy *out, int max);

/* -------------------------------------------------------- server control */

/* The configuration's start state: suspended 1 for a server it leaves off. */
void chipd_server_set_initial(SERVER_SPEC which, int suspended);

/* Called (outside the lock) when BIOS_Server_On_Off changes a state, so
 * that the server can open or stop its listener. NULL: no notification. */
typedef void (*chipd_server_notify_fn)(SERVER_SPEC which, int suspended, void *ctx);
void chipd_server_set_notify(chipd_server_notify_fn fn, void *ctx);
/* The same for one server only (the Web server registers for
 * SS_WEB_SERVER and SS_SSL_WEB_SERVER, the FTP server for SS_FTP_SERVER:
 * neither replaces the other's). chipd_server_set_notify sets all. The
 * call runs in the thread of BIOS_Server_On_Off, after the state changed;
 * ctx must stay valid while registered (and during a call in flight:
 * deregister, then make sure no BIOS_Server_On_Off runs, or keep ctx
 * static). */
void chipd_server_set_notify_for(SERVER_SPEC which, chipd_server_notify_fn fn, void *ctx);

/* 1 when the server is enabled and the accept filter (if any) accepts peer
 * (a struct sockaddr_storage; len its length), else 0. Runs the filter in
 * the caller's thread. */
int chipd_accept_allowed(SERVER_SPEC which, const struct sockaddr *peer, socklen_t len);

/* The same for an accepted peer as the servers' listeners give it: an IPv4
 * peer of a dual-stack listener (::ffff:a.b.c.d) reaches the filter as the
 * struct sockaddr_in the original's filters expect. */
int chipd_accept_allowed_peer(SERVER_SPEC which, const struct sockaddr_storage *peer);

/* ---------------------------------------------------------------- reset */

/* Every table and setting back to the start state (tests; chipd_stop does
 * not call it: installed CGI functions survive a restart). */
void cgi_reset_all(void);

#endif /* CHIPD_CGI_SERVER_H */
