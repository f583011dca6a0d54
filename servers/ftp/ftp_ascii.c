/*
 * ftp_ascii.c - TYPE A line ends, both directions, any chunking.
 */
#include "ftp_ascii.h"

size_t ftp_ascii_to_net(struct ftp_ascii *a, const char *in, size_t n, char *out, size_t cap,
                        size_t *used)
{
    size_t i = 0, o = 0;
    for (; i < n; i++) {
        char ch = in[i];
        int lf_alone = ch == '\n' && !a->cr;
        if (o + (lf_alone ? 2 : 1) > cap)
            break;
        if (lf_alone)
            out[o++] = '\r';
        out[o++] = ch;
        a->cr = ch == '\r';
    }
    *used = i;
    return o;
}

size_t ftp_ascii_from_net(struct ftp_ascii *a, const char *in, size_t n, char *out, size_t cap,
                          size_t *used)
{
    size_t i = 0, o = 0;
    for (; i < n; i++) {
        char ch = in[i];
        int held = a->cr && ch != '\n'; /* a CR that did not end a line stays */
        if (o + (size_t)held + (ch != '\r') > cap)
            break;
        if (held)
            out[o++] = '\r';
        a->cr = ch == '\r';
        if (ch != '\r')
            out[o++] = ch;
    }
    *used = i;
    return o;
}

size_t ftp_ascii_from_net_end(struct ftp_ascii *a, char *out, size_t cap)
{
    if (!a->cr || cap == 0)
        return 0;
    a->cr = 0;
    out[0] = '\r';
    return 1;
}
