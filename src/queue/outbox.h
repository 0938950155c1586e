/*
 * outbox.h - the queue of messages to phones: replies and notices, sent
 * over a link, throttled, retried, their delivery reports recorded.
 *
 * A reply or notice is decided inside a unit of work (store_work_begin) and
 * written as outbox rows in that same transaction, one row per SMS part, so
 * it exists exactly when the change that caused it exists.  After the commit
 * a sender (a timer on the loop) hands queued rows to the link at the conf's
 * throughput.  Row states:
 *
 *	queued -> sending -> accepted | buffered -> delivered | failed
 *	sending -> queued (link lost, or ack_failed_tmp: retried with backoff)
 *	sending -> failed (ack_failed, or retry-limit attempts)
 *	inline: a reply returned in an HTTP response: never sent, and
 *		stored whole, one row, not split into parts
 *
 * accepted means bearerbox handed it to an SMSC (ack_success), buffered that
 * bearerbox holds it for an SMSC that is down (ack_buffered); delivery is
 * only known from the DLR, which sets dlr_state and, for final outcomes,
 * the state.  At start, rows left in sending are queued again: what was not
 * accepted is sent again.
 *
 * Several instances may share a PostgreSQL database (store_shared): then
 * the sender claims due rows (marks them sending with its instance as
 * owner, in one statement that skips rows another is claiming), so each
 * row is handed over by one instance; a start or a lost link queues again
 * only the instance's own rows, and the rows of an instance that died are
 * queued again by a live one after a lease (outbox_takeover).
 */
#ifndef MARKETBOX_OUTBOX_H
#define MARKETBOX_OUTBOX_H

#include <stddef.h>

/*
 * The values of the outbox's state and kind columns, as the lists that
 * read them (metrics, marketctl's filters) name them: every state above,
 * and every kind a row is queued with (outbox_queue, outbox_reply,
 * outbox_notice, the admin's broadcast).
 */
#define OUTBOX_STATES	"queued", "sending", "accepted", "buffered", \
			"delivered", "failed", "inline"
#define OUTBOX_NSTATES	7
#define OUTBOX_KINDS	"reply", "notice", "ussd", "broadcast"

struct conf;
struct event_base;
struct mo;
struct store;
struct outbox;

/* One SMS (one part) as the link sends it.  Borrowed strings. */
struct outbox_mt {
	long long	 row;		/* outbox id; also the DLR URL */
	const char	*kannel_id;	/* UUID text the link must use */
	const char	*sender;
	const char	*receiver;
	const char	*text;		/* UTF-8 text of this part */
	int		 coding;	/* 0 GSM, 2 UCS-2 */
	const unsigned char *udh;	/* concatenation header, or NULL */
	size_t		 udh_len;
	const char	*smsc_id;	/* may be NULL */
	const char	*meta_data;	/* may be NULL */
	int		 dlr_mask;
};

/* What a link offers the outbox. */
struct outbox_link {
	/*
	 * Take one MT.  0: taken, its fate comes back through outbox_ack()
	 * (or the link going down); -1: not taken now (the row stays queued).
	 */
	int	(*send)(void *arg, const struct outbox_mt *);
	void	 *arg;
};

/* Kannel's ack values, as bearerbox answers an MT. */
enum outbox_ack {
	OUTBOX_ACK_SUCCESS = 0,
	OUTBOX_ACK_FAILED = 1,
	OUTBOX_ACK_FAILED_TMP = 2,
	OUTBOX_ACK_BUFFERED = 3
};

struct outbox	*outbox_new(struct event_base *, struct store *,
		    const struct conf *);
void		 outbox_free(struct outbox *);

/* The store it was made with (the link runs its store tasks on it). */
struct store	*outbox_store(struct outbox *);

/* Re-read the settings it uses (throughput, retry, parts) after a reload.
 * The conf must outlive the outbox or the next call. */
void		 outbox_set_conf(struct outbox *, const struct conf *);

/*
 * The link is up (link != NULL) or down (NULL).  Going down puts every row
 * in sending back to queued (on a shared store, this instance's), to be
 * sent again.
 */
void		 outbox_set_link(struct outbox *, const struct outbox_link *);

/*
 * Queue a text to receiver from sender, split into parts as gsm.c decides.
 * Must run inside a unit of work.  kind is "reply" or "notice", or "ussd"
 * for a USSD screen (one row, never split: ussd.c keeps it short).  inbox_id
 * is the MO that caused it (0 for none).  Returns 0 or -1.
 */
int		 outbox_queue(struct outbox *, long long inbox_id,
		    const char *kind, const char *sender, const char *receiver,
		    const char *text, const char *smsc_id, const char *meta_data);

/*
 * The reply to an MO: from the number it was sent to, to its sender, on
 * its SMSC.  For an MO with reply_inline the rows are stored as inline and
 * the text is kept for outbox_take_inline().
 */
int		 outbox_reply(struct outbox *, const struct mo *,
		    long long inbox_id, const char *text);

/* A notice to someone, from the conf's global-sender. */
int		 outbox_notify(struct outbox *, long long inbox_id,
		    const char *msisdn, const char *text);

/*
 * The texts of the replies queued to receiver for inbox row inbox_id
 * (rows created at or after since), each whole again when it was split
 * into parts, in the order they were made; at most max.  *texts is
 * malloc'd (free with outbox_texts_free), NULL when *n is 0.  For a
 * repeated MO, whose reply is sent again.  0, or -1 (logged).
 */
int		 outbox_replies_of(struct outbox *, long long inbox_id,
		    const char *receiver, long long since, size_t max,
		    char ***texts, size_t *n);
void		 outbox_texts_free(char **, size_t);

/*
 * The inline reply text gathered since the last call (several replies are
 * joined by a newline), or NULL if none.  The caller frees it.
 */
char		*outbox_take_inline(struct outbox *);

/*
 * Between these, outbox_ack() and outbox_dlr() record into one shared
 * unit of work rather than one each; the caller must end the batch before
 * anything else opens a unit (units do not nest), and before returning to
 * the loop.  A link lost meanwhile ends the shared unit itself.  On a
 * shared store (PostgreSQL) a failed statement aborts the transaction up
 * to the savepoint, and would undo the others of a shared unit: there a
 * DLR keeps its own unit, and the acks are held (at most a fixed number;
 * past it they are recorded at once) and recorded at outbox_batch_end()
 * with one statement per kind of ack, in one unit, or each in its own
 * unit if that fails.  A DLR for a row whose ack is held records the
 * held acks first.
 */
void		 outbox_batch_begin(struct outbox *);
void		 outbox_batch_end(struct outbox *);

/* bearerbox's answer for the MT it was sent as kannel_id. */
void		 outbox_ack(struct outbox *, const char *kannel_id,
		    enum outbox_ack);

/*
 * A delivery report: dlr_url as sent (the row id), Kannel's dlr_mask event
 * bits, the SMSC's message id.  Runs a unit of work; returns 0 if recorded
 * (or not ours: logged and dropped), -1 if it could not be stored.
 */
int		 outbox_dlr(struct outbox *, const char *dlr_url, int event,
		    const char *foreign_id);

/*
 * Call cb(arg, ok) once what outbox_dlr() (or any other unit) wrote is
 * committed (ok = 1) or rolled back (ok = 0): the link acks a DLR to
 * bearerbox only then, as it does an MO.  Returns 0 or -1.
 */
int		 outbox_on_commit(struct outbox *, void (*cb)(void *, int),
		    void *arg);

/*
 * On a shared store (store_shared): queue again, due now, the rows in
 * sending of instances whose heartbeat is older than lease seconds (or
 * that have no row), logged by instance; a live instance's are never
 * touched.  Runs its own unit of work (a store task: instance.c's
 * heartbeat).  On SQLite nothing.  0, or -1 (logged).
 */
int		 outbox_takeover(struct outbox *, int lease);

/* Wake the sender: rows may have been committed. */
void		 outbox_kick(struct outbox *);

/* Counts by state, for status pages and tests. */
struct outbox_counts {
	long long	 queued, sending, accepted, buffered, delivered,
			 failed, inline_;
};
int		 outbox_counts(struct outbox *, struct outbox_counts *);
/*
 * The age in seconds at now of the oldest row still to send (queued, or
 * sending: not yet taken by bearerbox), 0 when there is none; -1 when
 * the query fails.  One query, through the index outbox_due (state,
 * next_attempt): it reads the unsent rows only, not the sent history.
 */
long long	 outbox_oldest_age(struct outbox *, long long now);

/*
 * The sender's throttle, a token bucket, exposed so tests can drive it with
 * made-up times.  rate tokens per second (0: no limit); it holds at most
 * burst tokens (the larger of 1 and a tenth of a second's worth) and starts
 * full.  Times are seconds on a monotonic clock.
 */
struct outbox_bucket {
	double		 rate, burst, tokens, last;
};
void		 outbox_bucket_init(struct outbox_bucket *, double rate,
		    double now);
/* Add the tokens earned since the last call; returns the whole tokens
 * held (SIZE_MAX when there is no limit). */
size_t		 outbox_bucket_refill(struct outbox_bucket *, double now);
void		 outbox_bucket_spend(struct outbox_bucket *, size_t n);
/* Seconds until one whole token is held, as of the last refill. */
double		 outbox_bucket_wait(const struct outbox_bucket *);

#endif
