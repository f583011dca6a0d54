/*
 * cgi_request.c - a parsed HTTP request into a CGI function's rpCgi "in"
 * fields (cgi_request.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "cgi_request.h"

#define IP_TEXT 46 /* INET6_ADDRSTRLEN */

/* The slices copied, in the order of cgi_request_fill. */
static const struct http_slice *language(const struct http_request *req)
{
    const struct http_header *h = http_header_find(req, "Accept-Language");
    return h != NULL ? &h->value : NULL;
}

static size_t slice_room(const struct http_slice *s)
{
    return s != NULL && s->p != NULL ? s->n + 1 : 0;
}

size_t cgi_request_scratch_size(const struct http_request *req, size_t body_len)
{
    size_t n = req->path.n + 1 + IP_TEXT;

    n += slice_room(&req->host) + slice_room(&req->referer) + slice_room(&req->user_agent);
    n += slice_room(language(req)) + slice_room(&req->cookie);
    if (req->has_basic_auth)
        n += strlen(req->auth_user) + strlen(req->auth_password) + 2;
    n += (req->method == HTTP_POST ? body_len : req->query.n) + 1;
    return n;
}

struct arena {
    char *p;
    size_t left;
};

/* A NUL-terminated copy of p[0..n) (NULL p: NULL). */
static char *copy(struct arena *a, const char *p, size_t n)
{
    char *s = a->p;

    if (p == NULL)
        return NULL;
    if (n > 0)
        memcpy(s, p, n);
    s[n] = '\0';
    a->p += n + 1;
    a->left -= n + 1;
    return s;
}

static char *copy_slice(struct arena *a, const struct http_slice *s)
{
    return s != NULL ? copy(a, s->p, s->n) : NULL;
}

static void peer_text(const struct sockaddr *peer, socklen_t len, char *out)
{
    out[0] = '\0';
    if (peer == NULL)
        return;
    if (peer->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)peer;
        inet_ntop(AF_INET, &v4->sin_addr, out, IP_TEXT);
    } else if (peer->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)peer;
        if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr))
            inet_ntop(AF_INET, &v6->sin6_addr.s6_addr[12], out, IP_TEXT);
        else
            inet_ntop(AF_INET6, &v6->sin6_addr, out, IP_TEXT);
    }
}

int cgi_request_fill(rpCgi *rp, const struct http_request *req, const char *body, size_t body_len,
                     const struct sockaddr *peer, socklen_t peer_len, unsigned long conn_id,
                     const struct cgi_tls_info *tls, char *scratch, size_t scratch_size)
{
    struct arena a = {scratch, scratch_size};
    long n;

    memset(rp, 0, sizeof *rp);
    if (req->method != HTTP_GET && req->method != HTTP_HEAD && req->method != HTTP_POST)
        return -400;
    if (scratch == NULL || scratch_size < cgi_request_scratch_size(req, body_len) ||
        (body == NULL && body_len > 0))
        return -413;
    rp->fConnectionId = conn_id;
    rp->fHttpRequest = req->method == HTTP_GET    ? CgiHttpGet
                       : req->method == HTTP_HEAD ? CgiHttpHead
                                                  : CgiHttpPost;
    n = http_path_normalize(req->path.p, req->path.n, a.p, req->path.n + 1);
    if (n < 0)
        return (int)n;
    rp->fPathPtr = a.p;
    a.p += req->path.n + 1; /* the room reserved, whatever the decoded length */
    a.left -= req->path.n + 1;

    rp->fHostPtr = copy_slice(&a, &req->host);
    rp->fRefererPtr = copy_slice(&a, &req->referer);
    rp->fAgentPtr = copy_slice(&a, &req->user_agent);
    rp->fLanguagePtr = copy_slice(&a, language(req));
    rp->fCookieHeader = copy_slice(&a, &req->cookie);
    if (req->has_basic_auth) {
        rp->fUserNamePtr = copy(&a, req->auth_user, strlen(req->auth_user));
        rp->fPasswordPtr = copy(&a, req->auth_password, strlen(req->auth_password));
    }
    if (req->has_if_modified_since && req->if_modified_since > 0)
        rp->fBrowserDate = (unsigned long)req->if_modified_since;

    rp->fRemoteIPPtr = a.p;
    peer_text(peer, peer_len, a.p);
    a.p += IP_TEXT;
    a.left -= IP_TEXT;

    if (req->method == HTTP_POST) {
        rp->fArgumentBufferPtr = copy(&a, body != NULL ? body : "", body_len);
        rp->fArgumentBufferLength = (long)body_len;
    } else {
        rp->fArgumentBufferPtr = copy(&a, req->query.p != NULL ? req->query.p : "", req->query.n);
        rp->fArgumentBufferLength = (long)req->query.n;
    }

    rp->fTlsCipherName = "";
    rp->fTlsClientSubject = "";
    if (tls != NULL && tls->is_tls) {
        rp->fIsTlsFlag = 1;
        rp->fTlsVersion = tls->version;
        rp->fTlsCipherSuite = tls->suite;
        if (tls->suite_name != NULL)
            rp->fTlsCipherName = tls->suite_name;
        if (tls->client_subject != NULL)
            rp->fTlsClientSubject = tls->client_subject;
    }
    rp->fHttpResponse = CgiHttpNotFound;
    return 0;
}
