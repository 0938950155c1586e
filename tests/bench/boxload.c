/*
 * boxload.c - a load generator that plays bearerbox toward one box (or a
 * few with the same smsbox-id), to measure marketbox's own ceiling without
 * Kannel in the way.
 *
 *	boxload -p PORT [-b BOXES] [-n N] [-w WINDOW] [-t SECONDS] [-S MS] [-D]
 *	    [-s PREFIX] [-r RECEIVER] [-T TEXT] [-v]
 *
 * It listens on 127.0.0.1:PORT (the box connects to it as to bearerbox's
 * smsbox-port), accepts BOXES connections (default 1), waits for every
 * box's identify (and MS milliseconds more with -S, so that a script can
 * read the boxes' CPU time before the traffic starts: -v says "identified"
 * on stderr for each), then sends N MOs the way bearerbox does (sms,
 * sms_type mo, a fresh UUID each, smsc_id FAKE, coding 0), each to the box
 * with the fewest unacked, never more than WINDOW unacked per box
 * (bearerbox's smsbox-max-pending, default 100, which bearerbox also
 * counts per box).  It answers every MT, on the connection it came by, with
 * ack{ack_success, id = the MT's id}, as bearerbox does when an SMSC took
 * it, and with -D also sends the MT's delivery report (report_mo, event 1,
 * the MT's dlr_url), which the box must ack like an MO.
 *
 * MO number i (0-based) comes from the phone PREFIX followed by eight
 * digits that i maps to one to one, spread over all 10^8 numbers as
 * different farmers' phones are (i * BOXLOAD_SPREAD mod 10^8): an MT is
 * matched to its MO by its receiver whatever the box answers, and the box's
 * indexes of phones see keys in no order, as in production; every MO has
 * the same TEXT (default "REG Mary
 * Wanjiku Nakuru": each phone registers, a write and a one-SMS reply).
 * The last four bytes of each UUID hold i, so an ack is matched in O(1) and
 * checked against the whole id sent.
 *
 * It stops when every MO is acked, every MO has had at least one MT, and
 * every DLR sent is acked, or after the timeout, or on SIGINT/SIGTERM, and
 * prints on stdout the rates, latency percentiles (MO sent -> its ack, MO
 * sent -> its first MT) and a last line "RESULT key=value ..." for
 * scripts.  Exit status: 0 when the run completed with every MO acked
 * ack_success, 1 otherwise (timeout, connection lost, refused MOs), 2 on a
 * usage or set-up error.
 *
 * Single-threaded, one libevent loop; libgw only for Msg and UUIDs, and the
 * frame codec is marketbox's own (box_frame_read/box_frame_write in box.c)
 * so both sides frame exactly alike.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "base/gw.h"
#include "gw/msg.h"

#include "link/box.h"
#include "number.h"

#define BOXLOAD_MAX_FRAME	(1 << 20)
#define BOXLOAD_MAX_N		99999999L	/* eight digits of sender */
#define BOXLOAD_SEQ_DIGITS	8
#define BOXLOAD_SEQ_MOD		100000000LL	/* 10^BOXLOAD_SEQ_DIGITS */
/* Prime to 10^8 (neither even nor a multiple of 5), so that i -> i * it
 * mod 10^8 is one to one; BOXLOAD_UNSPREAD is its inverse mod 10^8. */
#define BOXLOAD_SPREAD		48271LL
#define BOXLOAD_DLR_FLAG	0x80000000u	/* in a DLR's id, not an MO's */
#define BOXLOAD_MAX_BOXES	16

struct boxload_opts {
	int		 port;
	long		 n;		/* MOs to send */
	long		 boxes;		/* connections to wait for */
	long		 window;	/* unacked MOs and DLRs per box */
	double		 timeout;	/* seconds for the whole run */
	long		 delay_ms;	/* after the identify, before MOs */
	int		 dlr;		/* send a DLR for each MT */
	const char	*prefix;	/* the phones' number prefix */
	const char	*receiver;	/* the short code */
	const char	*text;
	int		 verbose;
};

/* What happened to one MO; times in seconds on the monotonic clock, 0 for
 * not yet. */
struct boxload_mo {
	uuid_t		 id;
	uuid_t		 dlr_id;
	double		 sent, acked, replied;
	unsigned char	 box, dlr_box;	/* the connections they went by */
	unsigned	 dlr_sent:1, dlr_acked:1;
};

struct boxload;

/* One box's connection. */
struct boxload_conn {
	struct boxload		*bl;
	struct bufferevent	*bev;
	long			 inflight;	/* its MOs and DLRs unacked */
	long			 mos;		/* MOs sent to it */
	int			 identified;
	char			 boxc_id[64];
};

struct boxload {
	struct boxload_opts	 opt;
	struct event_base	*base;
	struct evconnlistener	*listener;
	struct boxload_conn	 conns[BOXLOAD_MAX_BOXES];
	long			 nconns, nidentified;
	long			 next_box;	/* where ties start */
	struct event		*timeout_ev, *sigint_ev, *sigterm_ev;
	struct event		*start_ev;

	struct boxload_mo	*mos;
	long			 sent;		/* MOs sent */
	long			 acked;		/* MOs acked ack_success */
	long			 refused;	/* MOs acked otherwise */
	long			 replied;	/* MOs with at least one MT */
	long			 mts;		/* MTs received, all of them */
	long			 mt_unmatched;	/* MTs to no MO of ours */
	long			 dlr_sent, dlr_acked;
	long			 stray_acks;	/* acks for ids we never sent */
	long			 inflight;	/* MOs and DLRs not yet acked */

	double			 first_sent, last_acked, last_replied;
	int			 started;	/* MOs may go */
	const char		*stop_reason;	/* NULL: completed */
	int			 stopped;
};

static void	boxload_stop(struct boxload *, const char *);

static double
boxload_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* i in the last four bytes of an id (big-endian). */
static void
boxload_id_tag(uuid_t id, uint32_t i)
{
	id[12] = (unsigned char)(i >> 24);
	id[13] = (unsigned char)(i >> 16);
	id[14] = (unsigned char)(i >> 8);
	id[15] = (unsigned char)i;
}

static uint32_t
boxload_id_seq(const uuid_t id)
{
	return (uint32_t)id[12] << 24 | (uint32_t)id[13] << 16 |
	    (uint32_t)id[14] << 8 | (uint32_t)id[15];
}

/* Frame m onto connection c; the caller still destroys m. */
static int
boxload_send(struct boxload *bl, struct boxload_conn *c, Msg *m)
{
	if (c->bev == NULL ||
	    box_frame_write(bufferevent_get_output(c->bev), m) == -1) {
		boxload_stop(bl, "cannot queue a message for the box");
		return -1;
	}
	return 0;
}

/* The inverse of BOXLOAD_SPREAD mod 10^8 (Euclid, extended). */
static long long
boxload_unspread_factor(void)
{
	long long	 r0 = BOXLOAD_SEQ_MOD, r1 = BOXLOAD_SPREAD, t0 = 0, t1 = 1;
	long long	 q, t;

	while (r1 != 0) {
		q = r0 / r1;
		t = r0 - q * r1, r0 = r1, r1 = t;
		t = t0 - q * t1, t0 = t1, t1 = t;
	}
	return t0 < 0 ? t0 + BOXLOAD_SEQ_MOD : t0;
}

/* The eight digits of MO i's phone, and back. */
static long long
boxload_spread(long i)
{
	return (long long)i * BOXLOAD_SPREAD % BOXLOAD_SEQ_MOD;
}

static long
boxload_unspread(long long digits)
{
	static long long	 inv;

	if (inv == 0)
		inv = boxload_unspread_factor();
	return (long)(digits % BOXLOAD_SEQ_MOD * inv % BOXLOAD_SEQ_MOD);
}

/* MO number i to box k, as bearerbox hands an MO from the fake SMSC to a
 * box. */
static int
boxload_send_mo(struct boxload *bl, long k, long i)
{
	struct boxload_conn	*c = &bl->conns[k];
	struct boxload_mo	*mo_rec = &bl->mos[i];
	Msg			*m;
	int			 rc;

	uuid_generate(mo_rec->id);
	boxload_id_tag(mo_rec->id, (uint32_t)i);
	m = msg_create(sms);
	m->sms.sms_type = mo;
	m->sms.sender = octstr_format("%s%0*lld", bl->opt.prefix,
	    BOXLOAD_SEQ_DIGITS, boxload_spread(i));
	m->sms.receiver = octstr_create(bl->opt.receiver);
	m->sms.msgdata = octstr_create(bl->opt.text);
	m->sms.smsc_id = octstr_create("FAKE");
	m->sms.coding = 0;		/* DC_7BIT: UTF-8 text inside Kannel */
	m->sms.time = (long)time(NULL);
	uuid_copy(m->sms.id, mo_rec->id);
	mo_rec->sent = boxload_now();
	mo_rec->box = (unsigned char)k;
	rc = boxload_send(bl, c, m);
	msg_destroy(m);
	if (rc == 0) {
		if (bl->sent == 0)
			bl->first_sent = mo_rec->sent;
		bl->sent++;
		bl->inflight++;
		c->inflight++;
		c->mos++;
	}
	return rc;
}

/* The box with the fewest unacked and room in its window, ties taken in
 * turn; -1 when every window is full. */
static long
boxload_pick(struct boxload *bl)
{
	long	 j, k, best = -1;

	for (j = 0; j < bl->nconns; j++) {
		k = (bl->next_box + j) % bl->nconns;
		if (bl->conns[k].bev == NULL ||
		    bl->conns[k].inflight >= bl->opt.window)
			continue;
		if (best == -1 ||
		    bl->conns[k].inflight < bl->conns[best].inflight)
			best = k;
	}
	if (best != -1)
		bl->next_box = (best + 1) % bl->nconns;
	return best;
}

/* Keep the windows full of MOs (at most N sends: the loop is bounded). */
static void
boxload_fill(struct boxload *bl)
{
	long	 k;

	while (!bl->stopped && bl->started && bl->sent < bl->opt.n &&
	    (k = boxload_pick(bl)) != -1)
		if (boxload_send_mo(bl, k, bl->sent) == -1)
			return;
}

static void
boxload_check_done(struct boxload *bl)
{
	if (bl->acked + bl->refused == bl->opt.n &&
	    bl->replied + bl->refused >= bl->opt.n &&
	    bl->dlr_acked == bl->dlr_sent)
		boxload_stop(bl, NULL);
}

/* The index of the MO whose phone is receiver, or -1. */
static long
boxload_match_receiver(struct boxload *bl, Octstr *receiver)
{
	const char	*s, *p;
	size_t		 plen = strlen(bl->opt.prefix);
	long long	 digits = 0;
	long		 i;

	if (receiver == NULL)
		return -1;
	s = octstr_get_cstr(receiver);
	if ((size_t)octstr_len(receiver) != plen + BOXLOAD_SEQ_DIGITS ||
	    strncmp(s, bl->opt.prefix, plen) != 0)
		return -1;
	for (p = s + plen; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		digits = digits * 10 + (*p - '0');
	}
	i = boxload_unspread(digits);
	return i < bl->sent ? i : -1;
}

/* A delivery report for the MT m that came by box k, as bearerbox makes
 * one from an SMSC's (to the box that sent the MT). */
static void
boxload_send_dlr(struct boxload *bl, long k, long i, Msg *mt)
{
	struct boxload_mo	*mo_rec = &bl->mos[i];
	Msg			*m;

	if (mo_rec->dlr_sent || mt->sms.dlr_url == NULL ||
	    mt->sms.dlr_mask <= 0 || (mt->sms.dlr_mask & 1) == 0)
		return;
	uuid_generate(mo_rec->dlr_id);
	boxload_id_tag(mo_rec->dlr_id, (uint32_t)i | BOXLOAD_DLR_FLAG);
	m = msg_create(sms);
	m->sms.sms_type = report_mo;
	m->sms.sender = octstr_duplicate(mt->sms.receiver);
	m->sms.receiver = octstr_duplicate(mt->sms.sender);
	m->sms.msgdata = octstr_create("id:0 sub:001 dlvrd:001 stat:DELIVRD");
	m->sms.smsc_id = octstr_create("FAKE");
	m->sms.foreign_id = octstr_format("fake-%ld", i);
	m->sms.dlr_url = octstr_duplicate(mt->sms.dlr_url);
	m->sms.dlr_mask = 1;
	if (mt->sms.boxc_id != NULL)
		m->sms.boxc_id = octstr_duplicate(mt->sms.boxc_id);
	m->sms.time = (long)time(NULL);
	uuid_copy(m->sms.id, mo_rec->dlr_id);
	if (boxload_send(bl, &bl->conns[k], m) == 0) {
		mo_rec->dlr_sent = 1;
		mo_rec->dlr_box = (unsigned char)k;
		bl->dlr_sent++;
		bl->inflight++;
		bl->conns[k].inflight++;
	}
	msg_destroy(m);
}

/* An MT from box k: ack it as accepted, match it to its MO. */
static void
boxload_handle_mt(struct boxload *bl, long k, Msg *m)
{
	Msg	*a;
	long	 i;

	bl->mts++;
	a = msg_create(ack);
	a->ack.nack = ack_success;
	a->ack.time = m->sms.time;
	uuid_copy(a->ack.id, m->sms.id);
	boxload_send(bl, &bl->conns[k], a);
	msg_destroy(a);

	if ((i = boxload_match_receiver(bl, m->sms.receiver)) == -1) {
		bl->mt_unmatched++;
		return;
	}
	if (bl->mos[i].replied == 0) {
		bl->mos[i].replied = boxload_now();
		bl->last_replied = bl->mos[i].replied;
		bl->replied++;
	}
	if (bl->opt.dlr)
		boxload_send_dlr(bl, k, i, m);
}

/* The box's ack for one of our MOs or DLRs. */
static void
boxload_handle_ack(struct boxload *bl, Msg *m)
{
	uint32_t		 tag = boxload_id_seq(m->ack.id);
	long			 i = (long)(tag & ~BOXLOAD_DLR_FLAG);
	struct boxload_mo	*mo_rec;

	if (i >= bl->sent) {
		bl->stray_acks++;
		return;
	}
	mo_rec = &bl->mos[i];
	if (tag & BOXLOAD_DLR_FLAG) {
		if (!mo_rec->dlr_sent || mo_rec->dlr_acked ||
		    uuid_compare(mo_rec->dlr_id, m->ack.id) != 0) {
			bl->stray_acks++;
			return;
		}
		mo_rec->dlr_acked = 1;
		bl->dlr_acked++;
		bl->inflight--;
		bl->conns[mo_rec->dlr_box].inflight--;
		return;
	}
	if (mo_rec->acked != 0 || uuid_compare(mo_rec->id, m->ack.id) != 0) {
		bl->stray_acks++;
		return;
	}
	mo_rec->acked = boxload_now();
	bl->last_acked = mo_rec->acked;
	bl->inflight--;
	bl->conns[mo_rec->box].inflight--;
	if (m->ack.nack == ack_success)
		bl->acked++;
	else {
		bl->refused++;
		if (bl->opt.verbose)
			fprintf(stderr, "boxload: MO %ld acked %ld\n", i,
			    m->ack.nack);
	}
}

/* The start delay is over: fill the window. */
static void
boxload_start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct boxload	*bl = arg;

	(void)fd;
	(void)what;
	bl->started = 1;
	boxload_fill(bl);
}

/* Box c identified itself: once all have, MOs start now, or after the
 * delay. */
static void
boxload_identified(struct boxload *bl, struct boxload_conn *c, Msg *m)
{
	struct timeval	 tv;

	c->identified = 1;
	bl->nidentified++;
	snprintf(c->boxc_id, sizeof(c->boxc_id), "%s",
	    m->admin.boxc_id != NULL ? octstr_get_cstr(m->admin.boxc_id) :
	    "(none)");
	if (bl->opt.verbose)
		fprintf(stderr, "boxload: box %s identified (%ld of %ld)\n",
		    c->boxc_id, bl->nidentified, bl->opt.boxes);
	if (bl->nidentified < bl->opt.boxes)
		return;
	if (bl->opt.delay_ms == 0) {
		bl->started = 1;
		return;		/* the read callback fills the window */
	}
	tv.tv_sec = bl->opt.delay_ms / 1000;
	tv.tv_usec = (bl->opt.delay_ms % 1000) * 1000;
	evtimer_add(bl->start_ev, &tv);
}

static void
boxload_handle(struct boxload_conn *c, Msg *m)
{
	struct boxload	*bl = c->bl;

	switch (m->type) {
	case admin:
		if (m->admin.command == cmd_identify && !c->identified)
			boxload_identified(bl, c, m);
		break;
	case ack:
		boxload_handle_ack(bl, m);
		break;
	case sms:
		if (m->sms.sms_type == mt_reply || m->sms.sms_type == mt_push)
			boxload_handle_mt(bl, c - bl->conns, m);
		else if (bl->opt.verbose)
			fprintf(stderr, "boxload: sms of type %ld ignored\n",
			    m->sms.sms_type);
		break;
	default:
		/* Heartbeats and the rest: nothing to do. */
		break;
	}
}

static void
boxload_read_cb(struct bufferevent *bev, void *arg)
{
	struct boxload_conn	*c = arg;
	struct boxload		*bl = c->bl;
	struct evbuffer	*in = bufferevent_get_input(bev);
	void		*m;
	int		 r;

	while (!bl->stopped) {
		if ((r = box_frame_read(in, BOXLOAD_MAX_FRAME, &m)) == 0)
			break;
		if (r == -1) {
			boxload_stop(bl, "protocol error from the box");
			return;
		}
		boxload_handle(c, m);
		msg_destroy(m);
	}
	if (bl->stopped)
		return;
	boxload_fill(bl);
	boxload_check_done(bl);
}

static void
boxload_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct boxload_conn	*c = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		boxload_stop(c->bl, "a box closed the connection");
}

static void
boxload_accept_cb(struct evconnlistener *listener, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct boxload		*bl = arg;
	struct boxload_conn	*c;
	int			 one = 1;

	(void)listener;
	(void)sa;
	(void)salen;
	if (bl->nconns >= bl->opt.boxes || bl->stopped) {
		/* BOXES boxes per run, the same for the whole run. */
		evutil_closesocket(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = &bl->conns[bl->nconns];
	c->bl = bl;
	c->bev = bufferevent_socket_new(bl->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		boxload_stop(bl, "cannot create a socket buffer");
		return;
	}
	bl->nconns++;
	bufferevent_setcb(c->bev, boxload_read_cb, NULL, boxload_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bl->opt.verbose)
		fprintf(stderr, "boxload: a box connected\n");
}

static void
boxload_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	boxload_stop(arg, "timeout");
}

static void
boxload_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	boxload_stop(arg, "interrupted");
}

/* End the run (reason NULL: it completed); the loop exits this pass. */
static void
boxload_stop(struct boxload *bl, const char *reason)
{
	if (bl->stopped)
		return;
	bl->stopped = 1;
	bl->stop_reason = reason;
	event_base_loopexit(bl->base, NULL);
}

/* --- the report ----------------------------------------------------------- */

static int
boxload_cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank q-quantile of n sorted values. */
static double
boxload_quantile(const double *v, size_t n, double q)
{
	size_t	k;

	if (n == 0)
		return 0;
	k = (size_t)(q * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

struct boxload_pct {
	size_t	 n;
	double	 p50, p90, p99, max;
};

/* The percentiles, in ms, of MO sent -> its ack (replies 0) or -> its
 * first MT (replies 1), over the MOs that got one.  -1 if out of memory. */
static int
boxload_latency(struct boxload *bl, int replies, struct boxload_pct *p)
{
	double	*v, t;
	long	 i;
	size_t	 n = 0;

	memset(p, 0, sizeof(*p));
	if (bl->sent == 0)
		return 0;
	if ((v = calloc((size_t)bl->sent, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < bl->sent; i++) {
		t = replies ? bl->mos[i].replied : bl->mos[i].acked;
		if (t > 0)
			v[n++] = (t - bl->mos[i].sent) * 1000;
	}
	qsort(v, n, sizeof(*v), boxload_cmp_double);
	p->n = n;
	p->p50 = boxload_quantile(v, n, 0.50);
	p->p90 = boxload_quantile(v, n, 0.90);
	p->p99 = boxload_quantile(v, n, 0.99);
	p->max = n > 0 ? v[n - 1] : 0;
	free(v);
	return 0;
}

static double
boxload_rate(long count, double from, double to)
{
	return count > 0 && to > from ? (double)count / (to - from) : 0;
}

static void
boxload_report(struct boxload *bl)
{
	struct boxload_pct	 ack_p, mt_p;
	double			 ack_rate, mt_rate, elapsed;
	long			 k;

	if (boxload_latency(bl, 0, &ack_p) == -1 ||
	    boxload_latency(bl, 1, &mt_p) == -1) {
		fprintf(stderr, "boxload: out of memory\n");
		return;
	}
	ack_rate = boxload_rate(bl->acked + bl->refused, bl->first_sent,
	    bl->last_acked);
	mt_rate = boxload_rate(bl->replied, bl->first_sent, bl->last_replied);
	elapsed = bl->sent > 0 ? (bl->last_acked > bl->last_replied ?
	    bl->last_acked : bl->last_replied) - bl->first_sent : 0;
	if (elapsed < 0)
		elapsed = 0;

	printf("boxload: %s; %ld of %ld boxes identified\n",
	    bl->stop_reason != NULL ? bl->stop_reason : "completed",
	    bl->nidentified, bl->opt.boxes);
	for (k = 0; k < bl->nconns; k++)
		printf("boxload: box %ld %s: %ld MOs\n", k,
		    bl->conns[k].identified ? bl->conns[k].boxc_id :
		    "(never identified)", bl->conns[k].mos);
	printf("boxload: MOs sent %ld, acked %ld, refused %ld; MOs answered "
	    "%ld; MTs %ld (unmatched %ld); DLRs sent %ld, acked %ld; stray "
	    "acks %ld\n", bl->sent, bl->acked, bl->refused, bl->replied,
	    bl->mts, bl->mt_unmatched, bl->dlr_sent, bl->dlr_acked,
	    bl->stray_acks);
	printf("boxload: window %ld: %.0f MO/s acked, %.0f MO->MT round "
	    "trips/s, %.3f s\n", bl->opt.window, ack_rate, mt_rate, elapsed);
	printf("boxload: MO->ack ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f "
	    "(%zu)\n", ack_p.p50, ack_p.p90, ack_p.p99, ack_p.max, ack_p.n);
	printf("boxload: MO->MT  ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f "
	    "(%zu)\n", mt_p.p50, mt_p.p90, mt_p.p99, mt_p.max, mt_p.n);
	printf("RESULT completed=%d boxes=%ld n=%ld sent=%ld acked=%ld refused=%ld "
	    "replied=%ld mts=%ld dlrs=%ld elapsed=%.4f ack_rate=%.1f "
	    "mt_rate=%.1f ack_p50=%.3f ack_p90=%.3f ack_p99=%.3f "
	    "ack_max=%.3f mt_p50=%.3f mt_p90=%.3f mt_p99=%.3f mt_max=%.3f\n",
	    bl->stop_reason == NULL, bl->nconns, bl->opt.n, bl->sent, bl->acked,
	    bl->refused, bl->replied, bl->mts, bl->dlr_acked, elapsed,
	    ack_rate, mt_rate, ack_p.p50, ack_p.p90, ack_p.p99, ack_p.max,
	    mt_p.p50, mt_p.p90, mt_p.p99, mt_p.max);
	fflush(stdout);
}

/* --- set-up --------------------------------------------------------------- */

static void
boxload_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: boxload -p PORT [-b BOXES] [-n N] [-w WINDOW] [-t SECONDS]\n"
	    "               [-S MS] [-D] [-s PREFIX] [-r RECEIVER] [-T TEXT] [-v]\n"
	    "  -p PORT     listen on 127.0.0.1:PORT for the box (required)\n"
	    "  -b BOXES    boxes to wait for, MOs spread over them (default 1,\n"
	    "              at most %d)\n"
	    "  -n N        MOs to send (default 5000, at most %ld)\n"
	    "  -w WINDOW   unacked MOs and DLRs per box at most (default 100)\n"
	    "  -t SECONDS  give up after this long (default 60)\n"
	    "  -S MS       wait MS milliseconds after the identify (default 0)\n"
	    "  -D          send a delivery report for every MT that asks\n"
	    "  -s PREFIX   the phones' number prefix (default +2547)\n"
	    "  -r RECEIVER the short code (default 777)\n"
	    "  -T TEXT     the MO text (default \"REG Mary Wanjiku Nakuru\")\n"
	    "  -v          say what happens on stderr\n", BOXLOAD_MAX_BOXES,
	    BOXLOAD_MAX_N);
}

static int
boxload_options(struct boxload_opts *o, int argc, char **argv)
{
	int	 ch, ok = 1;

	memset(o, 0, sizeof(*o));
	o->n = 5000;
	o->boxes = 1;
	o->window = 100;
	o->timeout = 60;
	o->prefix = "+2547";
	o->receiver = "777";
	o->text = "REG Mary Wanjiku Nakuru";
	while ((ch = getopt(argc, argv, "p:b:n:w:t:S:Ds:r:T:vh")) != -1) {
		switch (ch) {
		case 'p':
			o->port = (int)bench_number(optarg, 1, 65535, &ok);
			break;
		case 'b':
			o->boxes = bench_number(optarg, 1, BOXLOAD_MAX_BOXES,
			    &ok);
			break;
		case 'n':
			o->n = bench_number(optarg, 1, BOXLOAD_MAX_N, &ok);
			break;
		case 'w':
			o->window = bench_number(optarg, 1, 100000, &ok);
			break;
		case 't':
			o->timeout = (double)bench_number(optarg, 1, 3600,
			    &ok);
			break;
		case 'S':
			o->delay_ms = bench_number(optarg, 0, 60000, &ok);
			break;
		case 'D':
			o->dlr = 1;
			break;
		case 's':
			o->prefix = optarg;
			break;
		case 'r':
			o->receiver = optarg;
			break;
		case 'T':
			o->text = optarg;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			boxload_usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (!ok || o->port == 0 || optind != argc || strlen(o->prefix) > 16 ||
	    *o->receiver == '\0')
		return -1;
	return 0;
}

static int
boxload_listen(struct boxload *bl)
{
	struct sockaddr_in	 sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)bl->opt.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bl->listener = evconnlistener_new_bind(bl->base, boxload_accept_cb, bl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	    (struct sockaddr *)&sin, sizeof(sin));
	if (bl->listener == NULL) {
		fprintf(stderr, "boxload: cannot listen on 127.0.0.1:%d: %s\n",
		    bl->opt.port, strerror(errno));
		return -1;
	}
	return 0;
}

static void
boxload_free(struct boxload *bl)
{
	long	 k;

	for (k = 0; k < bl->nconns; k++)
		if (bl->conns[k].bev != NULL)
			bufferevent_free(bl->conns[k].bev);
	if (bl->listener != NULL)
		evconnlistener_free(bl->listener);
	if (bl->timeout_ev != NULL)
		event_free(bl->timeout_ev);
	if (bl->sigint_ev != NULL)
		event_free(bl->sigint_ev);
	if (bl->sigterm_ev != NULL)
		event_free(bl->sigterm_ev);
	if (bl->start_ev != NULL)
		event_free(bl->start_ev);
	if (bl->base != NULL)
		event_base_free(bl->base);
	free(bl->mos);
}

int
main(int argc, char **argv)
{
	struct boxload	 bl;
	struct timeval	 tv;
	int		 rc = 2;

	memset(&bl, 0, sizeof(bl));
	if (boxload_options(&bl.opt, argc, argv) == -1) {
		boxload_usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	gwlib_init();
	log_set_output_level(bl.opt.verbose ? GW_INFO : GW_ERROR);

	if ((bl.mos = calloc((size_t)bl.opt.n, sizeof(*bl.mos))) == NULL) {
		fprintf(stderr, "boxload: out of memory for %ld MOs\n",
		    bl.opt.n);
		goto out;
	}
	if ((bl.base = event_base_new()) == NULL) {
		fprintf(stderr, "boxload: cannot create the event loop\n");
		goto out;
	}
	bl.timeout_ev = evtimer_new(bl.base, boxload_timeout_cb, &bl);
	bl.sigint_ev = evsignal_new(bl.base, SIGINT, boxload_signal_cb, &bl);
	bl.sigterm_ev = evsignal_new(bl.base, SIGTERM, boxload_signal_cb, &bl);
	bl.start_ev = evtimer_new(bl.base, boxload_start_cb, &bl);
	if (bl.timeout_ev == NULL || bl.sigint_ev == NULL ||
	    bl.start_ev == NULL ||
	    bl.sigterm_ev == NULL || evsignal_add(bl.sigint_ev, NULL) == -1 ||
	    evsignal_add(bl.sigterm_ev, NULL) == -1) {
		fprintf(stderr, "boxload: cannot create events\n");
		goto out;
	}
	tv.tv_sec = (time_t)bl.opt.timeout;
	tv.tv_usec = 0;
	evtimer_add(bl.timeout_ev, &tv);
	if (boxload_listen(&bl) == -1)
		goto out;
	if (bl.opt.verbose)
		fprintf(stderr, "boxload: listening on 127.0.0.1:%d\n",
		    bl.opt.port);

	if (event_base_dispatch(bl.base) == -1) {
		fprintf(stderr, "boxload: event loop failed\n");
		goto out;
	}
	if (!bl.stopped)
		bl.stop_reason = "the loop ended";
	boxload_report(&bl);
	rc = bl.stop_reason == NULL && bl.refused == 0 ? 0 : 1;
out:
	boxload_free(&bl);
	gwlib_shutdown();
	return rc;
}
