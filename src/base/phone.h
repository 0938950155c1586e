/*
 * phone.h - phone numbers as typed, made international (phone.c).
 */
#ifndef MARKETBOX_PHONE_H
#define MARKETBOX_PHONE_H

#include <stddef.h>

/*
 * A phone number as typed, in international form (+254722000111) into
 * out; -1 if it is not a phone number.  country_code (digits, "254"; may
 * be NULL) makes a local number ("0722000111") international; without
 * it a local number is -1 (never "+0722000111").
 */
int		 msisdn_normalise(const char *country_code, const char *typed,
		    char *out, size_t outlen);

#endif
