/*
 * chipd_lib.c - chipd_start / chipd_stop (include/chipd.h) around the
 * configuration, the Web server and the FTP server.
 */
#include <chipd.h>
#include <tcpip.h>

#include "config.h"
#include "ftp_server.h"
#include "inifile.h"
#include "web_server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_mutex_t chipd_mu = PTHREAD_MUTEX_INITIALIZER;
static struct web_server *web;
static struct ftp_server *ftp;
static int running;

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
    if (running) {
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
    const char *name = iniFile ? iniFile : "chip.ini";
    if ((cfg->web.enable || cfg->web.ssl_enable) &&
        web_server_start(cfg, &web, err, sizeof err, &api) != 0) {
        web = NULL;
        rc = -1;
    }
    if (rc == 0 && cfg->ftp.enable && ftp_server_start(cfg, &ftp, err, sizeof err, &api) != 0) {
        ftp = NULL;
        rc = -1;
        web_server_stop(web); /* nothing left running */
        web = NULL;
    }
    if (rc != 0) {
        int line = key_line(name, err);
        if (line)
            fprintf(stderr, "%s:%d: %s\n", name, line, err);
        else
            fprintf(stderr, "%s: %s\n", name, err);
        fail(error, api);
    } else {
        running = 1;
        /* Set_FTPServer_Idle_Timeout and BIOS_Set_Ini_String write here. */
        chip_ini_set_default_file(name);
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
    if (!running) {
        pthread_mutex_unlock(&chipd_mu);
        return fail(error, API_EINVAL);
    }
    ftp_server_stop(ftp);
    ftp = NULL;
    web_server_stop(web);
    web = NULL;
    running = 0;
    pthread_mutex_unlock(&chipd_mu);
    if (error)
        *error = 0;
    return 0;
}

int chipd_reload(int *error)
{
    pthread_mutex_lock(&chipd_mu);
    int rc = running ? 0 : -1;
    if (web && web_server_reload(web) != 0)
        rc = -1;
    if (ftp && ftp_server_reload(ftp) != 0)
        rc = -1;
    pthread_mutex_unlock(&chipd_mu);
    if (rc != 0)
        return fail(error, API_EINVAL);
    if (error)
        *error = 0;
    return 0;
}

unsigned chipd_port(int server)
{
    pthread_mutex_lock(&chipd_mu);
    unsigned p = 0;
    if ((server == 0 || server == 1) && web)
        p = web_server_port(web, server == 1);
    else if ((server == 2 || server == 3) && ftp)
        p = ftp_server_port(ftp, server == 3);
    pthread_mutex_unlock(&chipd_mu);
    return p;
}
