/*
 * web_demo.h - the built-in demo CGI function ([WEB] DEMO_CGI=1).
 */
#ifndef CHIPD_WEB_DEMO_H
#define CHIPD_WEB_DEMO_H

/* web_demo_install - CGI_Install of "demo" (every method): an HTML page
 * echoing the request's form fields, escaped, and its TLS details. Returns
 * CGI_Install's result. web_demo_remove - CGI_Delete it. */
int web_demo_install(void);
void web_demo_remove(void);

#endif
