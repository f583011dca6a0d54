/*
 * cgi.h - chipd: the @CHIP-RTOS Web server's CGI, SSI and server-control
 * API (original names, ORIGINAL-SERVERS.md sections 2-5) on POSIX hosts.
 *
 * An original CGI application includes this header (or CGIAPI.H, CGI.H,
 * clib.h, CLIB.H) and compiles unchanged: `huge`, `far`, `_far`, `_pascal`,
 * `pascal`, `_saveregs` and `_loadds` expand to nothing. The functions live
 * in libchipd (not in libchipssl).
 *
 * CONVENTIONS
 *   The CGI calls return 0 on success and a CGI_* error code (negative,
 *   non-zero as the original documents) on failure; the upload, MIME,
 *   header and error-page calls and the BIOS calls return 0 / -1 as the
 *   original does. The original's numbers for the CGI_* codes were never
 *   published in a place we could read: compare with the names only.
 *   Every pointer argument is checked: a NULL where a value is required is
 *   an error, never a crash.
 *
 * MEMORY POLICY
 *   Nothing is allocated: the CGI table, accounts, SSI tags and settings
 *   live in fixed tables whose sizes are the limits below. CGI_Install,
 *   CGI_SetMainPage(Post), CGI_SetRootDir, CGI_SetCredentials,
 *   CGI_SetSecurePath, SSI_Register_Tag and SSI_Set_File_Filter COPY the
 *   strings they are given. The MIME, content-encoding and headers tables
 *   are NOT copied (as on the original): they must stay valid, unchanged,
 *   while installed and while requests started before their removal run,
 *   in practice: make them static. Strings handed out (CGI_GetMainPage,
 *   CGI_GetRootDir, ...) are the library's, read-only, and keep their
 *   content until the next call that sets the same value.
 *
 * THREADS
 *   Every call may be made from any thread, before, during and after
 *   chipd_start(); one mutex guards the tables. Callbacks (CGI functions,
 *   error pages, the upload callback, SSI handlers, accept filters) run in
 *   the server's threads, never while that mutex is held, so they may call
 *   any function of this header. By default the server runs at most one
 *   callback at a time (as the original's single web task did); a server
 *   setting allows them to run concurrently, and then the callback must
 *   protect its own data. CGI_GetArgument, CGI_GetCookie and CGI_SetCookie
 *   work on the rpCgi block they are given and are only valid inside the
 *   callback that received it.
 */
#ifndef CHIPD_CGI_H
#define CHIPD_CGI_H

#include <stddef.h>
#include <sys/socket.h>

#include "tcpip.h" /* far, huge, API_ERROR, SSL_VERSION_* */

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the calls libchipd exports (built with hidden visibility). The
 * definition is token for token chipd.h's, so that either header may come
 * first without a redefinition warning. */
#ifndef CHIPD_API
#if defined(__GNUC__)
#define CHIPD_API __attribute__((visibility("default")))
#else
#define CHIPD_API
#endif
#endif

/* ------------------------------------------------------------------------
 * 1. Old-source compatibility (far, _far and huge come from tcpip.h)
 * --------------------------------------------------------------------- */
#ifndef _pascal
#define _pascal
#endif
#ifndef pascal
#define pascal
#endif
#ifndef _saveregs
#define _saveregs
#endif
#ifndef _loadds
#define _loadds
#endif

/* ------------------------------------------------------------------------
 * 2. Limits (this implementation's; the original's where it had one)
 * --------------------------------------------------------------------- */
#define CGI_MAX_ENTRIES      256  /* CGI table size                              */
#define CGI_MAX_PATH_LEN     127  /* URL name of an entry, without the NUL       */
#define CGI_MAX_PAGE_LEN     64   /* main page names (original limit)            */
#define CGI_MAX_ROOTDIR_LEN  255  /* root directory (original: 64, too small)    */
#define CGI_MAX_COOKIE_SIZE  1024 /* Set-Cookie strings together; Cookie header  */
#define CGI_MAX_ACCOUNTS     16   /* per account type (upload, secure)           */
#define CGI_MAX_CRED_LEN     19   /* user name and password (original limit)     */
#define CGI_MAX_SECURE_PATHS 16   /* secure path prefixes                        */
#define SSI_MAX_TAGS         16   /* tags per server                             */
#define SSI_DEFAULT_TAGLENGTH 90  /* original default of SSI_Set_TagLength       */
#define SSI_MAX_TAGLENGTH    1024
#define SSI_MAX_SEND_LEN     32767 /* SSI_Send_Buffer len (original limit)       */

/* ------------------------------------------------------------------------
 * 3. Constants
 * --------------------------------------------------------------------- */

/* HTTP methods: CGI_Entry.method and rpCgi.fHttpRequest. */
#define CgiHttpGet  1
#define CgiHttpHead 2
#define CgiHttpPost 3
#define CgiHttpAll  255 /* CGI_Entry.method only: one function for every method */

/* rpCgi.fHttpResponse. The order 0..6 is RomPager's, Beck's ancestor;
 * CgiHttpOKNoDoc is Beck's addition. */
#define CgiHttpOk           0 /* 200 with fResponseBuffer as the body          */
#define CgiHttpOkStatic     1 /* 200, the body may be cached (Last-Modified from
                                 fObjectDate when non-zero)                     */
#define CgiHttpRedirect     2 /* 302, fResponseBufferPtr is the target URL     */
#define CgiHttpNotModified  3 /* 304, no body                                  */
#define CgiHttpUnauthorized 4 /* 401 with a Basic challenge; fResponseBufferPtr
                                 is the realm (NULL: "chipd")                   */
#define CgiHttpNotFound     5 /* 404 (the error page of CGI_Install_Func_OnErr
                                 state 8, if any)                               */
#define CgiHttpIntServerErr 6 /* 500                                            */
#define CgiHttpOKNoDoc      7 /* 204: success, no document                     */

/* rpCgi.fDataType: the Content-Type of a CGI response. Numbers are ours
 * (Beck's were not published); use the names. */
#define CGIDataTypeHtml      0 /* text/html; charset=utf-8                     */
#define CGIDataTypeImageGif  1 /* image/gif                                    */
#define CGIDataTypeApplet    2 /* application/octet-stream (applets are gone)  */
#define CGIDataTypeText      3 /* text/plain; charset=utf-8                    */
#define CGIDataTypeImageJpeg 4 /* image/jpeg                                   */
#define CGIDataTypeImagePict 5 /* image/x-pict                                 */
#define CGIDataTypeImageTiff 6 /* image/tiff                                   */
#define CGIDataTypeImagePng  7 /* image/png                                    */
#define CGIDataTypeForm      8 /* application/x-www-form-urlencoded            */
#define CGIDataTypeCss       9 /* text/css                                     */
#define CGIDataTypeXml      10 /* text/xml                                     */
#define CGIDataTypeWav      11 /* audio/wav                                    */
#define CGIDataTypePdf      12 /* application/pdf                              */
#define CGIDataTypeOctet    13 /* application/octet-stream                     */
#define CGIDataTypeJavaScript 14 /* extension: text/javascript                 */
#define CGIDataTypeJson     15 /* extension: application/json                  */
#define CGIDataTypeSvg      16 /* extension: image/svg+xml                     */
#define CGIDataTypeCount    17 /* number of types; others give octet-stream    */

/* Errors of the CGI table, page and SSI calls (non-zero, as the original). */
#define CGI_NO_FREE_ENTRY   (-1) /* table full                                   */
#define CGI_INVALID_METHOD  (-2) /* method, server, match type or callback bad  */
#define CGI_NOT_FOUND       (-3) /* no such entry, tag or handler               */
#define CGI_INVALID_NAME    (-4) /* name NULL, empty, too long or bad characters */
#define CGI_INVALID_DIR     (-5) /* directory missing, not a directory, or "/"   */

/* CGI_GetArgument results. */
#define CGI_ARGUMENT_ERR_OK    0
#define CGI_ARGUMENT_ERR_NONE  (-1) /* no (more) argument                       */
#define CGI_ARGUMENT_ERR_PARAM (-2) /* extension: a NULL argument                */

/* CGI_SetCookie / CGI_GetCookie results. */
#define CGI_COOKIE_ERR_OK    0
#define CGI_COOKIE_ERR_NONE  (-1) /* no (more) cookie                           */
#define CGI_COOKIE_ERR_SIZE  (-2) /* the Set-Cookie strings would exceed 1024   */
#define CGI_COOKIE_ERR_PARAM (-3) /* no name, bad characters, NULL req          */

/* CGI_Install_Func_OnErr error states (the original's numbers; the names
 * are ours). */
#define CGI_ERR_STATE_UNAUTHORIZED 7  /* 401                                    */
#define CGI_ERR_STATE_NOT_FOUND    8  /* 404                                    */
#define CGI_ERR_STATE_FILE_SYSTEM  10 /* 500: file-system error                 */
#define CGI_ERR_STATE_NO_MEMORY    22 /* 503: out of memory / overloaded        */

/* CGI_SetCredentials account types. */
#define CGI_ACCOUNT_UPLOAD 0
#define CGI_ACCOUNT_SECURE 1

/* SSI. */
#define SSI_MATCH_FILE_NAME 0x01 /* file name, e.g. "table.htm"              */
#define SSI_MATCH_FILE_EXT  0x02 /* extension, e.g. "htm"                    */
#define SSI_MATCH_FILE_PATH 0x03 /* URL path of the file, "/web/ssi/table.htm" */
#define SSI_MATCH_DIR_NAME  0x04 /* name of the file's directory, "ssi"      */
#define SSI_MATCH_DIR_PATH  0x05 /* URL path of the file's directory, "/web/ssi" */
#define SSI_OUTPUT_ENABLE   0x00 /* handler result: keep sending static text */
#define SSI_OUTPUT_DISABLE  0x01 /* ... stop sending static text until a handler
                                    returns SSI_OUTPUT_ENABLE                */
#define SSI_ABORT_PAGE      0x02 /* ... end this file here                   */
#define SSI_SERVER_HTTP     0    /* `server` arguments                       */
#define SSI_SERVER_HTTPS    1

/* Server control. */
typedef enum SERVER_SPEC {
    SS_FTP_SERVER = 0,
    SS_TELNET_SERVER = 1, /* not provided: the calls answer -1             */
    SS_WEB_SERVER = 2,
    SS_SSL_WEB_SERVER = 3,
    SS_SSH_SERVER = 4     /* not provided: the calls answer -1             */
} SERVER_SPEC;

/* ------------------------------------------------------------------------
 * 4. Structures
 * --------------------------------------------------------------------- */

typedef struct rpCgi rpCgi, *rpCgiPtr;

/* A CGI function: fills the response fields of *CgiRequestPtr and returns. */
typedef void (huge _pascal *RpCgiFuncPtr)(rpCgi far *CgiRequestPtr);

/* One CGI table entry. CGI_Install copies it (and the string). */
typedef struct tag_cgi_table {
    const char far *PathPtr; /* URL name, e.g. "emcy" or "/emcy" (the
                                leading '/' is optional), case-insensitive */
    int method;              /* CgiHttpGet, CgiHttpHead, CgiHttpPost, CgiHttpAll */
    RpCgiFuncPtr CgiFuncPtr; /* the function                                */
} CGI_Entry;

/* The deprecated CGI_GetFormItem's output: two buffers the caller owns. */
typedef struct FormItem {
    char far *NamePtr;
    char far *ValuePtr;
} FormItem;

/* The request/response block a CGI function receives. The server zeroes it,
 * then fills the "in" fields; every "in" string is NUL-terminated, lives
 * until the function returns, and is NULL when the request had no such
 * header. The function sets the "out" fields. */
struct rpCgi {
    /* in */
    unsigned long fConnectionId; /* the connection (the SSI conHandle)       */
    int fHttpRequest;            /* CgiHttpGet, CgiHttpHead or CgiHttpPost   */
    char far *fPathPtr;          /* URL path, decoded, without the query;
                                    upload callback: the stored file's path
                                    relative to the root ("/dir/file")     */
    char far *fHostPtr;          /* Host:                                    */
    char far *fRefererPtr;       /* Referer:                                 */
    char far *fAgentPtr;         /* User-Agent:                              */
    char far *fLanguagePtr;      /* Accept-Language:                         */
    unsigned long fBrowserDate;  /* If-Modified-Since: as seconds since
                                    1970 (UTC); 0 when absent or invalid.
                                    (RomPager put Date: here; browsers
                                    send none, so the useful date is used) */
    char far *fArgumentBufferPtr; /* GET/HEAD: the query after '?' (still
                                    encoded); POST: the body (urlencoded
                                    forms). NUL-terminated; CGI_GetArgument
                                    consumes it. "" when empty.            */
    long fArgumentBufferLength;  /* bytes at fArgumentBufferPtr (the body may
                                    hold NUL bytes; CGI_GetArgument stops at
                                    the first)                             */
    char far *fUserNamePtr;      /* HTTP Basic user name, NULL when none     */
    char far *fPasswordPtr;      /* HTTP Basic password, NULL when none      */
    char far *fRemoteIPPtr;      /* the client's address as text
                                    ("192.0.2.7", "2001:db8::1"; an
                                    IPv4-mapped IPv6 peer shows as IPv4)    */
    char far *fCookieHeader;     /* Cookie: as received, NULL if none;
                                    CGI_GetCookie consumes it              */

    /* in, extension: how the request arrived */
    int fIsTlsFlag;              /* 1: over HTTPS (the SSL_WEB_SERVER); 0: HTTP */
    int fTlsVersion;             /* SSL_VERSION_TLS12 or SSL_VERSION_TLS13; 0 */
    int fTlsCipherSuite;         /* IANA number, e.g. 0x1302; 0              */
    const char far *fTlsCipherName; /* IANA name, "" when not TLS            */
    const char far *fTlsClientSubject; /* client certificate subject (RFC
                                    2253), "" when none or not TLS         */

    /* in/out */
    void far *fUserDataPtr;      /* free for the application (NULL on entry) */

    /* out */
    int fResponseState;          /* unused: one buffer per call (as Beck)    */
    int fHttpResponse;           /* CgiHttp*; the server's default, if the
                                    function sets nothing, is CgiHttpNotFound */
    int fDataType;               /* CGIDataType*                             */
    const char far *fResponseBufferPtr; /* body (Redirect: the URL). Must stay
                                    valid after the function returns, until
                                    the next call of the same function:
                                    a static buffer, as on the original    */
    long fResponseBufferLength;  /* body length                              */
    unsigned long fObjectDate;   /* CgiHttpOkStatic: Last-Modified, seconds
                                    since 1970; 0: none                    */
    unsigned int fHostIndex;     /* unused (RomPager)                        */

    /* out, written by CGI_SetCookie: fNumOfSetCookieHeaders strings, each
     * NUL-terminated, one after the other in fSetCookieBuffer; each becomes
     * one Set-Cookie header. */
    char far *fSetCookieHeaders; /* = fSetCookieBuffer once a cookie is set   */
    int fNumOfSetCookieHeaders;
    char fSetCookieBuffer[CGI_MAX_COOKIE_SIZE];
};

/* MIME table: file extension (without the dot, case-insensitive) to
 * Content-Type. Searched before the built-in table. */
typedef struct CUSTOM_MIMETYPES_TABLE {
    const char far *fileExt;   /* "htm", "svg", ...                         */
    const char far *mimeType;  /* "text/html; charset=utf-8", ...           */
} CUSTOM_MIMETYPES_TABLE;

/* Content-Encoding for the MIME table entry of the same index (NULL or
 * "": none), e.g. "gzip" for pre-compressed files. */
typedef struct CUSTOM_CONTENTENCODING_TABLE {
    const char far *contentEncoding;
} CUSTOM_CONTENTENCODING_TABLE;

/* Extra response header lines for the MIME table entry of the same index
 * (NULL or "": none): one or more "Name: value" lines separated by "\r\n"
 * (a trailing "\r\n" is optional), e.g. "Cache-Control: max-age=3600". */
typedef struct CUSTOM_HEADERS_TABLE {
    const char far *headers;
} CUSTOM_HEADERS_TABLE;

/* SSI tag handler: conHandle for SSI_Send_Buffer, tagPtr the tag found.
 * Returns SSI_OUTPUT_ENABLE, SSI_OUTPUT_DISABLE or SSI_ABORT_PAGE; any
 * other value ends the page with an error. */
typedef int (huge far *SSI_Handler)(unsigned long conHandle, const char far *tagPtr);

/* SSI_Get_Connection_Params' output (layout ours; set structVersion to 0). */
typedef struct SSI_Params {
    int structVersion;           /* in: 0                                    */
    int server;                  /* SSI_SERVER_HTTP or SSI_SERVER_HTTPS      */
    int method;                  /* CgiHttpGet, CgiHttpHead or CgiHttpPost   */
    const char far *pathPtr;     /* URL path of the page                      */
    const char far *queryPtr;    /* query after '?' (encoded), "" if none     */
    const char far *remoteIPPtr; /* client address as text                    */
} SSI_Params;

/* Accept filter: the peer address (a struct sockaddr_storage, IPv4 or
 * IPv6). Returns 0 to accept the connection, non-zero to drop it. */
typedef int (huge *CONN_HANDLER)(struct sockaddr far *peer);

/* ------------------------------------------------------------------------
 * 5. CGI table, main pages, root directory
 * --------------------------------------------------------------------- */

/* CGI_Install - add a CGI function for a URL name and method (copied).
 * URL names compare case-insensitively, without a leading '/'. An entry
 * with the same name and method replaces the old one (its function); the
 * same name may have one entry per method plus a CgiHttpAll entry, and a
 * request uses the entry of its own method first, then CgiHttpAll. HEAD
 * uses a GET entry when it has none (the server sends no body).
 * Name: 1..CGI_MAX_PATH_LEN characters after the '/', printable, no
 * '?', '#' or space. Returns 0, CGI_INVALID_NAME (NULL entry, bad name),
 * CGI_INVALID_METHOD (bad method or NULL function), CGI_NO_FREE_ENTRY. */
CHIPD_API int CGI_Install(const CGI_Entry far *cgiptr);

/* CGI_Delete - remove every entry (all methods) of this URL name. Returns
 * 0, CGI_NOT_FOUND (none, or NULL). A request already running its function
 * completes. Nothing is pre-installed (no main.htm or ChipCfg entries:
 * CVE-2001-1341), so there is nothing built-in to delete. */
CHIPD_API int CGI_Delete(const char far *PathPtr);

/* CGI_SetMainPage / CGI_SetMainPagePost - the file (relative to the root)
 * served for "/" (GET/HEAD) and for a POST to "/". 1..64 characters, no
 * leading '/', no ".." component, no control characters; else
 * CGI_INVALID_NAME. Defaults: "main.htm"; the POST main page defaults to
 * the GET main page (CGI_GetMainPagePost then gives that). Returns 0. */
CHIPD_API int CGI_SetMainPage(const char far *name);
CHIPD_API int CGI_SetMainPagePost(const char far *name);

/* CGI_GetMainPage / CGI_GetMainPagePost - *name = the current name (the
 * library's string, see MEMORY POLICY). Returns 0, or -1 for a NULL name. */
CHIPD_API int CGI_GetMainPage(char far **name);
CHIPD_API int CGI_GetMainPagePost(char far **name);

/* CGI_SetRootDir - the directory static files are served from. It must
 * exist and be a directory; it is stored as its absolute path with every
 * symbolic link resolved (a relative name is taken from the current
 * directory), and may not resolve to "/" (CVE-2001-0749). At most
 * CGI_MAX_ROOTDIR_LEN characters, given and resolved. Returns 0 or
 * CGI_INVALID_DIR (also for NULL or ""). */
CHIPD_API int CGI_SetRootDir(const char far *dir);

/* CGI_GetRootDir - *dir = the resolved root, "" while none is set (the
 * server then refuses to serve files). Returns 0, or -1 for a NULL dir. */
CHIPD_API int CGI_GetRootDir(char far **dir);

/* CGI_SetRootDrive / CGI_GetRootDrive - Linux has no drive letters: the
 * letter (A-Z, either case) is stored and returned (upper case, default
 * 'A') and changes nothing. Returns 0 or CGI_INVALID_DIR (not a letter). */
CHIPD_API int CGI_SetRootDrive(const char driveLetter);
CHIPD_API char CGI_GetRootDrive(void);

/* ------------------------------------------------------------------------
 * 6. Arguments, URL encoding
 * --------------------------------------------------------------------- */

/* CGI_GetArgument - the next "name=value" of req->fArgumentBufferPtr
 * (pairs separated by '&'; at most fArgumentBufferLength bytes, up to the
 * first NUL). Writes NULs into the buffer, decodes name and value in place
 * ('+' is a space, %XX a byte; a '%' not followed by two hex digits stays
 * as it is), sets *name and *value into the buffer and moves
 * fArgumentBufferPtr/-Length past the pair. A pair without '=' has the
 * value "". Empty pairs ("&&") are skipped. Returns CGI_ARGUMENT_ERR_OK,
 * CGI_ARGUMENT_ERR_NONE when nothing is left, CGI_ARGUMENT_ERR_PARAM for a
 * NULL argument. */
CHIPD_API int CGI_GetArgument(char far **name, char far **value, rpCgiPtr req);

/* CGI_UrlEncode - writes src encoded into dst: [0-9A-Za-z_.-] stay, a space
 * becomes '+', every other byte %XX (upper-case hex). dst needs
 * 3 * strlen(src) + 1 bytes (no size: the original's prototype). NULL
 * dst or src: nothing happens. */
CHIPD_API void CGI_UrlEncode(char *dst, const char far *src);

/* CGI_UrlEncode_Ext (extension) - the same with dst's size: returns the
 * length written (without the NUL), or -1 when dst is too small (dst then
 * holds "" when dstSize > 0) or a pointer is NULL. */
CHIPD_API int CGI_UrlEncode_Ext(char *dst, size_t dstSize, const char far *src);

/* CGI_UrlDecode - writes src decoded ('+' space, %XX; a bad '%' sequence is
 * copied as it is) into dst, NUL-terminated. dst may equal src (the result
 * is never longer). NULL dst or src: nothing happens. */
CHIPD_API void CGI_UrlDecode(char far *dst, const char far *src);

/* CGI_GetFormItem (deprecated) - copies the first "name=value" of argbuf
 * (up to '&' or the end) decoded into fi->NamePtr and fi->ValuePtr, buffers
 * of the caller that must hold the item's length + 1. The buffer is not
 * changed. NULL pointers: nothing happens. */
CHIPD_API void CGI_GetFormItem(const char far *argbuf, FormItem far *fi);

/* CGI_GetNextItem (deprecated) - *next = the item after the first '&' of
 * argbuf. Returns 0, or -1 when there is none (or a NULL pointer; *next
 * then NULL when next is not NULL). The buffer is not changed. */
CHIPD_API int CGI_GetNextItem(char far *argbuf, char far **next);

/* ------------------------------------------------------------------------
 * 7. Cookies
 * --------------------------------------------------------------------- */

/* CGI_SetCookie - adds one Set-Cookie string to the response of req:
 * "name=value[; Expires=<date>; Max-Age=<s>][; Domain=d][; Path=p][; Secure]".
 * expires: seconds from now (NULL: a session cookie). An empty or NULL
 * value deletes the cookie (Expires in 1970, Max-Age=0). Name: an HTTP
 * token; value, domain and path: printable, no ';', ',', '"', '\' or
 * space; else CGI_COOKIE_ERR_PARAM (also NULL req or name). All strings of
 * this response together (with their NULs) at most CGI_MAX_COOKIE_SIZE,
 * else CGI_COOKIE_ERR_SIZE and nothing is added. Returns CGI_COOKIE_ERR_OK.
 * The strings live in req->fSetCookieBuffer (per request, not a static
 * buffer as on the original, so concurrent requests do not mix). */
CHIPD_API int CGI_SetCookie(const char far *name, const char far *value,
                            const char far *domain, const unsigned long far *expires,
                            const char far *path, const int secure, rpCgiPtr req);

/* CGI_GetCookie - the next cookie of req->fCookieHeader ("a=1; b=2", RFC
 * 6265; RFC 2965's "$Version", "$Path", "$Domain" and "$Port" attributes
 * are returned with the cookie they belong to: $Version with the cookie
 * that follows it, the others with the cookie before them). Parses the
 * header in place (writes NULs, strips double quotes) and moves
 * fCookieHeader forward. Optional outputs (domain, path, port, version) may
 * be NULL and are set to NULL when absent. A header longer than
 * CGI_MAX_COOKIE_SIZE is not parsed (CGI_COOKIE_ERR_SIZE). Returns
 * CGI_COOKIE_ERR_OK, CGI_COOKIE_ERR_NONE when done, CGI_COOKIE_ERR_PARAM for
 * a NULL req, name or value. */
CHIPD_API int CGI_GetCookie(char far **name, char far **value, char far **domain,
                            char far **path, char far **port, char far **version,
                            rpCgiPtr req);

/* ------------------------------------------------------------------------
 * 8. Error pages, upload, MIME and header tables, accounts
 * --------------------------------------------------------------------- */

/* CGI_Install_Func_OnErr - a CGI-style function (an RpCgiFuncPtr given as
 * void *, as the original) that makes the page of an HTTP error: states
 * CGI_ERR_STATE_UNAUTHORIZED 7 (401), _NOT_FOUND 8 (404), _FILE_SYSTEM 10
 * (500), _NO_MEMORY 22 (503). It gets the request's rpCgi; if it sets
 * CgiHttpOk (or nothing) its buffer becomes the body, with the error's
 * status. NULL removes it. Returns 0, or -1 for another state. */
CHIPD_API int CGI_Install_Func_OnErr(unsigned int error_state, void far *func);

/* CGI_Enable_Upload - 1: the server accepts multipart/form-data uploads
 * (behind an upload account, into the root); 0: it refuses them (default).
 * Returns 0. */
CHIPD_API int CGI_Enable_Upload(int enable);

/* CGI_Install_Func_OnUpload - a CGI-style function (RpCgiFuncPtr as void *)
 * called after each successful upload, fPathPtr = the stored file's path
 * relative to the root. NULL removes it. Returns 0. */
CHIPD_API int CGI_Install_Func_OnUpload(void far *func);

/* CGI_Install_MIME_Table - the application's MIME table (NOT copied, see
 * MEMORY POLICY), searched before the built-in one. Replaces a previous
 * table; the content-encoding and headers tables are removed with it
 * when their size no longer matches. entries 1..4096, every fileExt and
 * mimeType non-NULL and non-empty, mimeType without CR or LF. Returns 0 /
 * -1. */
CHIPD_API int CGI_Install_MIME_Table(unsigned int entries, CUSTOM_MIMETYPES_TABLE far *t);

/* CGI_Remove_MIME_Table - back to the built-in table only; removes the
 * content-encoding and headers tables too. Returns 0, -1 if none. */
CHIPD_API int CGI_Remove_MIME_Table(void);

/* CGI_Install_ContentEncoding_Table / CGI_Install_Headers_Table - one row
 * per entry of the installed MIME table (NOT copied): entries must equal
 * its size. Header lines must have the form "Name: value" (token name) and
 * contain no bare CR or LF (no response splitting). Returns 0 / -1 (no MIME
 * table, size differs, NULL t, a bad row). */
CHIPD_API int CGI_Install_ContentEncoding_Table(unsigned int entries,
                                                CUSTOM_CONTENTENCODING_TABLE far *t);
CHIPD_API int CGI_Remove_ContentEncoding_Table(void);
CHIPD_API int CGI_Install_Headers_Table(unsigned int entries, CUSTOM_HEADERS_TABLE far *t);
CHIPD_API int CGI_Remove_Headers_Table(void);

/* CGI_SetCredentials - sets account accIdx (0..CGI_MAX_ACCOUNTS-1) of type
 * accType (CGI_ACCOUNT_UPLOAD 0: may upload; CGI_ACCOUNT_SECURE 1: may open
 * the secure path prefixes) to user/pass (1..19 characters each, printable,
 * no ':' in the user). user NULL or "" removes the account. In memory only
 * (the server's configuration sets the initial accounts). There is no
 * default account: without one, uploads and secure paths are refused to
 * everyone. Returns 0 / -1. */
CHIPD_API int CGI_SetCredentials(const char far *user, const char far *pass, int accType,
                                 int accIdx);

/* CGI_SetSecurePath (extension) - makes a URL path prefix secure: a request
 * for it, or below it (the next character is '/' or the end), needs a
 * secure account's user and password. Compared case-insensitively (CGI
 * names are), so "/Secure/x" cannot slip past "/secure". prefix begins with
 * '/', 2..CGI_MAX_PATH_LEN characters; a trailing '/' is ignored; adding
 * one twice is harmless. Returns 0 / -1 (bad, or CGI_MAX_SECURE_PATHS
 * reached). */
CHIPD_API int CGI_SetSecurePath(const char far *prefix);

/* CGI_ClearSecurePaths (extension) - no secure prefix any more. Returns 0. */
CHIPD_API int CGI_ClearSecurePaths(void);

/* ------------------------------------------------------------------------
 * 9. SSI. `server`: SSI_SERVER_HTTP 0 or SSI_SERVER_HTTPS 1.
 * --------------------------------------------------------------------- */

/* SSI_Set_File_Filter - which files the server parses for tags (one filter
 * per server; a new one replaces it; none: no SSI). Matches compare
 * case-insensitively against the URL path. match: 1..CGI_MAX_PATH_LEN
 * characters. Returns 0, CGI_INVALID_NAME, CGI_INVALID_METHOD (bad
 * matchType or server). */
CHIPD_API int SSI_Set_File_Filter(const char far *match, int matchType, int server);

/* SSI_Register_Tag - calls h whenever the exact text tag appears in a
 * filtered file of that server. Up to SSI_MAX_TAGS per server; the same
 * tag again replaces its handler. tag: 1..tag length (SSI_Set_TagLength)
 * characters. Returns 0, CGI_INVALID_NAME, CGI_INVALID_METHOD (bad server,
 * NULL handler), CGI_NO_FREE_ENTRY. */
CHIPD_API int SSI_Register_Tag(const char far *tag, SSI_Handler h, int server);

/* SSI_Deregister_Tag - removes every tag of that server whose handler is h.
 * Returns 0, CGI_NOT_FOUND, CGI_INVALID_METHOD (bad server). */
CHIPD_API int SSI_Deregister_Tag(SSI_Handler h, int server);

/* SSI_Set_TagLength - the longest tag the parser looks for, 1..
 * SSI_MAX_TAGLENGTH (default 90). Tags already registered that are longer
 * stay registered but are no longer found. Returns 0 / -1. */
CHIPD_API int SSI_Set_TagLength(int len);

/* SSI_Send_Buffer - from inside an SSI handler: inserts len bytes of buf
 * into the page being sent, at the tag's place. len 0..32767; flag 1 (0 is
 * accepted too). Returns 0, or -1 (conHandle not that of a page being
 * built, NULL buf with len > 0, len out of range, connection failed). */
CHIPD_API int SSI_Send_Buffer(unsigned long conHandle, const char far *buf, int len, int flag);

/* SSI_Get_Connection_Params - describes the connection of conHandle; the
 * strings are valid during the handler. p->structVersion must be 0.
 * Returns 0 / -1. */
CHIPD_API int SSI_Get_Connection_Params(unsigned long conHandle, SSI_Params far *p);

/* ------------------------------------------------------------------------
 * 10. Server control (the BIOS calls). which: SS_FTP_SERVER,
 *     SS_WEB_SERVER, SS_SSL_WEB_SERVER; Telnet and SSH do not exist here.
 * --------------------------------------------------------------------- */

/* BIOS_Server_On_Off - activate 0: resume (serve), 1: suspend (the Web
 * server closes its listening socket, so connects are refused; open
 * connections go on; resuming listens on the same port again). As on the
 * original, a server left off by the configuration can be resumed (its
 * listener is then opened). Returns 0, 1 (already in that state), -1 (bad
 * which or activate). */
CHIPD_API int BIOS_Server_On_Off(SERVER_SPEC which, unsigned int activate);

/* BIOS_Server_State - 0 enabled, 1 suspended (or off), -1 bad which. */
CHIPD_API int BIOS_Server_State(SERVER_SPEC which);

/* BIOS_Connection_Handler - an accept filter for the server: called in a
 * server thread with each new peer's address before anything is read
 * (before the TLS handshake). Returns non-zero to drop the connection.
 * NULL removes it. Returns 0 / -1 (bad which). */
CHIPD_API int BIOS_Connection_Handler(CONN_HANDLER h, SERVER_SPEC which);

/* ------------------------------------------------------------------------
 * 11. The FTP server's calls (the original's TCP/IP API, SWI 0xAC 0x65 and
 *     0x79).
 * --------------------------------------------------------------------- */

/* Get_FTP_Login_Counters - *count and *failCount point at the counters of
 * successful and failed FTP logins (since the process started; they keep
 * counting across chipd_stop/chipd_start). Read them as they are; they
 * change while the server runs. Returns 0. */
CHIPD_API int Get_FTP_Login_Counters(unsigned long **count, unsigned long **failCount);

/* Set_FTPServer_Idle_Timeout - writes seconds (1..86400) as [FTP] TIMEOUT
 * into the configuration file chipd was started with; as on the original
 * it takes effect at the next start. Returns 0, or -1 (out of range, or the
 * file could not be written). */
CHIPD_API int Set_FTPServer_Idle_Timeout(unsigned int seconds);

/* Get_FTPServer_Idle_Timeout - the running FTP server's idle timeout in
 * seconds, 0xFFFF when no FTP server runs. */
CHIPD_API unsigned int Get_FTPServer_Idle_Timeout(void);

#ifdef __cplusplus
}
#endif

#endif /* CHIPD_CGI_H */
