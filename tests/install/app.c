/* An application built against the installed chipssl: through pkg-config and
 * through CMake's find_package. It opens a session and a socket, and asks
 * for words for a number. */
#include <clib.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
    int err = 0;
    SSL_SESSION_NEW_Entry e = { NULL, 0, 3 }; /* the original's version = 3 */
    int id = SSL_SessionNew(&e, &err);
    if (id < 1) {
        fprintf(stderr, "SSL_SessionNew: %s\n", chipssl_strerror(err));
        return 1;
    }
    int sd = opensocket(SOCK_STREAM, &err);
    if (sd < 0) {
        fprintf(stderr, "opensocket: %s\n", chipssl_strerror(err));
        return 1;
    }
    closesocket(sd, &err);
    SSL_SessionClose(id, &err);
    if (strcmp(chipssl_strerror(API_ECONNREFUSED), "connection refused") != 0)
        return 1;
    puts("installed chipssl works");
    return 0;
}
