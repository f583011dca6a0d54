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

#endif
