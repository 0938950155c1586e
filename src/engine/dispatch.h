/*
 * dispatch.h - the one step between the inbox and the engines: what an
 * MO is (SMS or USSD), and who answers it.
 *
 * The inbox stores and deduplicates an MO and runs its unit of work and
 * the retries; inside that unit it calls this step, which decides once per
 * MO whether it is USSD (ussd_is_ussd, when menus are configured) or SMS,
 * and hands it down: USSD to the menu engine (ussd.c), SMS to the router
 * (router.c).  A duplicate's inline answer (the replay) is given here too,
 * from the same decision: a USSD session's last screen, or the inline
 * reply stored the first time.  Calls go one way: inbox -> dispatch ->
 * ussd -> router; nothing here or below calls up into the inbox.
 */
#ifndef MARKETBOX_DISPATCH_H
#define MARKETBOX_DISPATCH_H

struct dispatch;
struct mo;
struct outbox;
struct router;
struct ussd;

enum dispatch_kind {
	DISPATCH_SMS,		/* a text for the router */
	DISPATCH_USSD		/* a screen of the menus (ussd.c) */
};

/*
 * The step over router and, when menus are configured, ussd (NULL: every
 * MO is routed as SMS).  Both and outbox must outlive it.  NULL (logged)
 * if memory runs out.
 */
struct dispatch	*dispatch_new(struct router *, struct ussd *,
		    struct outbox *);
void		 dispatch_free(struct dispatch *);

/* What mo is, decided once: the inbox keeps it across its retries. */
enum dispatch_kind dispatch_kind(struct dispatch *, const struct mo *);

/*
 * A unit of work that may reach the engines begins, or is rolled back by
 * the caller (router_unit_begin, router_unit_undo).
 */
void		 dispatch_unit_begin(struct dispatch *);
void		 dispatch_unit_undo(struct dispatch *);

/*
 * Handle mo, recorded as inbox row inbox_id, inside the caller's unit of
 * work.  Returns 0 with *reply the inline answer (malloc'd, the caller
 * frees; NULL when none) and *state NULL, or the inbox state to record
 * for an MO the router did not process ("throttled", "repeat",
 * "refused").  -1 on a store failure: the unit must be rolled back
 * (*reply is NULL then).
 */
int		 dispatch_handle(struct dispatch *, enum dispatch_kind,
		    const struct mo *, long long inbox_id, char **reply,
		    const char **state);

/*
 * For an MO seen before that wants an inline answer: the answer given the
 * first time (malloc'd), or NULL (none, or not an inline MO).
 */
char		*dispatch_replay(struct dispatch *, enum dispatch_kind,
		    const struct mo *);

/*
 * For an MO whose unit was rolled back, then recorded alone as failed (row
 * inbox_id, inside the caller's new unit): queue the "error" template in
 * the sender's language as its reply.  0 with *reply the inline apology
 * for an SMS caller that answers inline (malloc'd, or NULL), -1 if it
 * could not be queued.
 */
int		 dispatch_apology(struct dispatch *, enum dispatch_kind,
		    const struct mo *, long long inbox_id, char **reply);

#endif
