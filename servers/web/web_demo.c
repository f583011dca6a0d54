/*
 * web_demo.c - the built-in demo CGI function of [WEB] DEMO_CGI=1 (the run
 * command's demo page posts its form here): /demo, GET and POST, answers an
 * HTML page that echoes the form's fields (HTML-escaped) and says how the
 * request came: over TLS or not, with the version, suite and client
 * certificate subject of the rpCgi TLS extension fields. Written only with
 * the public CGI API (cgi.h), as an application would.
 */
#include "web_demo.h"

#include <cgi.h>
#include <tcpip.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DEMO_PAGE_MAX 16384

/* The page of the last call on this thread: the server copies the
 * response buffer right after the call returns, on the same thread. */
static _Thread_local char page[DEMO_PAGE_MAX];

struct out {
    size_t len;
    int full;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->full || o->len + n >= sizeof page - 64) {
        o->full = 1;
        return;
    }
    memcpy(page + o->len, s, n);
    o->len += n;
    page[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Text into HTML: & < > " ' escaped. */
static void put_escaped(struct out *o, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': puts_(o, "&amp;"); break;
        case '<': puts_(o, "&lt;"); break;
        case '>': puts_(o, "&gt;"); break;
        case '"': puts_(o, "&quot;"); break;
        case '\'': puts_(o, "&#39;"); break;
        default: put(o, s, 1);
        }
    }
}

static const char *version_text(int v)
{
    return v == SSL_VERSION_TLS13 ? "TLS 1.3" : v == SSL_VERSION_TLS12 ? "TLS 1.2" : "?";
}

static void huge _pascal DemoFunc(rpCgiPtr rp)
{
    struct out o = {0, 0};
    char *name, *value;
    int fields = 0;
    page[0] = '\0';
    puts_(&o, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
              "<title>chipd demo answer</title><link rel=\"stylesheet\" href=\"/demo.css\">"
              "</head><body><h1>The CGI callback answers</h1>\n");
    putf(&o, "<p>Method: %s, from %s.</p>\n",
         rp->fHttpRequest == CgiHttpPost   ? "POST"
         : rp->fHttpRequest == CgiHttpHead ? "HEAD"
                                           : "GET",
         rp->fRemoteIPPtr ? rp->fRemoteIPPtr : "?");
    if (rp->fIsTlsFlag) {
        putf(&o, "<p class=\"tls\">Over TLS: %s, suite ", version_text(rp->fTlsVersion));
        put_escaped(&o, rp->fTlsCipherName);
        putf(&o, " (0x%04X)", (unsigned)rp->fTlsCipherSuite);
        if (rp->fTlsClientSubject && rp->fTlsClientSubject[0]) {
            puts_(&o, ", client certificate ");
            put_escaped(&o, rp->fTlsClientSubject);
        } else
            puts_(&o, ", no client certificate");
        puts_(&o, ".</p>\n");
    } else
        puts_(&o, "<p class=\"plain\">Not over TLS (plain HTTP).</p>\n");
    puts_(&o, "<table><tr><th>field</th><th>value</th></tr>\n");
    while (CGI_GetArgument(&name, &value, rp) == CGI_ARGUMENT_ERR_OK) {
        puts_(&o, "<tr><td>");
        put_escaped(&o, name);
        puts_(&o, "</td><td>");
        put_escaped(&o, value);
        puts_(&o, "</td></tr>\n");
        fields++;
    }
    puts_(&o, "</table>\n");
    putf(&o, "<p>%d field%s.</p><p><a href=\"/\">back</a></p></body></html>\n", fields,
         fields == 1 ? "" : "s");
    if (o.full) {
        o.len = (size_t)snprintf(page, sizeof page,
                                 "<!DOCTYPE html><html><body><p>The form was too large to echo."
                                 "</p></body></html>\n");
    }
    rp->fHttpResponse = CgiHttpOk;
    rp->fDataType = CGIDataTypeHtml;
    rp->fResponseBufferPtr = page;
    rp->fResponseBufferLength = (long)o.len;
}

static int installed; /* by chipd_start's thread only */

int web_demo_install(void)
{
    CGI_Entry e = {"demo", CgiHttpAll, DemoFunc};
    int r = CGI_Install(&e);
    installed = r == 0;
    return r;
}

void web_demo_remove(void)
{
    if (installed)
        CGI_Delete("demo");
    installed = 0;
}
