/*
 * web_ssi.h - SSI pages of the static-file handler (web_ssi.c).
 */
#ifndef CHIPD_WEB_SSI_H
#define CHIPD_WEB_SSI_H

#include "web_handler.h"

/* web_ssi_page - 1 when the file at urlPath ("/dir/page.htm", the main page
 * already appended) is an SSI page of req's server (SSI_Set_File_Filter). */
int web_ssi_page(const struct web_request *req, const char *urlPath);

/* The handler that completes an SSI page (web_response.finish): it takes
 * the open file from resp->file_fd and leaves the built page as the body
 * (memory or a temporary file), 200, or 500 when a tag handler failed. */
extern const struct web_handler web_ssi_handler;

#endif
