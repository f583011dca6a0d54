/*
 * config - chip.ini into struct chip_config (see config.h). libinih splits
 * the file into sections and KEY=VALUE pairs; each value is checked against
 * its row of the key table; checks that involve several keys (required
 * keys, accounts, ports used twice) run once the whole file is read. Only
 * the first error is kept: the message names the line to fix.
 */
#define CHIPSSL_NO_RTOS_NAMES /* tcpip.h would rename bind() and friends */
#include "config_keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tcpip.h>

#define MAX_FILE (1 << 20)

/* An account family's values as found, before they are checked. */
struct pending {
    char user[CFG_USER_MAX], password[CFG_PASSWORD_MAX], root[CFG_PATH_MAX];
    int user_line, password_line, root_line;
};

struct loader {
    const char *name;
    struct chip_config *cfg;
    const char *text;
    size_t pos, len;
    int line;
    int err_line; /* of the message in err; -1 while there is none */
    char err[CFG_ERROR_MAX];
    int key_line[64];       /* where each table key was set; 0 = not in the file */
    int section_line[3];    /* of the first [WEB], [SSL], [FTP] */
    struct pending (*acc)[CFG_ACCOUNTS_MAX]; /* [family][n], on the heap: 360 KiB */
};

/* Keeps the message if it is the first (by line) error. line 0: no line. */
static void error(struct loader *L, int line, const char *fmt, ...)
{
    if (L->err_line >= 0 && L->err_line <= line)
        return;
    int n = line ? snprintf(L->err, sizeof L->err, "%s:%d: ", L->name, line)
                 : snprintf(L->err, sizeof L->err, "%s: ", L->name);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof L->err)
        vsnprintf(L->err + n, sizeof L->err - (size_t)n, fmt, ap);
    va_end(ap);
    L->err_line = line;
}

static int section_index(const char *s)
{
    for (int i = 0; cfg_sections[i]; i++)
        if (!strcasecmp(cfg_sections[i], s))
            return i;
    return -1;
}

/* Strict unsigned decimal: digits only, no sign, no overflow. */
static int parse_number(const char *v, unsigned long long *out)
{
    unsigned long long n = 0;
    if (!*v)
        return -1;
    for (; *v; v++) {
        if (*v < '0' || *v > '9' || n > (~0ULL - 9) / 10)
            return -1;
        n = n * 10 + (unsigned long long)(*v - '0');
    }
    *out = n;
    return 0;
}

static int parse_suite(const char *v, int *out)
{
    unsigned long n = 0;
    if ((v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) || (v[0] >= '0' && v[0] <= '9')) {
        char *end;
        errno = 0;
        n = strtoul(v, &end, v[1] == 'x' || v[1] == 'X' ? 16 : 10);
        if (*end || errno || n > 0xffff || !chipssl_suite_name((int)n))
            return -1;
        *out = (int)n;
        return 0;
    }
    int s = chipssl_suite_number(v);
    if (s < 0)
        return -1;
    *out = s;
    return 0;
}

static void set_suites(struct loader *L, const char *what, const char *value)
{
    struct chip_config *c = L->cfg;
    char buf[4096];
    if (strlen(value) >= sizeof buf) {
        error(L, L->line, "%s: too long", what);
        return;
    }
    strcpy(buf, value);
    c->ssl.nproposals = 0;
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ' || *tok == '\t')
            tok++;
        char *e = tok + strlen(tok);
        while (e > tok && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = 0;
        int s;
        if (parse_suite(tok, &s) < 0) {
            error(L, L->line, "%s: %s is not a cipher suite chipssl accepts", what, tok);
            return;
        }
        for (int k = 0; k < c->ssl.nproposals; k++)
            if (c->ssl.proposals[k] == s) {
                error(L, L->line, "%s: %s is listed twice", what, tok);
                return;
            }
        if (c->ssl.nproposals == CHIPSSL_MAX_PROPOSALS || c->ssl.nproposals == CFG_PROPOSALS_MAX) {
            error(L, L->line, "%s: more than %d suites", what, CHIPSSL_MAX_PROPOSALS);
            return;
        }
        c->ssl.proposals[c->ssl.nproposals++] = s;
    }
}

static int parse_port_range(const char *v, unsigned *lo, unsigned *hi)
{
    char a[16], b[16];
    const char *dash = strchr(v, '-');
    unsigned long long x, y;
    if (!dash || (size_t)(dash - v) >= sizeof a || strlen(dash + 1) >= sizeof b)
        return -1;
    memcpy(a, v, (size_t)(dash - v));
    a[dash - v] = 0;
    strcpy(b, dash + 1);
    if (parse_number(a, &x) || parse_number(b, &y) || x < 1 || y > 65535 || x > y)
        return -1;
    *lo = (unsigned)x;
    *hi = (unsigned)y;
    return 0;
}

/* In set_value: report and stop. */
#define FAILV(...)            \
    do {                      \
        error(__VA_ARGS__);   \
        return;               \
    } while (0)

static void set_text(struct loader *L, const struct cfg_key *k, const char *what, char *field,
                     const char *value)
{
    if (strlen(value) >= k->size)
        FAILV(L, L->line, "%s: too long (at most %zu characters)", what, k->size - 1);
    strcpy(field, value);
}

/* Checks value against the key's row and stores it. */
static void set_value(struct loader *L, const struct cfg_key *k, const char *value)
{
    char what[96];
    char *field = (char *)L->cfg + k->offset;
    unsigned long long n;
    snprintf(what, sizeof what, "[%s] %s", k->section, k->name);
    switch (k->type) {
    case CFG_BOOL:
        if (strcmp(value, "0") && strcmp(value, "1"))
            FAILV(L, L->line, "%s: %s is not 0 or 1", what, value);
        *(int *)field = value[0] == '1';
        return;
    case CFG_PORT:
        if (parse_number(value, &n) || n < k->min || n > k->max)
            FAILV(L, L->line, "%s: %s is not a port (%llu-%llu%s)", what, value, k->min,
                         k->max, k->min == 0 ? ", 0 = off" : "");
        *(unsigned *)field = (unsigned)n;
        return;
    case CFG_UINT:
    case CFG_U64:
        if (parse_number(value, &n))
            FAILV(L, L->line, "%s: %s is not a number", what, value);
        if (n < k->min || n > k->max)
            FAILV(L, L->line, "%s: %s is out of range (%llu-%llu)", what, value, k->min, k->max);
        if (k->type == CFG_UINT)
            *(unsigned *)field = (unsigned)n;
        else
            *(unsigned long long *)field = n;
        return;
    case CFG_ADDR: {
        unsigned char sa[16];
        if (*value && inet_pton(AF_INET, value, sa) != 1 && inet_pton(AF_INET6, value, sa) != 1)
            FAILV(L, L->line, "%s: %s is not an IPv4 or IPv6 address", what, value);
        set_text(L, k, what, field, value);
        return;
    }
    case CFG_STRING:
    case CFG_PATH:
        set_text(L, k, what, field, value);
        return;
    case CFG_PORT_RANGE: {
        unsigned *lohi = (unsigned *)field; /* pasv_min, pasv_max: adjacent fields */
        if (!*value) {
            lohi[0] = lohi[1] = 0;
            return;
        }
        if (parse_port_range(value, &lohi[0], &lohi[1]))
            FAILV(L, L->line, "%s: %s is not a port range (LOW-HIGH within 1-65535, e.g. 50000-50100)",
                         what, value);
        return;
    }
    case CFG_SUITES:
        set_suites(L, what, value);
        return;
    }
}

/* USER7 against prefix USER: 7. -1 when name is not prefix + 0..99. */
static int family_index(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncasecmp(name, prefix, n))
        return -1;
    const char *d = name + n;
    if (!d[0] || (d[0] == '0' && d[1]) || strlen(d) > 2 || d[strspn(d, "0123456789")])
        return -1;
    return atoi(d);
}

static int set_account(struct loader *L, const char *section, const char *name, const char *value)
{
    for (size_t f = 0; f < cfg_nfamilies; f++) {
        const struct cfg_family *fam = &cfg_families[f];
        if (strcasecmp(fam->section, section))
            continue;
        const char *prefixes[3] = {fam->user, fam->password, fam->root};
        for (int w = 0; w < 3; w++) {
            int i = prefixes[w] ? family_index(name, prefixes[w]) : -1;
            if (i < 0)
                continue;
            struct pending *p = &L->acc[f][i];
            char *dst[3] = {p->user, p->password, p->root};
            size_t size[3] = {sizeof p->user, sizeof p->password, sizeof p->root};
            int *line[3] = {&p->user_line, &p->password_line, &p->root_line};
            if (*line[w])
                error(L, L->line, "[%s] %s: set twice (first on line %d)", fam->section, name, *line[w]);
            else if (strlen(value) >= size[w])
                error(L, L->line, "[%s] %s: too long (at most %zu characters)", fam->section, name,
                      size[w] - 1);
            else if (w < 2 && !*value)
                error(L, L->line, "[%s] %s: empty", fam->section, name);
            else
                strcpy(dst[w], value);
            *line[w] = L->line;
            return 1;
        }
    }
    return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct loader *L = user;
    if (!*section) {
        error(L, L->line, "%s: outside any section ([WEB], [SSL] or [FTP])", name);
        return 1;
    }
    if (section_index(section) < 0)
        return 1; /* already reported by the reader */
    for (size_t i = 0; i < cfg_nkeys; i++) {
        const struct cfg_key *k = &cfg_keys[i];
        if (strcasecmp(k->section, section) || strcasecmp(k->name, name))
            continue;
        if (L->key_line[i])
            error(L, L->line, "[%s] %s: set twice (first on line %d)", k->section, k->name,
                  L->key_line[i]);
        else
            set_value(L, k, value);
        L->key_line[i] = L->line;
        return 1;
    }
    if (!set_account(L, section, name, value))
        error(L, L->line, "[%s] %s: unknown key", section, name);
    return 1;
}

/* inih reads lines through here: the line count for messages, overlong
 * lines, indented lines (inih would take them as continuations of the
 * previous value) and unknown sections, which inih does not report. */
static char *reader(char *str, int num, void *stream)
{
    struct loader *L = stream;
    if (L->pos >= L->len)
        return NULL;
    const char *p = L->text + L->pos, *nl = memchr(p, '\n', L->len - L->pos);
    size_t n = nl ? (size_t)(nl - p) + 1 : L->len - L->pos;
    L->pos += n;
    L->line++;
    if (n > (size_t)num - 1) {
        error(L, L->line, "line too long (at most %d characters)", num - 3);
        n = (size_t)num - 1;
    }
    memcpy(str, p, n);
    str[n] = 0;
    const char *s = str;
    if (L->line == 1 && !memcmp(s, "\xEF\xBB\xBF", 3))
        s += 3;
    size_t indent = strspn(s, " \t");
    s += indent;
    if (indent && *s && *s != '\r' && *s != '\n' && *s != ';' && *s != '#')
        error(L, L->line, "indented line (continuation lines are not supported)");
    if (*s == '[') {
        const char *e = strchr(s, ']');
        if (e) {
            char name[64];
            size_t k = (size_t)(e - s - 1);
            snprintf(name, sizeof name, "%.*s", (int)(k < 63 ? k : 63), s + 1);
            int i = section_index(name);
            if (i < 0)
                error(L, L->line, "[%s]: unknown section (known: [WEB], [SSL], [FTP])", name);
            else if (!L->section_line[i])
                L->section_line[i] = L->line;
        }
    }
    return str;
}

static int cmp_account(const void *a, const void *b)
{
    return ((const struct cfg_account *)a)->index - ((const struct cfg_account *)b)->index;
}

/* Gathers a family's accounts; 0, or -1 after error(). */
static int gather(struct loader *L, size_t f)
{
    const struct cfg_family *fam = &cfg_families[f];
    struct cfg_accounts *out = (struct cfg_accounts *)((char *)L->cfg + fam->offset);
    int anon_root0 = fam->root && L->cfg->ftp.anonymous;
    size_t count = 0;
    for (int i = 0; i < CFG_ACCOUNTS_MAX; i++) {
        struct pending *p = &L->acc[f][i];
        if (!p->user_line && !p->password_line && !p->root_line)
            continue;
        int line = p->user_line ? p->user_line : p->password_line ? p->password_line : p->root_line;
        if (!p->user_line && !(i == 0 && anon_root0 && !p->password_line)) {
            error(L, line, "[%s] %s%d: no %s%d", fam->section,
                  p->password_line ? fam->password : fam->root, i, fam->user, i);
            continue;
        }
        if (p->user_line && !p->password_line)
            error(L, line, "[%s] %s%d: no %s%d (there are no default passwords)", fam->section,
                  fam->user, i, fam->password, i);
        if (fam->root && !p->root_line)
            error(L, line, "[%s] %s%d: no %s%d", fam->section, fam->user, i, fam->root, i);
        for (int j = 0; p->user_line && j < i; j++)
            if (L->acc[f][j].user_line && !strcmp(L->acc[f][j].user, p->user))
                error(L, line, "[%s] %s%d: user %s already defined on line %d", fam->section,
                      fam->user, i, p->user, L->acc[f][j].user_line);
        if (p->user_line)
            count++;
    }
    if (fam->root && L->cfg->ftp.anonymous && !L->acc[f][0].root_line)
        error(L, L->section_line[2], "[FTP] ANONYMOUS=1 needs ROOT0 (the anonymous root)");
    else if (fam->root && L->cfg->ftp.anonymous)
        strcpy(L->cfg->ftp.anon_root, L->acc[f][0].root);
    if (L->err_line >= 0 || !count)
        return L->err_line >= 0 ? -1 : 0;
    out->list = calloc(count, sizeof *out->list);
    if (!out->list) {
        error(L, 0, "out of memory");
        return -1;
    }
    for (int i = 0; i < CFG_ACCOUNTS_MAX; i++) {
        struct pending *p = &L->acc[f][i];
        if (!p->user_line)
            continue;
        struct cfg_account *a = &out->list[out->count++];
        a->index = i;
        strcpy(a->user, p->user);
        strcpy(a->password, p->password);
        strcpy(a->root, p->root);
    }
    qsort(out->list, out->count, sizeof *out->list, cmp_account);
    return 0;
}

int chip_config_tls_needed(const struct chip_config *c)
{
    return c->web.ssl_enable || (c->ftp.enable && (c->ftp.require_tls || c->ftp.ftps_port));
}

static int key_line(struct loader *L, const char *section, const char *name)
{
    for (size_t i = 0; i < cfg_nkeys; i++)
        if (!strcmp(cfg_keys[i].section, section) && !strcmp(cfg_keys[i].name, name))
            return L->key_line[i];
    return 0;
}

/* Two enabled listeners on one port, on the same address or on all. */
static void check_ports(struct loader *L)
{
    const struct chip_config *c = L->cfg;
    struct { const char *name, *section, *bind; unsigned port; int on; } l[] = {
        {"HTTP_PORT", "WEB", c->web.bind, c->web.http_port, c->web.enable},
        {"HTTPS_PORT", "WEB", c->web.bind, c->web.https_port, c->web.ssl_enable},
        {"PORT", "FTP", c->ftp.bind, c->ftp.port, c->ftp.enable},
        {"FTPS_PORT", "FTP", c->ftp.bind, c->ftp.ftps_port, c->ftp.enable && c->ftp.ftps_port},
    };
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < i; j++)
            if (l[i].on && l[j].on && l[i].port == l[j].port &&
                (!*l[i].bind || !*l[j].bind || !strcmp(l[i].bind, l[j].bind)))
                error(L, key_line(L, l[i].section, l[i].name), "[%s] %s: port %u is also [%s] %s",
                      l[i].section, l[i].name, l[i].port, l[j].section, l[j].name);
}

static void check_whole(struct loader *L)
{
    const struct chip_config *c = L->cfg;
    if (c->web.enable || c->web.ssl_enable) {
        if (!*c->web.rootdir)
            error(L, L->section_line[0], "[WEB] ROOTDIR is required (the web server is enabled)");
        else if (!c->web.rootdir[strspn(c->web.rootdir, "/")])
            error(L, key_line(L, "WEB", "ROOTDIR"), "[WEB] ROOTDIR: the root may not be /");
        if (!*c->web.mainpage || strchr(c->web.mainpage, '/') == c->web.mainpage)
            error(L, key_line(L, "WEB", "MAINPAGE"), "[WEB] MAINPAGE: a page name relative to the root is needed");
    }
    if (*c->web.status_page && c->web.status_page[0] != '/')
        error(L, key_line(L, "WEB", "STATUS_PAGE"), "[WEB] STATUS_PAGE: %s is not a URL path (/...)",
              c->web.status_page);
    if (*c->web.secure_path && c->web.secure_path[0] != '/')
        error(L, key_line(L, "WEB", "SECURE_PATH"), "[WEB] SECURE_PATH: %s is not a URL path (/...)",
              c->web.secure_path);
    if (chip_config_tls_needed(c)) {
        if (!*c->ssl.cert)
            error(L, L->section_line[1], "[SSL] CERT is required (TLS is on)");
        if (!*c->ssl.key)
            error(L, L->section_line[1], "[SSL] KEY is required (TLS is on)");
    }
    for (int n = 0; n < CFG_SNI_IDENTITIES; n++) {
        char cert[8], key[8];
        snprintf(cert, sizeof cert, "CERT%d", n + 1);
        snprintf(key, sizeof key, "KEY%d", n + 1);
        if (*c->ssl.sni_cert[n] && !*c->ssl.sni_key[n])
            error(L, key_line(L, "SSL", cert), "[SSL] %s needs %s (its private key)", cert, key);
        else if (!*c->ssl.sni_cert[n] && *c->ssl.sni_key[n])
            error(L, key_line(L, "SSL", key), "[SSL] %s needs %s (its certificate)", key, cert);
    }
    if (c->ssl.client_auth && !*c->ssl.ca)
        error(L, key_line(L, "SSL", "CLIENT_AUTH"), "[SSL] CLIENT_AUTH=1 needs CA (the client CAs)");
    check_ports(L);
    for (size_t f = 0; f < cfg_nfamilies; f++)
        gather(L, f);
    if (c->web.status_secure && !c->web.secure.count && L->err_line < 0)
        error(L, key_line(L, "WEB", "STATUS_SECURE"), "[WEB] STATUS_SECURE=1 needs a SECURE_USERn");
}

void chip_config_defaults(struct chip_config *cfg)
{
    struct loader L; /* defaults cannot fail: the table's test sees to it */
    memset(&L, 0, sizeof L);
    memset(cfg, 0, sizeof *cfg);
    L.cfg = cfg;
    L.name = "(defaults)";
    L.err_line = -1;
    for (size_t i = 0; i < cfg_nkeys; i++)
        set_value(&L, &cfg_keys[i], cfg_keys[i].def);
}

int chip_config_load_string(const char *name, const char *text, struct chip_config *cfg, char *err,
                            size_t errlen)
{
    struct loader *L = calloc(1, sizeof *L);
    if (L)
        L->acc = calloc(cfg_nfamilies, sizeof *L->acc);
    if (!L || !L->acc || cfg_nkeys > sizeof L->key_line / sizeof *L->key_line) {
        free(L ? L->acc : NULL);
        free(L);
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    chip_config_defaults(cfg);
    L->name = name;
    L->cfg = cfg;
    L->text = text;
    L->len = strlen(text);
    L->err_line = -1;
    int rc = ini_parse_stream(reader, L, handler, L);
    if (rc > 0)
        error(L, rc, "expected [SECTION] or KEY=VALUE");
    else if (rc < 0)
        error(L, 0, "out of memory");
    if (L->err_line < 0)
        check_whole(L);
    rc = L->err_line >= 0 ? -1 : 0;
    if (rc)
        snprintf(err, errlen, "%s", L->err);
    free(L->acc);
    free(L);
    if (rc)
        chip_config_free(cfg);
    return rc;
}

int chip_config_load(const char *path, struct chip_config *cfg, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    size_t n = 0;
    if (f) {
        text = malloc(MAX_FILE + 1);
        n = text ? fread(text, 1, MAX_FILE + 1, f) : 0;
    }
    int e = errno;
    if (!f || !text || ferror(f)) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(text || !f ? e : ENOMEM));
    } else if (n > MAX_FILE) {
        snprintf(err, errlen, "%s: larger than %d bytes", path, MAX_FILE);
    } else if (memchr(text, 0, n)) {
        snprintf(err, errlen, "%s: contains a NUL byte (not a text file)", path);
    } else {
        text[n] = 0;
        fclose(f);
        int rc = chip_config_load_string(path, text, cfg, err, errlen);
        free(text);
        return rc;
    }
    if (f)
        fclose(f);
    free(text);
    memset(cfg, 0, sizeof *cfg);
    return -1;
}

void chip_config_free(struct chip_config *cfg)
{
    struct cfg_accounts *all[] = {&cfg->web.upload, &cfg->web.secure, &cfg->ftp.accounts};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        free(all[i]->list);
        all[i]->list = NULL;
        all[i]->count = 0;
    }
}
