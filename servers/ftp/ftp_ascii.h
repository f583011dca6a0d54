/*
 * ftp_ascii.h - TYPE A (RFC 959 s.3.1.1.1): lines end in CRLF on the data
 * connection and in LF in files here. Both directions are streaming
 * converters over chunks (a CR at the end of one chunk and its LF at the
 * start of the next are one line end), writing into the caller's buffer.
 * TYPE I moves bytes unchanged and needs none of this.
 */
#ifndef CHIPD_FTP_ASCII_H
#define CHIPD_FTP_ASCII_H

#include <stddef.h>

/* One direction's state; zero it at the start of each transfer. */
struct ftp_ascii {
    int cr; /* to_net: the last byte given was CR; from_net: a CR is held back */
};

/* ftp_ascii_to_net - file bytes to the wire (RETR, LIST): a LF not after a
 * CR becomes CRLF (a file that already has CRLF is sent as it is, unlike
 * vsftpd's blind doubling). Takes as much of in as fits: *used bytes of in,
 * returns the bytes written to out (cap >= 2 always makes progress). */
size_t ftp_ascii_to_net(struct ftp_ascii *a, const char *in, size_t n, char *out, size_t cap,
                        size_t *used);

/* ftp_ascii_from_net - wire bytes to the file (STOR, APPE): CRLF becomes
 * LF, any other CR stays. A CR at the end of in is held back until the next
 * call shows what follows; ftp_ascii_from_net_end gives it back at the end
 * of the transfer. Takes as much of in as fits (*used bytes; cap >= 2
 * always makes progress) and returns the bytes written. */
size_t ftp_ascii_from_net(struct ftp_ascii *a, const char *in, size_t n, char *out, size_t cap,
                          size_t *used);
/* At the end of the upload: the held CR, if any (0 or 1 byte into out). */
size_t ftp_ascii_from_net_end(struct ftp_ascii *a, char *out, size_t cap);

#endif
