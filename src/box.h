/*
 * box.h - the link to Kannel's bearerbox, as a box speaks it.
 *
 * One TCP connection to bearerbox's smsbox-port on a libevent bufferevent.
 * Frames are a 4-byte big-endian length and the bytes of libgw's
 * msg_pack().  On connect the box identifies with its smsbox-id; MOs go to
 * the inbox and are acked only once the inbox says they are durable; DLRs go
 * to the outbox and are acked the same way; the outbox's MTs leave through
 * the link and bearerbox's acks for them go back to the outbox.  A lost
 * link, a protocol error, or bearerbox's shutdown or restart command lead to
 * a reconnect with capped exponential backoff.
 */
#ifndef MARKETBOX_BOX_H
#define MARKETBOX_BOX_H

#include <stddef.h>

struct conf;
struct event_base;
struct evbuffer;
struct inbox;
struct outbox;
struct box;

/* libgw's Msg, without pulling its headers into every file. */
struct box_msg_opaque;

struct box	*box_new(struct event_base *, const struct conf *,
		    struct inbox *, struct outbox *);
void		 box_free(struct box *);

/* Start connecting (and keep reconnecting until box_free). */
int		 box_start(struct box *);

/* 1 when connected and identified. */
int		 box_is_up(struct box *);

/* Apply a reloaded conf (timers, limits); host/port changes reconnect. */
void		 box_set_conf(struct box *, const struct conf *);

/*
 * The frame codec, exposed for tests.  box_frame_write appends one frame
 * holding msg (a libgw Msg *) to out; returns 0 or -1.  box_frame_read takes
 * one frame from in: 1 and *msg set (caller destroys it), 0 when more bytes
 * are needed, -1 on a frame larger than max or that does not unpack (the
 * connection must then be dropped).
 */
int		 box_frame_write(struct evbuffer *out, void *msg);
int		 box_frame_read(struct evbuffer *in, size_t max, void **msg);

struct box_stats {
	unsigned long long	 mo, dlr, mt, acks_sent, acks_received,
				 connects, protocol_errors;
};
void		 box_stats(struct box *, struct box_stats *);

#endif
