/*
 * inifile - BIOS_Get/Set_Ini_String(_Ext), see inifile.h. Reading goes
 * through libinih, as the configuration does, so a value reads back the way
 * chip_config_load will see it. Writing edits the file as lines, classified
 * by inih's rules (comments ';' '#', "[section]", "name=value" or
 * "name:value", blanks trimmed), and replaces it with rename() so a reader
 * never sees half a file.
 */
#include "inifile.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (1 << 20)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char default_file[PATH_MAX] = "chip.ini";

void chip_ini_set_default_file(const char *path)
{
    pthread_mutex_lock(&lock);
    snprintf(default_file, sizeof default_file, "%s", path ? path : "chip.ini");
    pthread_mutex_unlock(&lock);
}

static int blank(int c)
{
    return c == ' ' || c == '\t';
}

/* A name the file format can hold: 1..max characters, no line break, no
 * character that ends the name early, no blank at either end. */
static int valid_name(const char *s, size_t max, const char *forbidden)
{
    size_t n = s ? strlen(s) : 0;
    return n && n <= max && !strpbrk(s, forbidden) && !blank(s[0]) && !blank(s[n - 1]);
}

static int valid_args(const char *file, const char *section, const char *item)
{
    return file && valid_name(section, INI_SECTION_MAX, "]\r\n") &&
           valid_name(item, INI_ITEM_MAX, "=:;#[\r\n") && item[0] != '[';
}

struct get_ctx {
    const char *section, *item;
    char *text;
    int max_len, found, length;
};

static int get_handler(void *user, const char *section, const char *name, const char *value)
{
    struct get_ctx *g = user;
    if (!g->found && !strcasecmp(section, g->section) && !strcasecmp(name, g->item)) {
        g->found = 1;
        snprintf(g->text, (size_t)g->max_len, "%s", value);
        g->length = (int)strlen(g->text);
    }
    return 1;
}

int BIOS_Get_Ini_String_Ext(const char *file, const char *section, const char *item, char *text,
                            int max_len)
{
    if (!valid_args(file, section, item) || !text || max_len <= 0)
        return -1;
    struct get_ctx g = {section, item, text, max_len, 0, 0};
    text[0] = 0;
    pthread_mutex_lock(&lock);
    FILE *f = fopen(file, "r");
    int rc = -1;
    if (f) {
        ini_parse_file(f, get_handler, &g); /* syntax errors elsewhere do not hide the item */
        fclose(f);
        rc = g.length;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

/* One line of the file as inih sees it. */
enum line_kind { L_OTHER, L_SECTION, L_ITEM };

static enum line_kind classify(const char *p, const char *end, const char **name, size_t *nlen)
{
    while (p < end && blank(*p))
        p++;
    if (p == end || *p == ';' || *p == '#' || *p == '\r' || *p == '\n')
        return L_OTHER;
    if (*p == '[') {
        const char *e = memchr(p, ']', (size_t)(end - p));
        if (!e)
            return L_OTHER;
        *name = p + 1;
        *nlen = (size_t)(e - p - 1);
        return L_SECTION;
    }
    const char *e = p;
    while (e < end && *e != '=' && *e != ':' && *e != '\r' && *e != '\n')
        e++;
    if (e == end || (*e != '=' && *e != ':'))
        return L_OTHER;
    *name = p;
    while (e > p && blank(e[-1]))
        e--;
    *nlen = (size_t)(e - p);
    return L_ITEM;
}

static int name_is(const char *p, size_t n, const char *s)
{
    return n == strlen(s) && !strncasecmp(p, s, n);
}

/* The whole file in memory; a missing file is an empty one. */
static char *slurp(const char *file, size_t *len, int *existed, mode_t *mode)
{
    FILE *f = fopen(file, "rb");
    char *buf = malloc(MAX_FILE + 1);
    *len = 0;
    *existed = f != NULL;
    *mode = 0600;
    if (!buf || (!f && errno != ENOENT)) {
        free(buf);
        if (f)
            fclose(f);
        return NULL;
    }
    if (f) {
        struct stat st;
        if (fstat(fileno(f), &st) == 0)
            *mode = st.st_mode & 07777;
        *len = fread(buf, 1, MAX_FILE + 1, f);
        int bad = ferror(f) || *len > MAX_FILE;
        fclose(f);
        if (bad) {
            free(buf);
            return NULL;
        }
    }
    buf[*len] = 0;
    return buf;
}

/* Writes the pieces to a temporary file beside file, then renames it over. */
static int replace_file(const char *file, mode_t mode, const char *const *piece, const size_t *plen,
                        int npieces)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", file) >= (int)sizeof tmp)
        return -1;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    int ok = fchmod(fd, mode) == 0;
    for (int i = 0; ok && i < npieces; i++)
        ok = fwrite(piece[i], 1, plen[i], f) == plen[i];
    ok = fflush(f) == 0 && ok && fsync(fd) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, file) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The value of an item line as inih reads it: after the separator, blanks
 * trimmed, an inline comment (" ;") cut. */
static void line_value(const char *name, size_t nlen, const char *end, char *out, size_t outsize)
{
    const char *p = name + nlen;
    while (*p != '=' && *p != ':')
        p++;
    p++;
    while (p < end && blank(*p))
        p++;
    const char *e = p;
    while (e < end && *e != '\r' && *e != '\n' && !(*e == ';' && e > p && blank(e[-1])))
        e++;
    while (e > p && blank(e[-1]))
        e--;
    snprintf(out, outsize, "%.*s", (int)(e - p), p);
}

static int set_locked(const char *file, const char *section, const char *item, const char *text)
{
    size_t len;
    int existed;
    mode_t mode;
    char *buf = slurp(file, &len, &existed, &mode);
    if (!buf)
        return -1;
    /* New lines end as the file's first line does. */
    const char *nl1 = memchr(buf, '\n', len);
    const char *eol = nl1 && nl1 > buf && nl1[-1] == '\r' ? "\r\n" : "\n";
    /* Find the item's line(s), and where a new item would go. */
    const char *keep_from[8], *cut_at[8];
    int ncut = 0, in_section = 0, changed = 0;
    const char *insert = NULL, *first = NULL, *first_end = NULL;
    for (const char *p = buf, *end; p < buf + len; p = end) {
        const char *nl = memchr(p, '\n', (size_t)(buf + len - p));
        end = nl ? nl + 1 : buf + len;
        const char *name;
        size_t nlen;
        enum line_kind k = classify(p, end, &name, &nlen);
        if (k == L_SECTION) {
            in_section = name_is(name, nlen, section);
            if (in_section && !insert)
                insert = end;
        } else if (k == L_ITEM && in_section) {
            if (insert && !first)
                insert = end; /* after the last item of the first such section */
            if (name_is(name, nlen, item)) {
                if (!first) {
                    first = p;
                    first_end = end;
                } else if (!text && ncut < 8) {
                    cut_at[ncut] = p;
                    keep_from[ncut++] = end;
                }
            }
        }
    }
    const char *piece[24];
    size_t plen[24];
    int n = 0;
    char line[INI_ITEM_MAX + INI_TEXT_MAX + 8], old[INI_TEXT_MAX + 2];
    if (first) {
        const char *name;
        size_t nlen;
        classify(first, first_end, &name, &nlen);
        line_value(name, nlen, first_end, old, sizeof old);
        const char *after = first_end;
        int crlf = first_end - first >= 2 && first_end[-1] == '\n' && first_end[-2] == '\r';
        int lf = first_end > first && first_end[-1] == '\n';
        piece[n] = buf, plen[n++] = (size_t)(first - buf);
        if (text) {
            changed = strcmp(old, text) != 0;
            snprintf(line, sizeof line, "%.*s=%s%s", (int)nlen, name, text,
                     crlf ? "\r\n" : lf ? "\n" : "");
            piece[n] = line, plen[n++] = strlen(line);
        } else {
            changed = 1;
        }
        for (int i = 0; i < ncut; i++) {
            piece[n] = after, plen[n++] = (size_t)(cut_at[i] - after);
            after = keep_from[i];
        }
        piece[n] = after, plen[n++] = (size_t)(buf + len - after);
    } else if (text) {
        changed = 1;
        const char *at = insert ? insert : buf + len;
        int need_nl = at > buf && at[-1] != '\n';
        piece[n] = buf, plen[n++] = (size_t)(at - buf);
        if (need_nl)
            piece[n] = eol, plen[n++] = strlen(eol);
        if (!insert) {
            static char head[INI_SECTION_MAX + 8];
            snprintf(head, sizeof head, "%s[%s]%s", len ? eol : "", section, eol);
            piece[n] = head, plen[n++] = strlen(head);
        }
        snprintf(line, sizeof line, "%s=%s%s", item, text, eol);
        piece[n] = line, plen[n++] = strlen(line);
        piece[n] = at, plen[n++] = (size_t)(buf + len - at);
    }
    int rc = changed ? replace_file(file, mode, piece, plen, n) : 0;
    free(buf);
    return rc;
}

int BIOS_Set_Ini_String_Ext(const char *file, const char *section, const char *item,
                            const char *text)
{
    if (!valid_args(file, section, item))
        return -1;
    if (text) {
        size_t n = strlen(text);
        if (n > INI_TEXT_MAX || strpbrk(text, "\r\n") || (n && (blank(text[0]) || blank(text[n - 1]))) ||
            strstr(text, " ;") || strstr(text, "\t;"))
            return -1;
    }
    /* A symbolic link to the file stays a link: the file it names is replaced. */
    char real[PATH_MAX];
    if (realpath(file, real))
        file = real;
    pthread_mutex_lock(&lock);
    int rc = set_locked(file, section, item, text);
    pthread_mutex_unlock(&lock);
    return rc;
}

int BIOS_Get_Ini_String(const char *section, const char *item, char *text, int max_len)
{
    char file[PATH_MAX];
    pthread_mutex_lock(&lock);
    snprintf(file, sizeof file, "%s", default_file);
    pthread_mutex_unlock(&lock);
    return BIOS_Get_Ini_String_Ext(file, section, item, text, max_len);
}

int BIOS_Set_Ini_String(const char *section, const char *item, const char *text)
{
    char file[PATH_MAX];
    pthread_mutex_lock(&lock);
    snprintf(file, sizeof file, "%s", default_file);
    pthread_mutex_unlock(&lock);
    return BIOS_Set_Ini_String_Ext(file, section, item, text);
}
