/* clib.h - umbrella header of the @CHIP-RTOS C library: chipssl provides the
 * TCP/IP, PKI and SSL part (tcpip.h). */
#ifndef CHIPSSL_CLIB_H
#define CHIPSSL_CLIB_H
#include "tcpip.h"
#include "cgi.h"
#endif
