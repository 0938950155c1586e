/*
 * outbox_int.h - what the three files of the outbox share, for them only:
 * outbox.c (the queue side: rows written inside the units of work, inline
 * replies, counts, and the outbox's life), outbox_send.c (the sender:
 * throttle, claims, the MTs in flight, the link up and down, the takeover
 * of dead instances' rows) and outbox_ack.c (bearerbox's acks and the
 * delivery reports).  Everyone else reads outbox.h.
 */
#ifndef MARKETBOX_OUTBOX_INT_H
#define MARKETBOX_OUTBOX_INT_H

#include <stddef.h>
#include <stdint.h>

#include <event2/util.h>

#include "gwlib/gw_uuid.h"

#include "queue/outbox.h"

struct store_stmt;

#define OUTBOX_WINDOW		1000	/* MTs handed over and not yet acked */
#define OUTBOX_FLIGHT_SLOTS	2048	/* a power of two, twice the window */
#define OUTBOX_LOW_WATER	(OUTBOX_WINDOW / 2) /* acks wake the sender
						   at or below this */
#define OUTBOX_BATCH		100	/* MTs handed over in one pass */
#define OUTBOX_IDLE_WAKE	60.0	/* seconds: the longest sleep */
#define OUTBOX_REFUSED_WAKE	0.1	/* seconds: the link said not now */
#define OUTBOX_ERROR_WAKE	1.0	/* seconds: the store failed */
#define OUTBOX_BACKOFF_MAX	3600	/* seconds: the longest retry delay */
#define OUTBOX_UDH_LEN		6	/* 05 00 03 ref parts part */
#define OUTBOX_TRIES		5	/* of an ack that met another
					   instance's transaction */
#define OUTBOX_DEAD_MAX		16	/* dead instances taken over a beat */
#define OUTBOX_ACKS_HELD	128	/* acks held for one statement */

struct outbox {
	struct event_base	*base;
	struct store		*store;
	const struct conf	*conf;
	struct event		*timer;		/* the sender */
	char			*owner;		/* this instance's name */
	int			 lease;		/* seconds (instance.h) */
	int			 shared;	/* store_shared(): claim rows */

	struct outbox_link	 link;		/* a copy; valid if has_link */
	int			 has_link;
	unsigned		 link_gen;	/* counts links lost */

	/* MTs handed over and not yet acked, by row (open addressing,
	 * linear probing); ids made by outbox_mt_id. */
	struct outbox_flight {
		long long	 row;
		uint32_t	 seq;
		int		 attempts;	/* counting this one */
		int		 used;
	}			 flight[OUTBOX_FLIGHT_SLOTS];
	size_t			 nflight;
	uint32_t		 id_prefix;	/* drawn when the link comes up */
	uint32_t		 id_seq;	/* the next send's number */

	int			 batch;		/* outbox_batch_begin: acks and
						   DLRs share one unit */
	int			 batch_unit;	/* that unit is open */

	/* On a shared store, between outbox_batch_begin() and
	 * outbox_batch_end(): the acks held, for a statement per kind. */
	int			 hold_acks;
	struct outbox_held {
		long long	 row;
		long long	 at;		/* when it came */
		int		 attempts;	/* as in flight */
		enum outbox_ack	 ack;
	}			 held[OUTBOX_ACKS_HELD];
	size_t			 nheld;

	int			 commit_waiting; /* store_on_commit registered */
	int			 sending;	/* the send task is queued or
						   under way */
	int			 send_again;	/* woken meanwhile */
	unsigned		 requeues;	/* requeue tasks to come: no
						   send before them */
	unsigned		 concat_ref;	/* next reference, 0..255 */
	struct outbox_bucket	 bucket;

	char			*inline_text;	/* for outbox_take_inline */
	size_t			 inline_len;
};

/*
 * A PostgreSQL array literal built into a caller's buffer, bound as one
 * text parameter and cast in the SQL ($1::bigint[]): a batch of rows in
 * one statement.  Integers are formatted by outbox_array_int(); text
 * elements (outbox_send.c's outbox_array_text) are quoted, with " and
 * \ escaped, so no element can end the literal early.  A literal that
 * would not fit fails (ok = 0) rather than being cut.
 */
struct outbox_array {
	char	*buf;
	size_t	 size, len;
	int	 ok;
};

/* Room for the literal of n integers, and of n Kannel ids quoted with
 * every character escaped at worst. */
#define OUTBOX_ARRAY_INTS(n)	((n) * 21 + 3)
#define OUTBOX_ARRAY_IDS(n)	((n) * (2 * UUID_STR_LEN + 3) + 3)

/* outbox.c */

/* Step a statement that returns no rows; 0 or -1 (logged by the store,
 * with the statement).  *changes, if not NULL, gets the rows it changed. */
int		 outbox_step_done(struct outbox *, struct store_stmt *,
		    long long *changes);
/* After the commit of rows queued in this transaction: send them. */
void		 outbox_commit_cb(void *arg, int ok);
/* The rows in sending back to queued, in a unit of their own (at start,
 * or after a link was lost). */
int		 outbox_requeue_unit(struct outbox *, int at_start);

/* outbox_send.c */

/* Seconds on the monotonic clock, for the bucket. */
double		 outbox_monotonic(void);
/* The sender's timer. */
void		 outbox_send_cb(evutil_socket_t, short, void *);
/* The in-flight entry an ack's id names, or NULL; taking it out. */
struct outbox_flight *outbox_flight_by_id(struct outbox *,
		    const char *kannel_id);
void		 outbox_flight_remove(struct outbox *, struct outbox_flight *);
/* A PostgreSQL array literal: begun in a buffer, integers added, ended
 * (NULL if it did not fit). */
void		 outbox_array_init(struct outbox_array *, char *buf,
		    size_t size);
void		 outbox_array_int(struct outbox_array *, long long v);
const char	*outbox_array_end(struct outbox_array *);

/* outbox_ack.c */

/* Record the acks held on a shared store (at outbox_batch_end, when the
 * hold is full, before a requeue, a DLR of a held row, or the end). */
void		 outbox_acks_flush(struct outbox *);

#endif
