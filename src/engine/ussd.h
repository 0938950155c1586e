/*
 * ussd.h - the USSD menus: the marketplace as numbered screens, described
 * in the conf, over Kannel SMPP or the aggregators' HTTP callback.
 *
 * Menus.  The conf describes them (marketbox.conf(5); the shipped menu is
 * conf/ussd.conf):
 *
 *	group = ussd-menu	id, title (a template), items (';'-separated
 *				item ids, in screen order), parent (optional:
 *				where "00" goes from the menu's first page
 *				when nothing came before it)
 *	group = ussd-item	id and label (a template: its line in a menu),
 *				then one of
 *				- menu = ID		opens a submenu
 *				- input = number|text|choice, prompt (a
 *				  template), var (the {name} the answer fills;
 *				  default the id), validate = min:max (value of
 *				  a number, characters of a text), optional =
 *				  yes (number or text: the answer 0 leaves
 *				  {var} empty, for an optional word of the
 *				  command), choices =
 *				  commodities|markets|languages|members (a
 *				  numbered list; a name typed in any language
 *				  is taken too), default = home-market (the
 *				  user's own market first in the list), then
 *				  next = ITEM (the next input), action, or
 *				  menu = ID (the menu after the answer)
 *				- action = "SELL {commodity} {qty} {unit}
 *				  {price}" alone: runs when the item is chosen
 *				and notify-sms = yes (the action's answer is
 *				also sent as an SMS)
 *
 * Agents.  choices = members lists the active members of the agent
 * dialling ("Mary Wanjiku (M17)"; her code typed is taken too): a menu
 * item asking it is shown to the agents of a service point only (a
 * menu's numbers are those of the items the user sees), and an agent
 * without members is told how to enrol one (ussd-no-members).  The
 * answer sets {var} to her code and {var-name} to her line.  While that
 * answer is among the session's screens (until "00" goes back past it),
 * every action runs as "FOR <code> <action>": the router's FOR checks
 * that she is the agent's active member, the command is hers, its
 * replies name her, agent_actions records it, and it is charged to the
 * agent's flood bucket for her (agent-flood-rate, agent-flood-burst), as
 * the same FOR by SMS is.
 *
 * An action is a command text in the canonical command words, filled from
 * the session's answers ({unit} is also the chosen commodity's default
 * unit and {currency} the conf's; catalogue codes stay codes there, while
 * on screens {commodity} and {unit} show by their names in the user's
 * language, as replies do), run through the same router as an SMS
 * (router_run_command: the same core and plugin commands) with its replies
 * captured: the answer is the final screen (END).  When the item says
 * notify-sms, or when the answer had to be cut to fit the screen, the
 * answer is also queued as SMS from global-sender (one per reply the
 * command made, as the same command sent by SMS would get), so the farmer
 * has it written down.
 *
 * Screens.  Texts come from the "ussd-..." templates of the user's
 * language (the language the router answers them in).  A screen is at
 * most ussd-screen-size octets on the air (160 by default), in the coding
 * it travels in (gsm_octets): 182 characters of GSM 03.38 (an extension
 * character counts two), but only 80 UTF-16 units when any character
 * needs UCS-2 (a character outside the BMP counts two).  A menu or list
 * too long for one screen is paged: "0 More" (ussd-more) shows the next
 * page; "00 Back" (ussd-back) the page or screen before; each page is cut
 * to fit its own coding.  Items keep their numbers across pages.  An
 * answer that does not fit (not a listed number, a number out of range,
 * an empty or too long text) shows the same screen again under a short
 * error line (ussd-invalid, ussd-invalid-number).  A screen still too
 * long (a final screen, a prompt) is cut at a word and ends in "…"
 * (U+2026: the cut screen is UCS-2, so it keeps at most 79 units).
 *
 * Sessions.  Keyed "smpp:<msisdn>:<session number>" (its_session_info's
 * first byte) or "http:<msisdn>:<sessionId>" (the phone as sent: another
 * phone naming the same id has a session of its own).  Kept in memory
 * and, in the same unit of work as the MO, in the ussd_sessions table, so
 * a restart of marketbox mid-session loses nothing.  A session idle longer than
 * ussd-timeout has timed out: the next MO for it is taken as a new dial.
 * A session left unfinished (timed out, released by the network, or
 * abandoned for a new dial) with some progress can be resumed by a new dial
 * within ussd-resume seconds of its last screen: the first screen then asks
 * "Continue where you left? 1 Yes 2 No" (ussd-resume, ussd-yes, ussd-no).
 *
 * Two ways in, both through inbox_receive() (stored, deduplicated, one
 * unit of work), whose dispatch step (dispatch.c) asks ussd_is_ussd()
 * once per MO and hands a USSD MO here rather than to the router; nothing
 * here calls back into the inbox:
 *
 *  - Kannel SMPP: an MO whose meta_data's smpp group carries
 *    ussd_service_op (bearerbox's smpp-tlv groups, conf/kannel.conf).  Ops
 *    0 and 1 (PSSD/PSSR indication) start a session unless the session is
 *    live and the text is not a dial string (some networks send op 1 every
 *    time); an its_session_info with the end bit set ends it (no answer).
 *    The answer is an MT through the outbox (kind "ussd", never split) on
 *    the MO's smsc-id, from the number the MO was sent to, with meta_data
 *    "?smpp?ussd_service_op=OP&its_session_info=SS%EE&": OP is
 *    ussd-op-continue (2, USSR request) or ussd-op-end (17, PSSR
 *    response), SS the MO's session number, EE the MO's second byte with
 *    the end bit set on the last screen (ussd-end-bit).  A group =
 *    ussd-smsc gives other values for one smsc-id.
 *  - HTTP: POST /ussd (src/http/waysin.c) with sessionId, serviceCode,
 *    phoneNumber, networkCode and text, every input so far joined by '*';
 *    waysin.c makes an MO with channel "ussd", id
 *    "ussd:<phoneNumber>:<sessionId>:<text>" (a retried request is a
 *    duplicate: ussd_replay() answers it again), text the text, meta_data
 *    "?http?sessionId=...&serviceCode=...&networkCode=...&".
 *    The engine takes the inputs its stored session has not consumed yet;
 *    with no stored session it replays them all from the first screen.
 *    The answer, "CON screen" or "END screen", is the HTTP body.
 *
 * Everything runs on the loop's thread, inside the inbox's unit of work;
 * nothing here blocks.
 */
#ifndef MARKETBOX_USSD_H
#define MARKETBOX_USSD_H

#include <stddef.h>

struct conf;
struct event_base;
struct lang_set;
struct mo;
struct outbox;
struct router;
struct store;
struct ussd;

/*
 * A USSD engine over the menus of conf (which must outlive it or the next
 * ussd_set_conf).  base may be NULL (no sweeping timer: tests call
 * ussd_sweep()).  Returns NULL (logged) on failure.
 */
struct ussd	*ussd_new(struct event_base *, const struct conf *,
		    struct store *, struct outbox *, struct router *);
void		 ussd_free(struct ussd *);

/* After a reload: sessions whose screen is gone start over. */
void		 ussd_set_conf(struct ussd *, const struct conf *);

/*
 * Check the templates the menus of conf name against langs (every title,
 * label and prompt, and the engine's own ussd-* templates, must be in the
 * default language).  0, or -1 with every missing one logged.
 */
int		 ussd_check(const struct conf *, const struct lang_set *);

/* 1 if mo is USSD: channel "ussd", or ussd_service_op in its meta_data. */
int		 ussd_is_ussd(const struct mo *);

/*
 * Take one USSD MO, recorded as inbox row inbox_id, inside the caller's
 * unit of work: advance its session, and answer.  For HTTP, *answer is set
 * to the body ("CON ..." or "END ...", malloc'd, the caller frees); for
 * SMPP the answer is queued in the outbox and *answer is NULL.  Returns 0,
 * or -1 on a store failure (the unit must be rolled back).
 */
int		 ussd_handle(struct ussd *, const struct mo *,
		    long long inbox_id, char **answer);

/*
 * The answer to give again for an MO seen before (a retried HTTP
 * request): its session's last screen, "CON ..." or "END ...", malloc'd;
 * NULL if the session is unknown.
 */
char		*ussd_replay(struct ussd *, const struct mo *);

/*
 * Forget in memory the sessions idle for longer than ussd-timeout and
 * delete the rows of sessions idle for a day.  Runs every minute on the
 * loop when there is one.
 */
void		 ussd_sweep(struct ussd *, long long now);

struct ussd_stats {
	unsigned long long	 sessions, screens, actions, resumed, invalid,
				 timeouts;
	size_t			 cached;
};
void		 ussd_stats(struct ussd *, struct ussd_stats *);

/* --- exposed for tests ----------------------------------------------------- */

/*
 * The value of key in group of Kannel's meta_data text
 * ("?group?key=value&key=value&?group2?..."; values url-encoded), decoded
 * into out (at most outsize bytes; NUL-terminated when room is left).
 * Returns its length, -1 when absent, -2 when it does not fit or the text
 * is malformed.
 */
long		 ussd_meta_get(const char *meta, const char *group,
		    const char *key, unsigned char *out, size_t outsize);

/* The octets of a screen, as ussd-screen-size counts them (gsm_octets). */
size_t		 ussd_screen_octets(const char *text);

/*
 * text within size octets: a copy as it is when it fits, else cut at a
 * word and ending in "…" (U+2026, so the cut screen is UCS-2 and counted
 * so).  *cut (if not NULL) says whether it was cut.  Malloc'd; NULL if
 * memory runs out.
 */
char		*ussd_screen_fit(const char *text, size_t size, int *cut);

#endif
