/*
 * test_cgi_original_app.c - a CGI application in the style of the
 * @CHIP-RTOS originals (written from ORIGINAL-SERVERS.md 2.1-2.3, 3, 4
 * and 5, NOT edited for chipd): only clib.h, `huge _pascal` and
 * `_saveregs` callbacks, `far` pointers, static response buffers,
 * CGI_GetArgument loops, cookies, an error page, SSI and an accept filter.
 * test_cgi_original.c installs it and calls the callbacks by hand.
 * (Nothing else in this file is test scaffolding.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clib.h"

static char far pageBuffer[1024];
static int far ledState;

/* GET /status: a small text page */
static void huge _pascal StatusFunc(rpCgiPtr CgiRequest)
{
    sprintf(pageBuffer, "led=%d host=%s ip=%s", ledState,
            CgiRequest->fHostPtr ? CgiRequest->fHostPtr : "?", CgiRequest->fRemoteIPPtr);
    CgiRequest->fHttpResponse = CgiHttpOk;
    CgiRequest->fDataType = CGIDataTypeText;
    CgiRequest->fResponseBufferPtr = pageBuffer;
    CgiRequest->fResponseBufferLength = strlen(pageBuffer);
}

/* POST /setled: the form "led=1&note=..." then back to the main page */
static void huge _pascal _saveregs SetLedFunc(rpCgiPtr CgiRequest)
{
    char far *name, far *value;

    while (CGI_GetArgument(&name, &value, CgiRequest) == CGI_ARGUMENT_ERR_OK) {
        if (strcmp(name, "led") == 0)
            ledState = (value[0] == '1');
    }
    CgiRequest->fHttpResponse = CgiHttpRedirect;
    CgiRequest->fResponseBufferPtr = "/main.htm";
    CgiRequest->fResponseBufferLength = strlen("/main.htm");
}

/* any method on /session: counts visits in a cookie */
static void huge _pascal SessionFunc(rpCgiPtr CgiRequest)
{
    char far *name, far *value;
    unsigned long expires = 3600;
    int visits = 0;

    while (CGI_GetCookie(&name, &value, NULL, NULL, NULL, NULL, CgiRequest) ==
           CGI_COOKIE_ERR_OK) {
        if (strcmp(name, "visits") == 0)
            visits = atoi(value);
    }
    sprintf(pageBuffer, "%d", visits + 1);
    CGI_SetCookie("visits", pageBuffer, NULL, &expires, "/", 0, CgiRequest);
    sprintf(pageBuffer, "<html><body>visit %d</body></html>", visits + 1);
    CgiRequest->fHttpResponse = CgiHttpOk;
    CgiRequest->fDataType = CGIDataTypeHtml;
    CgiRequest->fResponseBufferPtr = pageBuffer;
    CgiRequest->fResponseBufferLength = strlen(pageBuffer);
}

/* GET /clear: success, no document */
static void huge _pascal ClearFunc(rpCgiPtr CgiRequest)
{
    ledState = 0;
    CgiRequest->fHttpResponse = CgiHttpOKNoDoc;
}

/* GET /led?state=on|off: only for the user "admin" (password "chip") */
static void huge _pascal LedFunc(rpCgiPtr CgiRequest)
{
    char far *name, far *value;

    if (CgiRequest->fUserNamePtr == NULL || strcmp(CgiRequest->fUserNamePtr, "admin") != 0 ||
        strcmp(CgiRequest->fPasswordPtr, "chip") != 0) {
        CgiRequest->fHttpResponse = CgiHttpUnauthorized;
        CgiRequest->fResponseBufferPtr = "LED control";
        return;
    }
    while (CGI_GetArgument(&name, &value, CgiRequest) == CGI_ARGUMENT_ERR_OK) {
        if (strcmp(name, "state") == 0)
            ledState = (strcmp(value, "on") == 0);
    }
    sprintf(pageBuffer, "led %s", ledState ? "on" : "off");
    CgiRequest->fHttpResponse = CgiHttpOk;
    CgiRequest->fDataType = CGIDataTypeText;
    CgiRequest->fResponseBufferPtr = pageBuffer;
    CgiRequest->fResponseBufferLength = strlen(pageBuffer);
}

/* the 404 page */
static void huge _pascal NotFoundFunc(rpCgiPtr CgiRequest)
{
    static char far msg[] = "<html><body>No such page on this @CHIP</body></html>";

    CgiRequest->fHttpResponse = CgiHttpOk;
    CgiRequest->fDataType = CGIDataTypeHtml;
    CgiRequest->fResponseBufferPtr = msg;
    CgiRequest->fResponseBufferLength = sizeof(msg) - 1;
}

static int huge far LedTag(unsigned long conHandle, const char far *tagPtr)
{
    char far text[8];

    (void)tagPtr;
    sprintf(text, "%s", ledState ? "on" : "off");
    SSI_Send_Buffer(conHandle, text, strlen(text), 1);
    return SSI_OUTPUT_ENABLE;
}

/* only the local network may connect */
static int huge OnlyLocal(struct sockaddr far *addr)
{
    if (addr->sa_family == AF_INET) {
        struct sockaddr_in far *in = (struct sockaddr_in far *)addr;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127 ? 0 : 1;
    }
    return 1;
}

static CGI_Entry far cgiTable[] = {
    { "status",  CgiHttpGet,  StatusFunc  },
    { "setled",  CgiHttpPost, SetLedFunc  },
    { "session", CgiHttpAll,  SessionFunc },
    { "clear",   CgiHttpGet,  ClearFunc   },
    { "led",     CgiHttpGet,  LedFunc     },
};

/* Returns 0 when everything was installed. */
int far InstallCgiApp(void)
{
    CGI_Entry entry;
    unsigned int i;
    int result = 0;

    for (i = 0; i < sizeof(cgiTable) / sizeof(cgiTable[0]); i++) {
        /* CGI_Install copies: a temporary entry is enough */
        entry = cgiTable[i];
        if (CGI_Install(&entry) != 0)
            result = -1;
    }
    if (CGI_SetMainPage("main.htm") != 0)
        result = -1;
    if (CGI_Install_Func_OnErr(8, (void far *)NotFoundFunc) != 0)
        result = -1;
    if (SSI_Register_Tag("<!--#led-->", LedTag, 0) != 0 ||
        SSI_Register_Tag("<!--#led-->", LedTag, 1) != 0 ||
        SSI_Set_File_Filter("htm", SSI_MATCH_FILE_EXT, 0) != 0)
        result = -1;
    if (BIOS_Connection_Handler(OnlyLocal, SS_WEB_SERVER) != 0)
        result = -1;
    if (CGI_Enable_Upload(1) != 0)
        result = -1;
    return result;
}
