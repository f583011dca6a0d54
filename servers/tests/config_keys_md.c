/* config_keys_md - prints the key reference that servers/CONFIG.md holds
 * between its markers: build/servers/tests/config_keys_md regenerates it. */
#include "config.h"

int main(void)
{
    chip_config_keys_markdown(stdout);
    return 0;
}
