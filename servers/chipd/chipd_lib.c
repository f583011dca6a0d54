/*
 * chipd_lib.c - chipd_start / chipd_stop (include/chipd.h) around the
 * configuration and the Web server.
 */
#include <chipd.h>
#include <tcpip.h>

#include "config.h"
#include "web_server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_mutex_t chipd_mu = PTHREAD_MUTEX_INITIALIZER;
static struct web_server *web;

static int fail(int *error, int code)
{
    if (error)
        *error = code;
    return -1;
}

/* Load and report; API_ENOENT for an unreadable file, API_EINVAL else. */
static int load(const char *iniFile, struct chip_config *cfg, int *error)
{
    char err[CFG_ERROR_MAX];
    FILE *f = fopen(iniFile, "r");
    if (!f) {
        perror(iniFile);
        return fail(error, API_ENOENT);
    }
    fclose(f);
    if (chip_config_load(iniFile, cfg, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return fail(error, API_EINVAL);
    }
    return 0;
}

/* The line of [section] key in the file, 0 when not there: for messages
 * about a key's value that only running shows wrong (a busy port). */
static int key_line(const char *file, const char *msg)
{
    char section[32], key[64], line[1024], cur[32] = "";
    if (sscanf(msg, "[%31[^]]] %63[A-Z0-9_]", section, key) != 2)
        return 0;
    FILE *f = fopen(file, "r");
    if (!f)
        return 0;
    int n = 0, found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char *p = line + strspn(line, " \t");
        n++;
        if (*p == '[')
            sscanf(p, "[%31[^]]]", cur);
        else if (strcasecmp(cur, section) == 0 && strncasecmp(p, key, strlen(key)) == 0 &&
                 strchr(" \t=:", p[strlen(key)]))
            found = n;
    }
    fclose(f);
    return found;
}

int chipd_check(const char *iniFile, int *error)
{
    struct chip_config *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return fail(error, API_ENOMEM);
    int rc = load(iniFile ? iniFile : "chip.ini", cfg, error);
    if (rc == 0)
        chip_config_free(cfg);
    free(cfg);
    if (rc == 0 && error)
        *error = 0;
    return rc;
}

int chipd_start(const char *iniFile, int *error)
{
    pthread_mutex_lock(&chipd_mu);
    if (web) {
        pthread_mutex_unlock(&chipd_mu);
        return fail(error, API_EALREADY);
    }
    struct chip_config *cfg = malloc(sizeof *cfg);
    if (!cfg) {
        pthread_mutex_unlock(&chipd_mu);
        return fail(error, API_ENOMEM);
    }
    if (load(iniFile ? iniFile : "chip.ini", cfg, error) != 0) {
        free(cfg);
        pthread_mutex_unlock(&chipd_mu);
        return -1;
    }
    char err[1024];
    int api = 0, rc = 0;
    if ((cfg->web.enable || cfg->web.ssl_enable) &&
        web_server_start(cfg, &web, err, sizeof err, &api) != 0) {
        const char *name = iniFile ? iniFile : "chip.ini";
        int line = key_line(name, err);
        if (line)
            fprintf(stderr, "%s:%d: %s\n", name, line, err);
        else
            fprintf(stderr, "%s: %s\n", name, err);
        web = NULL;
        rc = fail(error, api);
    }
    chip_config_free(cfg);
    free(cfg);
    pthread_mutex_unlock(&chipd_mu);
    if (rc == 0 && error)
        *error = 0;
    return rc;
}

int chipd_stop(int *error)
{
    pthread_mutex_lock(&chipd_mu);
    if (!web) {
        pthread_mutex_unlock(&chipd_mu);
        return fail(error, API_EINVAL);
    }
    web_server_stop(web);
    web = NULL;
    pthread_mutex_unlock(&chipd_mu);
    if (error)
        *error = 0;
    return 0;
}

int chipd_reload(int *error)
{
    pthread_mutex_lock(&chipd_mu);
    int rc = web ? web_server_reload(web) : -1;
    int code = web ? API_EINVAL : API_EINVAL;
    pthread_mutex_unlock(&chipd_mu);
    if (rc != 0)
        return fail(error, code);
    if (error)
        *error = 0;
    return 0;
}

unsigned chipd_port(int server)
{
    pthread_mutex_lock(&chipd_mu);
    unsigned p = web ? web_server_port(web, server == 1) : 0;
    pthread_mutex_unlock(&chipd_mu);
    return p;
}
