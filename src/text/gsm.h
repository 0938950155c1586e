/*
 * gsm.h - text rules of the SMS bearer: GSM 03.38 default alphabet versus
 * UCS-2, lengths, concatenated parts, and normalising MO text to UTF-8.
 *
 * Everything in marketbox is UTF-8 inside.  This module decides how a text
 * travels over the air and how long it is there, and turns what arrives from
 * bearerbox (UTF-8 for coding 0, 8-bit data for coding 1, UTF-16BE for
 * coding 2) into valid UTF-8.  No function here allocates with anything but
 * malloc(3); the caller frees what it is given.  Nothing here logs: callers
 * get counts of replaced bytes and decide.
 */
#ifndef MARKETBOX_GSM_H
#define MARKETBOX_GSM_H

#include <stddef.h>

/* Values are Kannel's sms.coding values. */
enum gsm_coding {
	GSM_CODING_7BIT = 0,	/* GSM 03.38 default alphabet (UTF-8 in Kannel) */
	GSM_CODING_8BIT = 1,
	GSM_CODING_UCS2 = 2	/* UTF-16BE */
};

#define GSM_SEPTETS_SINGLE	160	/* one SMS, 7-bit */
#define GSM_SEPTETS_PART	153	/* one part of a concatenated SMS */
#define GSM_UCS2_SINGLE		70	/* UTF-16 code units, one SMS */
#define GSM_UCS2_PART		67	/* UTF-16 code units, one part */

struct gsm_measure {
	enum gsm_coding	coding;	/* 7BIT when every character is in the
				   default alphabet or its extension */
	size_t		units;	/* septets (extension chars count 2) or
				   UTF-16 code units (non-BMP count 2) */
	size_t		parts;	/* SMS needed: 1 if units fit a single SMS,
				   else ceil by the per-part size, never
				   splitting an escape or surrogate pair */
};

/*
 * Measure valid UTF-8 text.  Invalid sequences are measured as U+FFFD
 * (which forces UCS-2).  Never fails.
 */
void	gsm_measure(const char *utf8, size_t len, struct gsm_measure *m);

/*
 * Octets valid UTF-8 text takes on the air in its coding, as a USSD screen
 * counts them: 7-bit septets packed (ceil(septets * 7 / 8): 182 septets
 * are 160 octets) or 2 per UTF-16 code unit (80 units are 160 octets).
 * Invalid sequences count as U+FFFD.  Never fails.
 */
size_t	gsm_octets(const char *utf8, size_t len);

/* 1 if the Unicode code point is in the GSM 03.38 default alphabet or its
 * extension table, with *septets set to 1 or 2; 0 otherwise. */
int	gsm_char_septets(unsigned long cp, int *septets);

/*
 * A text that needs UCS-2 only for accents GSM 03.38 lacks (French "maïs",
 * "prêt") and typographic marks (…, ’), folded to their nearest GSM
 * letters ("mais", "pret", "...", "'") when that makes it fewer SMS: a
 * reader gets one message with "mais" rather than two with "maïs".
 * Returns the folded text (malloc'd), or NULL when the text is best sent
 * as it is: it is GSM already, fits one UCS-2 SMS, has a character with
 * no GSM letter (Chinese), folding saves no part, or memory ran out.
 */
char	*gsm_fold(const char *utf8, size_t len);
/* The SMS text takes as the outbox sends it: folded when that saves one. */
size_t	 gsm_sent_parts(const char *utf8, size_t len);

/*
 * Split UTF-8 text into the parts of a concatenated SMS.  Returns the
 * number of parts (>= 1; an empty text is one empty part) and sets
 * *parts to a malloc'd array of malloc'd NUL-terminated UTF-8 strings
 * (free with gsm_parts_free).  A text that fits one SMS is one part.
 * Parts are cut at character boundaries so that no part exceeds
 * GSM_SEPTETS_PART / GSM_UCS2_PART units, preferring the last space
 * within the final 20 units of a part so words are not cut.  Nothing is
 * dropped at a cut (a cut space ends the earlier part): a handset joins
 * the parts as they come, so joined they give back the text, less only
 * blanks at its very end.  When more
 * than max_parts would be needed, the last allowed part ends in "..."
 * (the text is truncated) and *truncated is set to 1 (else 0).
 * The coding of every part is that of the whole text (m->coding).
 * Returns 0 and sets *parts NULL only if memory runs out.
 */
size_t	gsm_split(const char *utf8, size_t len, size_t max_parts,
	    char ***parts, int *truncated);
void	gsm_parts_free(char **parts, size_t n);

/*
 * Normalise MO bytes to UTF-8.  coding 0: UTF-8 is validated, each invalid
 * byte replaced by U+FFFD; coding 1: bytes taken as ISO-8859-1; coding 2:
 * UTF-16BE, an odd trailing byte or an unpaired surrogate replaced by
 * U+FFFD.  NUL characters become spaces (the text is a C string after).
 * Returns a malloc'd NUL-terminated string (length in *outlen if not NULL),
 * *replaced (if not NULL) the number of replacements made; NULL only if
 * memory runs out.  Any other coding value is treated as 0.
 */
char	*gsm_to_utf8(const unsigned char *data, size_t len, int coding,
	    size_t *outlen, size_t *replaced);

/*
 * Encode valid UTF-8 as UTF-16BE (for an MT with coding 2).  Returns a
 * malloc'd buffer and its length in *outlen; NULL if memory runs out.
 */
unsigned char *gsm_utf8_to_ucs2(const char *utf8, size_t len, size_t *outlen);

#endif
