/*
 * example_util.c - helpers of the example programs (public API only).
 */
#include "example_util.h"

#include <stdlib.h>
#include <string.h>

const char *ex_errtext(int err, char *buf, size_t len)
{
    const char *name = chipssl_error_name(err);
    if (name)
        snprintf(buf, len, "%s (%s)", chipssl_strerror(err), name);
    else
        snprintf(buf, len, "%s (%d)", chipssl_strerror(err), err);
    return buf;
}

void ex_fail(const char *what, int err)
{
    char t[96];
    fprintf(stderr, "%s: %s\n", what, ex_errtext(err, t, sizeof t));
}

/* What PKI_CertificateAdd said, in words: *error is an OR of PKI_CERT_*
 * flags (values below 0x80) or an API_E... code. `quiet` flags are not
 * warned about when the certificate was stored. */
static int pki_result(const char *what, const char *file, int rc, int err, int quiet)
{
    char t[200];
    if (rc == 0 && err < 0x80)
        err &= ~quiet;
    if (err >= 0x80)
        ex_errtext(err, t, sizeof t);
    else
        chipssl_certflags_text(err, t, (int)sizeof t);
    if (rc != 0)
        fprintf(stderr, "cannot add %s %s: %s\n", what, file, t);
    else if (err != 0)
        fprintf(stderr, "warning: %s %s added, but: %s\n", what, file, t);
    return rc == 0 ? 0 : -1;
}

int ex_add_own_cert(const char *cert_file, const char *key_file, const char *id)
{
    static const int types[] = { PKI_KEY_RSA, PKI_KEY_EC, PKI_KEY_ED25519 };
    int err = 0, added = 0, first_err = 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !added; i++) {
        PKI_OWNKEYPAIR_ADD_Entry k = { key_file, PKI_FMT_PEM, types[i] };
        added = PKI_OwnKeyPairAdd(&k, &err) == 0;
        if (!added && (i == 0 || first_err == API_EINVAL))
            first_err = err; /* a missing file says so on the first try */
    }
    if (!added) {
        char t[96];
        fprintf(stderr, "cannot load key %s: %s%s\n", key_file, ex_errtext(first_err, t, sizeof t),
                first_err == API_EINVAL ? " - not an unencrypted RSA (2048 bits or more), "
                                          "EC (P-256 and up) or Ed25519 key"
                                        : "");
        return -1;
    }
    PKI_CERT_ADD_Entry c = { cert_file, PKI_FMT_PEM, PKI_CERT_LOCAL, id,
                             (int)strlen(id), NULL };
    int rc = PKI_CertificateAdd(&c, &err);
    /* The examples add their own certificate without naming its issuer
     * (caIdPtr NULL), so "issuer unknown" is expected there and not worth a
     * warning; the peer checks the chain. Expired or not yet valid is. */
    return pki_result("own certificate", cert_file, rc, err, PKI_CERT_UNKNOWNCA);
}

int ex_add_root_ca(const char *file, const char *id)
{
    int err = 0;
    PKI_CERT_ADD_Entry c = { file, PKI_FMT_PEM, PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA,
                             id, (int)strlen(id), NULL };
    int rc = PKI_CertificateAdd(&c, &err);
    return pki_result("CA", file, rc, err, 0);
}

int ex_add_crl(const char *file, const char *id)
{
    int err = 0;
    PKI_CERT_ADD_Entry c = { file, PKI_FMT_PEM, PKI_CERT_CRL, id, (int)strlen(id), NULL };
    int rc = PKI_CertificateAdd(&c, &err);
    return pki_result("CRL", file, rc, err, 0);
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

static const char *option_name(int option)
{
    switch (option) {
    case SSL_OPT_CLIENT_AUTH: return "client authentication";
    case SSL_OPT_SERVER_PROPOSALS: return "server proposals";
    case SSL_OPT_SKIP_CERT_VALIDATION: return "skip certificate validation";
    default: return "unknown option";
    }
}

int ex_set_options(int session, const char *list, int *on)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        int err = 0, value = 1;
        char *end;
        long option = strtol(t, &end, 10);
        if (*end == '=')
            value = (int)strtol(end + 1, &end, 10);
        if (end == t || *end != '\0') {
            fprintf(stderr, "option \"%s\": not a number or number=value\n", t);
            return -1;
        }
        if (SSL_SessionOpt(session, (int)option, value, &err) != 0) {
            char what[96];
            snprintf(what, sizeof what, "option %s (%s) = %d", t, option_name((int)option), value);
            ex_fail(what, err);
            return -1;
        }
        if (on && option >= 0 && option < 31)
            *on = value ? *on | 1 << option : *on & ~(1 << option);
    }
    return 0;
}

/* One suite given as a number (0x1302, 4866) or an IANA name; -1 if neither. */
static int parse_suite(const char *t)
{
    char *end;
    long n = strtol(t, &end, 0);
    if (end != t && *end == '\0')
        return n >= 0 && n <= 0xFFFF ? (int)n : -1;
    return chipssl_suite_number(t);
}

int ex_set_suites(int session, const char *list)
{
    int suites[CHIPSSL_MAX_PROPOSALS], n = 0, err = 0;
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *t = strtok(buf, ", "); t; t = strtok(NULL, ", ")) {
        if (n == CHIPSSL_MAX_PROPOSALS) {
            fprintf(stderr, "suite list: more than %d suites\n", CHIPSSL_MAX_PROPOSALS);
            return -1;
        }
        int s = parse_suite(t);
        if (s < 0) {
            fprintf(stderr, "suite \"%s\": neither a number nor the IANA name of a suite "
                            "chipssl accepts\n", t);
            return -1;
        }
        if (!chipssl_suite_name(s)) {
            fprintf(stderr, "suite %s: unknown to chipssl or insecure (refused)\n", t);
            return -1;
        }
        suites[n++] = s;
    }
    if (n == 0) {
        fprintf(stderr, "suite list: empty\n");
        return -1;
    }
    if (SSL_SessionProp(session, suites, n, &err) != 0) {
        char t[96];
        fprintf(stderr, "suite list %s: %s - a duplicate, or no suite for the session's "
                        "versions\n", list, ex_errtext(err, t, sizeof t));
        return -1;
    }
    return 0;
}

const char *ex_suites_text(const char *list, char *out, size_t len)
{
    char buf[2048];
    size_t used = 0;
    out[0] = '\0';
    snprintf(buf, sizeof buf, "%s", list);
    for (char *t = strtok(buf, ", "); t && used < len; t = strtok(NULL, ", ")) {
        int s = parse_suite(t);
        const char *name = s >= 0 ? chipssl_suite_name(s) : NULL;
        int w = snprintf(out + used, len - used, "%s%s", used ? ", " : "", name ? name : t);
        used += w > 0 ? (size_t)w : 0;
    }
    return out;
}

static const char *state_text(int state)
{
    static const char *const names[] = {
        [SSL_HS_NONE] = "not started",
        [SSL_HS_HELLO] = "hellos",
        [SSL_HS_CERTIFICATE] = "certificate exchange",
        [SSL_HS_KEY_EXCHANGE] = "key exchange",
        [SSL_HS_FINISHED] = "finished messages",
        [SSL_HS_DONE] = "established",
        [SSL_HS_FAILED] = "failed",
        [SSL_HS_CLOSED] = "closed",
    };
    if (state >= 0 && state < (int)(sizeof names / sizeof names[0]) && names[state])
        return names[state];
    return "unknown state";
}

static void print_problem(FILE *f, const SslProblemS *p, int flags)
{
    char ftext[200];
    chipssl_certflags_text(flags, ftext, (int)sizeof ftext);
    fprintf(f, "error=%s (%d) flags=%s", chipssl_strerror(p->errorCode), p->errorCode, ftext);
    if (flags)
        fprintf(f, " (0x%02x)", (unsigned)flags);
    fprintf(f, " alert=%s (%d) sent=%s state=%s (%d) reason=%s\n", chipssl_alert_text(p->alert),
            p->alert, p->alert >= 0 && p->alertSent ? "yes" : "no", state_text(p->hsState),
            p->hsState, p->reason[0] ? p->reason : "-");
}

int ex_report(FILE *f, const char *prefix, int sd, int ok)
{
    int err = 0;
    SSL_CONN_STATE *st = NULL;
    if (SSL_GetConnState(sd, (void **)&st, &err) != 0) {
        char t[96];
        SslProblemS p = { .errorCode = err, .alert = -1 };
        snprintf(p.reason, sizeof p.reason, "no connection state: %s",
                 ex_errtext(err, t, sizeof t));
        fprintf(f, "%s failed ", prefix);
        print_problem(f, &p, 0);
        fflush(f);
        return 0;
    }
    if (ok) {
        char ftext[200];
        const char *version = chipssl_version_name(st->version);
        const char *suite = chipssl_suite_name(st->cipherSuite);
        chipssl_certflags_text(st->peerCertFlags, ftext, (int)sizeof ftext);
        fprintf(f, "%s ok version=%s suite=%s (0x%04X) resumed=%s peer=%s flags=%s",
                prefix, version ? version : "unknown", suite ? suite : "unknown suite",
                (unsigned)st->cipherSuite, st->resumed ? "yes" : "no",
                st->peerSubject[0] ? st->peerSubject : "-", ftext);
        if (st->peerCertFlags)
            fprintf(f, " (0x%02x)", (unsigned)st->peerCertFlags);
        fprintf(f, " sni=%s alpn=%s origin=%llu\n", st->serverName[0] ? st->serverName : "-",
                st->alpn[0] ? st->alpn : "-", st->sessionOrigin);
    } else if (st->problem.errorCode == 0) {
        /* Nothing failed: the caller stopped waiting. */
        SslProblemS p = { .errorCode = API_ETIMEDOUT, .alert = -1,
                          .hsState = st->handshakeState };
        snprintf(p.reason, sizeof p.reason, "no handshake within the wait");
        fprintf(f, "%s failed ", prefix);
        print_problem(f, &p, st->peerCertFlags);
    } else {
        fprintf(f, "%s failed ", prefix);
        print_problem(f, &st->problem, st->problem.certFlags);
    }
    fflush(f);
    return ok;
}

void ex_report_io(FILE *f, const char *prefix, int sd, const char *call, int err)
{
    char t[96];
    SslProblemS p;
    int e2 = 0;
    fprintf(f, "%s %s: %s", prefix, call, ex_errtext(err, t, sizeof t));
    if (SSL_GetProblem(sd, &p, &e2) == 0 && p.errorCode != 0)
        fprintf(f, "; alert %s (%s), reason: %s", chipssl_alert_text(p.alert),
                p.alert < 0 ? "none" : p.alertSent ? "sent by us" : "sent by the peer",
                p.reason[0] ? p.reason : "-");
    fputc('\n', f);
    fflush(f);
}
