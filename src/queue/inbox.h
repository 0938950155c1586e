/*
 * inbox.h - the durable, deduplicated log of messages from phones.
 *
 * inbox_receive() is the one door every way in (box link, HTTP, USSD)
 * uses: in one unit of work it records the MO (unique on its id), hands it
 * to the dispatch step (engine/dispatch.h: the router for an SMS, the menu
 * engine for USSD), and lets the command's replies, notices and domain
 * changes join the same transaction.  The caller is told only after the
 * commit, so an ack to bearerbox (or an HTTP answer) never runs ahead of
 * the data.  An id seen before has no new effect; the caller is told it
 * was a duplicate (and, for inline replies, given the answer of the first
 * time: the dispatch step's replay).  The inbox runs the unit and its
 * retries; it never asks the engines anything itself.
 */
#ifndef MARKETBOX_INBOX_H
#define MARKETBOX_INBOX_H

struct dispatch;
struct mo;
struct store;
struct inbox;

enum inbox_status {
	INBOX_STORED,		/* new: stored with its effects, durable */
	INBOX_DUPLICATE,	/* seen before: nothing new was done */
	INBOX_FAILED		/* not stored (I/O error, disk full): the
				   sender should offer it again later */
};

/*
 * Called once, after the commit.  reply is the inline reply text (for
 * mo->reply_inline) or NULL; it is valid during the call only.
 */
typedef void	inbox_done_cb(void *arg, enum inbox_status, const char *reply);

/* dispatch (which must outlive the inbox) handles what is stored. */
struct inbox	*inbox_new(struct store *, struct dispatch *);
void		 inbox_free(struct inbox *);

/*
 * Take one MO.  Returns 0 when done will be called (after the commit), -1
 * when it will not (a bad MO: missing id or sender; logged).
 */
int		 inbox_receive(struct inbox *, const struct mo *,
		    inbox_done_cb *done, void *arg);

/* MOs taken, and duplicates among them, since start. */
void		 inbox_stats(struct inbox *, unsigned long long *received,
		    unsigned long long *duplicates);

#endif
