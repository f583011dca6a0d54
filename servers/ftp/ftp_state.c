/*
 * ftp_state.c - which command may run in which session state, and the
 * reply when it may not. One function, read top to bottom: the checks run
 * in the order a client meets them (transfer, TLS, login, sequence, policy).
 */
#include "ftp_cmd.h"

int ftp_cmd_allowed(const struct ftp_cmd *c, const struct ftp_state *s, const char **why)
{
    enum ftp_verb v = c->verb;
    *why = "";
    if (v == FTP_V_NONE) {
        *why = "Command not understood.";
        return 500;
    }
    /* RFC 959 s.4.1.3: only ABOR, STAT and QUIT are served while a data
     * transfer runs; everything else waits for its end (vsftpd, ProFTPD). */
    if (s->transfer && v != FTP_ABOR && v != FTP_STAT && v != FTP_QUIT) {
        *why = "Transfer in progress: only ABOR, STAT and QUIT.";
        return 503;
    }
    if (v == FTP_CCC) {
        /* RFC 4217 s.12.3: clearing the control channel is a policy matter;
         * this server never sends credentials or paths in the clear. */
        *why = "CCC denied by policy.";
        return 534;
    }
    if (v == FTP_AUTH && s->tls) {
        *why = "Already using TLS.";
        return 503;
    }
    if ((v == FTP_PBSZ || v == FTP_PROT) && !s->tls) {
        /* RFC 4217 s.8: PBSZ and PROT need a security exchange first. */
        *why = "AUTH TLS first.";
        return 503;
    }
    if (v == FTP_PROT && !s->pbsz) {
        *why = "PBSZ first (RFC 4217).";
        return 503;
    }
    if (v == FTP_PROT && s->require_tls && (c->arg[0] == 'C' || c->arg[0] == 'c') &&
        c->arg[1] == '\0') {
        /* RFC 4217 s.9: a server that wants protected data refuses PROT C
         * with 534. */
        *why = "PROT C denied by policy: data must be encrypted.";
        return 534;
    }
    if (s->require_tls && !s->tls && (v == FTP_USER || v == FTP_PASS)) {
        /* RFC 4217 s.4 and vsftpd's force_local_logins_ssl: no password in
         * the clear. */
        *why = "TLS required: use AUTH TLS first.";
        return 530;
    }
    if (!s->logged_in && !ftp_verb_prelogin(v)) {
        *why = "Please login with USER and PASS.";
        return 530;
    }
    if (v == FTP_PASS && !s->user_given && !s->logged_in) {
        *why = "Login with USER first.";
        return 503;
    }
    if (s->logged_in && (v == FTP_USER || v == FTP_PASS)) {
        /* A second login on one connection would need the account's
         * process-level change (vsftpd refuses it too). */
        *why = "Already logged in.";
        return 503;
    }
    if (v == FTP_RNTO && !s->rnfr) {
        *why = "RNFR first.";
        return 503;
    }
    if (s->anonymous && ftp_verb_writes(v)) {
        *why = "Permission denied (anonymous is read-only).";
        return 550;
    }
    if (s->require_tls && ftp_verb_data(v) && !s->prot_private) {
        /* RFC 2228: 521 "Data connection cannot be opened with this PROT
         * setting"; REQUIRE_TLS means every data connection is PROT P. */
        *why = "Data connections must be encrypted: PROT P.";
        return 521;
    }
    return 0;
}
