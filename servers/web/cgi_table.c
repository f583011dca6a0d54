/*
 * cgi_table.c - the CGI table (CGI_Install/CGI_Delete and the server's
 * lookup), the main pages and the root directory.
 */
#define _GNU_SOURCE /* realpath */
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cgi_internal.h"
#include "cgi_server.h"

struct entry {
    int used;
    int method;
    RpCgiFuncPtr func;
    char path[CGI_MAX_PATH_LEN + 1]; /* without the leading '/' */
};

static struct entry table[CGI_MAX_ENTRIES];
/* One past the highest used entry: a lookup (one per request) scans only
 * up to it, not the whole table, which is mostly empty; 0 lets a lookup
 * skip the lock, which every worker would otherwise take per request.
 * Written under cgi_lock. */
static atomic_int top;
/* Counts CGI_SetRootDir calls: a worker remembers what it found for one
 * value (web_cgi_root) instead of copying the root under the lock per
 * request. */
static atomic_uint root_gen;
static char mainPage[CGI_MAX_PAGE_LEN + 1] = "main.htm";
static char mainPagePost[CGI_MAX_PAGE_LEN + 1]; /* "": same as mainPage */
static char rootDir[CGI_MAX_ROOTDIR_LEN + 1];
static char rootDrive = 'A';

void cgi_table_reset(void)
{
    memset(table, 0, sizeof table);
    atomic_store(&top, 0);
    atomic_fetch_add(&root_gen, 1);
    strcpy(mainPage, "main.htm");
    mainPagePost[0] = '\0';
    rootDir[0] = '\0';
    rootDrive = 'A';
}

/* The URL name without its optional leading '/', or NULL when it is not
 * one the table can hold. '?' and '#' never reach the lookup (the server
 * cuts the query), so an entry holding them could never be called. */
static const char *entry_name(const char *path)
{
    if (path == NULL)
        return NULL;
    if (path[0] == '/')
        path++;
    if (path[0] == '\0' || strlen(path) > CGI_MAX_PATH_LEN || !cgi_printable(path, 0) ||
        strpbrk(path, "?#") != NULL)
        return NULL;
    return path;
}

static int method_ok(int m)
{
    return m == CgiHttpGet || m == CgiHttpHead || m == CgiHttpPost || m == CgiHttpAll;
}

int CGI_Install(const CGI_Entry *cgiptr)
{
    const char *name;
    struct entry *slot = NULL;
    int i;

    if (cgiptr == NULL || (name = entry_name(cgiptr->PathPtr)) == NULL)
        return CGI_INVALID_NAME;
    if (!method_ok(cgiptr->method) || cgiptr->CgiFuncPtr == NULL)
        return CGI_INVALID_METHOD;
    cgi_lock();
    for (i = 0; i < CGI_MAX_ENTRIES; i++) {
        struct entry *e = &table[i];
        if (e->used && e->method == cgiptr->method && strcasecmp(e->path, name) == 0) {
            slot = e; /* same name and method: replace */
            break;
        }
        if (!e->used && slot == NULL)
            slot = e;
    }
    if (slot == NULL) {
        cgi_unlock();
        return CGI_NO_FREE_ENTRY;
    }
    slot->used = 1;
    slot->method = cgiptr->method;
    slot->func = cgiptr->CgiFuncPtr;
    strcpy(slot->path, name);
    if (slot - table >= atomic_load_explicit(&top, memory_order_relaxed))
        atomic_store_explicit(&top, (int)(slot - table) + 1, memory_order_release);
    cgi_unlock();
    return 0;
}

int CGI_Delete(const char *PathPtr)
{
    const char *name = entry_name(PathPtr);
    int i, found = 0;

    if (name == NULL)
        return CGI_NOT_FOUND;
    cgi_lock();
    int n = atomic_load_explicit(&top, memory_order_relaxed);
    for (i = 0; i < n; i++)
        if (table[i].used && strcasecmp(table[i].path, name) == 0) {
            memset(&table[i], 0, sizeof table[i]);
            found = 1;
        }
    while (n > 0 && !table[n - 1].used)
        n--;
    atomic_store_explicit(&top, n, memory_order_release);
    cgi_unlock();
    return found ? 0 : CGI_NOT_FOUND;
}

enum cgi_lookup_result cgi_table_lookup(const char *path, int method, CGI_Entry *out,
                                        unsigned *allow)
{
    /* Preference: own method, CgiHttpAll, then GET for HEAD (RFC 9110
     * 9.3.2: HEAD is GET without the body). */
    const struct entry *best[3] = {NULL, NULL, NULL};
    const char *name = entry_name(path);
    unsigned methods = 0;
    int i, k;

    if (allow != NULL)
        *allow = 0;
    if (name == NULL || atomic_load_explicit(&top, memory_order_acquire) == 0)
        return CGI_LOOKUP_NONE; /* an empty table: no lock */
    cgi_lock();
    int n = atomic_load_explicit(&top, memory_order_relaxed);
    for (i = 0; i < n; i++) {
        const struct entry *e = &table[i];
        if (!e->used || strcasecmp(e->path, name) != 0)
            continue;
        methods |= e->method == CgiHttpAll ? 0xEu : 1u << e->method;
        if (e->method == method)
            best[0] = e;
        else if (e->method == CgiHttpAll)
            best[1] = e;
        else if (method == CgiHttpHead && e->method == CgiHttpGet)
            best[2] = e;
    }
    for (k = 0; k < 3; k++)
        if (best[k] != NULL && method_ok(method) && method != CgiHttpAll) {
            if (out != NULL) {
                out->PathPtr = NULL; /* the name may change once unlocked */
                out->method = best[k]->method;
                out->CgiFuncPtr = best[k]->func;
            }
            cgi_unlock();
            return CGI_LOOKUP_FOUND;
        }
    cgi_unlock();
    if (methods == 0)
        return CGI_LOOKUP_NONE;
    if (methods & (1u << CgiHttpGet))
        methods |= 1u << CgiHttpHead;
    if (allow != NULL)
        *allow = methods;
    return CGI_LOOKUP_METHOD;
}

int cgi_table_list(CGI_Entry *out, char *names, int max)
{
    int i, n = 0;

    if (out == NULL || names == NULL || max <= 0)
        return 0;
    cgi_lock();
    for (i = 0; i < CGI_MAX_ENTRIES && n < max; i++) {
        if (!table[i].used)
            continue;
        char *name = names + (size_t)n * (CGI_MAX_PATH_LEN + 1);
        strcpy(name, table[i].path);
        out[n].PathPtr = name;
        out[n].method = table[i].method;
        out[n].CgiFuncPtr = table[i].func;
        n++;
    }
    cgi_unlock();
    return n;
}

/* ------------------------------------------------------------ main pages */

/* A file name under the root: no way out of it ("..", leading '/'). */
static int page_name_ok(const char *name)
{
    const char *p;
    size_t n;

    if (name == NULL || name[0] == '\0' || name[0] == '/' || strlen(name) > CGI_MAX_PAGE_LEN ||
        !cgi_printable(name, 0) || strpbrk(name, "?#\\") != NULL)
        return 0;
    for (p = name; *p != '\0'; p += n + (p[n] == '/')) {
        n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return 0;
    }
    return 1;
}

static int set_page(char *dst, const char *name)
{
    if (!page_name_ok(name))
        return CGI_INVALID_NAME;
    cgi_lock();
    strcpy(dst, name);
    cgi_unlock();
    return 0;
}

int CGI_SetMainPage(const char *name)
{
    return set_page(mainPage, name);
}

int CGI_SetMainPagePost(const char *name)
{
    return set_page(mainPagePost, name);
}

int CGI_GetMainPage(char **name)
{
    if (name == NULL)
        return -1;
    *name = mainPage;
    return 0;
}

int CGI_GetMainPagePost(char **name)
{
    if (name == NULL)
        return -1;
    cgi_lock();
    *name = mainPagePost[0] != '\0' ? mainPagePost : mainPage;
    cgi_unlock();
    return 0;
}

static int copy_locked(char *buf, size_t size, const char *src)
{
    int r;

    if (buf == NULL)
        return -1;
    cgi_lock();
    r = cgi_copy_str(buf, size, src);
    cgi_unlock();
    return r;
}

int cgi_main_page_copy(char *buf, size_t size)
{
    return copy_locked(buf, size, mainPage);
}

int cgi_main_page_post_copy(char *buf, size_t size)
{
    int r;

    if (buf == NULL)
        return -1;
    cgi_lock();
    r = cgi_copy_str(buf, size, mainPagePost[0] != '\0' ? mainPagePost : mainPage);
    cgi_unlock();
    return r;
}

int cgi_root_dir_copy(char *buf, size_t size)
{
    return copy_locked(buf, size, rootDir);
}

/* --------------------------------------------------------------- root */

int CGI_SetRootDir(const char *dir)
{
    char resolved[PATH_MAX];
    struct stat st;

    if (dir == NULL || dir[0] == '\0' || strlen(dir) > CGI_MAX_ROOTDIR_LEN)
        return CGI_INVALID_DIR;
    /* Resolved now, so that the server confines paths to the real place and
     * "/tmp/.." or a link to "/" cannot make the whole disk the root. */
    if (realpath(dir, resolved) == NULL || stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode) ||
        strcmp(resolved, "/") == 0 || strlen(resolved) > CGI_MAX_ROOTDIR_LEN)
        return CGI_INVALID_DIR;
    cgi_lock();
    strcpy(rootDir, resolved);
    atomic_fetch_add_explicit(&root_gen, 1, memory_order_release);
    cgi_unlock();
    return 0;
}

unsigned cgi_root_generation(void)
{
    return atomic_load_explicit(&root_gen, memory_order_acquire);
}

int CGI_GetRootDir(char **dir)
{
    if (dir == NULL)
        return -1;
    *dir = rootDir;
    return 0;
}

int CGI_SetRootDrive(const char driveLetter)
{
    char up = (char)(driveLetter & ~0x20);

    if (up < 'A' || up > 'Z')
        return CGI_INVALID_DIR;
    cgi_lock();
    rootDrive = up;
    cgi_unlock();
    return 0;
}

char CGI_GetRootDrive(void)
{
    char d;

    cgi_lock();
    d = rootDrive;
    cgi_unlock();
    return d;
}
