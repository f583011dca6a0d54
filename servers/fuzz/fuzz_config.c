/*
 * fuzz_config - chip.ini parsing on any text: it accepts or refuses with a
 * message naming the file, and what it accepts keeps the table's promises
 * (ports and numbers in range, accounts with a user and a password, a web
 * root that is not "/").
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct chip_config c;
    char err[CFG_ERROR_MAX] = "";
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = 0; /* the loader refuses NUL bytes before this point */
    int rc = chip_config_load_string("f.ini", text, &c, err, sizeof err);
    free(text);
    if (rc != 0) {
        if (rc != -1 || strncmp(err, "f.ini:", 6) || c.ftp.accounts.list || c.web.secure.list ||
            c.web.upload.list)
            abort();
        return 0;
    }
    if (c.web.http_port < 1 || c.web.http_port > 65535 || c.ftp.ftps_port > 65535 ||
        c.web.max_headers < 1 || c.web.max_headers > 100 || c.web.workers > 256 ||
        c.ftp.pasv_min > c.ftp.pasv_max)
        abort();
    if ((c.web.enable || c.web.ssl_enable) &&
        (!c.web.rootdir[0] || !c.web.rootdir[strspn(c.web.rootdir, "/")]))
        abort();
    if (chip_config_tls_needed(&c) && (!c.ssl.cert[0] || !c.ssl.key[0]))
        abort();
    const struct cfg_accounts *all[] = {&c.ftp.accounts, &c.web.secure, &c.web.upload};
    for (size_t f = 0; f < 3; f++)
        for (size_t i = 0; i < all[f]->count; i++)
            if (!all[f]->list[i].user[0] || !all[f]->list[i].password[0] ||
                (f == 0 && !all[f]->list[i].root[0]) ||
                (i && all[f]->list[i].index <= all[f]->list[i - 1].index))
                abort();
    chip_config_free(&c);
    return 0;
}
