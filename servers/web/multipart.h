/*
 * multipart - a streaming multipart/form-data parser (RFC 7578 on RFC 2046
 * boundaries) for the Web server's uploads: resumable, no allocation, no
 * I/O, fed the request body in pieces of any size (http_chunked_decode's
 * shape).
 *
 *   struct multipart m;
 *   multipart_init(&m, req.boundary.p, req.boundary.n, NULL);
 *   for each piece buf[0..len) of the body:
 *       while (len > 0) {
 *           rc = multipart_feed(&m, buf, len, &used, &data, &dlen);
 *           buf += used; len -= used;
 *           PART: m.part holds the part's headers; DATA: data[0..dlen) of
 *           it; PART_END: it is complete; DONE: the body is complete
 *           (the rest is epilogue, ignored); < 0: answer -rc.
 *       }
 *   at the end of the body: multipart_finish(&m) (0, or -400 when the
 *   closing delimiter never came).
 *
 * Data slices lie inside the buffer given, except one case: bytes that
 * looked like the start of a delimiter at the end of one piece and turned
 * out to be data in the next are given from the parser's own copy of the
 * delimiter (m.delim), with *used 0. Every split of the body gives the same
 * parts, the same data bytes and the same result.
 *
 * Accepted: a preamble before the first delimiter and an epilogue after the
 * last (both ignored); transport padding (spaces, tabs) after a boundary.
 * Lines end with CRLF (RFC 2046; browsers send it). Each part needs
 * `Content-Disposition: form-data; name=...` (RFC 7578 4.2); a quoted
 * parameter ends at the next '"' (no backslash escapes: browsers send
 * Windows paths with '\' and write '"' as %22, WHATWG HTML 4.10.21.8);
 * `filename*` (RFC 5987) is ignored as RFC 7578 4.2 tells. Other header
 * fields are ignored (Content-Transfer-Encoding is deprecated).
 */
#ifndef CHIPD_MULTIPART_H
#define CHIPD_MULTIPART_H

#include <stddef.h>

#define MULTIPART_MAX_BOUNDARY 70  /* RFC 2046 5.1.1 */
#define MULTIPART_MAX_HEADER 2048  /* ceiling of multipart_limits.max_header */
#define MULTIPART_MAX_NAME 127     /* name= bytes; more: -413 */
#define MULTIPART_MAX_FILENAME 255 /* filename= bytes as sent; more: -413 */
#define MULTIPART_MAX_TYPE 127     /* Content-Type bytes; more: -413 */

struct multipart_limits {
    size_t max_header;  /* header bytes of one part, CRLFs included; more: -413 */
    unsigned max_parts; /* parts in the body; more: -413 */
};

/* 1024 header bytes and 64 parts per body. */
extern const struct multipart_limits multipart_default_limits;

/* The headers of the current part (valid from MULTIPART_PART until the
 * next MULTIPART_PART). Strings are NUL-terminated. */
struct multipart_part {
    /* name= of Content-Disposition */
    char name[MULTIPART_MAX_NAME + 1];
    /* 1 when a filename= parameter was sent: a file field (its filename is
     * "" when the user chose no file) */
    int has_filename;
    /* sanitised (multipart_sanitize_filename); "" when none or unusable */
    char filename[MULTIPART_MAX_FILENAME + 1];
    /* as sent; "" when absent (RFC 7578: then text/plain) */
    char content_type[MULTIPART_MAX_TYPE + 1];
};

struct multipart {
    int state;
    int error;                              /* the error once one happened, else 0 */
    const char *why;                        /* words for it (the error log), else NULL */
    char delim[4 + MULTIPART_MAX_BOUNDARY]; /* "\r\n--" boundary */
    size_t dlen;
    size_t match; /* delimiter bytes matched and consumed */
    size_t hlen;  /* header bytes of the current part */
    size_t line;  /* where the current header line starts */
    unsigned parts;
    struct multipart_limits lim;
    struct multipart_part part;
    char hbuf[MULTIPART_MAX_HEADER];
};

/* multipart_init - a parser at the start of a body whose boundary is
 * b[0..n) (http_request.boundary: quotes already removed). lim NULL =
 * multipart_default_limits; max_header is capped at MULTIPART_MAX_HEADER.
 * Returns 0, or -400 for a boundary that RFC 2046 does not allow (empty,
 * longer than 70, a character outside bchars, a space at the end). */
int multipart_init(struct multipart *m, const char *b, size_t n,
                   const struct multipart_limits *lim);

#define MULTIPART_MORE 0     /* all input used; more is needed */
#define MULTIPART_PART 1     /* a part begins: m->part holds its headers */
#define MULTIPART_DATA 2     /* *datalen (> 0) bytes of the part at *data */
#define MULTIPART_PART_END 3 /* the part's data is complete */
#define MULTIPART_DONE 4     /* the closing delimiter: the body is complete */

/* multipart_feed - parse from buf[0..len). *used is how much of buf was
 * consumed (call again with the rest). Errors: -400 (malformed: no
 * delimiter line ending, missing or bad Content-Disposition, a header line
 * without ':', folded or with control characters), -413 (a limit: header
 * bytes, parts, name, filename or type length). After DONE every byte is
 * consumed and DONE returned again; after an error the same error. */
int multipart_feed(struct multipart *m, const char *buf, size_t len, size_t *used,
                   const char **data, size_t *datalen);

/* multipart_finish - the body ended: 0 when the closing delimiter was
 * seen, else -400 (and any earlier error as it was). After an error of
 * multipart_init or multipart_feed m->why says what was wrong, for the
 * error log; it stays NULL when the body merely ended too early. */
int multipart_finish(const struct multipart *m);

/* multipart_sanitize_filename - a file name as a client sent it, made safe
 * to create inside the web root's upload directory. Rules, in order:
 *   1. only the last component: whatever follows the last '/' or '\'
 *      (old browsers send "C:\dir\file.txt");
 *   2. control characters (0x00-0x1f, 0x7f) and the characters
 *      " * : < > ? | become '_' (no hidden line breaks or shell/Windows
 *      metacharacters in names shown in listings);
 *   3. leading dots and spaces go (no ".", "..", ".htaccess"-like hidden
 *      files), trailing dots and spaces go.
 * Bytes >= 0x80 (UTF-8) are kept. The result therefore never holds '/',
 * never is "." or "..", never holds a control character. Writes out
 * (NUL-terminated) and returns its length; 0 means no usable name is left
 * (the handler refuses the upload or names it itself); -1 when out is too
 * small (out then ""). */
long multipart_sanitize_filename(const char *in, size_t n, char *out, size_t outsize);

#endif
