/*
 * example_util.c - helpers of the example programs (public API only).
 */
#include "example_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ex_add_own_cert(const char *cert_file, const char *key_file, const char *id)
{
    static const int types[] = { PKI_KEY_RSA, PKI_KEY_EC, PKI_KEY_ED25519 };
    int err = 0, added = 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !added; i++) {
        PKI_OWNKEYPAIR_ADD_Entry k = { key_file, PKI_FMT_PEM, types[i] };
        added = PKI_OwnKeyPairAdd(&k, &err) == 0;
    }
    if (!added) {
        fprintf(stderr, "cannot load key %s (error %d)\n", key_file, err);
        return -1;
    }
    PKI_CERT_ADD_Entry c = { cert_file, PKI_FMT_PEM, PKI_CERT_LOCAL, id,
                             (int)strlen(id), NULL };
    if (PKI_CertificateAdd(&c, &err) != 0) {
        fprintf(stderr, "cannot add certificate %s (error 0x%x)\n", cert_file, err);
        return -1;
    }
    return 0;
}

int ex_add_root_ca(const char *file, const char *id)
{
    int err = 0;
    PKI_CERT_ADD_Entry c = { file, PKI_FMT_PEM, PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA,
                             id, (int)strlen(id), NULL };
    if (PKI_CertificateAdd(&c, &err) != 0) {
        fprintf(stderr, "cannot add CA %s (error 0x%x)\n", file, err);
        return -1;
    }
    return 0;
}

int ex_add_crl(const char *file, const char *id)
{
    int err = 0;
    PKI_CERT_ADD_Entry c = { file, PKI_FMT_PEM, PKI_CERT_CRL, id, (int)strlen(id), NULL };
    if (PKI_CertificateAdd(&c, &err) != 0) {
        fprintf(stderr, "cannot add CRL %s (error 0x%x)\n", file, err);
        return -1;
    }
    return 0;
}

int ex_add_each(const char *const *files, int n, const char *prefix,
                int (*add)(const char *file, const char *id))
{
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "%s%d", prefix, i);
        if (add(files[i], id) != 0)
            return -1;
    }
    return 0;
}

int ex_set_options(int session, const char *list)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        int err = 0;
        if (SSL_SessionOpt(session, atoi(t), 1, &err) != 0) {
            fprintf(stderr, "option %s: error %d\n", t, err);
            return -1;
        }
    }
    return 0;
}

int ex_set_suites(int session, const char *list)
{
    int suites[CHIPSSL_MAX_PROPOSALS], n = 0, err = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *t = strtok(buf, ","); t && n < CHIPSSL_MAX_PROPOSALS; t = strtok(NULL, ","))
        suites[n++] = (int)strtol(t, NULL, 0);
    if (SSL_SessionProp(session, suites, n, &err) != 0) {
        fprintf(stderr, "suite list %s: error %d\n", list, err);
        return -1;
    }
    return 0;
}

const char *ex_version_name(int version)
{
    return version == SSL_VERSION_TLS13 ? "TLS1.3"
         : version == SSL_VERSION_TLS12 ? "TLS1.2"
                                        : "none";
}

int ex_report(void *fp, const char *prefix, int sd, int ok)
{
    FILE *f = fp;
    int err = 0;
    SSL_CONN_STATE *st = NULL;
    if (SSL_GetConnState(sd, (void **)&st, &err) != 0) {
        fprintf(f, "%s failed error=%d flags=0x00 alert=-1 sent=0 state=0 reason=no state\n",
                prefix, err);
        return 0;
    }
    if (ok) {
        fprintf(f, "%s ok version=%s suite=0x%04X resumed=%d peer=%s flags=0x%02x sni=%s\n",
                prefix, ex_version_name(st->version), (unsigned)st->cipherSuite,
                st->resumed, st->peerSubject[0] ? st->peerSubject : "-",
                (unsigned)st->peerCertFlags, st->serverName[0] ? st->serverName : "-");
    } else {
        const SslProblemS *p = &st->problem;
        if (p->errorCode == 0) /* not failed: the caller stopped waiting */
            fprintf(f, "%s failed error=%d flags=0x%02x alert=-1 sent=0 state=%d reason=%s\n",
                    prefix, API_ETIMEDOUT, (unsigned)st->peerCertFlags, st->handshakeState,
                    "no handshake within the wait");
        else
            fprintf(f, "%s failed error=%d flags=0x%02x alert=%d sent=%d state=%d reason=%s\n",
                    prefix, p->errorCode, (unsigned)p->certFlags, p->alert, p->alertSent,
                    p->hsState, p->reason[0] ? p->reason : "-");
    }
    fflush(f);
    return ok;
}
