/*
 * web_cgi.h - the CGI layer as the Web server's hook (web_cgi.c).
 */
#ifndef CHIPD_WEB_CGI_H
#define CHIPD_WEB_CGI_H

#include <stddef.h>

struct chip_config;

/* web_cgi_install - the configuration's CGI settings: cgi_set_concurrent
 * ([WEB] CGI_CONCURRENT), CGI_SetMainPage (MAINPAGE), CGI_SetSecurePath
 * (SECURE_PATH), CGI_SetCredentials (UPLOAD_USERn, SECURE_USERn, in their
 * order); then install the CGI handler as the hook unless another hook is set
 * (web_handler_hook_default). Returns 0, or -1 with the reason in err. */
int web_cgi_install(const struct chip_config *cfg, char *err, size_t errlen);

/* web_cgi_accept_allowed - BIOS_Server_On_Off and BIOS_Connection_Handler
 * for a new connection of the HTTP (tls 0) or HTTPS (1) listener: 1 to
 * serve it, 0 when the server is suspended or the application's filter
 * refuses the peer (then it is closed at once, before anything is read).
 * The filter runs on the calling worker, concurrently with the CGI
 * callbacks (not under their serialisation: it must be quick); it sees an
 * IPv4-mapped IPv6 peer as IPv4. */
struct sockaddr_storage;
int web_cgi_accept_allowed(int tls, const struct sockaddr_storage *peer);

/* The application's error pages (CGI_Install_Func_OnErr) for a static
 * file's answer: web_cgi_error_wanted(status) is 1 when the application
 * has a page for that status (401, 404; 503: the server's own, over
 * MAX_CONNECTIONS); then the connection hands the
 * request to web_cgi_error_handler (offloaded: it calls the application),
 * which replaces the response by the page, with the same status. */
struct web_handler;
extern const struct web_handler web_cgi_error_handler;
int web_cgi_error_wanted(int status);

/* web_write_all - write n bytes to a file (a spooled upload, an SSI page's
 * overflow), retrying short writes and EINTR. 0 or -1 (errno). */
int web_write_all(int fd, const char *p, size_t n);

/* web_cgi_root - the root directory to serve from: req->rootfd (*owned
 * 0), or, once the application moved the root with CGI_SetRootDir, that
 * directory opened (*owned 1: the caller closes it). -1 when it cannot be
 * opened. */
struct web_request;
int web_cgi_root(const struct web_request *req, int *owned);

#endif
