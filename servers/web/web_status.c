/*
 * web_status.c - the status page (the modern ChipCfg): [WEB] STATUS_PAGE,
 * as HTML at that path and as JSON at the same path with "?format=json"
 * or ".json" appended. Off when STATUS_PAGE is empty.
 *
 * It is a built-in page: the connection stage asks web_status_wanted
 * before the CGI hook, so an application's CGI entry cannot shadow it, and
 * it runs on the worker (it never blocks: a snapshot of web_stats, then
 * text into one buffer).
 *
 * Access with [WEB] STATUS_SECURE=1 (or a STATUS_PAGE under a secure path
 * prefix, SECURE_PATH / CGI_SetSecurePath): HTTP Basic against the secure
 * accounts (SECURE_USERn, CGI_SetCredentials type 1: the same accounts and
 * comparison as SECURE_PATH, cgi_auth_secure_account). Only over HTTPS:
 * over plain HTTP the page answers 301 to the HTTPS instance (403 when
 * there is none) and never asks for credentials, so that a browser never
 * sends the password in clear text.
 *
 * Every datum that comes from a peer (address, SNI, certificate subject)
 * is escaped: HTML escaping in the page, JSON escaping in the JSON.
 */
#include "cgi_server.h"
#include "web.h"
#include "web_stats.h"

#include <tcpip.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef CHIPD_VERSION
#define CHIPD_VERSION "?"
#endif

#define STATUS_REFRESH_S 5
#define STATUS_SESSIONS 16
/* Rows at most: the page is built on a worker, whose other connections
 * wait meanwhile (the counts always cover every connection). */
#define STATUS_MAX_CONNS 1000

/* A growing text buffer; on allocation failure it stays failed. */
struct sb {
    char *p;
    size_t n, cap;
    int failed;
};

static void sb_grow(struct sb *b, size_t more)
{
    if (b->failed || b->n + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 16384;
    while (cap < b->n + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void sb_put(struct sb *b, const char *s, size_t n)
{
    sb_grow(b, n);
    if (b->failed)
        return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    sb_grow(b, (size_t)n);
    if (b->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

/* Text into HTML (element content and quoted attribute values). */
static void sb_html(struct sb *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': sb_str(b, "&lt;"); break;
        case '>': sb_str(b, "&gt;"); break;
        case '&': sb_str(b, "&amp;"); break;
        case '"': sb_str(b, "&quot;"); break;
        case '\'': sb_str(b, "&#39;"); break;
        default:
            if ((unsigned char)*s < 0x20 || *s == 0x7f)
                sb_str(b, "\xef\xbf\xbd"); /* U+FFFD for a control character */
            else
                sb_put(b, s, 1);
        }
    }
}

/* A JSON string, quotes included. "<" is escaped too, so the JSON is safe
 * even where someone embeds it in a page. */
static void sb_json(struct sb *b, const char *s)
{
    sb_str(b, "\"");
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            sb_printf(b, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f || ch == '<' || ch == '>' || ch == '&')
            sb_printf(b, "\\u%04x", ch);
        else
            sb_put(b, s, 1);
    }
    sb_str(b, "\"");
}

static void sb_json_or_null(struct sb *b, const char *s)
{
    if (s && *s)
        sb_json(b, s);
    else
        sb_str(b, "null");
}

static void duration(char *out, size_t len, long s)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        snprintf(out, len, "%ld s", s);
    else if (s < 3600)
        snprintf(out, len, "%ld min %ld s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, len, "%ld h %ld min", s / 3600, s % 3600 / 60);
    else
        snprintf(out, len, "%ld d %ld h", s / 86400, s % 86400 / 3600);
}

static void bytes_text(char *out, size_t len, uint64_t v)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double d = (double)v;
    int u = 0;
    while (d >= 1024 && u < 4) {
        d /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, len, "%llu B", (unsigned long long)v);
    else
        snprintf(out, len, "%.1f %s", d, unit[u]);
}

static const char *suite_text(int iana, char *buf, size_t len)
{
    const char *n = chipssl_suite_name(iana);
    if (n)
        return n;
    snprintf(buf, len, "0x%04X", (unsigned)iana);
    return buf;
}

static void versions_text(int mask, char *out, size_t len)
{
    out[0] = '\0';
    for (int bit = SSL_VERSION_TLS12; bit <= SSL_VERSION_TLS13; bit <<= 1)
        if (mask & bit) {
            const char *n = chipssl_version_name(bit);
            size_t l = strlen(out);
            snprintf(out + l, len - l, "%s%s", l ? ", " : "", n ? n : "?");
        }
}

struct snap {
    struct web_stats_session sessions[STATUS_SESSIONS];
    int nsessions;
    struct web_stats_conn *conns;
    size_t nconns;
    struct web_stats_counters k;
    time_t now;  /* wall clock, for dates */
    time_t mono; /* web_stats_now(), for ages */
};

static const char *const option_name[3] = {"Client authentication (option 1)",
                                           "Server proposals (option 2)",
                                           "Skip certificate verification (option 3)"};

static int option_value(const struct web_stats_session *s, int i)
{
    return i == 0 ? s->client_auth : i == 1 ? s->server_proposals : s->skip_validation;
}

/* ------------------------------------------------------------------ JSON */

static void render_json(struct sb *b, const struct web_server *srv, const struct snap *sn)
{
    char t[64];
    const struct chip_config *cfg = &srv->cfg;
    sb_printf(b, "{\"server\":{\"name\":\"chipd\",\"version\":\"%s\",\"uptime_s\":%ld,",
              CHIPD_VERSION, (long)(sn->now - srv->started));
    sb_printf(b, "\"workers\":%u,\"bind\":", srv->loop ? loop_workers(srv->loop) : 0);
    sb_json_or_null(b, cfg->web.bind);
    sb_str(b, ",\"instances\":[");
    int first = 1;
    for (int i = 0; i < 2; i++)
        if (srv->listen_sd[i] >= 0) {
            sb_printf(b, "%s{\"service\":\"%s\",\"port\":%u}", first ? "" : ",",
                      i ? "https" : "http", srv->port[i]);
            first = 0;
        }
    sb_printf(b, "],\"open_connections\":%llu,\"connections_listed\":%zu},\"sessions\":[",
              (unsigned long long)sn->k.open, sn->nconns);
    for (int i = 0; i < sn->nsessions; i++) {
        const struct web_stats_session *s = &sn->sessions[i];
        sb_str(b, i ? ",{\"name\":" : "{\"name\":");
        sb_json(b, s->name);
        sb_printf(b,
                  ",\"id\":%d,\"options\":{\"client_auth\":%s,\"server_proposals\":%s,"
                  "\"skip_validation\":%s},\"versions\":[",
                  s->id, s->client_auth ? "true" : "false", s->server_proposals ? "true" : "false",
                  s->skip_validation ? "true" : "false");
        int vf = 1;
        for (int bit = SSL_VERSION_TLS12; bit <= SSL_VERSION_TLS13; bit <<= 1)
            if (s->versions & bit) {
                sb_printf(b, "%s\"%s\"", vf ? "" : ",", chipssl_version_name(bit));
                vf = 0;
            }
        sb_str(b, "],\"proposals\":[");
        for (int j = 0; j < s->nproposals; j++) {
            if (j)
                sb_str(b, ",");
            sb_json(b, suite_text(s->proposals[j], t, sizeof t));
        }
        sb_str(b, "]}");
    }
    sb_str(b, "],\"connections\":[");
    for (size_t i = 0; i < sn->nconns; i++) {
        const struct web_stats_conn *c = &sn->conns[i];
        const char *ver = c->tls_done ? chipssl_version_name(c->version) : NULL;
        sb_str(b, i ? ",{\"service\":" : "{\"service\":");
        sb_json(b, c->service);
        sb_str(b, ",\"peer\":");
        sb_json(b, c->peer);
        sb_printf(b, ",\"port\":%u,\"state\":", c->port);
        sb_json(b, atomic_load(&c->state));
        sb_str(b, ",\"version\":");
        sb_json_or_null(b, ver);
        sb_str(b, ",\"suite\":");
        sb_json_or_null(b, c->tls_done && c->suite ? suite_text(c->suite, t, sizeof t) : NULL);
        if (c->tls_done)
            sb_printf(b, ",\"resumed\":%s", c->resumed ? "true" : "false");
        else
            sb_str(b, ",\"resumed\":null");
        sb_str(b, ",\"client_certificate\":");
        sb_json_or_null(b, c->subject);
        sb_str(b, ",\"sni\":");
        sb_json_or_null(b, c->sni);
        sb_str(b, ",\"alpn\":");
        sb_json_or_null(b, c->alpn);
        sb_printf(b, ",\"requests\":%llu,\"age_s\":%ld}",
                  (unsigned long long)atomic_load(&c->requests), (long)(sn->mono - c->opened));
    }
    const struct web_stats_counters *k = &sn->k;
    sb_printf(b,
              "],\"counters\":{\"handshakes\":{\"full\":%llu,\"resumed\":%llu,\"failed\":%llu},"
              "\"failures\":[",
              (unsigned long long)k->hs_full, (unsigned long long)k->hs_resumed,
              (unsigned long long)k->hs_failed);
    for (int i = 0; i < k->nfailures; i++) {
        sb_str(b, i ? ",{\"reason\":" : "{\"reason\":");
        sb_json(b, k->failures[i].reason);
        sb_printf(b, ",\"count\":%llu}", (unsigned long long)k->failures[i].count);
    }
    sb_printf(b,
              "],\"requests\":{\"total\":%llu,\"1xx\":%llu,\"2xx\":%llu,\"3xx\":%llu,"
              "\"4xx\":%llu,\"5xx\":%llu},\"bytes_sent\":%llu,\"connections_total\":%llu}}\n",
              (unsigned long long)k->requests, (unsigned long long)k->status_class[1],
              (unsigned long long)k->status_class[2], (unsigned long long)k->status_class[3],
              (unsigned long long)k->status_class[4], (unsigned long long)k->status_class[5],
              (unsigned long long)k->bytes_sent, (unsigned long long)k->conns_total);
}

/* ------------------------------------------------------------------ HTML */

static const char style[] =
    ":root{--bg:#f4f6f9;--card:#fff;--ink:#1d2733;--muted:#5f6b7a;--line:#e3e7ed;"
    "--accent:#0b6bcb;--ok:#1a7f37;--bad:#c62828;--chip:#eef3fa}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--ink);"
    "font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif}"
    "header{background:linear-gradient(135deg,#0b3d6b,#0b6bcb);color:#fff;padding:18px 20px}"
    "header h1{margin:0;font-size:1.35rem;font-weight:600;letter-spacing:.01em}"
    "header p{margin:4px 0 0;opacity:.85;font-size:.9rem}"
    "main{max-width:1360px;margin:0 auto;padding:16px}"
    "section{background:var(--card);border:1px solid var(--line);border-radius:10px;"
    "padding:14px 16px;margin:0 0 16px;box-shadow:0 1px 2px rgba(16,24,40,.05)}"
    "h2{font-size:1.05rem;margin:0 0 10px;font-weight:600}"
    ".tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:12px;"
    "background:none;border:0;box-shadow:none;padding:0}"
    ".tile{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px "
    "14px}"
    ".tile b{display:block;font-size:1.5rem;font-weight:600}"
    ".tile span{color:var(--muted);font-size:.85rem}"
    ".tile.bad b{color:var(--bad)}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:7px 8px;border-bottom:1px solid var(--line);vertical-align:top}"
    "th{font-size:.72rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);"
    "font-weight:600;white-space:nowrap}"
    "tr:last-child td,tr:last-child th{border-bottom:0}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:16px;"
    "margin:0 0 16px}.grid>section{margin:0}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "code,.mono{font-family:ui-monospace,'SFMono-Regular',Menlo,Consolas,monospace;font-size:.85em;"
    "overflow-wrap:anywhere}"
    ".pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8rem;"
    "background:var(--chip);color:var(--accent);white-space:nowrap}"
    ".on{background:#e6f4ea;color:var(--ok)}.off{background:#f1f3f5;color:var(--muted)}"
    ".muted{color:var(--muted)}"
    "ol.suites{margin:4px 0 0;padding-left:1.6em}ol.suites li{margin:2px 0}"
    ".kv th{width:1%;text-transform:none;letter-spacing:0;font-size:.9rem}"
    ".sess{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:14px}"
    ".sess>div{border:1px solid var(--line);border-radius:8px;padding:10px 12px}"
    ".sess h3{margin:0 0 6px;font-size:1rem}"
    ".opts{list-style:none;margin:0 0 8px;padding:0}.opts li{display:flex;"
    "justify-content:space-between;gap:8px;padding:3px 0;border-bottom:1px dashed var(--line)}"
    ".scroll{overflow-x:auto}"
    "td.peer code,td.suite code,td.state{white-space:nowrap}"
    "footer{color:var(--muted);font-size:.8rem;text-align:center;padding:0 16px 20px}"
    /* A phone: each connection becomes a small card of label: value lines. */
    "@media (max-width:720px){main{padding:10px}section{padding:12px}"
    "table.cards thead{display:none}"
    "table.cards tr{display:block;border:1px solid var(--line);border-radius:8px;margin:0 0 10px;"
    "padding:4px 0}"
    "table.cards td{display:flex;justify-content:space-between;gap:12px;border:0;padding:4px 10px;"
    "text-align:right}"
    "table.cards td::before{content:attr(data-label);color:var(--muted);font-size:.8rem;"
    "text-align:left;flex:none}"
    "table.cards td.num{text-align:right}"
    "td.peer code,td.suite code,td.state{white-space:normal}}";

static void td(struct sb *b, const char *label, const char *cls, const char *text, int html)
{
    sb_str(b, "<td data-label=\"");
    sb_str(b, label);
    sb_str(b, "\"");
    if (cls) {
        sb_str(b, " class=\"");
        sb_str(b, cls);
        sb_str(b, "\"");
    }
    sb_str(b, ">");
    if (html)
        sb_str(b, text);
    else
        sb_html(b, text);
    sb_str(b, "</td>");
}

static void tile(struct sb *b, const char *id, const char *label, unsigned long long v, int bad)
{
    sb_printf(b, "<div class=\"tile%s\" id=\"%s\"><b>%llu</b><span>%s</span></div>",
              bad && v ? " bad" : "", id, v, label);
}

static void render_html(struct sb *b, const struct web_server *srv, const struct snap *sn)
{
    char t[96], when[64];
    const struct chip_config *cfg = &srv->cfg;
    const struct web_stats_counters *k = &sn->k;
    struct tm tm;
    gmtime_r(&sn->now, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    duration(t, sizeof t, (long)(sn->now - srv->started));

    sb_printf(b,
              "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
              "<meta http-equiv=\"refresh\" content=\"%d\">"
              "<title>chipd status</title><style>%s</style></head><body>\n",
              STATUS_REFRESH_S, style);
    sb_printf(b,
              "<header><h1>chipd status</h1><p>chipd %s &middot; up <span id=\"uptime\">%s</span>"
              " &middot; <time datetime=\"",
              CHIPD_VERSION, t);
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
    sb_printf(b, "%s\">%s</time> &middot; refreshes every %d s</p></header>\n<main>\n", t, when,
              STATUS_REFRESH_S);

    /* Tiles: the numbers at a glance. */
    sb_str(b, "<section class=\"tiles\" aria-label=\"Summary\">");
    tile(b, "n-open", "open connections", sn->k.open, 0);
    tile(b, "n-hs-full", "full handshakes", k->hs_full, 0);
    tile(b, "n-hs-resumed", "resumed handshakes", k->hs_resumed, 0);
    tile(b, "n-hs-failed", "failed handshakes", k->hs_failed, 1);
    tile(b, "n-requests", "requests", k->requests, 0);
    bytes_text(t, sizeof t, k->bytes_sent);
    sb_printf(b, "<div class=\"tile\" id=\"n-bytes\"><b>%s</b><span>sent (%llu bytes)</span></div>",
              t, (unsigned long long)k->bytes_sent);
    sb_str(b, "</section>\n");

    /* Connections. */
    sb_printf(b,
              "<section id=\"connections\"><h2>Open connections (%llu)</h2><div class=\"scroll\">"
              "<table class=\"cards\"><thead><tr><th>Service</th><th>Peer</th><th>State</th>"
              "<th>Version</th><th>Cipher suite</th><th>Resumed</th><th>Client certificate</th>"
              "<th>Server name</th><th>Requests</th><th>Age</th></tr></thead><tbody>",
              (unsigned long long)sn->k.open);
    for (size_t i = 0; i < sn->nconns; i++) {
        const struct web_stats_conn *c = &sn->conns[i];
        int tls = c->tls_done;
        char peer[96];
        snprintf(peer, sizeof peer, strchr(c->peer, ':') ? "[%s]:%u" : "%s:%u", c->peer, c->port);
        sb_printf(b, "<tr class=\"conn\" data-port=\"%u\">", c->port);
        td(b, "Service", NULL, c->service, 0);
        sb_str(b, "<td data-label=\"Peer\" class=\"peer\"><code>");
        sb_html(b, peer);
        sb_str(b, "</code></td>");
        td(b, "State", "state", atomic_load(&c->state), 0);
        const char *ver = tls ? chipssl_version_name(c->version) : NULL;
        td(b, "Version", "version", ver ? ver : "\xe2\x80\x94", 0);
        sb_str(b, "<td data-label=\"Cipher suite\" class=\"suite\"><code>");
        sb_html(b, tls && c->suite ? suite_text(c->suite, t, sizeof t) : "\xe2\x80\x94");
        sb_str(b, "</code></td>");
        td(b, "Resumed", "resumed", !tls ? "\xe2\x80\x94" : c->resumed ? "yes" : "no", 0);
        sb_str(b, "<td data-label=\"Client certificate\" class=\"subject\">");
        if (c->subject[0]) {
            sb_str(b, "<code>");
            sb_html(b, c->subject);
            sb_str(b, "</code>");
        } else
            sb_str(b, "<span class=\"muted\">none</span>");
        sb_str(b, "</td><td data-label=\"Server name\" class=\"sni\">");
        if (c->sni[0])
            sb_html(b, c->sni);
        else
            sb_str(b, "<span class=\"muted\">none</span>");
        sb_printf(b, "</td><td data-label=\"Requests\" class=\"num\">%llu</td>",
                  (unsigned long long)atomic_load(&c->requests));
        duration(t, sizeof t, (long)(sn->mono - c->opened));
        td(b, "Age", "num", t, 0);
        sb_str(b, "</tr>");
    }
    if (!sn->nconns)
        sb_str(b, "<tr><td colspan=\"10\" class=\"muted\">No open connection.</td></tr>");
    if (sn->k.open > sn->nconns)
        sb_printf(b, "<tr><td colspan=\"10\" class=\"muted\">and %llu more, not listed</td></tr>",
                  (unsigned long long)(sn->k.open - sn->nconns));
    sb_str(b, "</tbody></table></div></section>\n");

    sb_str(b, "<div class=\"grid\">");
    /* Handshakes and failures. */
    sb_printf(b,
              "<section id=\"handshakes\"><h2>Handshakes</h2><table class=\"kv\">"
              "<tr><th>Full</th><td class=\"num\" id=\"hs-full\">%llu</td></tr>"
              "<tr><th>Resumed</th><td class=\"num\" id=\"hs-resumed\">%llu</td></tr>"
              "<tr><th>Failed</th><td class=\"num\" id=\"hs-failed\">%llu</td></tr></table>"
              "<h2 style=\"margin-top:14px\">Failures by reason</h2>",
              (unsigned long long)k->hs_full, (unsigned long long)k->hs_resumed,
              (unsigned long long)k->hs_failed);
    if (!k->nfailures)
        sb_str(b, "<p class=\"muted\">No failed handshake.</p>");
    else {
        sb_str(b, "<table id=\"failures\"><thead><tr><th>Reason</th><th>Count</th></tr></thead>"
                  "<tbody>");
        for (int i = 0; i < k->nfailures; i++) {
            sb_str(b, "<tr class=\"failure\"><td class=\"reason\">");
            sb_html(b, k->failures[i].reason);
            sb_printf(b, "</td><td class=\"num\">%llu</td></tr>",
                      (unsigned long long)k->failures[i].count);
        }
        sb_str(b, "</tbody></table>");
    }
    sb_str(b, "</section>\n");

    /* Requests. */
    sb_printf(b,
              "<section id=\"requests\"><h2>Requests</h2><table class=\"kv\">"
              "<tr><th>Total</th><td class=\"num\" id=\"req-total\">%llu</td></tr>",
              (unsigned long long)k->requests);
    for (int c = 1; c <= 5; c++)
        sb_printf(b, "<tr><th>%dxx</th><td class=\"num\" id=\"req-%dxx\">%llu</td></tr>", c, c,
                  (unsigned long long)k->status_class[c]);
    sb_printf(b,
              "<tr><th>Body bytes sent</th><td class=\"num\" id=\"bytes-sent\">%llu</td></tr>"
              "</table></section>\n",
              (unsigned long long)k->bytes_sent);
    sb_str(b, "</div>\n");
    sb_str(b, "<div class=\"grid\">");
    /* TLS sessions. */
    sb_str(b, "<section id=\"sessions\"><h2>TLS sessions</h2>");
    if (!sn->nsessions)
        sb_str(b, "<p class=\"muted\">No TLS session.</p>");
    else
        sb_str(b, "<div class=\"sess\">");
    for (int i = 0; i < sn->nsessions; i++) {
        const struct web_stats_session *s = &sn->sessions[i];
        sb_str(b, "<div class=\"session\"><h3>");
        sb_html(b, s->name);
        sb_printf(b, " <span class=\"muted\">session %d</span></h3><ul class=\"opts\">", s->id);
        for (int o = 0; o < 3; o++) {
            int on = option_value(s, o);
            sb_printf(b, "<li><span>%s</span><span class=\"pill %s\">%s</span></li>",
                      option_name[o], on ? "on" : "off", on ? "on" : "off");
        }
        versions_text(s->versions, t, sizeof t);
        sb_str(b, "<li><span>Protocol versions</span><span>");
        sb_html(b, t);
        sb_str(b, "</span></li></ul><div class=\"muted\">Proposals, in server order:</div>"
                  "<ol class=\"suites\">");
        for (int j = 0; j < s->nproposals; j++) {
            sb_str(b, "<li><code>");
            sb_html(b, suite_text(s->proposals[j], t, sizeof t));
            sb_str(b, "</code></li>");
        }
        sb_str(b, "</ol></div>");
    }
    if (sn->nsessions)
        sb_str(b, "</div>");
    sb_str(b, "</section>\n");

    /* Server. */
    sb_str(b, "<section id=\"server\"><h2>Server</h2><table class=\"kv\">");
    sb_printf(b, "<tr><th>Software</th><td>chipd %s (chipssl)</td></tr>", CHIPD_VERSION);
    sb_str(b, "<tr><th>Started</th><td>");
    time_t st = srv->started;
    gmtime_r(&st, &tm);
    strftime(t, sizeof t, "%Y-%m-%d %H:%M:%S UTC", &tm);
    sb_str(b, t);
    sb_str(b, "</td></tr><tr><th>Bind</th><td><code>");
    sb_html(b, cfg->web.bind[0] ? cfg->web.bind : "all addresses");
    sb_str(b, "</code></td></tr><tr><th>Instances</th><td>");
    int any = 0;
    for (int i = 0; i < 2; i++)
        if (srv->listen_sd[i] >= 0) {
            sb_printf(b, "%s<span class=\"pill\">%s port %u</span>", any ? " " : "",
                      i ? "HTTPS" : "HTTP", srv->port[i]);
            any = 1;
        }
    if (!any)
        sb_str(b, "<span class=\"muted\">none</span>");
    sb_printf(b,
              "</td></tr><tr><th>Workers</th><td>%u</td></tr>"
              "<tr><th>Connections</th><td>%llu open, %llu since the start (limit %u)</td></tr>"
              "</table></section>\n",
              srv->loop ? loop_workers(srv->loop) : 0, (unsigned long long)sn->k.open,
              (unsigned long long)k->conns_total, cfg->web.max_connections);

    sb_str(b, "</div>\n");
    sb_str(b, "</main><footer>The same data as JSON: <a href=\"");
    sb_html(b, cfg->web.status_page);
    sb_str(b, "?format=json\">");
    sb_html(b, cfg->web.status_page);
    sb_str(b, "?format=json</a></footer>\n</body></html>\n");
}

/* ------------------------------------------------------------- handler */

/* 1: the request asks for the JSON form. */
static int wants_json(const struct web_server *s, const struct web_request *req)
{
    const struct http_slice *q = &req->http->query;
    if (strcmp(req->path, s->cfg.web.status_page) != 0)
        return 1; /* the ".json" form */
    if (!q->p)
        return 0;
    /* format=json among &-separated parameters. */
    static const char key[] = "format=json";
    for (size_t i = 0; i + sizeof key - 1 <= q->n; i++)
        if ((i == 0 || q->p[i - 1] == '&') && memcmp(q->p + i, key, sizeof key - 1) == 0 &&
            (i + sizeof key - 1 == q->n || q->p[i + sizeof key - 1] == '&'))
            return 1;
    return 0;
}

int web_status_wanted(const struct web_server *s, const struct web_request *req)
{
    const char *page = s->cfg.web.status_page;
    if (!page[0])
        return 0;
    size_t n = strlen(page);
    return strncmp(req->path, page, n) == 0 &&
           (req->path[n] == '\0' || strcmp(req->path + n, ".json") == 0);
}

static void body_text(struct web_response *resp, int status, const char *text)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    resp->body = text;
    resp->body_len = strlen(text);
}

void web_status_handle(struct web_server *s, const struct web_request *req,
                       struct web_response *resp)
{
    resp->body = NULL;
    resp->body_len = 0;
    resp->release = NULL;
    web_response_header(resp, "Cache-Control", "no-store");
    if (req->http->method != HTTP_GET && req->http->method != HTTP_HEAD) {
        body_text(resp, 405, "405 Method Not Allowed\n");
        web_response_header(resp, "Allow", "GET, HEAD");
        return;
    }
    /* A page under a secure prefix (SECURE_PATH, CGI_SetSecurePath) is
     * guarded as STATUS_SECURE=1 makes it: being built in must not let it
     * escape the guard its path promises. */
    if (s->cfg.web.status_secure || cgi_path_is_secure(s->cfg.web.status_page)) {
        if (!req->server) {
            /* No credentials over clear text: to the HTTPS instance. */
            if (s->listen_sd[1] < 0) {
                body_text(resp, 403, "403 Forbidden: the status page is served over HTTPS only\n");
                return;
            }
            const struct http_slice *h = &req->http->host;
            size_t hl = h->p ? h->n : 0;
            const char *colon = hl ? memrchr(h->p, ':', hl) : NULL;
            if (colon && memchr(h->p, ']', hl) > (const void *)colon)
                colon = NULL;
            if (colon)
                hl = (size_t)(colon - h->p);
            resp->status = 301;
            web_response_header(resp, "Location", "https://%.*s:%u%.*s", (int)hl,
                                hl ? h->p : "localhost", s->port[1], (int)req->http->target.n,
                                req->http->target.p);
            body_text(resp, 301, "301 Moved Permanently: the status page is on HTTPS\n");
            return;
        }
        const struct http_request *h = req->http;
        enum cgi_auth_result ar = cgi_auth_secure_account(
            h->has_basic_auth ? h->auth_user : NULL, h->has_basic_auth ? h->auth_password : NULL);
        if (ar == CGI_AUTH_UNAUTHORIZED) {
            body_text(resp, 401, "401 Unauthorized\n");
            web_response_header(resp, "WWW-Authenticate", "Basic realm=\"chipd status\"");
            return;
        }
        if (ar != CGI_AUTH_OK) {
            body_text(resp, 403, "403 Forbidden: no secure account\n");
            return;
        }
    }
    struct snap *sn = calloc(1, sizeof *sn);
    if (!sn) {
        body_text(resp, 503, "503 Service Unavailable\n");
        return;
    }
    sn->nsessions = STATUS_SESSIONS;
    sn->now = time(NULL);
    sn->mono = web_stats_now();
    struct sb b = {0};
    if (web_stats_snapshot(sn->sessions, &sn->nsessions, &sn->conns, &sn->nconns, STATUS_MAX_CONNS,
                           &sn->k) == 0) {
        int json = wants_json(s, req);
        if (json)
            render_json(&b, s, sn);
        else
            render_html(&b, s, sn);
        resp->content_type = json ? "application/json" : "text/html; charset=utf-8";
    } else
        b.failed = 1;
    free(sn->conns);
    free(sn);
    if (b.failed) {
        free(b.p);
        body_text(resp, 503, "503 Service Unavailable\n");
        return;
    }
    resp->status = 200;
    resp->body = b.p;
    resp->body_len = b.n;
    resp->release = free;
    resp->release_arg = b.p;
}
