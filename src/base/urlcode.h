/*
 * urlcode.h - URL (form) decoding, as HTTP forms and Kannel's meta-data
 * carry text: '+' is a space, %XX one byte.
 */
#ifndef MARKETBOX_URLCODE_H
#define MARKETBOX_URLCODE_H

#include <stddef.h>

/*
 * Decode n bytes of s into out.  A '%' not followed by two hex digits is
 * kept as it is.  Returns the decoded length (which counts decoded NUL
 * bytes), or -1 when it needs more than outsize bytes; adds a NUL when
 * room is left.
 */
long	urlcode_decode(const char *s, size_t n, char *out, size_t outsize);

/* The value of a hex digit (either case), or -1. */
int	urlcode_hexval(int c);

/*
 * A copy of url fit for a log line: a password in "user:password@" and the
 * value of every query parameter whose name holds "pass", "pwd", "secret",
 * "token" or "key" (any case) become "***".  out is always NUL-terminated
 * (cut short when outsize is too small).  Returns out.
 */
char	*urlcode_mask(const char *url, char *out, size_t outsize);

#endif
