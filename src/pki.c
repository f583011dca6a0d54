/*
 * pki.c - the process-wide PKI store: own key pairs and certificates (the
 * local list), CA and peer certificates and CRLs (the non-local list).
 *
 * One mutex guards the lists; entries hold counted engine objects, so a
 * session or TLS context that took a certificate keeps it after deletion.
 * Parsing and cryptographic checks are the engine's (tls.h); this file keeps
 * the lists, the IDs, the pending-key rule and the add-time verdicts.
 */
#include "pki.h"

#include "internal.h"
#include "tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pki_entry {
    struct pki_entry *next;
    char id[CHIPSSL_MAX_ID_LEN + 1];
    int list;               /* PKI_CERT_LOCAL or PKI_CERT_NONLOCAL */
    int root;               /* trust anchor */
    struct tls_cert *cert;  /* NULL for a CRL */
    int info;               /* tls_cert_info(cert), computed once when added */
    struct tls_crl *crl;
    struct pki_cred *cred;  /* LOCAL entries */
    char ca_id[CHIPSSL_MAX_ID_LEN + 1]; /* issuer ID given at add time */
};

static pthread_mutex_t pki_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pki_entry *pki_head;
static int nentries;
static struct tls_key *pending[CHIPSSL_MAX_PENDING_KEYS];
static int npending;
static atomic_uint pki_gen = 1;

/* The shared trust store of the newest generation built (trust_lock). */
static pthread_mutex_t trust_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tls_trust *trust_cached;
static unsigned trust_gen;

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

struct input {
    const unsigned char *data;
    size_t len;
    unsigned char *owned; /* file contents, freed by input_free */
    int pem;
};

/* The bytes of a file or memory input. Returns 0 or a negated API code. */
static int input_open(const char *src, int fmt, struct input *in)
{
    int mem = fmt & PKI_FMT_MEMORY, kind = fmt & ~PKI_FMT_MEMORY;
    memset(in, 0, sizeof *in);
    if (!src || (kind != PKI_FMT_PEM && kind != PKI_FMT_DER))
        return -API_EINVAL;
    in->pem = kind == PKI_FMT_PEM;
    if (mem) {
        in->data = (const unsigned char *)src;
        in->len = in->pem ? strlen(src) : der_length(in->data);
        return in->len ? 0 : -API_EINVAL;
    }
    FILE *f = fopen(src, "rb");
    if (!f)
        return errno == ENOENT ? -API_ENOENT : -chipssl_errno_to_api(errno);
    int rc = 0;
    size_t cap = 0, n;
    unsigned char *buf = NULL;
    do {
        if (in->len == cap) {
            size_t ncap = cap ? cap * 2 : 16384;
            unsigned char *nb = ncap <= (size_t)CHIPSSL_MAX_PKI_FILE + 1 ? realloc(buf, ncap)
                                                                       : NULL;
            if (!nb) {
                rc = ncap > (size_t)CHIPSSL_MAX_PKI_FILE + 1 ? -API_EINVAL : -API_ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        n = fread(buf + in->len, 1, cap - in->len, f);
        in->len += n;
    } while (n > 0);
    if (rc == 0 && (ferror(f) || in->len > (size_t)CHIPSSL_MAX_PKI_FILE || in->len == 0))
        rc = -API_EINVAL;
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    in->data = in->owned = buf;
    return 0;
}

static void input_free(struct input *in)
{
    free(in->owned);
}

/* ---- lookups (pki_lock held) --------------------------------------- */

static struct pki_entry *find(const char *id, size_t idlen, int lists)
{
    for (struct pki_entry *e = pki_head; e; e = e->next)
        if ((e->list & lists) && strlen(e->id) == idlen && memcmp(e->id, id, idlen) == 0)
            return e;
    return NULL;
}

/* The length of a NUL-terminated ID, or 0 when it is too long. */
static size_t id_length(const char *id)
{
    size_t n = strnlen(id, CHIPSSL_MAX_ID_LEN + 1);
    return n > CHIPSSL_MAX_ID_LEN ? 0 : n;
}

static struct pki_entry *find_cert(const char *id)
{
    size_t n = id_length(id);
    struct pki_entry *e = n ? find(id, n, PKI_CERT_NONLOCAL) : NULL;
    if (n && (!e || !e->cert))
        e = find(id, n, PKI_CERT_LOCAL);
    return e && e->cert ? e : NULL;
}

static int revoked_by_store(const struct tls_cert *x)
{
    for (struct pki_entry *e = pki_head; e; e = e->next)
        if (e->crl && tls_crl_lists(e->crl, x))
            return 1;
    return 0;
}

/* The issuer chain of a local certificate into cred, following the caId
 * links up to (not including) a self-signed certificate. 0 or -API_ENOMEM. */
static int issuer_chain(const char *ca_id, struct pki_cred *cred)
{
    while (ca_id[0] && cred->nchain < PKI_CHAIN_MAX) {
        struct pki_entry *ca = find_cert(ca_id);
        if (!ca || (ca->info & TLS_CERT_SELF_ISSUED))
            break;
        if (!tls_cert_ref(ca->cert))
            return -API_ENOMEM;
        cred->chain[cred->nchain++] = ca->cert;
        ca_id = ca->ca_id;
    }
    return 0;
}

/* ---- checks at add time -------------------------------------------- */

/* Check a certificate (info: its tls_cert_info) against its issuer and the
 * store; returns flags, or -API_ENOMEM when a check could not be computed. */
static int check_cert(const struct tls_cert *x, int info, const char *ca_id, int root)
{
    int r, flags = 0;
    if (info & TLS_CERT_NO_KEY)
        return PKI_CERT_BADCERT;
    if (root && !(info & TLS_CERT_IS_CA))
        flags |= PKI_CERT_BADCERT;
    if (ca_id) {
        struct pki_entry *ca = find_cert(ca_id);
        if (!ca)
            flags |= PKI_CERT_BADCERT | PKI_CERT_UNKNOWNCA;
        else if ((r = tls_cert_signed_by(x, ca->cert)) <= 0)
            flags |= r < 0 ? r : PKI_CERT_BADCERT | PKI_CERT_NOTVERIFIED;
    } else if (info & TLS_CERT_SELF_ISSUED) {
        if ((r = tls_cert_signed_by(x, x)) <= 0)
            flags |= r < 0 ? r : PKI_CERT_BADCERT | PKI_CERT_NOTVERIFIED;
    } else {
        flags |= PKI_CERT_UNKNOWNCA;
    }
    if (tls_cert_expired(x))
        flags |= PKI_CERT_EXPIRED;
    if (revoked_by_store(x))
        flags |= PKI_CERT_REVOKED;
    return flags < 0 ? -API_ENOMEM : flags;
}

static int check_crl(const struct tls_crl *crl, const char *ca_id)
{
    struct pki_entry *ca = NULL;
    if (ca_id) {
        ca = find_cert(ca_id);
        if (!ca)
            return PKI_CERT_BADCERT | PKI_CERT_UNKNOWNCA;
    } else {
        for (struct pki_entry *e = pki_head; e && !ca; e = e->next)
            if (e->cert && tls_crl_issued_by(crl, e->cert))
                ca = e;
    }
    int flags = 0, r;
    if (!ca)
        flags |= PKI_CERT_UNKNOWNCA;
    else if ((r = tls_crl_signed_by(crl, ca->cert)) < 0)
        return r;
    else if (!r)
        flags |= PKI_CERT_BADCERT | PKI_CERT_NOTVERIFIED;
    if (tls_crl_expired(crl))
        flags |= PKI_CERT_EXPIRED;
    return flags;
}

static void entry_free(struct pki_entry *e)
{
    if (!e)
        return;
    tls_cert_free(e->cert);
    tls_crl_free(e->crl);
    pki_cred_free(e->cred);
    free(e);
}

/* Link a new entry (pki_lock held). Takes ownership of cert/crl/cred. */
static int add_entry(const char *id, size_t idlen, int list, int root, struct tls_cert *cert,
                     int info, struct tls_crl *crl, struct pki_cred *cred, const char *ca_id)
{
    if (find(id, idlen, list))
        return -API_EINVAL;
    struct pki_entry *e = calloc(1, sizeof *e);
    if (!e)
        return -API_ENOMEM;
    memcpy(e->id, id, idlen);
    e->list = list;
    e->root = root;
    e->cert = cert;
    e->info = info;
    e->crl = crl;
    e->cred = cred;
    if (ca_id)
        chip_strlcpy(e->ca_id, ca_id, sizeof e->ca_id);
    e->next = pki_head;
    pki_head = e;
    nentries++;
    atomic_fetch_add(&pki_gen, 1);
    return 0;
}

/* A LOCAL certificate takes the key pair added last (API.md 4), which must
 * be its own. Call order pairs them: threads adding key pairs at the same
 * time serialize their two calls (tcpip.h says so). pki_lock held.
 * Returns flags (BADCERT|KEYMISMATCH: not its key) or a negated code; on 0,
 * *out is the new credential. */
static int take_key(struct tls_cert *x, const char *ca_id, struct pki_cred **out)
{
    int k = npending - 1, r = k < 0 ? 0 : tls_key_matches(x, pending[k]);
    *out = NULL;
    if (r <= 0)
        return r < 0 ? r : PKI_CERT_BADCERT | PKI_CERT_KEYMISMATCH;
    struct pki_cred *cred = calloc(1, sizeof *cred);
    if (!cred || !tls_cert_ref(x)) {
        free(cred);
        return -API_ENOMEM;
    }
    atomic_init(&cred->refs, 1);
    cred->cert = x;
    if ((r = issuer_chain(ca_id ? ca_id : "", cred)) < 0) {
        pki_cred_free(cred);
        return r;
    }
    cred->key = pending[k];
    pending[--npending] = NULL;
    *out = cred;
    return 0;
}

/* The type's list and kind, or -API_EINVAL. */
static int cert_type(int type, int *list, int *root, int *is_crl)
{
    *root = *is_crl = 0;
    *list = PKI_CERT_NONLOCAL;
    switch (type) {
    case PKI_CERT_LOCAL: *list = PKI_CERT_LOCAL; return 0;
    case PKI_CERT_NONLOCAL: return 0;
    case PKI_CERT_NONLOCAL | PKI_CERT_ROOTCA: *root = 1; return 0;
    case PKI_CERT_CRL:
    case PKI_CERT_CRL | PKI_CERT_NONLOCAL: *is_crl = 1; return 0;
    default: return -API_EINVAL;
    }
}

int PKI_CertificateAdd(const PKI_CERT_ADD_Entry *e, int *error)
{
    if (!error)
        return API_ERROR;
    int list, root, is_crl;
    if (!e || !e->idPtr || e->idLength < 1 || e->idLength > CHIPSSL_MAX_ID_LEN ||
        memchr(e->idPtr, '\0', (size_t)e->idLength) ||
        (e->caIdPtr && !id_length(e->caIdPtr)) ||
        cert_type(e->certType, &list, &root, &is_crl) < 0)
        return chip_return(error, -API_EINVAL);

    struct input in;
    struct tls_cert *x = NULL;
    struct tls_crl *crl = NULL;
    struct pki_cred *cred = NULL;
    int flags = 0, info = 0, rc = input_open(e->fileNamePtr, e->fileFormat, &in);
    if (rc == 0)
        rc = is_crl ? tls_crl_parse(in.data, in.len, in.pem, &crl)
                    : tls_cert_parse(in.data, in.len, in.pem, &x);
    input_free(&in);
    if (rc == 0 && x)
        rc = info = tls_cert_info(x);
    if (rc < 0)
        goto out;

    pthread_mutex_lock(&pki_lock);
    rc = flags = is_crl ? check_crl(crl, e->caIdPtr) : check_cert(x, info, e->caIdPtr, root);
    if (rc >= 0 && !(flags & PKI_CERT_BADCERT) && list == PKI_CERT_LOCAL)
        rc = flags |= take_key(x, e->caIdPtr, &cred);
    if (rc >= 0 && !(flags & PKI_CERT_BADCERT)) {
        rc = add_entry(e->idPtr, (size_t)e->idLength, list, root, x, info, crl, cred,
                       e->caIdPtr);
        if (rc == 0) {
            x = NULL;
            crl = NULL;
        } else if (cred) {
            /* Give the key back: it was not taken after all. */
            pending[npending++] = cred->key;
            cred->key = NULL;
            pki_cred_free(cred);
        }
    }
    pthread_mutex_unlock(&pki_lock);
out:
    tls_cert_free(x);
    tls_crl_free(crl);
    if (rc < 0)
        return chip_return(error, rc);
    /* Stored or not, the flags are the answer (API.md 4). */
    *error = flags;
    return (flags & PKI_CERT_BADCERT) ? API_ERROR : 0;
}

int PKI_CertificateDel(const void *idPtr, int certType, int *error)
{
    if (!error)
        return API_ERROR;
    int lists = certType & (PKI_CERT_LOCAL | PKI_CERT_NONLOCAL);
    if (!idPtr || lists == 0)
        return chip_return(error, -API_EINVAL);
    size_t n = id_length(idPtr);
    if (!n)
        return chip_return(error, -API_ENOENT);
    int found = 0;
    pthread_mutex_lock(&pki_lock);
    for (struct pki_entry **pp = &pki_head; *pp;) {
        struct pki_entry *e = *pp;
        if ((e->list & lists) && strlen(e->id) == n && memcmp(e->id, idPtr, n) == 0) {
            *pp = e->next;
            entry_free(e);
            nentries--;
            found = 1;
        } else {
            pp = &e->next;
        }
    }
    if (found)
        atomic_fetch_add(&pki_gen, 1);
    pthread_mutex_unlock(&pki_lock);
    return found ? chip_return(error, 0) : chip_return(error, -API_ENOENT);
}

int PKI_OwnKeyPairAdd(const PKI_OWNKEYPAIR_ADD_Entry *e, int *error)
{
    if (!error)
        return API_ERROR;
    if (!e)
        return chip_return(error, -API_EINVAL);
    if (e->keyType != PKI_KEY_RSA && e->keyType != PKI_KEY_EC &&
        e->keyType != PKI_KEY_ED25519)
        return chip_return(error, -API_EINVAL); /* DSA and unknown */
    struct input in;
    struct tls_key *k = NULL;
    int rc = input_open(e->fileNamePtr, e->fileFormat, &in);
    if (rc == 0)
        rc = tls_key_parse(in.data, in.len, in.pem, e->keyType, &k);
    input_free(&in);
    if (rc < 0)
        return chip_return(error, rc);
    pthread_mutex_lock(&pki_lock);
    if (npending < CHIPSSL_MAX_PENDING_KEYS) {
        pending[npending++] = k;
        k = NULL;
    }
    pthread_mutex_unlock(&pki_lock);
    if (k) {
        tls_key_free(k);
        return chip_return(error, -API_ENOBUFS);
    }
    return chip_return(error, 0);
}

struct bundle {
    const char *prefix;
    int seen, added;
};

/* One certificate of a bundle (pki_lock held): a root CA under
 * prefix + index; unusable, expired or already taken IDs are skipped. */
static int bundle_add(void *arg, struct tls_cert *x)
{
    struct bundle *b = arg;
    char id[CHIPSSL_MAX_ID_LEN + 1];
    snprintf(id, sizeof id, "%s%d", b->prefix, b->seen++);
    int info = tls_cert_info(x), rc = info < 0 ? info : check_cert(x, info, NULL, 1);
    if (rc >= 0)
        rc = (rc & (PKI_CERT_BADCERT | PKI_CERT_EXPIRED))
                 ? -API_EINVAL
                 : add_entry(id, strlen(id), PKI_CERT_NONLOCAL, 1, x, info, NULL, NULL, NULL);
    if (rc == 0) {
        b->added++;
        return 0;
    }
    tls_cert_free(x);
    return rc == -API_ENOMEM ? rc : 0;
}

int PKI_RootCABundleAdd(const char *fileName, const char *idPrefix, int *error)
{
    if (!error)
        return API_ERROR;
    if (!idPrefix)
        idPrefix = "sys:";
    if (strlen(idPrefix) + 6 > CHIPSSL_MAX_ID_LEN)
        return chip_return(error, -API_EINVAL);
    if (!fileName)
        fileName = "/etc/ssl/certs/ca-certificates.crt"; /* Debian's bundle */
    struct input in;
    int rc = input_open(fileName, PKI_FMT_PEM, &in);
    if (rc < 0)
        return chip_return(error, rc);
    struct bundle b = { idPrefix, 0, 0 };
    pthread_mutex_lock(&pki_lock);
    int r = tls_cert_bundle(in.data, in.len, bundle_add, &b);
    pthread_mutex_unlock(&pki_lock);
    input_free(&in);
    if (r < 0)
        return chip_return(error, r);
    if (b.seen == 0)
        return chip_return(error, -API_EINVAL);
    *error = 0;
    return b.added;
}

/* ---- for sessions and the engine ----------------------------------- */

struct pki_cred *pki_cred_get(const char *id)
{
    struct pki_cred *c = NULL;
    size_t n = id_length(id);
    if (!n)
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

void pki_cred_ref(struct pki_cred *c)
{
    atomic_fetch_add(&c->refs, 1);
}

void pki_cred_free(struct pki_cred *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    tls_cert_free(c->cert);
    tls_key_free(c->key);
    for (int i = 0; i < c->nchain; i++)
        tls_cert_free(c->chain[i]);
    free(c);
}

int pki_is_ca(const char *id)
{
    size_t n = id_length(id);
    if (!n)
        return 0;
    pthread_mutex_lock(&pki_lock);
    struct pki_entry *e = find(id, n, PKI_CERT_NONLOCAL);
    int r = e && e->cert && (e->info & TLS_CERT_IS_CA);
    pthread_mutex_unlock(&pki_lock);
    return r;
}

/* References to what a trust store is built from, taken under pki_lock so
 * that the (slow) build runs without it. */
struct snapshot {
    struct tls_cert **certs;
    struct tls_crl **crls;
    int ncerts, ncrls;
};

static void snapshot_free(struct snapshot *s)
{
    for (int i = 0; i < s->ncerts; i++)
        tls_cert_free(s->certs[i]);
    for (int i = 0; i < s->ncrls; i++)
        tls_crl_free(s->crls[i]);
    free(s->certs);
    free(s->crls);
}

/* Roots anchor. Other CA certificates only help build chains: they are
 * never self-signed, so a chain through them must still end at a root. */
static int trust_anchor(const struct pki_entry *e)
{
    if (!e->cert || e->list != PKI_CERT_NONLOCAL)
        return 0;
    return e->root || ((e->info & TLS_CERT_IS_CA) && !(e->info & TLS_CERT_SELF_ISSUED));
}

/* With ids, those certificates; without, the trust anchors and chain
 * helpers. Every CRL either way. */
static int snapshot_take(struct snapshot *s, const char *const *ids, int n, unsigned *gen)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_lock(&pki_lock);
    *gen = pki_generation();
    s->certs = calloc((size_t)nentries + 1, sizeof *s->certs);
    s->crls = calloc((size_t)nentries + 1, sizeof *s->crls);
    int ok = s->certs && s->crls;
    for (int i = 0; ok && ids && i < n; i++) {
        struct pki_entry *e = find_cert(ids[i]);
        if (e && (ok = tls_cert_ref(e->cert)))
            s->certs[s->ncerts++] = e->cert;
    }
    for (struct pki_entry *e = pki_head; ok && e; e = e->next) {
        if (e->crl && (ok = tls_crl_ref(e->crl)))
            s->crls[s->ncrls++] = e->crl;
        else if (!ids && trust_anchor(e) && (ok = tls_cert_ref(e->cert)))
            s->certs[s->ncerts++] = e->cert;
    }
    pthread_mutex_unlock(&pki_lock);
    return ok;
}

/* A trust store from a snapshot: the build itself holds no lock, so adds,
 * deletes and other sessions' handshakes go on meanwhile. */
void (*chip_test_trust_hook)(void);

static struct tls_trust *build(const char *const *ids, int n, unsigned *gen)
{
    struct snapshot s;
    struct tls_trust *t = NULL;
    int ok = snapshot_take(&s, ids, n, gen);
    if (chip_test_trust_hook)
        chip_test_trust_hook();
    if (ok)
        t = tls_trust_new(s.certs, s.ncerts, s.crls, s.ncrls, ids != NULL);
    snapshot_free(&s);
    return t;
}

struct tls_trust *pki_trust(unsigned *gen)
{
    pthread_mutex_lock(&trust_lock);
    struct tls_trust *t = trust_cached;
    unsigned g = trust_gen;
    if (t && g == pki_generation())
        tls_trust_ref(t);
    else
        t = NULL;
    pthread_mutex_unlock(&trust_lock);
    if (!t) {
        /* Built without a lock: two threads may both build after a change,
         * but none waits for another's build. Never hand out an old store
         * when this fails: it may trust what was deleted. */
        if (!(t = build(NULL, 0, &g)))
            return NULL;
        pthread_mutex_lock(&trust_lock);
        if (!trust_cached || g > trust_gen) {
            tls_trust_free(trust_cached);
            tls_trust_ref(t);
            trust_cached = t;
            trust_gen = g;
        }
        pthread_mutex_unlock(&trust_lock);
    }
    if (gen)
        *gen = g;
    return t;
}

struct tls_trust *pki_client_ca_trust(const char *const *ids, int n)
{
    unsigned gen;
    return build(ids, n, &gen);
}
