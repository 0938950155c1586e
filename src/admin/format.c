/*
 * format.c - text made safe for what the admin pages write: HTML and SVG
 * text (admin_escape_html, admin.h), for the pages to write the texts
 * they did not make themselves (names, labels, what the database holds);
 * JSON strings are the HTTP server's (http_json_string, http.h).
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
