/* An application built against the installed chipssl: through pkg-config and
 * through CMake's find_package. It opens a session and a socket. */
#include <clib.h>

#include <stdio.h>

int main(void)
{
    int err = 0;
    SSL_SESSION_NEW_Entry e = { NULL, 0, 3 }; /* the original's version = 3 */
    int id = SSL_SessionNew(&e, &err);
    int sd = opensocket(SOCK_STREAM, &err);
    if (id < 1 || sd < 0)
        return 1;
    closesocket(sd, &err);
    SSL_SessionClose(id, &err);
    puts("installed chipssl works");
    return 0;
}
