/*
 * testutil.c - see testutil.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tcpip.h" /* RTOS names: bind/connect/... are the library's here */

static const char *pki_dir(void)
{
    const char *d = getenv("CHIPSSL_PKI_DIR");

    return (d != NULL && d[0] != '\0') ? d : NULL;
}

void tu_require_pki(void)
{
    char path[TU_PATH_MAX];
    struct stat st;
    const char *d = pki_dir();

    if (d == NULL) {
        fprintf(stderr,
                "CHIPSSL_PKI_DIR is not set. Run this test through ctest (the "
                "`pki` fixture generates the certificates), or run\n"
                "  tests/pki/mkpki.sh DIR && CHIPSSL_PKI_DIR=DIR %s\n",
                "<test>");
        exit(1);
    }
    if (stat(tu_path(path, sizeof path, "ca.pem"), &st) != 0) {
        fprintf(stderr,
                "CHIPSSL_PKI_DIR=%s does not hold the test PKI (no %s); "
                "generate it with tests/pki/mkpki.sh %s\n",
                d, path, d);
        exit(1);
    }
}

char *tu_path(char *dst, size_t size, const char *name)
{
    const char *d = pki_dir();

    if (name[0] == '/' || d == NULL)
        snprintf(dst, size, "%s", name);
    else
        snprintf(dst, size, "%s/%s", d, name);
    return dst;
}

char *tu_read(const char *name, size_t *len)
{
    char path[TU_PATH_MAX];
    FILE *f = fopen(tu_path(path, sizeof path, name), "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    buf = malloc((size_t)n + 1);
    if (buf == NULL)
        goto out;
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[n] = '\0';
    if (len != NULL)
        *len = (size_t)n;
out:
    fclose(f);
    return buf;
}

int tu_add_cert(const char *file, int fmt, int type, const char *id, const char *caid, int *error)
{
    char path[TU_PATH_MAX];
    char *data = NULL;
    PKI_CERT_ADD_Entry e;
    int ret;

    memset(&e, 0, sizeof e);
    if (fmt & PKI_FMT_MEMORY) {
        data = tu_read(file, NULL);
        if (data == NULL) {
            *error = API_ENOENT;
            return -1;
        }
        e.fileNamePtr = data;
    } else {
        e.fileNamePtr = tu_path(path, sizeof path, file);
    }
    e.fileFormat = fmt;
    e.certType = type;
    e.idPtr = id;
    e.idLength = (int)strlen(id);
    e.caIdPtr = caid;
    ret = PKI_CertificateAdd(&e, error);
    free(data);
    return ret;
}

int tu_add_key(const char *file, int fmt, int keytype, int *error)
{
    char path[TU_PATH_MAX];
    char *data = NULL;
    PKI_OWNKEYPAIR_ADD_Entry e;
    int ret;

    memset(&e, 0, sizeof e);
    if (fmt & PKI_FMT_MEMORY) {
        data = tu_read(file, NULL);
        if (data == NULL) {
            *error = API_ENOENT;
            return -1;
        }
        e.fileNamePtr = data;
    } else {
        e.fileNamePtr = tu_path(path, sizeof path, file);
    }
    e.fileFormat = fmt;
    e.keyType = keytype;
    ret = PKI_OwnKeyPairAdd(&e, error);
    free(data);
    return ret;
}

int tu_add_local(const char *keyfile, int keytype, const char *certfile, const char *id,
                 const char *caid, int *error)
{
    if (tu_add_key(keyfile, PKI_FMT_PEM, keytype, error) != 0)
        return -1;
    return tu_add_cert(certfile, PKI_FMT_PEM, PKI_CERT_LOCAL, id, caid, error);
}

int tu_setopt(int sd, int name, int value, int *error)
{
    SetSocketOption o;

    o.protocol_level = IP_PROTOTCP_LEVEL;
    o.optionName = name;
    o.optionValue = (const char *)&value;
    o.optionLength = (int)sizeof value;
    return setsockopt(sd, &o, error);
}

int tu_getopt(int sd, int name, int *value, int *error)
{
    GetSocketOption o;
    int len = (int)sizeof *value;

    o.protocol_level = IP_PROTOTCP_LEVEL;
    o.optionName = name;
    o.optionValue = (char *)value;
    o.optionLength = &len;
    return getsockopt(sd, &o, error);
}

/* Loopback address of family with port (network order) in *ss. */
static void loopback(int family, unsigned short port_net, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = port_net;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;

        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->sin_port = port_net;
    }
}

int tu_listener(int family, int sid, unsigned short *port, int *error)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int sd, err2;

    sd = opensocket_ext((unsigned char)family, SOCK_STREAM, error);
    if (sd < 0)
        return -1;
    if (sid > 0 && (tu_setopt(sd, TCP_SSL_SERVER, 1, error) != 0 ||
                    tu_setopt(sd, TCP_SSLSESSION, sid, error) != 0))
        goto fail;
    loopback(family, 0, &ss);
    if (bind(sd, &ss, error) != 0 || listen(sd, 16, error) != 0)
        goto fail;
    len = sizeof ss;
    if (getsockname(sd, (struct sockaddr *)&ss, &len) != 0) {
        *error = API_EINVAL;
        goto fail;
    }
    *port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return sd;
fail:
    closesocket(sd, &err2);
    return -1;
}

int tu_client(int family, int sid, unsigned short port, int *error)
{
    struct sockaddr_storage ss;
    int sd, err2;

    sd = opensocket_ext((unsigned char)family, SOCK_STREAM, error);
    if (sd < 0)
        return -1;
    if (sid > 0 && (tu_setopt(sd, TCP_SSL_CLIENT, 1, error) != 0 ||
                    tu_setopt(sd, TCP_SSLSESSION, sid, error) != 0))
        goto fail;
    loopback(family, htons(port), &ss);
    if (connect(sd, &ss, error) != 0)
        goto fail;
    return sd;
fail:
    closesocket(sd, &err2);
    return -1;
}

double tu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
