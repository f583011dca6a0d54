/*
 * pki.c - the process-wide PKI store: own key pairs and certificates (the
 * local list), CA and peer certificates and CRLs (the non-local list).
 *
 * One mutex guards the lists; entries hold counted engine references, so a
 * session or TLS context that took a certificate keeps it after deletion.
 */
#include "internal.h"
#include "pki_engine.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pki_entry {
    struct pki_entry *next;
    char id[CHIPSSL_MAX_ID_LEN + 1];
    int list;      /* PKI_CERT_LOCAL or PKI_CERT_NONLOCAL */
    int root;      /* trust anchor */
    X509 *cert;    /* NULL for a CRL */
    X509_CRL *crl;
    struct pki_cred *cred; /* LOCAL entries */
    char ca_id[CHIPSSL_MAX_ID_LEN + 1]; /* issuer ID given at add time */
};

static pthread_mutex_t pki_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pki_entry *pki_head;
static EVP_PKEY *pending[CHIPSSL_MAX_PENDING_KEYS];
static int npending;
static atomic_uint pki_gen = 1;

unsigned pki_generation(void)
{
    return atomic_load(&pki_gen);
}

/* ---- input ---------------------------------------------------------- */

/* Length of a DER object from its outer header (tag, length), or 0. */
static size_t der_length(const unsigned char *p)
{
    if (p[0] != 0x30) /* every certificate, CRL and key is a SEQUENCE */
        return 0;
    if (p[1] < 0x80)
        return 2 + (size_t)p[1];
    size_t nb = p[1] & 0x7f, len = 0;
    if (nb == 0 || nb > 4)
        return 0;
    for (size_t i = 0; i < nb; i++)
        len = (len << 8) | p[2 + i];
    len += 2 + nb;
    return len > (size_t)CHIPSSL_MAX_PKI_FILE ? 0 : len;
}

/* The data of a file or memory input as a memory BIO (read-only view for
 * memory input, a copy for files). Returns 0 or an API code. */
static int open_input(const char *src, int fmt, BIO **out)
{
    int mem = fmt & PKI_FMT_MEMORY, kind = fmt & ~PKI_FMT_MEMORY;
    if (!src || (kind != PKI_FMT_PEM && kind != PKI_FMT_DER))
        return API_EINVAL;
    if (mem) {
        size_t len = kind == PKI_FMT_PEM ? strlen(src)
                                         : der_length((const unsigned char *)src);
        if (len == 0)
            return API_EINVAL;
        *out = BIO_new_mem_buf(src, (int)len);
        return *out ? 0 : API_ENOMEM;
    }
    FILE *f = fopen(src, "rb");
    if (!f)
        return errno == ENOENT ? API_ENOENT : chipssl_errno_to_api(errno);
    BIO *b = BIO_new(BIO_s_mem());
    int rc = b ? 0 : API_ENOMEM;
    char buf[8192];
    size_t n, total = 0;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        total += n;
        if (total > (size_t)CHIPSSL_MAX_PKI_FILE)
            rc = API_EINVAL;
        else if (BIO_write(b, buf, (int)n) != (int)n)
            rc = API_ENOMEM;
    }
    if (rc == 0 && ferror(f))
        rc = API_EINVAL;
    fclose(f);
    if (rc) {
        BIO_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

/* Never prompt for a pass phrase: encrypted keys are refused. */
static int no_password(char *buf, int size, int rw, void *u)
{
    (void)buf; (void)size; (void)rw; (void)u;
    return -1;
}

/* ---- lookups (pki_lock held) --------------------------------------- */

static struct pki_entry *find(const char *id, size_t idlen, int lists)
{
    for (struct pki_entry *e = pki_head; e; e = e->next)
        if ((e->list & lists) && strlen(e->id) == idlen &&
            memcmp(e->id, id, idlen) == 0)
            return e;
    return NULL;
}

static struct pki_entry *find_cert(const char *id)
{
    size_t n = strnlen(id, CHIPSSL_MAX_ID_LEN + 1);
    if (n > CHIPSSL_MAX_ID_LEN)
        return NULL;
    struct pki_entry *e = find(id, n, PKI_CERT_NONLOCAL);
    if (!e || !e->cert)
        e = find(id, n, PKI_CERT_LOCAL);
    return e && e->cert ? e : NULL;
}

static int revoked_by_store(X509 *x)
{
    for (struct pki_entry *e = pki_head; e; e = e->next) {
        X509_REVOKED *r;
        if (e->crl && X509_NAME_cmp(X509_CRL_get_issuer(e->crl),
                                    X509_get_issuer_name(x)) == 0 &&
            X509_CRL_get0_by_cert(e->crl, &r, x) == 1)
            return 1;
    }
    return 0;
}

static int expired(const ASN1_TIME *nb, const ASN1_TIME *na)
{
    return (nb && X509_cmp_current_time(nb) >= 0) ||
           (na && X509_cmp_current_time(na) <= 0);
}

/* The issuer chain of a local certificate, following the caId links up to
 * (not including) a self-signed certificate. */
static STACK_OF(X509) *issuer_chain(const char *ca_id)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    for (int depth = 0; chain && ca_id[0] && depth < 10; depth++) {
        struct pki_entry *ca = find_cert(ca_id);
        if (!ca || X509_check_issued(ca->cert, ca->cert) == X509_V_OK)
            break;
        if (!X509_up_ref(ca->cert)) {
            sk_X509_pop_free(chain, X509_free);
            return NULL;
        }
        if (!sk_X509_push(chain, ca->cert)) {
            X509_free(ca->cert);
            sk_X509_pop_free(chain, X509_free);
            return NULL;
        }
        ca_id = ca->ca_id;
    }
    return chain;
}

/* ---- checks at add time -------------------------------------------- */

/* Check a certificate against its issuer and the store; returns flags. */
static int check_cert(X509 *x, const char *ca_id, int root)
{
    int flags = 0;
    EVP_PKEY *pub = X509_get0_pubkey(x);
    if (!pub)
        return PKI_CERT_BADCERT;
    if (root && !(X509_get_extension_flags(x) & EXFLAG_CA))
        flags |= PKI_CERT_BADCERT;
    if (ca_id) {
        struct pki_entry *ca = find_cert(ca_id);
        if (!ca)
            flags |= PKI_CERT_BADCERT | PKI_CERT_UNKNOWNCA;
        else if (X509_check_issued(ca->cert, x) != X509_V_OK ||
                 X509_verify(x, X509_get0_pubkey(ca->cert)) != 1)
            flags |= PKI_CERT_BADCERT | PKI_CERT_NOTVERIFIED;
    } else if (X509_check_issued(x, x) == X509_V_OK) {
        if (X509_verify(x, pub) != 1)
            flags |= PKI_CERT_BADCERT | PKI_CERT_NOTVERIFIED;
    } else {
        flags |= PKI_CERT_UNKNOWNCA;
    }
    if (expired(X509_get0_notBefore(x), X509_get0_notAfter(x)))
        flags |= PKI_CERT_EXPIRED;
    if (revoked_by_store(x))
        flags |= PKI_CERT_REVOKED;
    return flags;
}

static int check_crl(X509_CRL *crl, const char *ca_id)
{
    struct pki_entry *ca = NULL;
    if (ca_id) {
        ca = find_cert(ca_id);
        if (!ca)
            return PKI_CERT_BADCERT | PKI_CERT_UNKNOWNCA;
    } else {
        for (struct pki_entry *e = pki_head; e && !ca; e = e->next)
            if (e->cert && X509_NAME_cmp(X509_get_subject_name(e->cert),
                                         X509_CRL_get_issuer(crl)) == 0)
                ca = e;
    }
    int flags = 0;
    if (!ca)
        flags |= PKI_CERT_UNKNOWNCA;
    else if (X509_NAME_cmp(X509_get_subject_name(ca->cert),
                           X509_CRL_get_issuer(crl)) != 0 ||
             X509_CRL_verify(crl, X509_get0_pubkey(ca->cert)) != 1)
        flags |= PKI_CERT_BADCERT | PKI_CERT_NOTVERIFIED;
    if (expired(X509_CRL_get0_lastUpdate(crl), X509_CRL_get0_nextUpdate(crl)))
        flags |= PKI_CERT_EXPIRED;
    return flags;
}

static void entry_free(struct pki_entry *e)
{
    if (!e)
        return;
    X509_free(e->cert);
    X509_CRL_free(e->crl);
    pki_cred_free(e->cred);
    free(e);
}

/* Link a new entry (pki_lock held). Takes ownership of cert/crl. */
static int add_entry(const char *id, size_t idlen, int list, int root,
                     X509 *cert, X509_CRL *crl, const char *ca_id,
                     struct pki_entry **out)
{
    if (find(id, idlen, list))
        return API_EINVAL;
    struct pki_entry *e = calloc(1, sizeof *e);
    if (!e)
        return API_ENOMEM;
    memcpy(e->id, id, idlen);
    e->list = list;
    e->root = root;
    e->cert = cert;
    e->crl = crl;
    if (ca_id)
        chip_strlcpy(e->ca_id, ca_id, sizeof e->ca_id);
    e->next = pki_head;
    pki_head = e;
    atomic_fetch_add(&pki_gen, 1);
    *out = e;
    return 0;
}

int PKI_CertificateAdd(PKI_CERT_ADD_Entry *e, int *error)
{
    if (!error)
        return API_ERROR;
    if (!e || !e->idPtr || e->idLength < 1 || e->idLength > CHIPSSL_MAX_ID_LEN ||
        memchr(e->idPtr, '\0', (size_t)e->idLength) ||
        (e->caIdPtr && strnlen(e->caIdPtr, CHIPSSL_MAX_ID_LEN + 1) >
                           CHIPSSL_MAX_ID_LEN))
        return chip_fail(error, API_EINVAL);
    int type = e->certType, list, root = 0, is_crl = 0;
    switch (type) {
    case PKI_CERT_LOCAL: list = PKI_CERT_LOCAL; break;
    case PKI_CERT_NONLOCAL: list = PKI_CERT_NONLOCAL; break;
    case PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA: list = PKI_CERT_NONLOCAL; root = 1; break;
    case PKI_CERT_CRL:
    case PKI_CERT_CRL | PKI_CERT_NONLOCAL: list = PKI_CERT_NONLOCAL; is_crl = 1; break;
    default: return chip_fail(error, API_EINVAL);
    }

    BIO *in = NULL;
    int rc = open_input(e->fileNamePtr, e->fileFormat, &in);
    if (rc)
        return chip_fail(error, rc);
    int pem = (e->fileFormat & ~PKI_FMT_MEMORY) == PKI_FMT_PEM;
    X509 *x = NULL;
    X509_CRL *crl = NULL;
    if (is_crl)
        crl = pem ? PEM_read_bio_X509_CRL(in, NULL, no_password, NULL)
                  : d2i_X509_CRL_bio(in, NULL);
    else
        x = pem ? PEM_read_bio_X509(in, NULL, no_password, NULL)
                : d2i_X509_bio(in, NULL);
    BIO_free(in);
    ERR_clear_error();
    if (!x && !crl)
        return chip_fail(error, API_EINVAL);

    pthread_mutex_lock(&pki_lock);
    int flags = is_crl ? check_crl(crl, e->caIdPtr) : check_cert(x, e->caIdPtr, root);
    struct pki_cred *cred = NULL;
    if (!(flags & PKI_CERT_BADCERT) && list == PKI_CERT_LOCAL) {
        /* API.md 4: the key most recently added and not yet taken; it must
         * match. (Call order pairs them: threads adding key pairs at the
         * same time serialize their two calls; tcpip.h says so.) */
        int k = npending - 1;
        if (k < 0 || X509_check_private_key(x, pending[k]) != 1) {
            flags |= PKI_CERT_BADCERT | PKI_CERT_KEYMISMATCH;
        } else if (!(cred = calloc(1, sizeof *cred)) ||
                   !(cred->chain = issuer_chain(e->caIdPtr ? e->caIdPtr : ""))) {
            free(cred);
            cred = NULL;
            rc = API_ENOMEM;
        } else {
            atomic_init(&cred->refs, 1);
            cred->key = pending[k];
            memmove(&pending[k], &pending[k + 1], sizeof pending[0] * (size_t)(npending - k - 1));
            pending[--npending] = NULL;
            X509_up_ref(x);
            cred->cert = x;
        }
    }
    struct pki_entry *ent = NULL;
    if (rc == 0 && !(flags & PKI_CERT_BADCERT)) {
        rc = add_entry(e->idPtr, (size_t)e->idLength, list, root, x, crl,
                       e->caIdPtr, &ent);
        if (rc == 0) {
            ent->cred = cred;
            x = NULL;
            crl = NULL;
            cred = NULL;
        } else if (cred) {
            /* Give the key back: it was not taken after all. */
            pending[npending++] = cred->key;
            cred->key = NULL;
        }
    }
    pthread_mutex_unlock(&pki_lock);
    pki_cred_free(cred);
    X509_free(x);
    X509_CRL_free(crl);
    ERR_clear_error();
    if (rc)
        return chip_fail(error, rc);
    *error = flags;
    return (flags & PKI_CERT_BADCERT) ? API_ERROR : 0;
}

int PKI_CertificateDel(void *idPtr, int certType, int *error)
{
    if (!error)
        return API_ERROR;
    int lists = certType & (PKI_CERT_LOCAL | PKI_CERT_NONLOCAL);
    if (!idPtr || lists == 0)
        return chip_fail(error, API_EINVAL);
    size_t n = strnlen(idPtr, CHIPSSL_MAX_ID_LEN + 1);
    if (n > CHIPSSL_MAX_ID_LEN)
        return chip_fail(error, API_ENOENT);
    int found = 0;
    pthread_mutex_lock(&pki_lock);
    for (struct pki_entry **pp = &pki_head; *pp;) {
        struct pki_entry *e = *pp;
        if ((e->list & lists) && strlen(e->id) == n && memcmp(e->id, idPtr, n) == 0) {
            *pp = e->next;
            entry_free(e);
            found = 1;
        } else {
            pp = &e->next;
        }
    }
    if (found)
        atomic_fetch_add(&pki_gen, 1);
    pthread_mutex_unlock(&pki_lock);
    return found ? chip_ok(error) : chip_fail(error, API_ENOENT);
}

/* EC keys on the curves TLS peers support (RFC 8446 4.2.7): P-256/384/521. */
static int named_curve_ok(EVP_PKEY *k)
{
    char group[64];
    if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        NULL))
        return 0;
    return strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0 ||
           strcmp(group, "secp521r1") == 0;
}

int PKI_OwnKeyPairAdd(PKI_OWNKEYPAIR_ADD_Entry *e, int *error)
{
    if (!error)
        return API_ERROR;
    if (!e)
        return chip_fail(error, API_EINVAL);
    int want;
    switch (e->keyType) {
    case PKI_KEY_RSA: want = EVP_PKEY_RSA; break;
    case PKI_KEY_EC: want = EVP_PKEY_EC; break;
    case PKI_KEY_ED25519: want = EVP_PKEY_ED25519; break;
    default: return chip_fail(error, API_EINVAL); /* DSA and unknown */
    }
    BIO *in = NULL;
    int rc = open_input(e->fileNamePtr, e->fileFormat, &in);
    if (rc)
        return chip_fail(error, rc);
    EVP_PKEY *k = (e->fileFormat & ~PKI_FMT_MEMORY) == PKI_FMT_PEM
                      ? PEM_read_bio_PrivateKey(in, NULL, no_password, NULL)
                      : d2i_PrivateKey_bio(in, NULL);
    BIO_free(in);
    ERR_clear_error();
    if (!k || EVP_PKEY_get_base_id(k) != want ||
        (want == EVP_PKEY_RSA && EVP_PKEY_get_bits(k) < 2048) ||
        (want == EVP_PKEY_EC && !named_curve_ok(k))) {
        EVP_PKEY_free(k);
        return chip_fail(error, API_EINVAL);
    }
    pthread_mutex_lock(&pki_lock);
    if (npending < CHIPSSL_MAX_PENDING_KEYS) {
        pending[npending++] = k;
        k = NULL;
    }
    pthread_mutex_unlock(&pki_lock);
    if (k) {
        EVP_PKEY_free(k);
        return chip_fail(error, API_ENOBUFS);
    }
    return chip_ok(error);
}

int PKI_RootCABundleAdd(const char *fileName, const char *idPrefix, int *error)
{
    if (!error)
        return API_ERROR;
    if (!idPrefix)
        idPrefix = "sys:";
    size_t plen = strlen(idPrefix);
    if (plen + 6 > CHIPSSL_MAX_ID_LEN)
        return chip_fail(error, API_EINVAL);
    if (!fileName) {
        fileName = "/etc/ssl/certs/ca-certificates.crt";
        FILE *f = fopen(fileName, "rb");
        if (f)
            fclose(f);
        else
            fileName = X509_get_default_cert_file();
    }
    BIO *in = NULL;
    int rc = open_input(fileName, PKI_FMT_PEM, &in);
    if (rc)
        return chip_fail(error, rc);
    int added = 0, seen = 0;
    X509 *x;
    pthread_mutex_lock(&pki_lock);
    while (rc == 0 && (x = PEM_read_bio_X509(in, NULL, no_password, NULL))) {
        char id[CHIPSSL_MAX_ID_LEN + 1];
        snprintf(id, sizeof id, "%s%d", idPrefix, seen++);
        struct pki_entry *ent;
        if ((check_cert(x, NULL, 1) & (PKI_CERT_BADCERT | PKI_CERT_EXPIRED)) ||
            (rc = add_entry(id, strlen(id), PKI_CERT_NONLOCAL, 1, x, NULL, NULL,
                            &ent)) != 0) {
            X509_free(x);
            if (rc == API_EINVAL) /* ID taken: skip it */
                rc = 0;
            continue;
        }
        added++;
    }
    pthread_mutex_unlock(&pki_lock);
    BIO_free(in);
    ERR_clear_error();
    if (rc)
        return chip_fail(error, rc);
    if (seen == 0)
        return chip_fail(error, API_EINVAL);
    *error = 0;
    return added;
}

/* ---- for sessions and the engine ----------------------------------- */

struct pki_cred *pki_cred_get(const char *id)
{
    struct pki_cred *c = NULL;
    size_t n = strnlen(id, CHIPSSL_MAX_ID_LEN + 1);
    if (n > CHIPSSL_MAX_ID_LEN)
        return NULL;
    pthread_mutex_lock(&pki_lock);
    struct pki_entry *e = find(id, n, PKI_CERT_LOCAL);
    if (e && e->cred) {
        c = e->cred;
        atomic_fetch_add(&c->refs, 1);
    }
    pthread_mutex_unlock(&pki_lock);
    return c;
}

void pki_cred_free(struct pki_cred *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    X509_free(c->cert);
    EVP_PKEY_free(c->key);
    sk_X509_pop_free(c->chain, X509_free);
    free(c);
}

int pki_is_ca(const char *id)
{
    size_t n = strnlen(id, CHIPSSL_MAX_ID_LEN + 1);
    if (n > CHIPSSL_MAX_ID_LEN)
        return 0;
    pthread_mutex_lock(&pki_lock);
    struct pki_entry *e = find(id, n, PKI_CERT_NONLOCAL);
    int r = e && e->cert && (X509_get_extension_flags(e->cert) & EXFLAG_CA);
    pthread_mutex_unlock(&pki_lock);
    return r;
}

/* Add every CRL of the store (pki_lock held). */
static int add_crls(X509_STORE *st, int *has_crl)
{
    *has_crl = 0;
    for (struct pki_entry *e = pki_head; e; e = e->next)
        if (e->crl) {
            if (!X509_STORE_add_crl(st, e->crl))
                return 0;
            *has_crl = 1;
        }
    return 1;
}

X509_STORE *pki_trust_store(int *has_crl)
{
    X509_STORE *st = X509_STORE_new();
    int okay = st != NULL;
    pthread_mutex_lock(&pki_lock);
    for (struct pki_entry *e = pki_head; okay && e; e = e->next) {
        if (!e->cert || e->list != PKI_CERT_NONLOCAL)
            continue;
        /* Roots anchor. Other CA certificates only help build chains: they
         * are never self-signed, so a chain through them must still end at
         * a root of the store. */
        int is_ca = (X509_get_extension_flags(e->cert) & EXFLAG_CA) != 0;
        int self = X509_check_issued(e->cert, e->cert) == X509_V_OK;
        if (e->root || (is_ca && !self))
            okay = X509_STORE_add_cert(st, e->cert) == 1;
    }
    okay = okay && add_crls(st, has_crl);
    pthread_mutex_unlock(&pki_lock);
    if (!okay) {
        X509_STORE_free(st);
        return NULL;
    }
    if (*has_crl)
        X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    ERR_clear_error();
    return st;
}

X509_STORE *pki_ca_store(const char *const *ids, int n, int *has_crl,
                         STACK_OF(X509_NAME) **names)
{
    X509_STORE *st = X509_STORE_new();
    STACK_OF(X509_NAME) *nm = sk_X509_NAME_new_null();
    int okay = st && nm;
    pthread_mutex_lock(&pki_lock);
    for (int i = 0; okay && i < n; i++) {
        struct pki_entry *e = find_cert(ids[i]);
        if (!e)
            continue;
        X509_NAME *name = X509_NAME_dup(X509_get_subject_name(e->cert));
        okay = X509_STORE_add_cert(st, e->cert) == 1 && name &&
               sk_X509_NAME_push(nm, name);
        if (!okay)
            X509_NAME_free(name);
    }
    okay = okay && add_crls(st, has_crl);
    pthread_mutex_unlock(&pki_lock);
    if (!okay) {
        X509_STORE_free(st);
        sk_X509_NAME_pop_free(nm, X509_NAME_free);
        return NULL;
    }
    X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN |
                                 (*has_crl ? X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL : 0));
    ERR_clear_error();
    *names = nm;
    return st;
}
