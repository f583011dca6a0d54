/*
 * ssi.c - SSI registrations (file filter, tags, tag length per server) and
 * SSI_Send_Buffer through the response sink the server attaches for each
 * page it builds.
 */
#include <string.h>
#include <strings.h>

#include "cgi_internal.h"
#include "cgi_server.h"

#define SSI_SERVERS 2
#define CHIPD_SSI_MAX_SINKS 1024

struct tag {
    SSI_Handler h; /* NULL = free */
    char text[SSI_MAX_TAGLENGTH + 1];
};

struct filter {
    int type; /* 0 = none */
    char match[CGI_MAX_PATH_LEN + 1];
};

struct sink_slot {
    struct ssi_sink *sink; /* NULL = free */
    unsigned long gen;
};

static struct tag tags[SSI_SERVERS][SSI_MAX_TAGS];
static struct filter filters[SSI_SERVERS];
static int tagLength = SSI_DEFAULT_TAGLENGTH;
static struct sink_slot sinks[CHIPD_SSI_MAX_SINKS];

void ssi_reset(void)
{
    memset(tags, 0, sizeof tags);
    memset(filters, 0, sizeof filters);
    tagLength = SSI_DEFAULT_TAGLENGTH;
    /* Sinks belong to pages being sent: they stay. */
}

static int server_ok(int server)
{
    return server == SSI_SERVER_HTTP || server == SSI_SERVER_HTTPS;
}

int SSI_Set_File_Filter(const char *match, int matchType, int server)
{
    if (matchType < SSI_MATCH_FILE_NAME || matchType > SSI_MATCH_DIR_PATH || !server_ok(server))
        return CGI_INVALID_METHOD;
    if (match == NULL || match[0] == '\0' || strlen(match) > CGI_MAX_PATH_LEN ||
        !cgi_printable(match, 1))
        return CGI_INVALID_NAME;
    cgi_lock();
    filters[server].type = matchType;
    strcpy(filters[server].match, match);
    cgi_unlock();
    return 0;
}

/* Under the lock. Paths are URL paths ("/web/ssi/table.htm"). */
static int filter_matches(const struct filter *f, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    const char *m = f->match, *dot;
    size_t dirLen = slash != NULL ? (size_t)(slash - path) : 0, n;

    switch (f->type) {
    case SSI_MATCH_FILE_NAME: return strcasecmp(base, m) == 0;
    case SSI_MATCH_FILE_EXT:
        dot = strrchr(base, '.');
        if (m[0] == '.')
            m++;
        return dot != NULL && strcasecmp(dot + 1, m) == 0;
    case SSI_MATCH_FILE_PATH: return strcasecmp(path, m) == 0;
    case SSI_MATCH_DIR_NAME: {
        /* the last directory component of the path */
        const char *d = path + dirLen;
        while (d > path && d[-1] != '/')
            d--;
        return dirLen > 0 && strlen(m) == (size_t)(path + dirLen - d) &&
               strncasecmp(d, m, (size_t)(path + dirLen - d)) == 0;
    }
    case SSI_MATCH_DIR_PATH:
        n = strlen(m);
        while (n > 1 && m[n - 1] == '/')
            n--;         /* "/web/ssi/" is "/web/ssi" */
        if (dirLen == 0) /* a file in the root: its directory is "/" */
            return n == 1 && m[0] == '/';
        return n == dirLen && strncasecmp(path, m, n) == 0;
    default: return 0;
    }
}

int ssi_file_matches(int server, const char *urlPath)
{
    int r;

    if (!server_ok(server) || urlPath == NULL)
        return 0;
    cgi_lock();
    r = filter_matches(&filters[server], urlPath);
    cgi_unlock();
    return r;
}

int SSI_Register_Tag(const char *tag, SSI_Handler h, int server)
{
    struct tag *slot = NULL;
    int i;

    if (!server_ok(server) || h == NULL)
        return CGI_INVALID_METHOD;
    if (tag == NULL || tag[0] == '\0')
        return CGI_INVALID_NAME;
    cgi_lock();
    if (strlen(tag) > (size_t)tagLength) {
        cgi_unlock();
        return CGI_INVALID_NAME;
    }
    for (i = 0; i < SSI_MAX_TAGS; i++) {
        struct tag *t = &tags[server][i];
        if (t->h != NULL && strcmp(t->text, tag) == 0) {
            slot = t; /* the same tag again: new handler */
            break;
        }
        if (t->h == NULL && slot == NULL)
            slot = t;
    }
    if (slot != NULL) {
        slot->h = h;
        strcpy(slot->text, tag);
    }
    cgi_unlock();
    return slot != NULL ? 0 : CGI_NO_FREE_ENTRY;
}

int SSI_Deregister_Tag(SSI_Handler h, int server)
{
    int i, found = 0;

    if (!server_ok(server))
        return CGI_INVALID_METHOD;
    if (h == NULL)
        return CGI_NOT_FOUND;
    cgi_lock();
    for (i = 0; i < SSI_MAX_TAGS; i++)
        if (tags[server][i].h == h) {
            memset(&tags[server][i], 0, sizeof tags[server][i]);
            found = 1;
        }
    cgi_unlock();
    return found ? 0 : CGI_NOT_FOUND;
}

int SSI_Set_TagLength(int len)
{
    if (len < 1 || len > SSI_MAX_TAGLENGTH)
        return -1;
    cgi_lock();
    tagLength = len;
    cgi_unlock();
    return 0;
}

int ssi_tag_length(void)
{
    int n;

    cgi_lock();
    n = tagLength;
    cgi_unlock();
    return n;
}

SSI_Handler ssi_find_tag(int server, const char *text, size_t len, size_t *tagLen)
{
    SSI_Handler h = NULL;
    size_t best = 0;
    int i;

    if (!server_ok(server) || text == NULL)
        return NULL;
    cgi_lock();
    for (i = 0; i < SSI_MAX_TAGS; i++) {
        const struct tag *t = &tags[server][i];
        size_t n = strlen(t->text);
        /* Longest match: "<!--#a-->" must not hide behind "<!--#". */
        if (t->h != NULL && n <= (size_t)tagLength && n <= len && n > best &&
            memcmp(text, t->text, n) == 0) {
            h = t->h;
            best = n;
        }
    }
    cgi_unlock();
    if (tagLen != NULL)
        *tagLen = best;
    return h;
}

int ssi_tags_snapshot(int server, struct ssi_tag_copy *out, int max)
{
    int i, n = 0;

    if (!server_ok(server) || out == NULL)
        return 0;
    cgi_lock();
    for (i = 0; i < SSI_MAX_TAGS && n < max; i++) {
        const struct tag *t = &tags[server][i];
        size_t len = strlen(t->text);
        /* A tag longer than the tag length is no longer looked for. */
        if (t->h == NULL || len > (size_t)tagLength)
            continue;
        out[n].h = t->h;
        out[n].len = len;
        memcpy(out[n].text, t->text, len + 1);
        n++;
    }
    cgi_unlock();
    return n;
}

/* ----------------------------------------------------------------- sinks */

/* A handle is (generation << 16) | (slot + 1): never 0, and a handle kept
 * after its page ended names a slot whose generation has moved on. */
unsigned long ssi_sink_attach(struct ssi_sink *sink)
{
    unsigned long h = 0;
    int i;

    if (sink == NULL || sink->write == NULL)
        return 0;
    cgi_lock();
    for (i = 0; i < CHIPD_SSI_MAX_SINKS; i++)
        if (sinks[i].sink == NULL) {
            sinks[i].sink = sink;
            sinks[i].gen = (sinks[i].gen + 1) & 0xFFFFul;
            h = sinks[i].gen << 16 | (unsigned long)(i + 1);
            break;
        }
    cgi_unlock();
    return h;
}

/* Under the lock: the sink of a live handle, else NULL. */
static struct ssi_sink *sink_of(unsigned long h)
{
    unsigned long idx = (h & 0xFFFFul) - 1;

    if ((h & 0xFFFFul) == 0 || idx >= CHIPD_SSI_MAX_SINKS || sinks[idx].sink == NULL ||
        sinks[idx].gen != (h >> 16))
        return NULL;
    return sinks[idx].sink;
}

void ssi_sink_detach(unsigned long conHandle)
{
    cgi_lock();
    if (sink_of(conHandle) != NULL)
        sinks[(conHandle & 0xFFFFul) - 1].sink = NULL;
    cgi_unlock();
}

int SSI_Send_Buffer(unsigned long conHandle, const char *buf, int len, int flag)
{
    struct ssi_sink *s;

    if (len < 0 || len > SSI_MAX_SEND_LEN || (buf == NULL && len > 0) || (flag != 0 && flag != 1))
        return -1;
    cgi_lock();
    s = sink_of(conHandle);
    cgi_unlock();
    /* Written outside the lock: the page's own thread runs the handler and
     * detaches the sink only after it returns, so s stays valid. */
    if (s == NULL)
        return -1;
    if (len == 0)
        return 0;
    return s->write(s->ctx, buf, (size_t)len) == 0 ? 0 : -1;
}

int SSI_Get_Connection_Params(unsigned long conHandle, SSI_Params *p)
{
    struct ssi_sink *s;

    if (p == NULL || p->structVersion != 0)
        return -1;
    cgi_lock();
    s = sink_of(conHandle);
    if (s != NULL) {
        *p = s->params;
        p->structVersion = 0;
    }
    cgi_unlock();
    return s != NULL ? 0 : -1;
}
