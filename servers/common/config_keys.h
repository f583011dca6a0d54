/*
 * config_keys - the one table of configuration keys (internal to config.c
 * and the documentation dump). Adding a key is adding one row here and its
 * field in struct chip_config.
 */
#ifndef CHIPD_CONFIG_KEYS_H
#define CHIPD_CONFIG_KEYS_H

#include <stddef.h>

#include "config.h"

enum cfg_type {
    CFG_BOOL,       /* int: 0 or 1 */
    CFG_UINT,       /* unsigned, min..max */
    CFG_U64,        /* unsigned long long, min..max */
    CFG_PORT,       /* unsigned, a TCP port in min..max */
    CFG_STRING,     /* char[size]: a name or URL path */
    CFG_PATH,       /* char[size]: a file or directory */
    CFG_ADDR,       /* char[size]: an IPv4 or IPv6 literal, empty = all */
    CFG_PORT_RANGE, /* two unsigned: "LOW-HIGH" */
    CFG_SUITES      /* ssl.proposals: IANA numbers or names, comma-separated */
};

struct cfg_key {
    const char *section, *name;
    enum cfg_type type;
    const char *def;              /* parsed like a value from the file */
    unsigned long long min, max;  /* numbers and ports */
    size_t offset, size;          /* of the field in struct chip_config */
    const char *doc_default;      /* NULL: def as it is */
    const char *doc;              /* meaning, for CONFIG.md */
};

/* A family of indexed accounts: USERn, PASSWORDn (and ROOTn). */
struct cfg_family {
    const char *section, *user, *password, *root; /* root NULL: none */
    size_t offset;                                 /* of its struct cfg_accounts */
    const char *doc;
};

extern const struct cfg_key cfg_keys[];
extern const size_t cfg_nkeys;
extern const struct cfg_family cfg_families[];
extern const size_t cfg_nfamilies;
extern const char *const cfg_sections[]; /* NULL-terminated */

#endif
