/*
 * format.c - text made safe for what the admin pages write: HTML and SVG
 * text (admin_escape_html, admin.h) and JSON strings (admin_json_string,
 * admin_int.h), for the pages and actions to write the texts they did
 * not make themselves (names, labels, what the database holds).
 * Prometheus label values have their own escape, in metrics.c, the one
 * file that writes them.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "admin/admin.h"
#include "admin/admin_int.h"

int
admin_escape_html(struct evbuffer *b, const char *s)
{
	const char	*p, *run;
	const char	*rep;

	if (s == NULL)
		return 0;
	for (p = run = s; *p != '\0'; p++) {
		switch (*p) {
		case '&':	rep = "&amp;"; break;
		case '<':	rep = "&lt;"; break;
		case '>':	rep = "&gt;"; break;
		case '"':	rep = "&quot;"; break;
		case '\'':	rep = "&#39;"; break;
		default:	continue;
		}
		if ((p > run && evbuffer_add(b, run, (size_t)(p - run)) == -1) ||
		    evbuffer_add(b, rep, strlen(rep)) == -1)
			return -1;
		run = p + 1;
	}
	if (p > run && evbuffer_add(b, run, (size_t)(p - run)) == -1)
		return -1;
	return 0;
}

/* Append s as a JSON string, quotes included. */
void
admin_json_string(struct evbuffer *b, const char *s)
{
	const unsigned char	*p;

	if (s == NULL) {
		evbuffer_add(b, "null", 4);
		return;
	}
	evbuffer_add(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			evbuffer_add_printf(b, "\\u%04x", *p);
		else
			evbuffer_add(b, p, 1);
	}
	evbuffer_add(b, "\"", 1);
}
