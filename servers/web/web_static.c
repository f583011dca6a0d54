/*
 * web_static.c - the static-file handler: open a file beneath the root (no
 * way out: not by "..", which http_path_normalize already refused, and not
 * by a symbolic link), then the small stages of web_filters.c (304, Range).
 */
#include "web_filters.h"
#include "web_handler.h"
#include "web_ssi.h"

#include "cgi_server.h"
#include "web_cgi.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

const struct web_handler web_static_handler = {"static", web_static_handle, NULL, 0, NULL};

/* Open rel (relative, no leading '/') beneath rootfd: openat2 with
 * RESOLVE_BENEATH refuses any path, symbolic links included, that leaves
 * the root (EXDEV). Kernels without openat2 (before 5.6): every component
 * opened with O_NOFOLLOW, so no symbolic link is followed at all. */
static int open_beneath(int rootfd, const char *rel)
{
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS)
        return (int)fd;
    char part[4096];
    int dir = dup(rootfd);
    const char *p = rel;
    while (dir >= 0) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n >= sizeof part) {
            close(dir);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(part, p, n);
        part[n] = '\0';
        int next =
            openat(dir, n ? part : ".",
                   O_NOFOLLOW | O_CLOEXEC | (slash ? O_PATH | O_DIRECTORY : O_RDONLY | O_NONBLOCK));
        int e = errno;
        close(dir);
        errno = e;
        if (!slash)
            return next;
        dir = next;
        p = slash + 1;
    }
    return -1;
}

static int not_found(struct web_response *resp, int status)
{
    resp->status = status;
    return WEB_HANDLED;
}

int web_static_handle(void *ctx, const struct web_request *req, struct web_response *resp)
{
    (void)ctx;
    if (req->http->method != HTTP_GET && req->http->method != HTTP_HEAD) {
        web_response_header(resp, "Allow", "GET, HEAD");
        resp->status = 405;
        return WEB_HANDLED;
    }
    if (cgi_path_is_secure(req->path)) {
        const struct http_request *h = req->http;
        enum cgi_auth_result ar =
            cgi_auth_check(req->path, 0, h->has_basic_auth ? h->auth_user : NULL,
                           h->has_basic_auth ? h->auth_password : NULL);
        if (ar == CGI_AUTH_UNAUTHORIZED) {
            web_response_header(resp, "WWW-Authenticate", "Basic realm=\"chipd\"");
            return not_found(resp, 401);
        }
        if (ar == CGI_AUTH_FORBIDDEN)
            return not_found(resp, 403);
    }
    char rel[4096], page[CGI_MAX_PATH_LEN + 2];
    size_t plen = strlen(req->path);
    /* The main page as CGI_SetMainPage set it last (chip.ini's at start). */
    const char *mainpage =
        cgi_main_page_copy(page, sizeof page) == 0 && page[0] ? page : req->mainpage;
    int n = snprintf(rel, sizeof rel, "%s%s", req->path + 1,
                     req->path[plen - 1] == '/' ? mainpage : "");
    if (n < 0 || (size_t)n >= sizeof rel)
        return not_found(resp, 414);
    /* The root as CGI_SetRootDir set it last (chip.ini's at start). */
    int owned, rootfd = web_cgi_root(req, &owned);
    if (rootfd < 0)
        return not_found(resp, 404);
    int fd = open_beneath(rootfd, rel);
    int open_errno = errno;
    if (owned)
        close(rootfd);
    errno = open_errno;
    if (fd < 0)
        return not_found(resp, errno == EACCES || errno == EPERM ? 403 : 404);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return not_found(resp, 404);
    }
    if (S_ISDIR(st.st_mode)) {
        /* A directory named without its slash: send the client to it. */
        close(fd);
        resp->status = 301;
        web_response_header(resp, "Location", "%s/", req->path);
        return WEB_HANDLED;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return not_found(resp, 404);
    }
    char url[sizeof rel + 1];
    snprintf(url, sizeof url, "/%s", rel);
    int ssi = web_ssi_page(req, url);
    /* An SSI page's bytes change with each request: no 304, no ranges. */
    if (!ssi && (web_filter_not_modified(req, &st, resp) || web_filter_range(req, &st, resp))) {
        close(fd);
        return WEB_HANDLED;
    }
    /* One MIME table: the CGI layer's (application rows, then built-in),
     * with its Content-Encoding and extra header rows. */
    struct cgi_mime_info mi;
    cgi_mime_lookup(rel, &mi);
    resp->content_type = mi.type;
    if (mi.encoding && mi.encoding[0])
        web_response_header(resp, "Content-Encoding", "%s", mi.encoding);
    if (mi.headers && mi.headers[0]) {
        size_t n = strlen(mi.headers);
        while (n >= 2 && mi.headers[n - 2] == '\r' && mi.headers[n - 1] == '\n')
            n -= 2;
        if (n + 3 <= sizeof resp->headers - resp->headers_len) {
            memcpy(resp->headers + resp->headers_len, mi.headers, n);
            memcpy(resp->headers + resp->headers_len + n, "\r\n", 3);
            resp->headers_len += n + 2;
        }
    }
    resp->file_fd = fd;
    if (ssi) {
        resp->status = 200;
        resp->finish = &web_ssi_handler; /* built on the handler threads */
    }
    return WEB_HANDLED;
}
