/*
 * web_cgi.h - the CGI layer as the Web server's hook (web_cgi.c).
 */
#ifndef CHIPD_WEB_CGI_H
#define CHIPD_WEB_CGI_H

/* web_cgi_install - cgi_set_concurrent(concurrent) ([WEB] CGI_CONCURRENT),
 * then install the CGI handler as the hook unless another hook is set
 * (web_handler_hook_default). */
void web_cgi_install(int concurrent);

#endif
