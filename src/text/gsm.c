/*
 * gsm.c - text rules of the SMS bearer: which characters the GSM 03.38
 * default alphabet holds, how long a text is over the air, how it is cut
 * into the parts of a concatenated SMS, and how MO bytes in any of Kannel's
 * codings become valid UTF-8.
 *
 * Decisions the header leaves open:
 *  - Invalid UTF-8 is decoded as U+FFFD, one per maximal invalid subpart
 *    (the Unicode "best practice" of chapter 3), both when measuring and
 *    when normalising.
 *  - Nothing is dropped at a cut: a handset joins the parts as they come,
 *    so the parts joined must give back the text.  A part cut at a space
 *    keeps that space at its end; a part that is full just before a space
 *    leaves the space to start the next part.  Only blanks at the very end
 *    of the text, which would make a part of their own, are dropped.
 *  - A truncated last part is cut (still preferring a space) so that it and
 *    "..." fit GSM_SEPTETS_PART / GSM_UCS2_PART, even when max_parts is 1.
 *  - *replaced counts U+FFFD insertions only; NUL -> space is not counted.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/gsm.h"

#define GSM_REPLACEMENT		0xFFFDUL
#define GSM_WORD_WINDOW		20	/* units searched back for a space */
#define GSM_ELLIPSIS		"..."
#define GSM_ELLIPSIS_LEN	3	/* bytes, septets and UTF-16 units */

/* Basic-table characters outside ASCII, in table order. */
static const unsigned short gsm_basic_nonascii[] = {
	0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7,
	0x00D8, 0x00F8, 0x00C5, 0x00E5, 0x0394, 0x03A6, 0x0393, 0x039B,
	0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E, 0x00C6, 0x00E6,
	0x00DF, 0x00C9, 0x00A4, 0x00A1, 0x00C4, 0x00D6, 0x00D1, 0x00DC,
	0x00A7, 0x00BF, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0
};

/* ASCII characters of the basic table that are not letters or digits. */
static const char gsm_basic_ascii[] = " !\"#$%&'()*+,-./:;<=>?@_\n\r";

/* ASCII characters of the extension table (escape + 1 septet). */
static const char gsm_ext_ascii[] = "\f^{}\\[~]|";

#define GSM_EURO		0x20ACUL

/* One cut: where a part ends, where the next begins, whether it is last. */
struct gsm_cut {
	size_t	end;		/* part is [start, end) */
	size_t	next;		/* next part starts here */
	int	last;		/* nothing left after this part */
};

int
gsm_char_septets(unsigned long cp, int *septets)
{
	size_t	i;
	int	n = 0;

	if (cp == 0)
		n = 0;
	else if (cp < 0x80) {
		if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
		    (cp >= '0' && cp <= '9') ||
		    strchr(gsm_basic_ascii, (int)cp) != NULL)
			n = 1;
		else if (strchr(gsm_ext_ascii, (int)cp) != NULL)
			n = 2;
	} else if (cp == GSM_EURO)
		n = 2;
	else {
		for (i = 0; i < sizeof(gsm_basic_nonascii) /
		    sizeof(gsm_basic_nonascii[0]); i++)
			if (gsm_basic_nonascii[i] == cp) {
				n = 1;
				break;
			}
	}
	if (n == 0)
		return 0;
	if (septets != NULL)
		*septets = n;
	return 1;
}

/*
 * Decode one character of UTF-8 at s[*pos], len bytes in all.  Advances
 * *pos and returns 1 with *cp set for a valid sequence; for an invalid one
 * skips its maximal invalid subpart (at least one byte), sets *cp to
 * U+FFFD and returns 0.
 */
static int
gsm_utf8_next(const unsigned char *s, size_t len, size_t *pos,
    unsigned long *cp)
{
	size_t		i = *pos, need, k;
	unsigned long	c;
	unsigned char	b = s[i], lo = 0x80, hi = 0xBF;

	if (b < 0x80) {
		*cp = b;
		*pos = i + 1;
		return 1;
	}
	if (b >= 0xC2 && b <= 0xDF) {
		need = 1;
		c = b & 0x1F;
	} else if (b >= 0xE0 && b <= 0xEF) {
		need = 2;
		c = b & 0x0F;
		if (b == 0xE0)
			lo = 0xA0;	/* no overlong forms */
		else if (b == 0xED)
			hi = 0x9F;	/* no surrogates */
	} else if (b >= 0xF0 && b <= 0xF4) {
		need = 3;
		c = b & 0x07;
		if (b == 0xF0)
			lo = 0x90;	/* no overlong forms */
		else if (b == 0xF4)
			hi = 0x8F;	/* nothing above U+10FFFF */
	} else {
		/* 80..C1, F5..FF never start a character */
		*cp = GSM_REPLACEMENT;
		*pos = i + 1;
		return 0;
	}

	for (k = 1; k <= need; k++) {
		if (i + k >= len || s[i + k] < lo || s[i + k] > hi) {
			*cp = GSM_REPLACEMENT;
			*pos = i + k;
			return 0;
		}
		c = (c << 6) | (s[i + k] & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = c;
	*pos = i + need + 1;
	return 1;
}

/* Write cp as UTF-8 to o; returns the number of bytes written. */
static size_t
gsm_utf8_put(unsigned char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Units cp takes in the given coding. */
static size_t
gsm_units(unsigned long cp, int ucs2)
{
	int	septets;

	if (ucs2)
		return cp > 0xFFFF ? 2 : 1;
	if (gsm_char_septets(cp, &septets))
		return (size_t)septets;
	return 1;	/* not reached for a text measured as 7-bit */
}

/*
 * Cut one part of at most limit units starting at byte start.  If the
 * rest does not fit, prefer to end the part after the last space that
 * begins within its final GSM_WORD_WINDOW units, or just before a space
 * that follows it.  With ellipsis (the part is the last one allowed and
 * "..." follows) the space itself is left out instead.
 */
static void
gsm_cut_part(const unsigned char *s, size_t len, size_t start, int ucs2,
    size_t limit, int ellipsis, struct gsm_cut *cut)
{
	size_t		i = start, next, u = 0, cu, sp = 0, usp = 0;
	int		have_sp = 0;
	unsigned long	cp;

	while (i < len) {
		next = i;
		gsm_utf8_next(s, len, &next, &cp);
		cu = gsm_units(cp, ucs2);
		if (u + cu > limit)
			break;
		if (cp == ' ' && u > 0) {
			have_sp = 1;
			sp = i;
			usp = u;
		}
		u += cu;
		i = next;
	}

	if (i >= len) {
		cut->end = cut->next = len;
		cut->last = 1;
		return;
	}
	if (i == start) {
		/* limit below one character: cannot happen with our limits,
		   but always make progress */
		gsm_utf8_next(s, len, &i, &cp);
		cut->end = cut->next = i;
		cut->last = i >= len;
		return;
	}
	if (s[i] == ' ') {
		cut->end = cut->next = i;
	} else if (have_sp && usp + GSM_WORD_WINDOW >= u) {
		cut->end = ellipsis ? sp : sp + 1;
		cut->next = sp + 1;
	} else {
		cut->end = cut->next = i;
	}
	/* Only blanks left: not worth another SMS. */
	for (i = cut->next; i < len && s[i] == ' '; i++)
		;
	cut->last = i >= len;
}

static char *
gsm_part_dup(const unsigned char *s, size_t n, int ellipsis)
{
	char	*p;
	size_t	 extra = ellipsis ? GSM_ELLIPSIS_LEN : 0;

	if ((p = malloc(n + extra + 1)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, s, n);
	if (ellipsis)
		memcpy(p + n, GSM_ELLIPSIS, GSM_ELLIPSIS_LEN);
	p[n + extra] = '\0';
	return p;
}

/*
 * Walk the parts of a text that needs more than one SMS.  With out NULL
 * only counts; otherwise stores each part in out[], which must be large
 * enough (a count from a first walk).  Returns the number of parts, 0 if
 * memory runs out (out[] then holds nothing).
 */
static size_t
gsm_walk(const unsigned char *s, size_t len, int ucs2, size_t max_parts,
    char **out, int *truncated)
{
	struct gsm_cut	cut;
	size_t		limit = ucs2 ? GSM_UCS2_PART : GSM_SEPTETS_PART;
	size_t		start = 0, n = 0;
	int		dots;

	*truncated = 0;
	for (;;) {
		gsm_cut_part(s, len, start, ucs2, limit, 0, &cut);
		dots = 0;
		if (max_parts != 0 && n + 1 == max_parts && !cut.last) {
			gsm_cut_part(s, len, start, ucs2,
			    limit - GSM_ELLIPSIS_LEN, 1, &cut);
			dots = 1;
			*truncated = 1;
		}
		if (out != NULL) {
			out[n] = gsm_part_dup(s + start, cut.end - start, dots);
			if (out[n] == NULL) {
				gsm_parts_free(out, n);
				return 0;
			}
		}
		n++;
		if (dots || cut.last)
			break;
		start = cut.next;
	}
	return n;
}

void
gsm_measure(const char *utf8, size_t len, struct gsm_measure *m)
{
	const unsigned char	*s = (const unsigned char *)utf8;
	size_t			 i = 0, septets = 0, units = 0;
	unsigned long		 cp;
	int			 gsm = 1, n;
	int			 trunc;

	if (s == NULL)
		len = 0;
	while (i < len) {
		/*
		 * Letters, digits and spaces, most of a reply: one septet
		 * (or one unit of UCS-2) each, without the tables.
		 */
		if ((s[i] >= 'a' && s[i] <= 'z') || s[i] == ' ' ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9')) {
			septets++;
			units++;
			i++;
			continue;
		}
		gsm_utf8_next(s, len, &i, &cp);
		if (gsm && gsm_char_septets(cp, &n))
			septets += (size_t)n;
		else
			gsm = 0;
		units += cp > 0xFFFF ? 2 : 1;
	}

	if (gsm) {
		m->coding = GSM_CODING_7BIT;
		m->units = septets;
	} else {
		m->coding = GSM_CODING_UCS2;
		m->units = units;
	}
	if (m->units <= (gsm ? GSM_SEPTETS_SINGLE : GSM_UCS2_SINGLE))
		m->parts = 1;
	else
		m->parts = gsm_walk(s, len, !gsm, 0, NULL, &trunc);
}

/*
 * The nearest GSM 03.38 text of a character outside the alphabet: Latin
 * letters with accents GSM lacks, and the typographic marks that arrive
 * in templates; NULL when there is none (a Chinese character).
 */
static const char *
gsm_fold_char(unsigned long cp)
{
	static const struct {
		unsigned long	 cp;
		const char	*to;
	} fold[] = {
		{ 0xC0, "A" }, { 0xC1, "A" }, { 0xC2, "A" }, { 0xC3, "A" },
		{ 0xC8, "E" }, { 0xCA, "E" }, { 0xCB, "E" }, { 0xCC, "I" },
		{ 0xCD, "I" }, { 0xCE, "I" }, { 0xCF, "I" }, { 0xD2, "O" },
		{ 0xD3, "O" }, { 0xD4, "O" }, { 0xD5, "O" }, { 0xD9, "U" },
		{ 0xDA, "U" }, { 0xDB, "U" }, { 0xDD, "Y" }, { 0xE1, "a" },
		{ 0xE2, "a" }, { 0xE3, "a" }, { 0xE7, "c" }, { 0xEA, "e" },
		{ 0xEB, "e" }, { 0xED, "i" }, { 0xEE, "i" }, { 0xEF, "i" },
		{ 0xF3, "o" }, { 0xF4, "o" }, { 0xF5, "o" }, { 0xFA, "u" },
		{ 0xFB, "u" }, { 0xFD, "y" }, { 0xFF, "y" }, { 0x152, "OE" },
		{ 0x153, "oe" }, { 0xA0, " " }, { 0x2013, "-" }, { 0x2014, "-" },
		{ 0x2018, "'" }, { 0x2019, "'" }, { 0x201C, "\"" },
		{ 0x201D, "\"" }, { 0x2026, "..." }, { 0x202F, " " },
	};
	size_t	 i;

	for (i = 0; i < sizeof(fold) / sizeof(fold[0]); i++)
		if (fold[i].cp == cp)
			return fold[i].to;
	return NULL;
}

char *
gsm_fold(const char *utf8, size_t len)
{
	const unsigned char	*s = (const unsigned char *)utf8;
	struct gsm_measure	 before, after;
	const char		*to;
	char			*out;
	size_t			 i = 0, start, n = 0;
	unsigned long		 cp;
	int			 septets;

	gsm_measure(utf8, len, &before);
	if (before.coding != GSM_CODING_UCS2 || before.parts < 2)
		return NULL;
	/* "OE" for one character: at most three bytes for each byte */
	if ((out = malloc(len * 3 + 1)) == NULL)
		return NULL;
	while (i < len) {
		start = i;
		gsm_utf8_next(s, len, &i, &cp);
		if (gsm_char_septets(cp, &septets)) {
			memcpy(out + n, utf8 + start, i - start);
			n += i - start;
		} else if ((to = gsm_fold_char(cp)) != NULL) {
			memcpy(out + n, to, strlen(to));
			n += strlen(to);
		} else {
			free(out);
			return NULL;
		}
	}
	out[n] = '\0';
	gsm_measure(out, n, &after);
	if (after.parts >= before.parts) {
		free(out);
		return NULL;
	}
	return out;
}

size_t
gsm_sent_parts(const char *utf8, size_t len)
{
	struct gsm_measure	 m;
	char			*folded;

	if ((folded = gsm_fold(utf8, len)) != NULL) {
		gsm_measure(folded, strlen(folded), &m);
		free(folded);
	} else
		gsm_measure(utf8, len, &m);
	return m.parts;
}

size_t
gsm_octets(const char *utf8, size_t len)
{
	struct gsm_measure	 m;

	gsm_measure(utf8, len, &m);
	if (m.coding == GSM_CODING_7BIT)
		return (m.units * 7 + 7) / 8;
	return m.units * 2;
}

size_t
gsm_split(const char *utf8, size_t len, size_t max_parts, char ***parts,
    int *truncated)
{
	const unsigned char	*s = (const unsigned char *)utf8;
	struct gsm_measure	 m;
	char			**out;
	size_t			 n;
	int			 ucs2, trunc = 0;

	*parts = NULL;
	if (truncated != NULL)
		*truncated = 0;
	if (s == NULL)
		len = 0;

	gsm_measure(utf8, len, &m);
	ucs2 = m.coding == GSM_CODING_UCS2;
	if (m.parts == 1)
		n = 1;
	else
		n = gsm_walk(s, len, ucs2, max_parts, NULL, &trunc);

	if ((out = calloc(n, sizeof(*out))) == NULL)
		return 0;
	if (m.parts == 1) {
		if ((out[0] = gsm_part_dup(s, len, 0)) == NULL) {
			free(out);
			return 0;
		}
	} else if (gsm_walk(s, len, ucs2, max_parts, out, &trunc) != n) {
		free(out);
		return 0;
	}

	if (truncated != NULL)
		*truncated = trunc;
	*parts = out;
	return n;
}

void
gsm_parts_free(char **parts, size_t n)
{
	size_t	i;

	if (parts == NULL)
		return;
	for (i = 0; i < n; i++)
		free(parts[i]);
	free(parts);
}

/* Decode UTF-16BE into o; returns bytes written. */
static size_t
gsm_from_utf16be(const unsigned char *d, size_t len, unsigned char *o,
    size_t *nrep)
{
	size_t		i = 0, w = 0;
	unsigned long	u, lo;

	while (i + 1 < len) {
		u = ((unsigned long)d[i] << 8) | d[i + 1];
		i += 2;
		if (u >= 0xD800 && u <= 0xDBFF) {
			lo = 0;
			if (i + 1 < len)
				lo = ((unsigned long)d[i] << 8) | d[i + 1];
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				u = 0x10000 + ((u - 0xD800) << 10) +
				    (lo - 0xDC00);
				i += 2;
			} else {
				u = GSM_REPLACEMENT;
				(*nrep)++;
			}
		} else if (u >= 0xDC00 && u <= 0xDFFF) {
			u = GSM_REPLACEMENT;
			(*nrep)++;
		} else if (u == 0)
			u = ' ';
		w += gsm_utf8_put(o + w, u);
	}
	if (i < len) {
		w += gsm_utf8_put(o + w, GSM_REPLACEMENT);
		(*nrep)++;
	}
	return w;
}

char *
gsm_to_utf8(const unsigned char *data, size_t len, int coding,
    size_t *outlen, size_t *replaced)
{
	unsigned char	*o;
	size_t		 i = 0, w = 0, nrep = 0;
	unsigned long	 cp;

	if (data == NULL)
		len = 0;
	/* worst cases: 1 byte -> 3 (U+FFFD), 2 bytes -> 3, 4 bytes -> 4 */
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	if ((o = malloc(len * 3 + 1)) == NULL)
		return NULL;

	switch (coding) {
	case GSM_CODING_8BIT:
		for (i = 0; i < len; i++)
			w += gsm_utf8_put(o + w, data[i] == 0 ? ' ' : data[i]);
		break;
	case GSM_CODING_UCS2:
		w = gsm_from_utf16be(data, len, o, &nrep);
		break;
	default:
		while (i < len) {
			if (!gsm_utf8_next(data, len, &i, &cp))
				nrep++;
			w += gsm_utf8_put(o + w, cp == 0 ? ' ' : cp);
		}
		break;
	}
	o[w] = '\0';

	if (outlen != NULL)
		*outlen = w;
	if (replaced != NULL)
		*replaced = nrep;
	return (char *)o;
}

unsigned char *
gsm_utf8_to_ucs2(const char *utf8, size_t len, size_t *outlen)
{
	const unsigned char	*s = (const unsigned char *)utf8;
	unsigned char		*o;
	size_t			 i = 0, w = 0;
	unsigned long		 cp, hi, lo;

	if (s == NULL)
		len = 0;
	/* every input byte gives at most 2 output bytes */
	if (len > (SIZE_MAX - 1) / 2)
		return NULL;
	if ((o = malloc(len * 2 + 1)) == NULL)
		return NULL;

	while (i < len) {
		gsm_utf8_next(s, len, &i, &cp);
		if (cp > 0xFFFF) {
			hi = 0xD800 + ((cp - 0x10000) >> 10);
			lo = 0xDC00 + ((cp - 0x10000) & 0x3FF);
			o[w++] = (unsigned char)(hi >> 8);
			o[w++] = (unsigned char)(hi & 0xFF);
			o[w++] = (unsigned char)(lo >> 8);
			o[w++] = (unsigned char)(lo & 0xFF);
		} else {
			o[w++] = (unsigned char)(cp >> 8);
			o[w++] = (unsigned char)(cp & 0xFF);
		}
	}
	if (outlen != NULL)
		*outlen = w;
	return o;
}
