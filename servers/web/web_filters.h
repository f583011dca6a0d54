/*
 * web_filters - the static handler's small stages after the file is open:
 * Last-Modified and If-Modified-Since (304), Range (206 / 416).
 */
#ifndef CHIPD_WEB_FILTERS_H
#define CHIPD_WEB_FILTERS_H

#include "web_handler.h"

#include <sys/stat.h>

/* web_filter_not_modified - adds Last-Modified; answers 304 and returns 1
 * when If-Modified-Since is at or after the file's time; else 0. */
int web_filter_not_modified(const struct web_request *req, const struct stat *st,
                            struct web_response *resp);

/* web_filter_range - sets status (200 or 206), file_off, file_len and the
 * Accept-Ranges / Content-Range headers; answers 416 and returns 1 for a
 * range the file cannot satisfy; else 0. */
int web_filter_range(const struct web_request *req, const struct stat *st,
                     struct web_response *resp);

#endif
