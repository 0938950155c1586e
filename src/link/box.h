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
struct outbox_mt;
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
 * The frame codec (box_frame.c), exposed for tests.  box_frame_write
 * appends one frame holding msg (a libgw Msg *) to out; returns 0 or -1.
 * box_frame_read takes one frame from in: 1 and *msg set (caller destroys
 * it), 0 when more bytes are needed, -1 on a frame larger than max or that
 * does not unpack (the connection must then be dropped).
 */
int		 box_frame_write(struct evbuffer *out, void *msg);
int		 box_frame_read(struct evbuffer *in, size_t max, void **msg);

/*
 * The hot frames without a libgw Msg (msg_create() costs a read of
 * /dev/urandom per UUID); each appends exactly the frame box_frame_write
 * would for the Msg that box.c used to build, or nothing and -1.
 *
 * box_frame_write_ack: ack{nack, time, id}, id the 16 bytes of a uuid_t.
 * box_frame_write_mt: the sms of an MT: sms_type mt_push, sender,
 * receiver, text (UTF-16BE with charset "UTF-16BE" for coding 2, else the
 * UTF-8 bytes, with charset "UTF-8" for coding 0), coding, udhdata when
 * udh_len > 0, id = kannel_id (written in libgw's form), smsc_id and
 * meta_data when not empty, dlr_mask, dlr_url = row in decimal, boxc_id
 * (NULL: absent), time; every other field as msg_create() leaves it.  -1
 * when kannel_id, sender, receiver or text is NULL, kannel_id is not a
 * UUID, or memory runs out.
 */
/*
 * A uuid's 16 bytes and its text, as libgw's uuid_unparse() and
 * uuid_parse() do them (libgw's go through sprintf and strtoul, which
 * cost more than the rest of an ack's frame).  box_uuid_unparse writes 36
 * lowercase hex digits with dashes after the 4th, 6th, 8th and 10th byte,
 * and a NUL.  box_uuid_parse reads exactly that form, digits in either
 * case: 0, or -1 (id untouched) for anything else.
 */
void		 box_uuid_unparse(const unsigned char id[16], char *out);
int		 box_uuid_parse(const char *text, unsigned char id[16]);

int		 box_frame_write_ack(struct evbuffer *out, long nack,
		    long time_, const unsigned char id[16]);
int		 box_frame_write_mt(struct evbuffer *out,
		    const struct outbox_mt *mt, const char *boxc_id,
		    long time_);

/*
 * An sms from bearerbox (an MO, a DLR, or any other sms_type), decoded
 * without a Msg: the fields box.c reads, each with the value msg_unpack()
 * gives.  A string's data is NULL when the field is absent (msg_unpack's
 * NULL Octstr); otherwise it is the field's len bytes, embedded NULs and
 * all, followed by a NUL that len does not count (so that it reads as a C
 * string, as octstr_get_cstr() does).  The bytes are in the struct's own
 * buffer, not in the frame: they stay valid until the struct is decoded
 * into again or cleared.  Zero the struct before its first use;
 * box_sms_clear() frees its buffer (the buffer otherwise stays, sized for
 * the biggest sms so far).  The fields not here (udhdata, charset,
 * boxc_id, service, ...) are walked over and checked but not kept.
 */
struct box_sms_str {
	const char	*data;
	size_t		 len;
};
struct box_sms {
	long			 sms_type;	/* mo, report_mo, ... */
	long			 coding;
	long			 dlr_mask;	/* a DLR's event */
	long			 time;
	unsigned char		 id[16];	/* a uuid_t */
	struct box_sms_str	 sender, receiver, msgdata, smsc_id,
				 foreign_id, dlr_url, meta_data;

	char			*buf;		/* owned: the strings */
	size_t			 bufsize;
};
void		 box_sms_clear(struct box_sms *);

/*
 * box_frame_decode_sms: the body p (n bytes: a frame without its length
 * prefix) of an sms into *sms, replacing what it held.  0, or -1 when p
 * is not an sms, a field runs past n, the id is not a UUID in libgw's
 * text form (msg_unpack refuses those too), or memory runs out (logged).
 * Bytes after the last field are ignored, as msg_unpack ignores them.
 */
int		 box_frame_decode_sms(const unsigned char *p, size_t n,
		    struct box_sms *sms);

/*
 * box_frame_next takes one frame from in as box_frame_read does, except
 * that an ack is decoded into *ack and an sms into *sms without
 * msg_unpack: 2 for an ack, 3 for an sms (*msg NULL then).  Every other
 * kind: 1 and *msg set.  0: more bytes needed; -1: a frame over max, one
 * that does not unpack, an ack or sms whose id is not a UUID (msg_unpack
 * would refuse it), or no memory for an sms's strings.  Bytes after an
 * ack's or sms's fields are ignored, as msg_unpack ignores them.
 */
struct box_ack {
	long		 nack;		/* ack_success, ack_failed, ... */
	long		 time;
	unsigned char	 id[16];	/* a uuid_t */
};
int		 box_frame_next(struct evbuffer *in, size_t max, void **msg,
		    struct box_ack *ack, struct box_sms *sms);

struct box_stats {
	unsigned long long	 mo, dlr, mt, acks_sent, acks_received,
				 connects, protocol_errors;
	unsigned long long	 stalls;	/* reads paused: the store
						   could not commit */
};
void		 box_stats(struct box *, struct box_stats *);

#endif
