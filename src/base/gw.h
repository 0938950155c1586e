/*
 * gw.h - the one way marketbox includes Kannel's libgw.
 *
 * Include it after "config.h" and instead of "gwlib/gwlib.h".  Kannel's
 * installed gw-config.h defines PACKAGE, VERSION and friends (with
 * Kannel's values) and gwmem.h turns malloc, calloc, realloc, free and
 * strdup into compile errors so that Kannel's own code uses gw_malloc.
 * marketbox allocates with the C library (its memory is also handed to and
 * from SQLite and libevent), so both are undone here, once.  And the log
 * functions are routed through log.c's flood limit.
 */
#ifndef MARKETBOX_GW_H
#define MARKETBOX_GW_H

#undef PACKAGE
#undef PACKAGE_BUGREPORT
#undef PACKAGE_NAME
#undef PACKAGE_STRING
#undef PACKAGE_TARNAME
#undef PACKAGE_URL
#undef PACKAGE_VERSION
#undef VERSION

#include "gwlib/gwlib.h"

#undef PACKAGE
#undef PACKAGE_BUGREPORT
#undef PACKAGE_NAME
#undef PACKAGE_STRING
#undef PACKAGE_TARNAME
#undef PACKAGE_URL
#undef PACKAGE_VERSION
#undef VERSION

#undef malloc
#undef calloc
#undef realloc
#undef free
#undef strdup

/*
 * Every line marketbox logs goes through log.c, which holds back floods of
 * the same line (see log.h); log.c itself reaches libgw's functions.
 */
#include "base/log.h"

#define error(e, ...)	log_limited(GW_ERROR, NULL, (e), __VA_ARGS__)
#define warning(e, ...)	log_limited(GW_WARNING, NULL, (e), __VA_ARGS__)
#define info(e, ...)	log_limited(GW_INFO, NULL, (e), __VA_ARGS__)
#define debug(p, e, ...) log_limited(GW_DEBUG, (p), (e), __VA_ARGS__)

#endif
