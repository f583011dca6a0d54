/*
 * test_compile_original.c - an @CHIP-RTOS application written for the
 * SC1x3/SC2x, NOT edited for chipssl: it includes the RTOS headers by their
 * original names, uses far/huge pointers, the RTOS socket calls with their
 * RTOS argument lists, SetSocketOption blocks and the original session
 * version mask 3 (SSL 3.0 + TLS 1.0). API.md 7: "An unmodified original
 * application source that uses these calls must compile with no error".
 *
 * It is an HTTPS client task: OriginalApp() fetches "/" from 127.0.0.1:port
 * and checks the page. test_compile_original_main.c runs it against a
 * chipssl server thread. (Nothing else in this file is test scaffolding.)
 */
#include <stdio.h>
#include <string.h>
#include "clib.h"
#include "TCPIP.H"

#define ROOTCA_ID    "RootCA"
#define SERVER_NAME  "localhost"
#define HTTP_REQUEST "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"

static char far rxBuffer[1024];

static int far SetIntOption(int sd, int name, int value, int far *errorPtr)
{
    SetSocketOption sockOpt;

    sockOpt.protocol_level = IP_PROTOTCP_LEVEL;
    sockOpt.optionName     = name;
    sockOpt.optionValue    = (const char far *)&value;
    sockOpt.optionLength   = sizeof(value);
    return setsockopt(sd, &sockOpt, errorPtr);
}

/* Returns 0 when the page was read and looked right. */
int far OriginalApp(char far *caFileName, unsigned short port)
{
    PKI_CERT_ADD_Entry    certEntry;
    SSL_SESSION_NEW_Entry sessEntry;
    struct sockaddr_in    addr;
    char                  addrText[20];
    char huge            *bodyPtr;
    int                   error;
    int                   sessionID;
    int                   sd;
    int                   result;
    int                   received;
    int                   ok;

    /* the root CA that signed the server */
    certEntry.fileNamePtr = caFileName;
    certEntry.fileFormat  = PKI_FMT_PEM;
    certEntry.certType    = PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA;
    certEntry.idPtr       = ROOTCA_ID;
    certEntry.idLength    = strlen(ROOTCA_ID);
    certEntry.caIdPtr     = NULL;
    if (PKI_CertificateAdd(&certEntry, &error) == API_ERROR)
    {
        printf("PKI_CertificateAdd failed, error %d\r\n", error);
        return -1;
    }

    sessEntry.certIdentity = NULL;
    sessEntry.maxCaches    = 1;
    sessEntry.version      = 3;     /* SSL 3.0 and TLS 1.0 */
    sessionID = SSL_SessionNew(&sessEntry, &error);
    if (sessionID == API_ERROR)
    {
        printf("SSL_SessionNew failed, error %d\r\n", error);
        return -1;
    }

    sd = opensocket(SOCK_STREAM, &error);
    if (sd == API_ERROR)
    {
        printf("opensocket failed, error %d\r\n", error);
        return -1;
    }
    if (SetIntOption(sd, TCP_SSL_CLIENT, 1, &error) == API_ERROR ||
        SetIntOption(sd, TCP_SSLSESSION, sessionID, &error) == API_ERROR)
    {
        printf("setsockopt failed, error %d\r\n", error);
        closesocket(sd, &error);
        return -1;
    }

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = PF_INET;
    addr.sin_port   = htons(port);
    if (inet_addr("127.0.0.1", &addr.sin_addr.s_addr) != 0)
    {
        printf("inet_addr failed\r\n");
        return -1;
    }
    InetToAscii(&addr.sin_addr.s_addr, addrText);
    printf("connecting to %s:%u\r\n", addrText, port);
    if (connect(sd, (const struct sockaddr far *)&addr, &error) == API_ERROR)
    {
        printf("connect failed, error %d\r\n", error);
        closesocket(sd, &error);
        return -1;
    }
    if (SSL_ClientStart(sd, SERVER_NAME, &error) == API_ERROR)
    {
        printf("SSL_ClientStart failed, error %d\r\n", error);
        closesocket(sd, &error);
        return -1;
    }
    do
    {
        result = SSL_HandshakeComplete(sd, 1000);
    } while (result == 0);
    if (result != 1)
    {
        printf("SSL handshake failed: %d\r\n", result);
        closesocket(sd, &error);
        return -1;
    }

    if (send(sd, HTTP_REQUEST, strlen(HTTP_REQUEST), MSG_BLOCKING, &error)
        != (int)strlen(HTTP_REQUEST))
    {
        printf("send failed, error %d\r\n", error);
        closesocket(sd, &error);
        return -1;
    }

    received = 0;
    for (;;)
    {
        result = recv(sd, rxBuffer + received, sizeof(rxBuffer) - 1 - received,
                      MSG_TIMEOUT, 5000L, &error);
        if (result <= 0)
        {
            break;
        }
        received += result;
    }
    rxBuffer[received] = '\0';
    ok = (result == 0 && error == 0);   /* end of page, not an error */
    if (!ok)
    {
        printf("recv ended with %d, error %d\r\n", result, error);
    }

    SSL_ConnClose(sd, &error);
    closesocket(sd, &error);
    SSL_SessionClose(sessionID, &error);
    PKI_CertificateDel(ROOTCA_ID, PKI_CERT_NONLOCAL, &error);

    bodyPtr = strstr(rxBuffer, "\r\n\r\n");
    if (!ok || strncmp(rxBuffer, "HTTP/1.0 200 OK", 15) != 0 || bodyPtr == NULL ||
        strcmp(bodyPtr + 4, "hello") != 0)
    {
        printf("unexpected page: \"%s\"\r\n", rxBuffer);
        return -1;
    }
    return 0;
}
