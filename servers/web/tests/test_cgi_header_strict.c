/*
 * test_cgi_header_strict.c - built, never run: cgi.h compiles alone with
 * -Wall -Wextra -Wwrite-strings -Werror, and string literals go to every
 * read-only input (CGI_Entry.PathPtr, fResponseBufferPtr, the tables) with
 * no cast. The build fails if one of them loses its const.
 */
#include "cgi.h"

static void huge _pascal _saveregs _loadds page(rpCgi far *r)
{
    r->fHttpResponse = CgiHttpOk;
    r->fDataType = CGIDataTypeText;
    r->fResponseBufferPtr = "literal";
    r->fResponseBufferLength = 7;
}

static CUSTOM_MIMETYPES_TABLE mimes[] = {{"dat", "application/x-data"}};
static CUSTOM_CONTENTENCODING_TABLE encs[] = {{"gzip"}};
static CUSTOM_HEADERS_TABLE hdrs[] = {{"Cache-Control: no-store"}};

int cgi_header_strict(void);
int cgi_header_strict(void)
{
    static const CGI_Entry e = {"page", CgiHttpAll, page};
    static const unsigned long hour = 3600;
    char buf[32];

    CGI_UrlEncode(buf, "a b");
    CGI_UrlDecode(buf, "a+b");
    return CGI_Install(&e) | CGI_Delete("page") | CGI_SetMainPage("main.htm") |
           CGI_SetMainPagePost("post.htm") | CGI_SetRootDir("/srv/www") |
           CGI_Install_MIME_Table(1, mimes) | CGI_Install_ContentEncoding_Table(1, encs) |
           CGI_Install_Headers_Table(1, hdrs) | CGI_SetCredentials("u", "p", 0, 0) |
           CGI_SetSecurePath("/secure") | SSI_Set_File_Filter("htm", SSI_MATCH_FILE_EXT, 0) |
           CGI_SetCookie("n", "v", "example.org", &hour, "/", 1, NULL);
}
