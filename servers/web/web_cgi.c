/*
 * web_cgi.c - the CGI layer on the handler seam (web_handler.h): a request
 * whose path names a CGI function (cgi_table_lookup; "/" through the main
 * page, or the POST main page) is answered by that function, on the
 * handler threads (offload 1: a callback may block; with [WEB] CGI_INLINE=1
 * on the workers, offload 0). Secure area
 * (cgi_auth_check: 401 with a Basic challenge, 403), 405 with Allow from
 * the table, 500 for unusable answers, the application's error pages
 * (cgi_error_func) for 401, 404 and 500.
 */
#include "web_cgi.h"

#include "cgi_request.h"
#include "cgi_server.h"
#include "config.h"
#include "multipart.h"
#include "web_handler.h"

#include <tcpip.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static atomic_ulong next_conn_id = 1;

/* The table name a request asks for: its path, or for "/" the main page. */
static const char *cgi_name(const struct web_request *req, char *buf, size_t size)
{
    if (strcmp(req->path, "/") != 0)
        return req->path;
    int r = req->http->method == HTTP_POST ? cgi_main_page_post_copy(buf, size)
                                           : cgi_main_page_copy(buf, size);
    return r == 0 && buf[0] ? buf : req->path;
}

/* An upload: a multipart/form-data POST (to a path that names no CGI
 * function) while CGI_Enable_Upload is on. */
static int is_upload(const struct web_request *req)
{
    const struct http_request *h = req->http;
    return h->method == HTTP_POST && h->boundary.p && h->content_type.n >= 19 &&
           strncasecmp(h->content_type.p, "multipart/form-data", 19) == 0 && cgi_upload_enabled();
}

static int cgi_match(void *ctx, const struct web_request *req)
{
    char page[CGI_MAX_PATH_LEN + 2];
    (void)ctx;
    return cgi_table_lookup(cgi_name(req, page, sizeof page), (int)req->http->method, NULL, NULL) !=
               CGI_LOOKUP_NONE ||
           is_upload(req);
}

static const char empty_body[1];

/* The response from a mapped CGI answer: head fields and a copy of the body
 * (the application's buffer is only valid until its next call). */
static int head_to_response(const struct cgi_head *h, const char *body, size_t blen,
                            struct web_response *resp)
{
    resp->status = h->status;
    resp->content_type = h->content_type;
    if (h->location && web_response_header(resp, "Location", "%s", h->location) != 0)
        return -1;
    if (h->realm) {
        char esc[2 * 128 + 1];
        size_t k = 0;
        for (const char *p = h->realm; *p && k + 2 < sizeof esc; p++) {
            if (*p == '"' || *p == '\\')
                esc[k++] = '\\';
            esc[k++] = *p;
        }
        esc[k] = '\0';
        if (web_response_header(resp, "WWW-Authenticate", "Basic realm=\"%s\"", esc) != 0)
            return -1;
    }
    if (h->last_modified) {
        char date[40];
        web_http_date((time_t)h->last_modified, date, sizeof date);
        if (web_response_header(resp, "Last-Modified", "%s", date) != 0)
            return -1;
    }
    const char *ck = h->cookies;
    for (int i = 0; i < h->ncookies; i++) {
        if (web_response_header(resp, "Set-Cookie", "%s", ck) != 0)
            return -1;
        ck += strlen(ck) + 1;
    }
    if (h->extra && h->extra[0]) {
        size_t n = strlen(h->extra);
        while (n >= 2 && h->extra[n - 2] == '\r' && h->extra[n - 1] == '\n')
            n -= 2;
        size_t room = sizeof resp->headers - resp->headers_len;
        if (n + 3 > room)
            return -1;
        memcpy(resp->headers + resp->headers_len, h->extra, n);
        memcpy(resp->headers + resp->headers_len + n, "\r\n", 3);
        resp->headers_len += n + 2;
    }
    if (h->status == 204 || h->status == 304) {
        resp->no_body = 1;
        return 0;
    }
    if (blen == 0) {
        resp->body = empty_body; /* Content-Length: 0, not the server's page */
        resp->body_len = 0;
        return 0;
    }
    char *copy = malloc(blen);
    if (!copy)
        return -1;
    memcpy(copy, body, blen);
    resp->body = copy;
    resp->body_len = blen;
    resp->release = free;
    resp->release_arg = copy;
    return 0;
}

static void response_reset(struct web_response *resp, int status)
{
    if (resp->release)
        resp->release(resp->release_arg);
    memset(resp, 0, sizeof *resp);
    resp->file_fd = -1;
    resp->status = status;
}

/* rp's out fields cleared for an error page: one that sets nothing is a
 * CgiHttpOk (its buffer becomes the body, with the error's status). */
static void out_reset(rpCgi *rp)
{
    rp->fHttpResponse = CgiHttpOk;
    rp->fDataType = 0;
    rp->fResponseBufferPtr = NULL;
    rp->fResponseBufferLength = 0;
    rp->fObjectDate = 0;
    rp->fSetCookieHeaders = NULL;
    rp->fNumOfSetCookieHeaders = 0;
}

/* The application's page for status (401, 404, 500, 503) when it installed
 * one, with that status; else the server's own page for it. */
static void error_page(rpCgi *rp, int status, struct web_response *resp)
{
    RpCgiFuncPtr fn = rp ? cgi_error_func(status) : NULL;
    response_reset(resp, status);
    if (!fn)
        return;
    out_reset(rp);
    struct cgi_head h;
    const char *body;
    size_t blen;
    if (cgi_call_func(fn, rp) != 0 || cgi_response_map(rp, NULL, &h, &body, &blen) != 0)
        return;
    h.status = status;
    if (status != 401)
        h.realm = NULL;
    if (head_to_response(&h, body, blen, resp) != 0)
        response_reset(resp, status);
    resp->status = status;
}

/* The TLS details of the request's connection. */
static void tls_details(const struct web_request *req, struct cgi_tls_info *tls)
{
    memset(tls, 0, sizeof *tls);
    void *p = NULL;
    int err = 0;
    if (!req->server || SSL_GetConnState(req->sd, &p, &err) != 0 || !p)
        return;
    const SSL_CONN_STATE *st = p;
    tls->is_tls = 1;
    tls->version = st->version;
    tls->suite = st->cipherSuite;
    tls->suite_name = chipssl_suite_name(st->cipherSuite);
    tls->client_subject = st->peerSubject;
}

/* cgi_request_fill for this request: the peer from its address text, the
 * TLS details of its connection. */
static int fill(rpCgi *rp, const struct web_request *req, const char *body, size_t body_len,
                char *scratch, size_t need)
{
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } peer;
    socklen_t peer_len = 0;
    memset(&peer, 0, sizeof peer);
    if (inet_pton(AF_INET, req->remote_ip, &peer.in.sin_addr) == 1) {
        peer.in.sin_family = AF_INET;
        peer_len = sizeof peer.in;
    } else if (inet_pton(AF_INET6, req->remote_ip, &peer.in6.sin6_addr) == 1) {
        peer.in6.sin6_family = AF_INET6;
        peer_len = sizeof peer.in6;
    }
    struct cgi_tls_info tls;
    tls_details(req, &tls);
    return cgi_request_fill(rp, req->http, body, body_len, peer_len ? &peer.sa : NULL, peer_len,
                            atomic_fetch_add(&next_conn_id, 1), &tls, scratch, need);
}

/* ------------------------------------------------------------- uploads */

struct upload_file {
    char tmp[64];
    char name[MULTIPART_MAX_FILENAME + 1];
};

static atomic_ulong next_tmp = 1;

int web_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Each file part into a hidden temporary file beneath the root; once the
 * whole body has parsed, each renamed to its sanitised name and the upload
 * callback called with fPathPtr = that name. Nothing half-written is ever
 * under a final name. Returns the status, 0 when the files are in place. */
static int upload_store(const struct web_request *req, int rootfd, struct upload_file *files,
                        unsigned *nfiles)
{
    struct multipart m;
    const struct http_request *h = req->http;
    int fd = -1, status = 0;
    if (multipart_init(&m, h->boundary.p, h->boundary.n, NULL) != 0)
        return 400;
    const char *p = req->body ? req->body : "";
    size_t left = req->body_len;
    for (;;) {
        size_t used = 0, dlen = 0;
        const char *data = NULL;
        int rc = left ? multipart_feed(&m, p, left, &used, &data, &dlen) : MULTIPART_MORE;
        p += used;
        left -= used;
        if (rc < 0) {
            status = -rc;
            break;
        }
        if (rc == MULTIPART_PART && m.part.has_filename && m.part.filename[0]) {
            struct upload_file *f = &files[*nfiles];
            snprintf(f->tmp, sizeof f->tmp, ".chipd-upload-%ld-%lu", (long)getpid(),
                     atomic_fetch_add(&next_tmp, 1));
            snprintf(f->name, sizeof f->name, "%s", m.part.filename);
            fd = openat(rootfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
            if (fd < 0) {
                status = 500;
                break;
            }
            (*nfiles)++;
        } else if (rc == MULTIPART_DATA && fd >= 0) {
            if (web_write_all(fd, data, dlen) != 0) {
                status = 500;
                break;
            }
        } else if (rc == MULTIPART_PART_END && fd >= 0) {
            int bad = fsync(fd) != 0;
            bad |= close(fd) != 0;
            fd = -1;
            if (bad) {
                status = 500;
                break;
            }
        } else if (rc == MULTIPART_DONE || (rc == MULTIPART_MORE && !left)) {
            if (multipart_finish(&m) != 0)
                status = 400;
            break;
        }
    }
    if (fd >= 0)
        close(fd);
    if (!status && *nfiles == 0)
        status = 400; /* no file in it */
    for (unsigned i = 0; !status && i < *nfiles; i++)
        if (renameat(rootfd, files[i].tmp, rootfd, files[i].name) != 0)
            status = 500;
    for (unsigned i = 0; i < *nfiles; i++)
        unlinkat(rootfd, files[i].tmp, 0); /* those not renamed */
    return status;
}

static int web_upload(const struct web_request *req, struct web_response *resp)
{
    const struct http_request *h = req->http;
    enum cgi_auth_result ar = cgi_auth_check(req->path, 1, h->has_basic_auth ? h->auth_user : NULL,
                                             h->has_basic_auth ? h->auth_password : NULL);
    if (ar != CGI_AUTH_OK) {
        response_reset(resp, (int)ar);
        if (ar == CGI_AUTH_UNAUTHORIZED)
            web_response_header(resp, "WWW-Authenticate", "Basic realm=\"chipd upload\"");
        return WEB_HANDLED;
    }
    struct upload_file *files = calloc(multipart_default_limits.max_parts, sizeof *files);
    if (!files) {
        response_reset(resp, 503);
        return WEB_HANDLED;
    }
    unsigned n = 0;
    int owned, root = web_cgi_root(req, &owned);
    int status = root < 0 ? 500 : upload_store(req, root, files, &n);
    if (owned)
        close(root);
    if (status) {
        free(files);
        response_reset(resp, status);
        return WEB_HANDLED;
    }
    static const char done[] = "uploaded\n";
    response_reset(resp, 200);
    resp->content_type = "text/plain; charset=utf-8";
    resp->body = done;
    resp->body_len = sizeof done - 1;
    RpCgiFuncPtr fn = cgi_upload_func();
    if (fn) {
        /* The callback gets the request's rpCgi with fPathPtr = the stored
         * file's path relative to the root; what it answers for the last
         * file (if anything) is the response. */
        size_t need = cgi_request_scratch_size(h, 0);
        char *scratch = malloc(need);
        rpCgi *rp = malloc(sizeof *rp);
        if (scratch && rp && fill(rp, req, NULL, 0, scratch, need) == 0) {
            for (unsigned i = 0; i < n; i++) {
                rp->fPathPtr = files[i].name;
                rp->fHttpResponse = CgiHttpNotFound;
                cgi_call_func(fn, rp);
            }
            struct cgi_head hd;
            const char *body;
            size_t blen;
            if (rp->fHttpResponse != CgiHttpNotFound) {
                response_reset(resp, 200);
                if (cgi_response_map(rp, NULL, &hd, &body, &blen) != 0 ||
                    head_to_response(&hd, body, blen, resp) != 0)
                    response_reset(resp, 500);
            }
        }
        free(rp);
        free(scratch);
    }
    free(files);
    return WEB_HANDLED;
}

static int cgi_handle(void *ctx, const struct web_request *req, struct web_response *resp)
{
    char page[CGI_MAX_PATH_LEN + 2];
    const char *name = cgi_name(req, page, sizeof page);
    CGI_Entry e;
    unsigned allow = 0;
    (void)ctx;
    enum cgi_lookup_result lr = cgi_table_lookup(name, (int)req->http->method, &e, &allow);
    if (lr == CGI_LOOKUP_NONE)
        return is_upload(req) ? web_upload(req, resp) : WEB_DECLINED;
    if (lr == CGI_LOOKUP_METHOD) {
        char list[32] = "";
        static const char *const names[] = {NULL, "GET", "HEAD", "POST"};
        for (int m = 1; m <= 3; m++)
            if (allow & (1u << m) || (m == 2 && allow & (1u << 1)))
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                         list[0] ? ", " : "", names[m]);
        response_reset(resp, 405);
        web_response_header(resp, "Allow", "%s", list);
        return WEB_HANDLED;
    }
    size_t need = cgi_request_scratch_size(req->http, req->body_len);
    char *scratch = malloc(need);
    rpCgi *rp = malloc(sizeof *rp);
    if (!scratch || !rp) {
        free(scratch);
        free(rp);
        error_page(NULL, 500, resp);
        return WEB_HANDLED;
    }
    int r = fill(rp, req, req->body, req->body_len, scratch, need);
    if (r < 0) {
        error_page(NULL, -r, resp);
        goto out;
    }
    enum cgi_auth_result ar = cgi_auth_check(req->path, 0, rp->fUserNamePtr, rp->fPasswordPtr);
    if (ar == CGI_AUTH_UNAUTHORIZED) {
        error_page(rp, 401, resp);
        if (!strstr(resp->headers, "WWW-Authenticate:"))
            web_response_header(resp, "WWW-Authenticate", "Basic realm=\"chipd\"");
        goto out;
    }
    if (ar == CGI_AUTH_FORBIDDEN) {
        error_page(NULL, 403, resp);
        goto out;
    }
    struct cgi_head h;
    const char *body;
    size_t blen;
    if (cgi_call(&e, rp) != 0 || cgi_response_map(rp, NULL, &h, &body, &blen) != 0) {
        error_page(rp, 500, resp);
        goto out;
    }
    if ((h.status == 404 || h.status == 500) && cgi_error_func(h.status)) {
        error_page(rp, h.status, resp);
        goto out;
    }
    if (head_to_response(&h, body, blen, resp) != 0)
        error_page(rp, 500, resp);
out:
    free(rp);
    free(scratch);
    return WEB_HANDLED;
}

/* The application's page for a static file's 401 or 404 (the status in
 * resp on entry). */
static int error_handle(void *ctx, const struct web_request *req, struct web_response *resp)
{
    int status = resp->status;
    (void)ctx;
    size_t need = cgi_request_scratch_size(req->http, 0);
    char *scratch = malloc(need);
    rpCgi *rp = malloc(sizeof *rp);
    if (scratch && rp && fill(rp, req, NULL, 0, scratch, need) == 0) {
        error_page(rp, status, resp);
        if (status == 401)
            web_response_header(resp, "WWW-Authenticate", "Basic realm=\"chipd\"");
    }
    free(rp);
    free(scratch);
    return WEB_HANDLED; /* else the static answer stays as it was */
}

const struct web_handler web_cgi_error_handler = {
    .name = "cgi-error",
    .handle = error_handle,
    .ctx = NULL,
    .offload = 1,
    .match = NULL,
};

int web_cgi_error_wanted(int status)
{
    return (status == 401 || status == 404 || status == 503) && cgi_error_func(status) != NULL;
}

static const struct web_handler cgi_handler = {
    .name = "cgi",
    .handle = cgi_handle,
    .ctx = NULL,
    .offload = 1,
    .match = cgi_match,
};

/* [WEB] CGI_INLINE=1: the same on the workers (no hand-over per request). */
static const struct web_handler cgi_inline_handler = {
    .name = "cgi-inline",
    .handle = cgi_handle,
    .ctx = NULL,
    .offload = 0,
    .match = cgi_match,
};

int web_cgi_accept_allowed(int tls, const struct sockaddr_storage *peer)
{
    return chipd_accept_allowed_peer(tls ? SS_SSL_WEB_SERVER : SS_WEB_SERVER, peer);
}

/* CGI_SetRootDir's directory as the start set it ([WEB] ROOTDIR). */
static pthread_mutex_t root_mu = PTHREAD_MUTEX_INITIALIZER;
static char start_root[CGI_MAX_ROOTDIR_LEN + 1];

int web_cgi_root(const struct web_request *req, int *owned)
{
    /* Per request, and the root almost never changes: each worker keeps
     * "still the start's root" for the generation it last looked at, and
     * takes the locks only after a CGI_SetRootDir. */
    static _Thread_local unsigned seen_gen;
    static _Thread_local int seen_start; /* 1: seen_gen's root is the start's */
    char now[CGI_MAX_ROOTDIR_LEN + 1];
    *owned = 0;
    unsigned gen = cgi_root_generation();
    if (seen_start && gen == seen_gen)
        return req->rootfd;
    if (cgi_root_dir_copy(now, sizeof now) != 0 || !now[0])
        return req->rootfd;
    pthread_mutex_lock(&root_mu);
    int same = strcmp(now, start_root) == 0;
    pthread_mutex_unlock(&root_mu);
    seen_gen = gen;
    seen_start = same;
    if (same)
        return req->rootfd;
    int fd = open(now, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    *owned = 1;
    return fd;
}

int web_cgi_install(const struct chip_config *cfg, char *err, size_t errlen)
{
    if (CGI_SetRootDir(cfg->web.rootdir) != 0) {
        snprintf(err, errlen, "[WEB] ROOTDIR %s: not a usable root", cfg->web.rootdir);
        return -1;
    }
    pthread_mutex_lock(&root_mu);
    if (cgi_root_dir_copy(start_root, sizeof start_root) != 0)
        start_root[0] = '\0';
    pthread_mutex_unlock(&root_mu);
    cgi_set_concurrent(cfg->web.cgi_concurrent);
    if (CGI_SetMainPage(cfg->web.mainpage) != 0) {
        snprintf(err, errlen, "[WEB] MAINPAGE %s: not a usable main page", cfg->web.mainpage);
        return -1;
    }
    if (cfg->web.secure_path[0] && CGI_SetSecurePath(cfg->web.secure_path) != 0) {
        snprintf(err, errlen, "[WEB] SECURE_PATH %s: not a usable path", cfg->web.secure_path);
        return -1;
    }
    const struct cfg_accounts *fam[2] = {&cfg->web.upload, &cfg->web.secure};
    static const int type[2] = {CGI_ACCOUNT_UPLOAD, CGI_ACCOUNT_SECURE};
    static const char *const key[2] = {"UPLOAD_USER", "SECURE_USER"};
    for (int f = 0; f < 2; f++)
        for (size_t i = 0; i < fam[f]->count; i++) {
            const struct cfg_account *a = &fam[f]->list[i];
            if (CGI_SetCredentials(a->user, a->password, type[f], (int)i) != 0) {
                snprintf(err, errlen,
                         "[WEB] %s%d: not a usable account (1..19 printable "
                         "characters, at most %d accounts)",
                         key[f], a->index, CGI_MAX_ACCOUNTS);
                return -1;
            }
        }
    web_handler_hook_default(cfg->web.cgi_inline ? &cgi_inline_handler : &cgi_handler);
    return 0;
}
