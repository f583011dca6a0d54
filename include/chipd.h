/*
 * chipd.h - start and stop chipssl's servers (the Web server's HTTP and
 * HTTPS instances, the FTP server) from a chip.ini file, inside an
 * application.
 *
 * Link with libchipd (pkg-config chipd, CMake chipssl::chipd).
 *
 * The library installs no signal handlers. Its threads block SIGINT,
 * SIGTERM, SIGHUP and SIGPIPE, so these reach the application's threads;
 * the application decides what they mean (the chipd program: SIGINT and
 * SIGTERM stop, SIGHUP calls chipd_reload). Writes to a peer that has gone
 * never raise SIGPIPE in the servers' threads.
 */
#ifndef CHIPD_H
#define CHIPD_H

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the exported calls; token for token as cgi.h defines it. */
#ifndef CHIPD_API
#if defined(__GNUC__)
#define CHIPD_API __attribute__((visibility("default")))
#else
#define CHIPD_API
#endif
#endif

/* chipd_start - read iniFile (NULL: "chip.ini"), start the enabled servers
 * on their own threads. Returns 0 once every listener is bound. On a bad
 * file, a busy port, an unreadable certificate or key: -1 with an API_E...
 * code in *error (API_EINVAL for the file's contents, API_EADDRINUSE for a
 * busy port, API_ENOENT for a missing file or directory, ...) and the reason
 * printed on stderr ("chip.ini:12: [WEB] HTTP_PORT: ..." for the file),
 * nothing left running. API_EALREADY when the servers already run. */
CHIPD_API int chipd_start(const char *iniFile, int *error);

/* chipd_stop - stop accepting, let open connections finish the response
 * they are sending (a few seconds at most), close them cleanly (TLS:
 * close_notify) and end the threads. FTP transfers still running are
 * aborted (an upload is discarded, or kept partial with [FTP]
 * KEEP_PARTIAL=1) and every FTP control connection gets 421. Returns 0, or
 * -1 with API_EINVAL when nothing runs. */
CHIPD_API int chipd_stop(int *error);

/* chipd_reload - extension: re-read the certificate, key and CA files of
 * the running configuration; new connections use them, open ones are
 * kept. When a file fails the old identity stays and the reason goes to the
 * error log. Returns 0, or -1 (API_EINVAL nothing runs, or the files
 * failed). */
CHIPD_API int chipd_reload(int *error);

/* chipd_check - extension: read iniFile as chipd_start would, without
 * starting anything (`chipd -t`). Returns 0, or -1 with *error and the
 * reason on stderr. */
CHIPD_API int chipd_check(const char *iniFile, int *error);

/* chipd_port - extension: the bound port of a running instance, server 0
 * HTTP, 1 HTTPS (the Web server's instances), 2 the FTP control port
 * (explicit FTPS), 3 the implicit-FTPS port; 0 when it is off or nothing
 * runs. Useful with port numbers the system chose. */
CHIPD_API unsigned chipd_port(int server);

#ifdef __cplusplus
}
#endif

#endif
