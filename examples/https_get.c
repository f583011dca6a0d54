/*
 * https_get - fetch a URL over HTTPS the way the original's HTTPS client
 * example did: root CA into the PKI, a session, SSL socket options, connect,
 * SSL_ClientStart, SSL_HandshakeComplete, then send/recv in plaintext.
 *
 * stderr: one "HANDSHAKE ok ..." / "HANDSHAKE failed ..." line per
 * connection, in words (negotiated version and suite by name, resumed or
 * not, the SNI the library actually sent); stdout: the bytes received.
 * Exit 0 ok, 1 usage or set-up error, 2 handshake failed, 3 I/O error after
 * the handshake. `https_get -h` explains every option.
 */
#include "example_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f, int code)
{
    fprintf(f,
        "usage: https_get [options] https://HOST[:PORT][/PATH]\n"
        "Fetch a URL over HTTPS with chipssl (or, with -d, send DATA and print the reply).\n"
        "\n"
        "Trust and identity:\n"
        "  -a CA        add a root CA certificate (PEM file); repeat for more (up to 16)\n"
        "  -S           add the operating system's trust store as root CAs\n"
        "  -R CRL       add a certificate revocation list (PEM file); repeat for more (up to 4)\n"
        "  -c CERT      own certificate (PEM) for client authentication; needs -k\n"
        "  -k KEY       the key of CERT (PEM; RSA, EC or Ed25519, unencrypted)\n"
        "Session:\n"
        "  -o OPTS      session options, comma-separated: N turns option N on, N=0 off:\n"
        "               1 client authentication, 2 server proposals (a server's option),\n"
        "               3 skip certificate validation (the name is still checked)\n"
        "  -s SUITES    the proposal list, in order: IANA numbers (0x1302) or names\n"
        "               (TLS_AES_256_GCM_SHA384), separated by commas; default: chipssl's list\n"
        "  -v MASK      protocol versions, an SSL_VERSION_* mask: 0x08 TLS 1.2, 0x10 TLS 1.3\n"
        "               (default 0x18, both)\n"
        "  -m CACHES    resumption cache size (default 8; 0: never resume)\n"
        "  -A PROTOS    ALPN: the application protocols to offer, comma-separated, in order\n"
        "               of preference (e.g. h2,http/1.1); default: none offered\n"
        "Connection:\n"
        "  -N NAME      the name the server's certificate must carry (default: HOST); a DNS\n"
        "               name is also sent as SNI, an IP address never is\n"
        "  -x           no name check and no SNI\n"
        "  -r N         fetch N times, each over a new connection (the second and later\n"
        "               ones resume the TLS session when the server allows; default 1)\n"
        "  -d DATA      send DATA instead of a GET request, then close_notify, and print\n"
        "               what comes back (for echo servers)\n"
        "  -t MS        how long to wait for the handshake, in milliseconds (default 10000)\n"
        "  -h           this help\n"
        "\n"
        "Output: per connection one line on stderr,\n"
        "  HANDSHAKE ok version=... suite=NAME (0xNNNN) resumed=yes|no peer=SUBJECT\n"
        "            flags=WORDS sni=NAME SENT alpn=PROTOCOL origin=N\n"
        "            (sni and alpn \"-\" when none; origin: the number of the full\n"
        "            handshake whose TLS session the connection uses, the same when resumed)\n"
        "  HANDSHAKE failed error=WORDS (N) flags=WORDS (0xNN) alert=WORDS (N) sent=yes|no\n"
        "            state=WORDS (N) reason=WHY\n"
        "and the bytes received on stdout. Exit status: 0 ok, 1 usage or set-up error\n"
        "(bad option, file, name resolution, connection refused, ...), 2 handshake failed,\n"
        "3 error after the handshake.\n");
    exit(code);
}

struct url {
    char host[256];
    int port;
    char path[1024];
};

static int parse_url(const char *u, struct url *out)
{
    if (strncmp(u, "https://", 8) != 0)
        return -1;
    u += 8;
    const char *end;
    if (*u == '[') {
        end = strchr(u, ']');
        if (!end || (size_t)(end - u - 1) >= sizeof out->host)
            return -1;
        memcpy(out->host, u + 1, (size_t)(end - u - 1));
        out->host[end - u - 1] = '\0';
        end++;
    } else {
        end = u + strcspn(u, ":/");
        if ((size_t)(end - u) >= sizeof out->host || end == u)
            return -1;
        memcpy(out->host, u, (size_t)(end - u));
        out->host[end - u] = '\0';
    }
    out->port = 443;
    if (*end == ':')
        out->port = (int)strtol(end + 1, (char **)&end, 10);
    snprintf(out->path, sizeof out->path, "%s", *end == '/' ? end : "/");
    return out->port > 0 && out->port < 65536 ? 0 : -1;
}

/* One connection: returns the exit code. */
static int fetch(int session, const struct url *url, const char *name, const char *data,
                 unsigned hs_wait)
{
    int err = 0, one = 1, rc = 0;
    struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((unsigned short)url->port) };
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
                               .sin6_port = htons((unsigned short)url->port) };
    int v6 = inet_pton(AF_INET6, url->host, &a6.sin6_addr) == 1;
    if (!v6 && inet_addr(url->host, &a4.sin_addr.s_addr) != 0 &&
        getHostByName(url->host, 1, &a4.sin_addr.s_addr) < 1) {
        fprintf(stderr, "cannot resolve %s: no IPv4 address found\n", url->host);
        return 1;
    }
    int sd = opensocket_ext(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, &err);
    SetSocketOption sc = { IP_PROTOTCP_LEVEL, TCP_SSL_CLIENT, (const char *)&one, sizeof one };
    SetSocketOption ss = { IP_PROTOTCP_LEVEL, TCP_SSLSESSION, (const char *)&session,
                           sizeof session };
    if (sd < 0 || setsockopt(sd, &sc, &err) != 0 || setsockopt(sd, &ss, &err) != 0) {
        ex_fail("socket set-up", err);
        if (sd >= 0)
            closesocket(sd, &err);
        return 1;
    }
    if (connect(sd, v6 ? (void *)&a6 : (void *)&a4, &err) != 0) {
        char what[300];
        snprintf(what, sizeof what, "connect %s port %d", url->host, url->port);
        ex_fail(what, err);
        closesocket(sd, &err);
        return 1;
    }
    if (SSL_ClientStart(sd, (char *)name, &err) != 0) {
        ex_fail("SSL_ClientStart", err);
        closesocket(sd, &err);
        return 1;
    }
    int r = SSL_HandshakeComplete(sd, hs_wait);
    if (!ex_report(stderr, "HANDSHAKE", sd, r == 1)) {
        closesocket(sd, &err);
        return 2;
    }
    char get[1400];
    snprintf(get, sizeof get, "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n",
             url->path, url->host);
    const char *req = data ? data : get;
    int len = (int)strlen(req);
    if (send(sd, req, len, 0, &err) != len) {
        ex_report_io(stderr, "I/O", sd, "send", err);
        rc = 3;
    }
    /* Raw mode: our close_notify tells the peer we are done (TLS half-close). */
    if (rc == 0 && data && SSL_ConnClose(sd, &err) != 0) {
        ex_report_io(stderr, "I/O", sd, "SSL_ConnClose", err);
        rc = 3;
    }
    char buf[16384];
    int n;
    while (rc == 0 && (n = recv(sd, buf, (int)sizeof buf, MSG_TIMEOUT, 20000, &err)) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    if (rc == 0 && err != 0) {
        ex_report_io(stderr, "I/O", sd, "recv", err);
        rc = 3;
    }
    fflush(stdout);
    if (!data)
        SSL_ConnClose(sd, &err);
    closesocket(sd, &err);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cas[16], *cert = NULL, *key = NULL, *opts = NULL, *suites = NULL,
               *name = NULL, *data = NULL, *alpn = NULL;
    const char *crls[4];
    int ncrls = 0;
    int ncas = 0, system_ca = 0, no_name = 0, repeat = 1, caches = 8,
        version = SSL_VERSION_TLS12 | SSL_VERSION_TLS13, opt;
    unsigned hs_wait = 10000;
    while ((opt = getopt(argc, argv, "a:SR:c:k:o:s:v:N:xr:m:A:d:t:h")) != -1) {
        switch (opt) {
        case 'a': if (ncas < 16) cas[ncas++] = optarg; break;
        case 'S': system_ca = 1; break;
        case 'R': if (ncrls < 4) crls[ncrls++] = optarg; break;
        case 'c': cert = optarg; break;
        case 'k': key = optarg; break;
        case 'o': opts = optarg; break;
        case 's': suites = optarg; break;
        case 'v': version = (int)strtol(optarg, NULL, 0); break;
        case 'N': name = optarg; break;
        case 'x': no_name = 1; break;
        case 'r': repeat = atoi(optarg); break;
        case 'm': caches = atoi(optarg); break;
        case 'A': alpn = optarg; break;
        case 'd': data = optarg; break;
        case 't': hs_wait = (unsigned)strtoul(optarg, NULL, 0); break;
        case 'h': usage(stdout, 0); break;
        default: usage(stderr, 1);
        }
    }
    struct url url;
    if (optind != argc - 1 || (cert && !key) || (key && !cert))
        usage(stderr, 1);
    if (parse_url(argv[optind], &url) != 0) {
        fprintf(stderr, "https_get: \"%s\" is not an https:// URL with a valid port\n",
                argv[optind]);
        return 1;
    }
    if (!name)
        name = url.host;
    if (no_name)
        name = NULL;

    int err = 0;
    if (ex_add_each(cas, ncas, "ca", ex_add_root_ca) != 0 ||
        ex_add_each(crls, ncrls, "crl", ex_add_crl) != 0)
        return 1;
    if (system_ca && PKI_RootCABundleAdd(NULL, NULL, &err) < 0) {
        ex_fail("system trust store", err);
        return 1;
    }
    if (cert && ex_add_own_cert(cert, key, "client") != 0)
        return 1;
    SSL_SESSION_NEW_Entry se = { cert ? "client" : NULL, caches, version };
    int session = SSL_SessionNew(&se, &err);
    if (session < 0) {
        ex_fail("SSL_SessionNew", err);
        return 1;
    }
    if ((opts && ex_set_options(session, opts, NULL) != 0) ||
        (suites && ex_set_suites(session, suites) != 0))
        return 1;
    if (alpn && SSL_SessionALPN(session, alpn, &err) != 0) {
        char what[300];
        snprintf(what, sizeof what, "ALPN list \"%s\"%s", alpn,
                 err == API_EINVAL ? " (an empty name, a name over 255 bytes or a list "
                                     "over 255 bytes)" : "");
        ex_fail(what, err);
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < repeat && rc == 0; i++)
        rc = fetch(session, &url, name, data, hs_wait);
    SSL_SessionClose(session, &err);
    return rc;
}
