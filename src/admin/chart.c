/*
 * chart.c - the price charts of /status.  admin_charts_read takes the
 * published price reports (status 'ok') of the last ADMIN_CHART_DAYS
 * days from the prices plugin's table, when it exists, and makes a
 * median per commodity, market and day (admin_median); admin_svg_chart
 * draws one commodity and market as an inline SVG line chart, every text
 * escaped.  Where the charts go on the page, and the currency they are
 * labelled with, is status_html.c's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/gw.h"

#include <event2/buffer.h>

#include "admin/admin.h"
#include "admin/admin_int.h"
#include "store/store.h"

#define ADMIN_MAX_CHARTS	24	/* commodity and market pairs charted */
#define ADMIN_CHART_ROWS	200000	/* reports read for the charts */

static int
admin_compare_ll(const void *a, const void *b)
{
	long long	 x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

long long
admin_median(long long *v, size_t n)
{
	long long	 lo, hi;

	qsort(v, n, sizeof(*v), admin_compare_ll);
	if (n % 2 == 1)
		return v[n / 2];
	lo = v[n / 2 - 1];
	hi = v[n / 2];
	/* Sorted, so hi >= lo: this cannot overflow and rounds down. */
	return lo + (hi - lo) / 2;
}

/*
 * Money as the plugins show it: minor units are hundredths, "3000" when
 * whole, "2.50" otherwise.
 */
void
admin_money(char *buf, size_t size, long long minor)
{
	if (minor % 100 == 0)
		snprintf(buf, size, "%lld", minor / 100);
	else
		snprintf(buf, size, "%s%lld.%02lld", minor < 0 ? "-" : "",
		    llabs(minor / 100), llabs(minor % 100));
}

/* A day as YYYY-MM-DD (libgw forbids strftime). */
static void
admin_date(char *buf, size_t size, const struct tm *tm)
{
	snprintf(buf, size, "%04d-%02d-%02d", tm->tm_year + 1900,
	    tm->tm_mon + 1, tm->tm_mday);
}

int
admin_svg_chart(struct evbuffer *b, const char *title, const char *unit,
    const struct admin_point *pts, size_t n, long long first_day,
    long long last_day)
{
	const double	 w = 360, h = 170, left = 64, right = 14, top = 26,
			 bottom = 30;
	double		 x, y, span_x, span_y;
	long long	 lo, hi;
	size_t		 i;
	char		 d1[48], d2[48], money[32];
	time_t		 t;
	struct tm	 tm;

	if (n == 0 || pts == NULL)
		return -1;
	lo = hi = pts[0].price;
	for (i = 1; i < n; i++) {
		if (pts[i].price < lo)
			lo = pts[i].price;
		if (pts[i].price > hi)
			hi = pts[i].price;
	}
	span_x = last_day > first_day ? (double)(last_day - first_day) : 1;
	span_y = hi > lo ? (double)(hi - lo) : 1;
	t = (time_t)(first_day * 86400);
	gmtime_r(&t, &tm);
	admin_date(d1, sizeof(d1), &tm);
	t = (time_t)(last_day * 86400);
	gmtime_r(&t, &tm);
	admin_date(d2, sizeof(d2), &tm);

	evbuffer_add_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "class=\"chart\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f "
	    "%.0f\" role=\"img\" aria-label=\"", w, h, w, h);
	admin_escape_html(b, title);
	evbuffer_add_printf(b, "\"><title>");
	admin_escape_html(b, title);
	evbuffer_add_printf(b, ": median price per day</title>\n");
	evbuffer_add_printf(b, "<text x=\"%.0f\" y=\"16\" class=\"t\">", left);
	admin_escape_html(b, title);
	evbuffer_add_printf(b, "</text>\n");
	/* the axes */
	evbuffer_add_printf(b, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" "
	    "y2=\"%.0f\" class=\"axis\"/>\n<line x1=\"%.0f\" y1=\"%.0f\" "
	    "x2=\"%.0f\" y2=\"%.0f\" class=\"axis\"/>\n", left, top, left,
	    h - bottom, left, h - bottom, w - right, h - bottom);
	/* price labels: highest at the top, lowest at the bottom */
	admin_money(money, sizeof(money), hi);
	evbuffer_add_printf(b, "<text x=\"%.0f\" y=\"%.0f\" class=\"y\">%s ",
	    left - 4, top + 4, money);
	admin_escape_html(b, unit);
	admin_money(money, sizeof(money), lo);
	evbuffer_add_printf(b, "</text>\n<text x=\"%.0f\" y=\"%.0f\" "
	    "class=\"y\">%s ", left - 4, h - bottom, money);
	admin_escape_html(b, unit);
	evbuffer_add_printf(b, "</text>\n");
	/* day labels */
	evbuffer_add_printf(b, "<text x=\"%.0f\" y=\"%.0f\" class=\"x\">%s"
	    "</text>\n<text x=\"%.0f\" y=\"%.0f\" class=\"x xe\">%s</text>\n",
	    left, h - 10, d1, w - right, h - 10, d2);
	/* the line, and a dot per day */
	evbuffer_add_printf(b, "<polyline class=\"line\" points=\"");
	for (i = 0; i < n; i++) {
		x = left + (double)(pts[i].day - first_day) / span_x *
		    (w - left - right);
		y = hi > lo ? top + (double)(hi - pts[i].price) / span_y *
		    (h - top - bottom) : (top + h - bottom) / 2;
		evbuffer_add_printf(b, "%s%.1f,%.1f", i ? " " : "", x, y);
	}
	evbuffer_add_printf(b, "\"/>\n");
	for (i = 0; i < n; i++) {
		x = left + (double)(pts[i].day - first_day) / span_x *
		    (w - left - right);
		y = hi > lo ? top + (double)(hi - pts[i].price) / span_y *
		    (h - top - bottom) : (top + h - bottom) / 2;
		admin_money(money, sizeof(money), pts[i].price);
		evbuffer_add_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" "
		    "class=\"dot\"><title>%s</title></circle>\n", x, y, money);
	}
	evbuffer_add_printf(b, "</svg>\n");
	return 0;
}

/*
 * The charts: the published reports (status 'ok', not 'held') of the
 * last ADMIN_CHART_DAYS days, by commodity and market, a median per day.
 * *charts is malloc'd.  Returns the count (0: none, or no price table),
 * or -1.
 */
long
admin_charts_read(struct admin *a, struct admin_chart **charts,
    long long *first_day, long long *last_day)
{
	static const char *const need[] = { "commodity", "market", "price",
					    "created", "status", NULL };
	static const char sql[] =
	    "SELECT commodity, market, created / 86400, price FROM "
	    "prices_reports WHERE created >= $1 AND created < $3 AND "
	    "status = 'ok' ORDER BY commodity, market, created / 86400 "
	    "LIMIT $2";
	struct admin_chart	*c = NULL, *cur = NULL;
	struct store_stmt	*st;
	long long		*day_prices = NULL, day = -1;
	size_t			 nday = 0, capday = 0;
	long			 nc = 0;
	int			 rc, oom = 0;
	time_t			 now = time(NULL);

	*charts = NULL;
	*last_day = (long long)now / 86400;
	*first_day = *last_day - ADMIN_CHART_DAYS + 1;
	if (!admin_table_has(a, "prices_reports", need))
		return 0;
	if ((st = store_query(a->src.store, sql)) == NULL)
		return -1;
	if ((c = calloc(ADMIN_MAX_CHARTS, sizeof(*c))) == NULL) {
		store_done(st);
		return -1;
	}
	store_bind_int(st, 1, *first_day * 86400);
	store_bind_int(st, 2, ADMIN_CHART_ROWS);
	store_bind_int(st, 3, (*last_day + 1) * 86400);
	for (;;) {
		const char	*com, *mkt;
		long long	 d = 0, price = 0;
		int		 row, same;

		rc = store_step(st);
		row = rc == STORE_ROW;
		com = row ? store_text(st, 0) : NULL;
		mkt = row ? store_text(st, 1) : NULL;
		if (row) {
			d = store_int(st, 2);
			price = store_int(st, 3);
			if (com == NULL)
				com = "";
			if (mkt == NULL)
				mkt = "";
		}
		same = row && cur != NULL &&
		    strncmp(cur->commodity, com, ADMIN_LABEL - 1) == 0 &&
		    strncmp(cur->market, mkt, ADMIN_LABEL - 1) == 0;
		/* The day before closes when the day or the pair changes. */
		if (cur != NULL && nday > 0 && (!same || d != day)) {
			if (cur->n <= ADMIN_CHART_DAYS) {
				cur->pts[cur->n].day = day;
				cur->pts[cur->n].price = admin_median(day_prices,
				    nday);
				cur->n++;
			}
			nday = 0;
		}
		if (!row)
			break;
		if (!same) {
			if (nc == ADMIN_MAX_CHARTS)
				break;
			cur = &c[nc++];
			snprintf(cur->commodity, sizeof(cur->commodity), "%s",
			    com);
			snprintf(cur->market, sizeof(cur->market), "%s", mkt);
		}
		day = d;
		if (price <= 0)
			continue;
		if (nday == capday) {
			size_t		 ncap = capday ? capday * 2 : 64;
			long long	*np = realloc(day_prices,
					    ncap * sizeof(*np));

			if (np == NULL) {
				oom = 1;
				break;
			}
			day_prices = np;
			capday = ncap;
		}
		day_prices[nday++] = price;
	}
	store_done(st);
	free(day_prices);
	if (rc == STORE_ERROR || oom) {
		if (oom)
			error(0, "admin: price charts: out of memory");
		free(c);
		return -1;
	}
	/* Drop pairs whose every price was refused. */
	{
		long	 i, j;

		for (i = j = 0; i < nc; i++)
			if (c[i].n > 0)
				c[j++] = c[i];
		nc = j;
	}
	*charts = c;
	return nc;
}
