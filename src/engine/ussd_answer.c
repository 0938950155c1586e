/*
 * ussd_answer.c - what a USSD user answered to the screen shown: a
 * number, a text or a choice checked and kept, a menu item opened, "00"
 * back, the resume question, and an action run through the router's
 * commands with its answer as the final screen (and by SMS when the item
 * says so or the answer was cut).
 *
 * The screens themselves are ussd_screen.c's, the session's state
 * ussd_session.c's; ussd.c takes the MO and sends the answer.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/gw.h"

#include "base/conf.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "engine/router.h"
#include "engine/ussd.h"
#include "engine/ussd_int.h"
#include "text/words.h"

/* --- answers ------------------------------------------------------------- */

/*
 * Check that every frame of the session names what the conf has (after a
 * reload it may not): else it starts over.
 */
void
ussd_check_frames(struct ussd *u, struct ussd_session *s)
{
	size_t	 i;

	for (i = 0; i < s->depth; i++) {
		const struct ussd_frame		*f = &s->stack[i];
		const struct conf_ussd_item	*it;

		if ((f->kind == 'm' && conf_ussd_menu_find(u->conf,
		    f->id) == NULL) || (f->kind == 'i' && ((it =
		    conf_ussd_item_find(u->conf, f->id)) == NULL ||
		    it->input == NULL))) {
			ussd_restart(u, s);
			ussd_vars_clear(s);
			return;
		}
	}
	if (s->depth == 0)
		ussd_restart(u, s);
}

/* Queue each line of text as an SMS to the user, from global-sender. */
static int
ussd_sms_copy(struct ussd_req *r, const char *text)
{
	const char	*p = text, *nl;
	char		*line;
	int		 rc;

	while (*p != '\0') {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if (nl > p) {
			if ((line = strndup(p, (size_t)(nl - p))) == NULL)
				return -1;
			rc = outbox_queue(r->u->outbox, r->inbox_id, "reply",
			    r->u->conf->global_sender, r->mo->sender, line,
			    NULL, NULL);
			free(line);
			if (rc == -1)
				return -1;
		}
		p = *nl == '\n' ? nl + 1 : nl;
	}
	return 0;
}

/*
 * The phone is over its flood limit (the same bucket as its SMS): the
 * action did not run, and the screen says so.  The session is left, not
 * done, so that the next dial offers to resume it with its answers.
 */
static int
ussd_action_throttled(struct ussd_req *r)
{
	struct ussd_session	*s = r->s;
	char			*text, *screen;
	int			 cut;

	if ((text = ussd_text(r, "ussd-slow-down", NULL, 0)) == NULL)
		return -1;
	screen = ussd_screen_fit(text, ussd_size(r->u->conf), &cut);
	free(text);
	if (screen == NULL)
		return -1;
	free(s->screen);
	s->screen = screen;
	s->ended = 1;
	snprintf(s->state, sizeof(s->state), "left");
	return 0;
}

/*
 * The code of the member the session acts for: the answer to an item
 * listing members among the frames below (so "00" back past it acts for
 * nobody again), else NULL.
 */
static const char *
ussd_member_chosen(struct ussd_req *r)
{
	const struct conf_ussd_item	*it;
	const struct ussd_frame		*f;
	const char			*v;
	size_t				 i;

	for (i = r->s->depth; i > 0; i--) {
		f = &r->s->stack[i - 1];
		if (f->kind == 'i' && (it = conf_ussd_item_find(r->u->conf,
		    f->id)) != NULL && it->choices != NULL &&
		    strcmp(it->choices, "members") == 0 &&
		    (v = ussd_var(r->s, it->var)) != NULL && v[0] != '\0')
			return v;
	}
	return NULL;
}

/*
 * Run an item's action: the command text filled with the answers, through
 * the router, its replies captured as the END screen.  0 or -1 (store).
 */
static int
ussd_action(struct ussd_req *r, const struct conf_ussd_item *it)
{
	struct ussd		*u = r->u;
	struct ussd_session	*s = r->s;
	struct mo		 mo = *r->mo;
	const char		*member;
	char			*text, *reply, *screen, *forms;
	int			 cut, rc;

	/* Codes, not names: the command reads them in any language. */
	if ((text = ussd_fill(r, it->action, NULL, 0, 0)) == NULL)
		return -1;
	/*
	 * A member chosen on the way here (choices = members): the action is
	 * hers, and runs as the agent's FOR does by SMS, with its checks,
	 * its limits per member and its record.
	 */
	if ((member = ussd_member_chosen(r)) != NULL) {
		if (asprintf(&forms, "FOR %s %s", member, text) == -1) {
			free(text);
			return -1;
		}
		free(text);
		text = forms;
	}
	/* Nothing gathered before belongs to this answer. */
	free(outbox_take_inline(u->outbox));
	mo.reply_inline = 1;
	debug(USSD_LOG, 0, "ussd: %s runs '%s'", s->key, text);
	if ((rc = router_run_command(u->router, &mo, r->inbox_id, s->lang,
	    text)) == -1) {
		free(text);
		free(outbox_take_inline(u->outbox));
		return -1;
	}
	free(text);
	if (rc == 1)
		return ussd_action_throttled(r);
	if ((reply = outbox_take_inline(u->outbox)) == NULL &&
	    (reply = ussd_text(r, "ussd-done", NULL, 0)) == NULL)
		return -1;
	if ((screen = ussd_screen_fit(reply, ussd_size(u->conf), &cut)) ==
	    NULL) {
		free(reply);
		return -1;
	}
	/*
	 * Written down: what changed something, and what the screen cut; one
	 * SMS per reply the command made (they are joined by newlines), as
	 * the same command sent by SMS would have had them.
	 */
	if ((it->notify_sms || cut) && ussd_sms_copy(r, reply) == -1) {
		free(reply);
		free(screen);
		return -1;
	}
	free(reply);
	free(s->screen);
	s->screen = screen;
	s->ended = 1;
	snprintf(s->state, sizeof(s->state), "done");
	u->stats.actions++;
	return 0;
}

/* Open a menu item: a submenu, an input, or its action. */
static int
ussd_choose(struct ussd_req *r, const struct conf_ussd_item *it)
{
	if (it->input != NULL) {
		if (ussd_push(r->s, 'i', it->id) == -1)
			r->error = 1;
		return 0;
	}
	if (it->menu != NULL) {
		if (ussd_push(r->s, 'm', it->menu) == -1)
			r->error = 1;
		return 0;
	}
	return ussd_action(r, it);
}

/* "00": the page before, the screen before, or the parent menu. */
static void
ussd_back(struct ussd_req *r)
{
	struct ussd_session		*s = r->s;
	struct ussd_frame		*f = ussd_top(s);
	const struct conf_ussd_menu	*m;

	if (f->page > 0)
		f->page--;
	else if (s->depth > 1)
		s->depth--;
	else if (f->kind == 'm' &&
	    (m = conf_ussd_menu_find(r->u->conf, f->id)) != NULL &&
	    m->parent != NULL) {
		snprintf(f->id, sizeof(f->id), "%s", m->parent);
		f->page = 0;
	}
}

/*
 * 1 and *out if s is one whole number in [min, max], as commands read
 * numbers; its digits as typed (a delivery code keeps its leading zeros)
 * into digits when not NULL.
 */
static int
ussd_number(const char *s, long long min, long long max, long long *out,
    char *digits, size_t size)
{
	struct words	 w;
	int		 ok;

	if (words_split(s, NULL, 0, &w) == -1)
		return 0;
	ok = w.n == 1 && words_number(w.word[0], min, max, out) &&
	    (digits == NULL || strlen(w.word[0]) < size);
	if (ok && digits != NULL)
		snprintf(digits, size, "%s", w.word[0]);
	words_free(&w);
	return ok;
}

/* "1", "2" ... a listed number, or 0. */
static long
ussd_listed(const char *in, size_t n)
{
	long long	 v;

	if (in[0] == '0' || !ussd_number(in, 1, (long long)n, &v, NULL, 0))
		return 0;
	return (long)v;
}

/*
 * The value an answer to a choice stands for: a listed number, or a name
 * typed (a code, a label, or an alias of a commodity or market, in any
 * language), copied into out, and its label into label.  1, 0 if none,
 * -1 on a failure.
 */
static int
ussd_choice_value(struct ussd_req *r, const struct conf_ussd_item *it,
    const char *in, char *out, size_t outsize, char *label, size_t lsize)
{
	const struct conf	*c = r->u->conf;
	struct ussd_choice	*list;
	const char		*value = NULL;
	char			*want, *cand;
	long			 n, i, k, at = -1;
	size_t			 j;
	int			 failed = 0;

	if ((n = ussd_choices(r, it, &list)) < 0)
		return -1;
	if ((k = ussd_listed(in, (size_t)n)) > 0) {
		value = list[k - 1].value;
		at = k - 1;
		goto out;
	}
	if ((want = ussd_normal(in)) == NULL) {
		failed = 1;
		goto out;
	}
	for (i = 0; i < n && value == NULL && want[0] != '\0'; i++) {
		const struct conf_names	*aliases = NULL, *names = NULL;
		const char		*colon;

		if ((cand = ussd_normal(list[i].label)) == NULL) {
			failed = 1;
			break;
		}
		if (strcmp(cand, want) == 0 ||
		    strcasecmp(list[i].value, want) == 0)
			value = list[i].value;
		if (value != NULL && at < 0)
			at = i;
		free(cand);
		if (strcmp(it->choices, "commodities") == 0) {
			aliases = &conf_commodity_find(c, list[i].value)->aliases;
			names = &conf_commodity_find(c, list[i].value)->names;
		} else if (strcmp(it->choices, "markets") == 0)
			aliases = &conf_market_find(c, list[i].value)->aliases;
		/* Its names in every language ("sw:mahindi") are taken too. */
		for (j = 0; names != NULL && value == NULL && j < names->count;
		    j++) {
			colon = strchr(names->names[j], ':');
			if ((cand = ussd_normal(colon ? colon + 1 :
			    names->names[j])) == NULL) {
				failed = 1;
				break;
			}
			if (strcmp(cand, want) == 0)
				value = list[i].value;
			free(cand);
		}
		for (j = 0; aliases != NULL && value == NULL &&
		    j < aliases->count; j++) {
			if ((cand = ussd_normal(aliases->names[j])) == NULL) {
				failed = 1;
				break;
			}
			if (strcmp(cand, want) == 0)
				value = list[i].value;
			free(cand);
		}
	}
	free(want);
out:
	if (value != NULL) {
		snprintf(out, outsize, "%s", value);
		snprintf(label, lsize, "%s", at >= 0 ? list[at].label : value);
	}
	ussd_choices_free(list, (size_t)n);
	if (failed)
		return -1;
	return value != NULL;
}

/* An answer to an input item: checked, kept, then the next step. */
static int
ussd_answer(struct ussd_req *r, const struct conf_ussd_item *it,
    const char *in)
{
	struct ussd_session	*s = r->s;
	const struct conf_commodity *k;
	const char		*value = NULL;
	char			 num[USSD_INPUT_MAX], label[USSD_INPUT_MAX];
	long long		 v, min, max;
	int			 found;

	if (it->optional && strcmp(in, "0") == 0)
		value = "";	/* none: {var} fills as nothing */
	else if (strcmp(it->input, "number") == 0) {
		min = it->has_validate ? it->min : 0;
		max = it->has_validate ? it->max : USSD_NUMBER_MAX;
		if (!ussd_number(in, min, max, &v, num, sizeof(num))) {
			r->error = 2;
			r->emin = min;
			r->emax = max;
			return 0;
		}
		value = num;
	} else if (strcmp(it->input, "text") == 0) {
		size_t	 len = ussd_chars(in), i;

		min = it->has_validate ? it->min : 1;
		max = it->has_validate ? it->max : USSD_TEXT_MAX;
		for (i = 0; in[i] != '\0'; i++)
			if ((unsigned char)in[i] < ' ')
				break;
		if (in[i] != '\0' || (long long)len < min ||
		    (long long)len > max || len == 0 ||
		    strlen(in) >= USSD_INPUT_MAX) {
			r->error = 1;
			return 0;
		}
		value = in;
	} else {
		if ((found = ussd_choice_value(r, it, in, num, sizeof(num),
		    label, sizeof(label))) == -1)
			return -1;
		if (found == 0) {
			r->error = 1;
			return 0;
		}
		value = num;
	}
	if (ussd_var_set(s, it->var, value) == -1)
		return -1;
	/* A member chosen: {<var>-name} is her line, for later titles. */
	if (strcmp(it->input, "choice") == 0 &&
	    strcmp(it->choices, "members") == 0) {
		char	 name[USSD_ID_MAX + 8];

		snprintf(name, sizeof(name), "%s-name", it->var);
		if (strlen(name) < USSD_ID_MAX &&
		    ussd_var_set(s, name, label) == -1)
			return -1;
	}
	if (strcmp(it->input, "choice") == 0 &&
	    strcmp(it->choices, "commodities") == 0 &&
	    (k = conf_commodity_find(r->u->conf, value)) != NULL &&
	    ussd_var_set(s, "unit", k->unit) == -1)
		return -1;
	if (it->next != NULL || it->menu != NULL) {
		if (ussd_push(s, it->next ? 'i' : 'm', it->next ? it->next :
		    it->menu) == -1)
			r->error = 1;
		return 0;
	}
	return ussd_action(r, it);
}

/* The resume question answered: 1 the old session goes on here, 2 not. */
static int
ussd_resume_answer(struct ussd_req *r, const char *in)
{
	struct ussd_session	*s = r->s, *old;
	const char		*okey = ussd_var(s, "_resume");
	int			 failed = 0;
	size_t			 i;

	if (strcmp(in, "1") != 0 && strcmp(in, "2") != 0) {
		r->error = 1;
		return 0;
	}
	old = okey != NULL ? ussd_load(r->u, okey, &failed) : NULL;
	if (failed)
		return -1;
	ussd_restart(r->u, s);
	ussd_vars_clear(s);
	if (old == NULL)
		return 0;
	if (strcmp(in, "1") == 0 && strcmp(old->state, "done") != 0) {
		for (i = 0; i < old->depth; i++)
			s->stack[i] = old->stack[i];
		s->depth = old->depth;
		for (i = 0; i < old->nvars; i++)
			if (ussd_var_set(s, old->vars[i].name,
			    old->vars[i].value) == -1)
				return -1;
		ussd_check_frames(r->u, s);
		r->u->stats.resumed++;
		info(0, "ussd: %s resumes %s", s->key, old->key);
	}
	snprintf(old->state, sizeof(old->state), "done");
	if (ussd_save(r->u, old) == -1)
		return -1;
	if (!old->cached)
		ussd_session_free(old);
	return 0;
}

/* One answer typed on the current screen.  0, or -1 (store failure). */
int
ussd_input(struct ussd_req *r, const char *raw)
{
	struct ussd_session		*s = r->s;
	struct ussd_frame		*f;
	const struct conf_ussd_menu	*m;
	const struct conf_ussd_item	*it;
	char				*in;
	long				 k;
	int				 pages = 1, rc = 0;

	if (s->ended)
		return 0;
	r->error = 0;
	ussd_check_frames(r->u, s);
	f = ussd_top(s);
	if ((in = ussd_trim(raw)) == NULL)
		return -1;
	if (f->kind == 'r') {
		rc = ussd_resume_answer(r, in);
		goto out;
	}
	if (strcmp(in, "00") == 0) {
		ussd_back(r);
		goto out;
	}
	if (strcmp(in, "0") == 0 && (f->kind == 'm' ||
	    strcmp(conf_ussd_item_find(r->u->conf, f->id)->input,
	    "choice") == 0)) {
		char	*screen = ussd_render(r, &pages);

		if (screen == NULL) {
			rc = -1;
			goto out;
		}
		free(screen);
		if (f->page + 1 < pages)
			f->page++;
		else
			r->error = 1;
		goto out;
	}
	if (f->kind == 'm') {
		const struct conf_ussd_item	*shown[USSD_LINES_MAX];
		long				 nv;

		m = conf_ussd_menu_find(r->u->conf, f->id);
		/* The numbers are those of the items this user sees. */
		if ((nv = ussd_menu_items(r, m, shown, USSD_LINES_MAX)) < 0)
			rc = -1;
		else if ((k = ussd_listed(in, (size_t)nv)) == 0)
			r->error = 1;
		else
			rc = ussd_choose(r, shown[k - 1]);
		goto out;
	}
	it = conf_ussd_item_find(r->u->conf, f->id);
	rc = ussd_answer(r, it, in);
out:
	if (r->error)
		r->u->stats.invalid++;
	free(in);
	return rc;
}
