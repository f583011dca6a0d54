/*
 * web_filters.c - 304 and Range for the static handler (web_filters.h).
 */
#include "web_filters.h"

#include <inttypes.h>

int web_filter_not_modified(const struct web_request *req, const struct stat *st,
                            struct web_response *resp)
{
    web_response_header_text(resp, "Last-Modified", web_http_date_cached(st->st_mtime));
    if (!req->http->has_if_modified_since || st->st_mtime > req->http->if_modified_since)
        return 0;
    resp->status = 304;
    resp->no_body = 1;
    return 1;
}

int web_filter_range(const struct web_request *req, const struct stat *st,
                     struct web_response *resp)
{
    uint64_t size = (uint64_t)st->st_size, off = 0, len = size;
    web_response_header_text(resp, "Accept-Ranges", "bytes");
    /* If-Range (RFC 9110 13.1.5): the range only while the file is still
     * the one the client has part of, i.e. the date is its Last-Modified
     * exactly; an entity tag never matches (no ETag is sent). Else the
     * whole file, so that no client splices two versions. */
    const struct http_request *h = req->http;
    int stale = h->if_range < 0 || (h->if_range > 0 && h->if_range_date != st->st_mtime);
    int r = stale ? 1 : http_range_resolve(&h->range, size, &off, &len);
    if (r == -416) {
        resp->status = 416;
        web_response_header(resp, "Content-Range", "bytes */%" PRIu64, size);
        return 1;
    }
    if (r == 0) {
        resp->status = 206;
        web_response_header(resp, "Content-Range", "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off,
                            off + len - 1, size);
    } else {
        resp->status = 200;
        off = 0;
        len = size;
    }
    resp->file_off = off;
    resp->file_len = len;
    return 0;
}
