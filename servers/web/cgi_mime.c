/*
 * cgi_mime.c - the MIME, content-encoding and headers tables of the
 * application (not copied, as on the original), the built-in MIME table,
 * and the Content-Type of a CGI response's data type.
 */
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "cgi_internal.h"
#include "cgi_server.h"

#define MIME_MAX_ENTRIES 4096u
#define OCTET "application/octet-stream"

/* What browsers need for a web root today; text types carry the charset so
 * that a page without <meta charset> is not guessed at. */
static const CUSTOM_MIMETYPES_TABLE builtin[] = {
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"shtml", "text/html; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"xml", "text/xml; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"png", "image/png"},
    {"gif", "image/gif"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"svg", "image/svg+xml"},
    {"ico", "image/x-icon"},
    {"webp", "image/webp"},
    {"bmp", "image/bmp"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"pdf", "application/pdf"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
    {"wasm", "application/wasm"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"wav", "audio/wav"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"bin", OCTET},
    {"pem", "application/x-pem-file"},
    {"crt", "application/x-x509-ca-cert"},
    {"der", "application/x-x509-ca-cert"},
};

static const char *const datatypes[CGIDataTypeCount] = {
    [CGIDataTypeHtml] = "text/html; charset=utf-8",
    [CGIDataTypeImageGif] = "image/gif",
    [CGIDataTypeApplet] = OCTET,
    [CGIDataTypeText] = "text/plain; charset=utf-8",
    [CGIDataTypeImageJpeg] = "image/jpeg",
    [CGIDataTypeImagePict] = "image/x-pict",
    [CGIDataTypeImageTiff] = "image/tiff",
    [CGIDataTypeImagePng] = "image/png",
    [CGIDataTypeForm] = "application/x-www-form-urlencoded",
    [CGIDataTypeCss] = "text/css; charset=utf-8",
    [CGIDataTypeXml] = "text/xml; charset=utf-8",
    [CGIDataTypeWav] = "audio/wav",
    [CGIDataTypePdf] = "application/pdf",
    [CGIDataTypeOctet] = OCTET,
    [CGIDataTypeJavaScript] = "text/javascript; charset=utf-8",
    [CGIDataTypeJson] = "application/json",
    [CGIDataTypeSvg] = "image/svg+xml",
};

static const CUSTOM_MIMETYPES_TABLE *mimeTable;
static unsigned mimeEntries;
/* 1 while an application table is installed (written under cgi_lock): a
 * lookup without one takes no lock. */
static atomic_int mimeInstalled;
static const CUSTOM_CONTENTENCODING_TABLE *encTable;
static const CUSTOM_HEADERS_TABLE *hdrTable;

void cgi_mime_reset(void)
{
    mimeTable = NULL;
    mimeEntries = 0;
    encTable = NULL;
    hdrTable = NULL;
    atomic_store(&mimeInstalled, 0);
}

const char *cgi_datatype_mime(int dataType)
{
    if (dataType < 0 || dataType >= CGIDataTypeCount)
        return OCTET;
    return datatypes[dataType];
}

static int no_crlf(const char *s)
{
    return strpbrk(s, "\r\n") == NULL;
}

int CGI_Install_MIME_Table(unsigned int entries, CUSTOM_MIMETYPES_TABLE *t)
{
    unsigned i;

    if (t == NULL || entries == 0 || entries > MIME_MAX_ENTRIES)
        return -1;
    for (i = 0; i < entries; i++)
        if (t[i].fileExt == NULL || t[i].fileExt[0] == '\0' || t[i].mimeType == NULL ||
            t[i].mimeType[0] == '\0' || !no_crlf(t[i].mimeType) || !cgi_printable(t[i].fileExt, 0))
            return -1;
    cgi_lock();
    /* The other two tables are parallel to this one: a new size breaks
     * the row correspondence, so they go. */
    if (entries != mimeEntries) {
        encTable = NULL;
        hdrTable = NULL;
    }
    mimeTable = t;
    mimeEntries = entries;
    atomic_store_explicit(&mimeInstalled, 1, memory_order_release);
    cgi_unlock();
    return 0;
}

int CGI_Remove_MIME_Table(void)
{
    int r;

    cgi_lock();
    r = mimeTable != NULL ? 0 : -1;
    cgi_mime_reset();
    cgi_unlock();
    return r;
}

/* The row count a parallel table must have (0: no MIME table). Checked
 * before the rows are read, so that a wrong count never makes us read
 * past the caller's table. */
static unsigned mime_entries(void)
{
    unsigned n;

    cgi_lock();
    n = mimeTable != NULL ? mimeEntries : 0;
    cgi_unlock();
    return n;
}

int CGI_Install_ContentEncoding_Table(unsigned int entries, CUSTOM_CONTENTENCODING_TABLE *t)
{
    unsigned i;
    int r = -1;

    if (t == NULL || entries == 0 || entries != mime_entries())
        return -1;
    for (i = 0; i < entries; i++)
        if (t[i].contentEncoding != NULL && !cgi_printable(t[i].contentEncoding, 0))
            return -1;
    cgi_lock();
    if (mimeTable != NULL && entries == mimeEntries) {
        encTable = t;
        r = 0;
    }
    cgi_unlock();
    return r;
}

int CGI_Remove_ContentEncoding_Table(void)
{
    int r;

    cgi_lock();
    r = encTable != NULL ? 0 : -1;
    encTable = NULL;
    cgi_unlock();
    return r;
}

/* "Name: value" lines joined by CRLF: every line a token, ':' and text,
 * no bare CR or LF, so a row can never end the header block early. */
static int header_lines_ok(const char *s)
{
    while (*s != '\0') {
        size_t n = strcspn(s, "\r\n"), name = strcspn(s, ":");
        size_t i;
        if (name == 0 || name >= n)
            return 0;
        for (i = 0; i < name; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c <= 0x20 || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c) != NULL)
                return 0;
        }
        for (i = name + 1; i < n; i++)
            if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
                return 0;
        s += n;
        if (s[0] == '\r' && s[1] == '\n')
            s += 2;
        else if (s[0] != '\0')
            return 0;
    }
    return 1;
}

int CGI_Install_Headers_Table(unsigned int entries, CUSTOM_HEADERS_TABLE *t)
{
    unsigned i;
    int r = -1;

    if (t == NULL || entries == 0 || entries != mime_entries())
        return -1;
    for (i = 0; i < entries; i++)
        if (t[i].headers != NULL && !header_lines_ok(t[i].headers))
            return -1;
    cgi_lock();
    if (mimeTable != NULL && entries == mimeEntries) {
        hdrTable = t;
        r = 0;
    }
    cgi_unlock();
    return r;
}

int CGI_Remove_Headers_Table(void)
{
    int r;

    cgi_lock();
    r = hdrTable != NULL ? 0 : -1;
    hdrTable = NULL;
    cgi_unlock();
    return r;
}

void cgi_mime_lookup(const char *path, struct cgi_mime_info *out)
{
    const char *base, *dot;
    size_t i;

    if (out == NULL)
        return;
    out->type = OCTET;
    out->encoding = NULL;
    out->headers = NULL;
    if (path == NULL)
        return;
    base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    dot = strrchr(base, '.');
    if (dot == NULL || dot[1] == '\0')
        return;
    dot++;
    if (atomic_load_explicit(&mimeInstalled, memory_order_acquire)) {
        cgi_lock();
        for (i = 0; i < mimeEntries; i++)
            if (strcasecmp(mimeTable[i].fileExt, dot) == 0) {
                out->type = mimeTable[i].mimeType;
                if (encTable != NULL && encTable[i].contentEncoding != NULL &&
                    encTable[i].contentEncoding[0] != '\0')
                    out->encoding = encTable[i].contentEncoding;
                if (hdrTable != NULL && hdrTable[i].headers != NULL &&
                    hdrTable[i].headers[0] != '\0')
                    out->headers = hdrTable[i].headers;
                cgi_unlock();
                return;
            }
        cgi_unlock();
    }
    for (i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
        if (strcasecmp(builtin[i].fileExt, dot) == 0) {
            out->type = builtin[i].mimeType;
            return;
        }
}
