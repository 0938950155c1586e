/*
 * box.c - the link to Kannel's bearerbox: one TCP connection to its
 * smsbox-port, spoken the way smsbox speaks it.
 *
 * The connection is a libevent bufferevent; libgw is used only for Msg
 * (msg_pack/msg_unpack), Octstr and UUIDs, never for its threads or conn.
 * A frame is a 4-byte big-endian length and the bytes of msg_pack().  The
 * frames are written, checked and read in box_frame.c (the hot kinds
 * without a Msg); this file is the link's life around them: connecting,
 * identify, what is done with each frame, the acks' contract, the pause
 * while the store fails, reconnect.
 *
 * Life of the link:
 *
 *	idle --(timer)--> connecting --(TCP up)--> up: identify sent,
 *	    outbox link set, heartbeats running
 *	up | connecting --(EOF, error, protocol error, admin shutdown or
 *	    restart)--> idle, outbox link cleared, reconnect timer armed
 *
 * The reconnect delay doubles from 1 s up to reconnect-delay-max, and
 * starts again at 1 s once a connection has proved itself (bearerbox sent
 * it traffic, or it stayed up BOX_STABLE_SECONDS).  A state change is
 * logged once; repeated failed attempts are logged at debug level.
 *
 * A store that cannot commit (a full disk, an I/O error): every MO of the
 * failed commit is answered ack_failed_tmp and bearerbox, which keeps it,
 * offers it again at once.  Rather than spin on it, the link stops reading
 * (the read side only: heartbeats and MTs still go out) for a delay that
 * doubles from BOX_STALL_MIN_MS up to BOX_STALL_MAX_MS; then one MO is
 * let through as a probe of the store.  It is stored: reading resumes;
 * it fails: the link waits again, longer.  The pause and the recovery
 * are logged once each.
 *
 *	reading --(a commit fails)--> paused --(timer)--> probe: one MO
 *	    read --(stored)--> reading | --(fails)--> paused, delay doubled
 *
 * Acks: an MO is acked only when the inbox reports it durable (the inbox
 * calls back after the group commit); a DLR likewise once the update of
 * its outbox row has committed.  An ack is only ever sent on the connection the message came
 * in on: after a reconnect bearerbox offers unacked messages again, and
 * the inbox deduplicates them.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "base/gw.h"
#include "gw/msg.h"

#include "link/box.h"
#include "link/box_int.h"
#include "base/conf.h"
#include "text/gsm.h"
#include "queue/inbox.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "store/store.h"

#define BOX_LOG			"mb.box"
#define BOX_MAX_SINGLE_IO	(256 * 1024)	/* bytes read or written in
						   one loop pass, at most */
#define BOX_HIGH_WATER		(1024 * 1024)	/* output bytes before MTs
						   are refused for now */
#define BOX_CONNECT_TIMEOUT	10		/* seconds for TCP connect */
#define BOX_STABLE_SECONDS	10		/* up this long: backoff reset */
#define BOX_STALL_MIN_MS	250		/* first pause of the reads
						   while the store fails */
#define BOX_STALL_MAX_MS	8000		/* longest pause */

enum box_state {
	BOX_STOPPED,		/* not started, or being freed */
	BOX_IDLE,		/* waiting for the reconnect timer */
	BOX_CONNECTING,		/* TCP connect in progress */
	BOX_UP			/* connected and identified */
};

/* Whether the link reads, as the store commits or not (see the top). */
enum box_store {
	BOX_STORE_OK,		/* reading */
	BOX_STORE_PAUSED,	/* not reading; the stall timer is armed */
	BOX_STORE_PROBE,	/* reading until one MO has been read */
	BOX_STORE_PROBING	/* not reading; that MO's commit is awaited */
};

/*
 * An MO handed to the inbox whose ack waits for the commit.  Owned by the
 * box's list until the inbox calls back; box_free() detaches the records
 * (box = NULL) and the callback then frees them without acking.
 */
struct box_pending {
	struct box		*box;		/* NULL once the box is gone */
	unsigned long		 generation;	/* connection it came in on */
	uuid_t			 id;
	long			 time;		/* sms.time, echoed in the ack */
	struct box_pending	*prev, *next;
};

struct box {
	struct event_base	*base;
	const struct conf	*conf;
	struct inbox		*inbox;
	struct outbox		*outbox;

	char			*host;		/* copies: the conf may go */
	int			 port;

	enum box_state		 state;
	struct bufferevent	*bev;
	unsigned long		 generation;	/* bumped on every connect */
	time_t			 up_since;
	int			 proven;	/* bearerbox sent us traffic */
	int			 backoff;	/* next reconnect delay, s */
	int			 failing;	/* connect failure logged */

	struct event		*retry_ev;
	struct event		*heartbeat_ev;

	enum box_store		 store;
	int			 mo_taken;	/* the last sms went to the
						   inbox, which will call back */
	int			 stall_ms;	/* the next pause */
	time_t			 stalled_since;
	struct event		*stall_ev;

	struct outbox_link	 link;
	struct box_pending	*pending;
	struct box_sms		 sms;		/* the sms being handled */
	struct box_stats	 stats;

	struct store		*db;		/* runs the read task */
	int			 reading;	/* the read task is queued or
						   under way */
};

static void	box_connect(struct box *);
static void	box_drop(struct box *, const char *, int);

/* ------------------------------------------------------------------------
 * Sending.
 */

/* Frame msg onto the connection; the caller still destroys msg. */
static int
box_send(struct box *box, Msg *m)
{
	if (box->bev == NULL)
		return -1;
	if (box_frame_write(bufferevent_get_output(box->bev), m) == -1) {
		error(0, "box: cannot queue a message for bearerbox");
		return -1;
	}
	return 0;
}

/* The ack of an MO or a DLR, packed without a Msg. */
static void
box_send_ack(struct box *box, const uuid_t id, long time_, long nack)
{
	if (box->bev == NULL)
		return;
	if (box_frame_write_ack(bufferevent_get_output(box->bev), nack, time_,
	    id) == -1) {
		error(0, "box: cannot queue a message for bearerbox");
		return;
	}
	box->stats.acks_sent++;
}

static void
box_send_identify(struct box *box)
{
	Msg	*m;

	m = msg_create(admin);
	m->admin.command = cmd_identify;
	if (box->conf->smsbox_id != NULL)
		m->admin.boxc_id = octstr_create(box->conf->smsbox_id);
	box_send(box, m);
	msg_destroy(m);
}

/*
 * The outbox link: turn one MT into an sms message for bearerbox.
 * Returns -1 (the outbox keeps the row queued) when the link is down or
 * bearerbox is not reading what we already wrote.
 */
static int
box_send_mt_cb(void *arg, const struct outbox_mt *mt)
{
	struct box	*box = arg;
	uuid_t		 id;

	if (box->state != BOX_UP || box->bev == NULL)
		return -1;
	if (evbuffer_get_length(bufferevent_get_output(box->bev)) >
	    BOX_HIGH_WATER) {
		debug(BOX_LOG, 0, "box: output above %d bytes, MT deferred",
		    BOX_HIGH_WATER);
		return -1;
	}
	if (mt->kannel_id == NULL || mt->sender == NULL ||
	    mt->receiver == NULL || mt->text == NULL ||
	    box_uuid_parse(mt->kannel_id, id) == -1) {
		error(0, "box: MT row %lld is incomplete or has a bad id; "
		    "not sent", mt->row);
		return -1;
	}
	/* The MT is complete: the only failure left is memory. */
	if (box_frame_write_mt(bufferevent_get_output(box->bev), mt,
	    box->conf->smsbox_id, (long)time(NULL)) == -1) {
		error(0, "box: out of memory encoding MT row %lld", mt->row);
		return -1;
	}
	box->stats.mt++;
	debug(BOX_LOG, 0, "box: MT row %lld sent as %s to %s", mt->row,
	    mt->kannel_id, mt->receiver);
	return 0;
}

/* ------------------------------------------------------------------------
 * Receiving.
 */

static void
box_pending_unlink(struct box *box, struct box_pending *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		box->pending = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
}

/*
 * The ack of an MO or a DLR, once its unit has committed (ok) or not.  It
 * goes out only on the connection the message came in on; otherwise
 * bearerbox has already taken it back and will offer it again.
 */
static void
box_pending_done(struct box_pending *p, int ok, const char *what)
{
	struct box	*box = p->box;
	char		 idtext[UUID_STR_LEN + 1];

	if (box != NULL) {
		box_pending_unlink(box, p);
		if (box->state == BOX_UP && box->generation == p->generation)
			box_send_ack(box, p->id, p->time,
			    ok ? ack_success : ack_failed_tmp);
		else {
			box_uuid_unparse(p->id, idtext);
			debug(BOX_LOG, 0, "box: %s %s done after its "
			    "connection ended; bearerbox will offer it again",
			    what, idtext);
		}
	}
	free(p);
}

/*
 * A commit failed: stop reading (or, after a failed probe, wait longer)
 * unless already waiting.  The first failure of an outage is logged.
 */
static void
box_store_failed(struct box *box)
{
	struct timeval	 tv;
	int		 delay;

	if (box->store == BOX_STORE_PAUSED)
		return;
	if (box->store == BOX_STORE_OK) {
		box->stalled_since = time(NULL);
		box->stats.stalls++;
		warning(0, "box: the database cannot store messages; not "
		    "reading from bearerbox (it keeps them) until it can, "
		    "trying again from %d ms to every %d s",
		    box->stall_ms, BOX_STALL_MAX_MS / 1000);
	} else
		debug(BOX_LOG, 0, "box: the database still cannot store "
		    "messages; next try in %d ms", box->stall_ms);
	box->store = BOX_STORE_PAUSED;
	if (box->bev != NULL)
		bufferevent_disable(box->bev, EV_READ);
	delay = box->stall_ms;
	box->stall_ms = delay * 2 > BOX_STALL_MAX_MS ? BOX_STALL_MAX_MS :
	    delay * 2;
	tv.tv_sec = delay / 1000;
	tv.tv_usec = (delay % 1000) * 1000;
	event_add(box->stall_ev, &tv);
}

/* A commit succeeded: if the link was waiting, it reads again. */
static void
box_store_ok(struct box *box, int stored)
{
	if (box->store == BOX_STORE_OK)
		return;
	if (!stored) {
		/* A duplicate proves nothing (no write): another probe. */
		if (box->store == BOX_STORE_PROBING) {
			box->store = BOX_STORE_PROBE;
			event_active(box->stall_ev, EV_TIMEOUT, 0);
		}
		return;
	}
	info(0, "box: the database stores messages again; reading from "
	    "bearerbox after %lld s", (long long)(time(NULL) -
	    box->stalled_since));
	box->store = BOX_STORE_OK;
	box->stall_ms = BOX_STALL_MIN_MS;
	event_del(box->stall_ev);
	if (box->bev != NULL)
		bufferevent_enable(box->bev, EV_READ);
	/* What waits in the input buffer: from the loop, not from here. */
	event_active(box->stall_ev, EV_TIMEOUT, 0);
}

/* The inbox's answer for one MO, after the commit. */
static void
box_mo_done_cb(void *arg, enum inbox_status status, const char *reply)
{
	struct box_pending	*p = arg;

	(void)reply;
	if (p->box != NULL) {
		if (status == INBOX_FAILED)
			box_store_failed(p->box);
		else
			box_store_ok(p->box, status == INBOX_STORED);
	}
	box_pending_done(p, status != INBOX_FAILED, "MO");
}

/* A DLR's row update, after the commit. */
static void
box_dlr_done_cb(void *arg, int ok)
{
	struct box_pending	*p = arg;

	if (p->box != NULL) {
		if (!ok)
			box_store_failed(p->box);
		else
			box_store_ok(p->box, 1);
	}
	box_pending_done(p, ok, "DLR");
}

/*
 * A record for a message whose ack waits for the commit, on the box's
 * list; NULL if memory runs out.
 */
static struct box_pending *
box_pending_new(struct box *box, const struct box_sms *s)
{
	struct box_pending	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->box = box;
	p->generation = box->generation;
	uuid_copy(p->id, s->id);
	p->time = s->time;
	p->next = box->pending;
	if (box->pending != NULL)
		box->pending->prev = p;
	box->pending = p;
	return p;
}

/* A string field as a C string, or NULL when absent or empty. */
static const char *
box_field(const struct box_sms_str *str)
{
	if (str->data == NULL || str->len == 0)
		return NULL;
	return str->data;
}

static void
box_handle_mo(struct box *box, const struct box_sms *s)
{
	struct mo		 incoming;
	struct box_pending	*p;
	char			 idtext[UUID_STR_LEN + 1], *text;
	const unsigned char	*data = NULL;
	size_t			 len = 0, replaced = 0;

	box->stats.mo++;
	box_uuid_unparse(s->id, idtext);
	if (box_field(&s->sender) == NULL) {
		warning(0, "box: MO %s has no sender: refused", idtext);
		box_send_ack(box, s->id, s->time, ack_failed);
		return;
	}
	if (s->msgdata.data != NULL) {
		data = (const unsigned char *)s->msgdata.data;
		len = s->msgdata.len;
	}
	text = gsm_to_utf8(data, len, (int)s->coding, NULL, &replaced);
	if (text == NULL) {
		error(0, "box: out of memory reading MO %s", idtext);
		box_send_ack(box, s->id, s->time, ack_failed_tmp);
		return;
	}
	if (replaced > 0)
		warning(0, "box: MO %s from %s (coding %ld): %zu invalid "
		    "byte sequence(s) replaced", idtext, s->sender.data,
		    s->coding, replaced);

	memset(&incoming, 0, sizeof(incoming));
	incoming.id = idtext;
	incoming.channel = "box";
	incoming.sender = s->sender.data;
	incoming.receiver = box_field(&s->receiver) != NULL ?
	    s->receiver.data : "";
	incoming.text = text;
	incoming.coding = s->coding >= 0 && s->coding <= 2 ?
	    (int)s->coding : 0;
	incoming.smsc_id = box_field(&s->smsc_id);
	incoming.meta_data = box_field(&s->meta_data);
	incoming.time = s->time > 0 ? s->time : (long long)time(NULL);
	incoming.reply_inline = 0;

	if ((p = box_pending_new(box, s)) == NULL) {
		error(0, "box: out of memory taking MO %s", idtext);
		box_send_ack(box, s->id, s->time, ack_failed_tmp);
		free(text);
		return;
	}

	debug(BOX_LOG, 0, "box: MO %s from %s to %s", idtext, incoming.sender,
	    incoming.receiver);
	box->mo_taken = 1;
	if (inbox_receive(box->inbox, &incoming, box_mo_done_cb, p) == -1) {
		box->mo_taken = 0;
		/* It can never be processed: drop it at bearerbox too. */
		box_pending_unlink(box, p);
		warning(0, "box: MO %s from %s refused by the inbox: dropped",
		    idtext, incoming.sender);
		/* on its own connection only (a task may have waited) */
		if (p->generation == box->generation)
			box_send_ack(box, s->id, s->time, ack_failed);
		free(p);
	}
	free(text);
}

/*
 * A delivery report.  outbox_dlr() records it in a unit of the open group
 * commit; the DLR is acked once that commits, as an MO is (a DLR acked
 * before its row is durable would be lost by a crash: the row would never
 * learn its outcome).  Not stored: ack_failed_tmp, bearerbox offers it
 * again.
 */
static void
box_handle_dlr(struct box *box, const struct box_sms *s)
{
	const char		*url, *foreign;
	struct box_pending	*p;
	unsigned long		 gen;

	box->stats.dlr++;
	url = box_field(&s->dlr_url);
	foreign = box_field(&s->foreign_id);
	debug(BOX_LOG, 0, "box: DLR for %s, event %ld", url ? url : "(none)",
	    s->dlr_mask);
	gen = box->generation;
	if (outbox_dlr(box->outbox, url != NULL ? url : "",
	    (int)s->dlr_mask, foreign) == -1 ||
	    (p = box_pending_new(box, s)) == NULL) {
		/* on its own connection only (a task may have waited) */
		if (gen == box->generation)
			box_send_ack(box, s->id, s->time, ack_failed_tmp);
		return;
	}
	p->generation = gen;
	if (outbox_on_commit(box->outbox, box_dlr_done_cb, p) == -1) {
		box_pending_unlink(box, p);
		free(p);
		box_send_ack(box, s->id, s->time, ack_failed_tmp);
	}
}

/* bearerbox's answer to one of our MTs, decoded by box_frame_next(). */
static void
box_handle_ack(struct box *box, const struct box_ack *a)
{
	char			 idtext[UUID_STR_LEN + 1];
	enum outbox_ack		 status;

	box->proven = 1;
	box->stats.acks_received++;
	box_uuid_unparse(a->id, idtext);
	switch (a->nack) {
	case ack_success:
		status = OUTBOX_ACK_SUCCESS;
		break;
	case ack_failed:
		status = OUTBOX_ACK_FAILED;
		break;
	case ack_failed_tmp:
		status = OUTBOX_ACK_FAILED_TMP;
		break;
	case ack_buffered:
		status = OUTBOX_ACK_BUFFERED;
		break;
	default:
		/* Unknown: retry it, within the outbox's retry limit. */
		warning(0, "box: unknown ack value %ld for MT %s",
		    a->nack, idtext);
		status = OUTBOX_ACK_FAILED_TMP;
		break;
	}
	debug(BOX_LOG, 0, "box: ack %ld for MT %s", a->nack, idtext);
	outbox_ack(box->outbox, idtext, status);
}

static void
box_handle_admin(struct box *box, Msg *m)
{
	switch (m->admin.command) {
	case cmd_shutdown:
		info(0, "box: bearerbox is shutting down; will reconnect");
		box_drop(box, "bearerbox shutdown", 0);
		break;
	case cmd_restart:
		info(0, "box: bearerbox is restarting; will reconnect");
		box->backoff = 1;
		box_drop(box, "bearerbox restart", 1);
		break;
	default:
		debug(BOX_LOG, 0, "box: admin command %ld ignored",
		    m->admin.command);
		break;
	}
}

/* An sms from bearerbox, decoded by box_frame_next(). */
static void
box_handle_sms(struct box *box, const struct box_sms *s)
{
	char	idtext[UUID_STR_LEN + 1];

	box->proven = 1;
	if (s->sms_type == mo)
		box_handle_mo(box, s);
	else if (s->sms_type == report_mo)
		box_handle_dlr(box, s);
	else {
		/*
		 * bearerbox sends boxes only MOs and DLRs.  Anything else is
		 * refused for good (ack_failed) so that it does not sit among
		 * bearerbox's unacked messages.
		 */
		box_uuid_unparse(s->id, idtext);
		warning(0, "box: sms %s of type %ld from bearerbox dropped",
		    idtext, s->sms_type);
		box_send_ack(box, s->id, s->time, ack_failed);
	}
}

/*
 * One message from bearerbox.  It may drop the connection.  Acks and sms
 * never come here: box_frame_next() decodes them without a Msg.
 */
static void
box_handle(struct box *box, Msg *m)
{
	switch (m->type) {
	case admin:
		box_handle_admin(box, m);
		break;
	case heartbeat:
		debug(BOX_LOG, 0, "box: heartbeat from bearerbox");
		break;
	default:
		warning(0, "box: message of type %d from bearerbox dropped",
		    (int)m->type);
		break;
	}
}

/* Log what was wrong with the frame at the head of in, and drop. */
static void
box_protocol_error(struct box *box, struct evbuffer *in)
{
	unsigned char	hdr[BOX_HEADER];
	long		n = 0;

	if (evbuffer_copyout(in, hdr, sizeof(hdr)) == (ev_ssize_t)sizeof(hdr))
		n = box_frame_decode32(hdr);
	if (n < 0 || (size_t)n > box->conf->max_frame_size)
		error(0, "box: frame of %ld bytes from bearerbox at %s:%d is "
		    "over max-frame-size (%zu)", n, box->host, box->port,
		    box->conf->max_frame_size);
	else
		error(0, "box: frame of %ld bytes from bearerbox at %s:%d is "
		    "not a message", n, box->host, box->port);
	box_drop(box, "protocol error", 0);
}

/*
 * The frames in the input buffer, read as a store task (store.h): one at
 * a time.  While it waits for the database the loop runs on, and the
 * connection may be lost or replaced: so every pass reads box->bev as it
 * is then, and a read event meanwhile (box_read_cb) leaves the frames it
 * announced to this task, which reads until no whole frame is left.
 */
static void
box_read_task(void *arg)
{
	struct box	*box = arg;
	struct box_ack	 a;
	void		*m;
	int		 r;

	/*
	 * Stop as soon as a message dropped the connection.  The acks and
	 * DLRs of a run of frames are recorded in one unit of work; the run
	 * ends before anything else (an MO opens a unit of its own) and
	 * before the task ends.
	 */
	while (box->bev != NULL && (box->store == BOX_STORE_OK ||
	    box->store == BOX_STORE_PROBE)) {
		if ((r = box_frame_next(bufferevent_get_input(box->bev),
		    box->conf->max_frame_size, &m, &a, &box->sms)) == 0)
			break;
		if (r == 2 || (r == 3 && box->sms.sms_type == report_mo))
			outbox_batch_begin(box->outbox);
		else
			outbox_batch_end(box->outbox);
		switch (r) {
		case -1:
			box->stats.protocol_errors++;
			box_protocol_error(box, bufferevent_get_input(box->bev));
			break;
		case 2:
			box_handle_ack(box, &a);
			break;
		case 3:
			box->mo_taken = 0;
			box_handle_sms(box, &box->sms);
			/* A probe of the store: one MO, then its commit. */
			if (box->store == BOX_STORE_PROBE && box->bev != NULL &&
			    box->mo_taken) {
				box->store = BOX_STORE_PROBING;
				bufferevent_disable(box->bev, EV_READ);
			}
			break;
		default:
			box_handle(box, m);
			msg_destroy(m);
			break;
		}
	}
	outbox_batch_end(box->outbox);
	box->reading = 0;
}

static void
box_read_cb(struct bufferevent *bev, void *arg)
{
	struct box	*box = arg;

	if (box->bev != bev || box->reading)
		return;
	box->reading = 1;
	if (store_task(box->db, box_read_task, box) == -1)
		box->reading = 0;	/* the next read event tries again */
}

/* ------------------------------------------------------------------------
 * The connection.
 */

static void
box_heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct box	*box = arg;
	Msg		*m;

	(void)fd;
	(void)what;
	if (box->state != BOX_UP)
		return;
	m = msg_create(heartbeat);
	m->heartbeat.load = 0;
	box_send(box, m);
	msg_destroy(m);
}

static void
box_heartbeat_arm(struct box *box)
{
	struct timeval	tv;

	event_del(box->heartbeat_ev);
	if (box->state != BOX_UP || box->conf->heartbeat_interval <= 0)
		return;
	tv.tv_sec = box->conf->heartbeat_interval;
	tv.tv_usec = 0;
	event_add(box->heartbeat_ev, &tv);
}

/*
 * The pause is over (let one MO through as a probe), or reading resumed:
 * handle what already waits in the input buffer, which no read event
 * would announce.
 */
static void
box_stall_cb(evutil_socket_t fd, short what, void *arg)
{
	struct box	*box = arg;

	(void)fd;
	(void)what;
	if (box->state != BOX_UP || box->bev == NULL)
		return;
	if (box->store == BOX_STORE_PAUSED)
		box->store = BOX_STORE_PROBE;
	if (box->store == BOX_STORE_PROBING)
		return;
	bufferevent_enable(box->bev, EV_READ);
	box_read_cb(box->bev, box);
}

static void
box_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	box_connect(arg);
}

static void
box_retry_arm(struct box *box, int seconds)
{
	struct timeval	tv;

	tv.tv_sec = seconds;
	tv.tv_usec = 0;
	box->state = BOX_IDLE;
	event_add(box->retry_ev, &tv);
}

/* The next reconnect delay, doubling up to reconnect-delay-max. */
static int
box_backoff_next(struct box *box)
{
	int	delay, max = box->conf->reconnect_delay_max;

	if (max < 1)
		max = 1;
	if (box->backoff < 1)
		box->backoff = 1;
	delay = box->backoff > max ? max : box->backoff;
	box->backoff = delay >= max ? max : delay * 2;
	return delay;
}

/*
 * Close the connection, if any.  The outbox hears the link is down before
 * anything else happens.  Returns 1 if the link was up.
 */
static int
box_close(struct box *box)
{
	int	was_up = box->state == BOX_UP;

	if (was_up) {
		outbox_set_link(box->outbox, NULL);
		event_del(box->heartbeat_ev);
		if (box->proven ||
		    time(NULL) - box->up_since >= BOX_STABLE_SECONDS)
			box->backoff = 1;
	}
	if (box->bev != NULL) {
		bufferevent_free(box->bev);
		box->bev = NULL;
	}
	/*
	 * A new connection reads; if the store still fails, its first
	 * commit pauses it again, the delay going on from where it was.
	 */
	if (box->store != BOX_STORE_OK) {
		event_del(box->stall_ev);
		box->store = BOX_STORE_PROBE;
	}
	box->state = BOX_IDLE;
	return was_up;
}

/*
 * Close the connection and arm the reconnect timer, logging why.  delay > 0
 * forces that delay; 0 takes the backoff's.
 */
static void
box_drop(struct box *box, const char *reason, int delay)
{
	int	was_up;

	was_up = box_close(box);
	if (delay <= 0)
		delay = box_backoff_next(box);
	if (was_up) {
		warning(0, "box: lost connection to bearerbox at %s:%d: %s; "
		    "reconnecting in %d s", box->host, box->port, reason, delay);
		box->failing = 0;
	} else if (!box->failing) {
		warning(0, "box: cannot connect to bearerbox at %s:%d: %s; "
		    "retrying in %d s", box->host, box->port, reason, delay);
		box->failing = 1;
	} else
		debug(BOX_LOG, 0, "box: cannot connect to bearerbox at "
		    "%s:%d: %s; retrying in %d s", box->host, box->port,
		    reason, delay);
	box_retry_arm(box, delay);
}

/* TCP is up: identify, then offer the link to the outbox. */
static void
box_up(struct box *box)
{
	evutil_socket_t	fd;
	int		one = 1;

	if ((fd = bufferevent_getfd(box->bev)) != -1)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	bufferevent_set_timeouts(box->bev, NULL, NULL);
	box->state = BOX_UP;
	box->generation++;
	box->up_since = time(NULL);
	box->proven = 0;
	box->failing = 0;
	box->stats.connects++;
	box_send_identify(box);
	info(0, "box: connected to bearerbox at %s:%d as %s", box->host,
	    box->port, box->conf->smsbox_id ? box->conf->smsbox_id : "(none)");
	box_heartbeat_arm(box);
	outbox_set_link(box->outbox, &box->link);
}

static void
box_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct box	*box = arg;
	char		 reason[128];
	int		 err;

	if (box->bev != bev)
		return;
	if (what & BEV_EVENT_CONNECTED) {
		box_up(box);
		return;
	}
	if (what & BEV_EVENT_EOF)
		snprintf(reason, sizeof(reason), "connection closed");
	else if (what & BEV_EVENT_TIMEOUT)
		snprintf(reason, sizeof(reason), "timed out");
	else {
		err = EVUTIL_SOCKET_ERROR();
		snprintf(reason, sizeof(reason), "%s",
		    err ? evutil_socket_error_to_string(err) : "socket error");
	}
	box_drop(box, reason, 0);
}

/*
 * Resolve host:port.  A numeric address never blocks; a name goes to the
 * system resolver, which may (bearerbox-host is normally 127.0.0.1 or a
 * name in /etc/hosts).  IPv4 is preferred for a name: bearerbox listens
 * on IPv4 only.
 */
static int
box_resolve(struct box *box, struct sockaddr_storage *ss, int *sslen,
    const char **reason)
{
	struct evutil_addrinfo	 hints, *res = NULL, *ai, *pick;
	char			 port[16];
	int			 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%d", box->port);
	rc = evutil_getaddrinfo(box->host, port, &hints, &res);
	if (rc != 0) {
		hints.ai_flags = EVUTIL_AI_NUMERICSERV;
		rc = evutil_getaddrinfo(box->host, port, &hints, &res);
	}
	if (rc != 0 || res == NULL) {
		*reason = rc != 0 ? evutil_gai_strerror(rc) : "no address";
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return -1;
	}
	pick = res;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
	if (pick->ai_addrlen > sizeof(*ss)) {
		evutil_freeaddrinfo(res);
		*reason = "address too long";
		return -1;
	}
	memcpy(ss, pick->ai_addr, pick->ai_addrlen);
	*sslen = (int)pick->ai_addrlen;
	evutil_freeaddrinfo(res);
	return 0;
}

static void
box_connect(struct box *box)
{
	struct sockaddr_storage	 ss;
	struct timeval		 tv;
	const char		*reason = NULL;
	int			 sslen;

	if (box->state == BOX_STOPPED || box->bev != NULL)
		return;
	debug(BOX_LOG, 0, "box: connecting to bearerbox at %s:%d",
	    box->host, box->port);
	if (box_resolve(box, &ss, &sslen, &reason) == -1) {
		box_drop(box, reason, 0);
		return;
	}
	box->bev = bufferevent_socket_new(box->base, -1,
	    BEV_OPT_CLOSE_ON_FREE);
	if (box->bev == NULL) {
		box_drop(box, "cannot create a socket buffer", 0);
		return;
	}
	bufferevent_setcb(box->bev, box_read_cb, NULL, box_event_cb, box);
	/*
	 * libevent reads and writes at most 4 and 16 KiB per pass by
	 * default: a few frames.  Under load that made a loop pass (and a
	 * read, a write and a smaller group commit) for every few messages.
	 */
	if (bufferevent_set_max_single_read(box->bev, BOX_MAX_SINGLE_IO) ==
	    -1 || bufferevent_set_max_single_write(box->bev,
	    BOX_MAX_SINGLE_IO) == -1)
		warning(0, "box: cannot raise the read and write sizes");
	tv.tv_sec = BOX_CONNECT_TIMEOUT;
	tv.tv_usec = 0;
	bufferevent_set_timeouts(box->bev, NULL, &tv);
	box->state = BOX_CONNECTING;
	if (bufferevent_socket_connect(box->bev, (struct sockaddr *)&ss,
	    sslen) == -1) {
		box_drop(box, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()), 0);
		return;
	}
	bufferevent_enable(box->bev, EV_READ | EV_WRITE);
}

/* ------------------------------------------------------------------------
 * The public face.
 */

struct box *
box_new(struct event_base *base, const struct conf *conf,
    struct inbox *inbox, struct outbox *outbox)
{
	struct box	*box;

	if (base == NULL || conf == NULL || inbox == NULL || outbox == NULL) {
		error(0, "box: needs a loop, a conf, an inbox and an outbox");
		return NULL;
	}
	if (conf->bearerbox_host == NULL || conf->bearerbox_port <= 0 ||
	    conf->bearerbox_port > 65535) {
		error(0, "box: no bearerbox-host and bearerbox-port to "
		    "connect to");
		return NULL;
	}
	if ((box = calloc(1, sizeof(*box))) == NULL ||
	    (box->host = strdup(conf->bearerbox_host)) == NULL) {
		error(0, "box: out of memory");
		free(box);
		return NULL;
	}
	box->base = base;
	box->conf = conf;
	box->inbox = inbox;
	box->outbox = outbox;
	box->db = outbox_store(outbox);
	box->port = conf->bearerbox_port;
	box->state = BOX_STOPPED;
	box->backoff = 1;
	box->link.send = box_send_mt_cb;
	box->link.arg = box;
	box->retry_ev = evtimer_new(base, box_retry_cb, box);
	box->heartbeat_ev = event_new(base, -1, EV_PERSIST, box_heartbeat_cb,
	    box);
	box->stall_ev = evtimer_new(base, box_stall_cb, box);
	box->store = BOX_STORE_OK;
	box->stall_ms = BOX_STALL_MIN_MS;
	if (box->retry_ev == NULL || box->heartbeat_ev == NULL ||
	    box->stall_ev == NULL) {
		error(0, "box: cannot create timers");
		box_free(box);
		return NULL;
	}
	return box;
}

void
box_free(struct box *box)
{
	struct box_pending	*p, *next;

	if (box == NULL)
		return;
	if (box->state == BOX_UP)
		outbox_set_link(box->outbox, NULL);
	box->state = BOX_STOPPED;
	if (box->bev != NULL)
		bufferevent_free(box->bev);
	/* Callbacks still to come find box == NULL and only free. */
	for (p = box->pending; p != NULL; p = next) {
		next = p->next;
		p->box = NULL;
		p->prev = p->next = NULL;
	}
	if (box->retry_ev != NULL)
		event_free(box->retry_ev);
	if (box->heartbeat_ev != NULL)
		event_free(box->heartbeat_ev);
	if (box->stall_ev != NULL)
		event_free(box->stall_ev);
	box_sms_clear(&box->sms);
	free(box->host);
	free(box);
}

int
box_start(struct box *box)
{
	if (box->state != BOX_STOPPED)
		return 0;
	info(0, "box: connecting to bearerbox at %s:%d", box->host,
	    box->port);
	box->state = BOX_IDLE;
	box_connect(box);
	return 0;
}

int
box_is_up(struct box *box)
{
	return box != NULL && box->state == BOX_UP;
}

void
box_set_conf(struct box *box, const struct conf *conf)
{
	char	*host;

	box->conf = conf;
	if (box->backoff > conf->reconnect_delay_max)
		box->backoff = conf->reconnect_delay_max;
	if (conf->bearerbox_host == NULL) {
		warning(0, "box: reload removed bearerbox-host; the link to "
		    "%s:%d stays until a restart", box->host, box->port);
		box_heartbeat_arm(box);
		return;
	}
	if (strcmp(conf->bearerbox_host, box->host) == 0 &&
	    conf->bearerbox_port == box->port) {
		box_heartbeat_arm(box);
		return;
	}
	if ((host = strdup(conf->bearerbox_host)) == NULL) {
		error(0, "box: out of memory applying the new bearerbox "
		    "address");
		box_heartbeat_arm(box);
		return;
	}
	info(0, "box: bearerbox address changed from %s:%d to %s:%d",
	    box->host, box->port, host, conf->bearerbox_port);
	free(box->host);
	box->host = host;
	box->port = conf->bearerbox_port;
	if (box->state == BOX_STOPPED)
		return;
	box_close(box);
	box->backoff = 1;
	box->failing = 0;
	/* Connect from the loop, not from inside the caller. */
	event_del(box->retry_ev);
	event_active(box->retry_ev, EV_TIMEOUT, 0);
}

void
box_stats(struct box *box, struct box_stats *st)
{
	*st = box->stats;
}
