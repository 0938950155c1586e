/*
 * member.c - the agents and members tables, read for the router and for
 * the host functions (see member.h).  Every value bound.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/gw.h"

#include "plugin/member.h"
#include "store/store.h"

static const char member_sql_columns[] =
    "SELECT id, code, point, agent, identity, phone, name, state"
    " FROM members WHERE code = $1";
static const char member_sql_by_identity[] =
    "SELECT id, code, point, agent, identity, phone, name, state"
    " FROM members WHERE identity = $1";
static const char member_sql_pending[] =
    "SELECT id, code, point, agent, identity, phone, name, state"
    " FROM members WHERE agent = $1 AND phone = $2 AND state = 'pending'"
    " ORDER BY id DESC LIMIT 1";
static const char member_sql_agent[] =
    "SELECT point FROM agents WHERE msisdn = $1 AND removed IS NULL";

int
member_phoneless(const char *identity)
{
	return identity != NULL && identity[0] == 'm' && identity[1] == ':';
}

int
member_code_parse(const char *word, char *code, size_t len)
{
	size_t	 i, n;

	if (word == NULL || (word[0] != 'M' && word[0] != 'm'))
		return 0;
	n = strlen(word);
	if (n < 2 || n > 10 || n + 1 > len)
		return 0;
	for (i = 1; i < n; i++)
		if (!isdigit((unsigned char)word[i]))
			return 0;
	code[0] = 'M';
	memcpy(code + 1, word + 1, n);
	return 1;
}

static void
member_copy(char *out, size_t len, const char *s)
{
	snprintf(out, len, "%s", s != NULL ? s : "");
}

/* Run one of the SELECTs above with its two texts bound. */
static int
member_load(struct store *s, const char *sql, const char *a, const char *b,
    struct member *m)
{
	struct store_stmt	*st;
	int			 rc;

	memset(m, 0, sizeof(*m));
	if ((st = store_query(s, sql)) == NULL)
		return -1;
	store_bind_text(st, 1, a);
	if (b != NULL)
		store_bind_text(st, 2, b);
	if ((rc = store_step(st)) == STORE_ROW) {
		m->id = store_int(st, 0);
		member_copy(m->code, sizeof(m->code), store_text(st, 1));
		member_copy(m->point, sizeof(m->point), store_text(st, 2));
		member_copy(m->agent, sizeof(m->agent), store_text(st, 3));
		member_copy(m->identity, sizeof(m->identity),
		    store_text(st, 4));
		member_copy(m->phone, sizeof(m->phone), store_text(st, 5));
		member_copy(m->name, sizeof(m->name), store_text(st, 6));
		member_copy(m->state, sizeof(m->state), store_text(st, 7));
	}
	store_done(st);
	if (rc == STORE_ERROR) {
		error(0, "members: cannot read the member of %s", a);
		return -1;
	}
	return rc == STORE_ROW;
}

int
member_by_code(struct store *s, const char *code, struct member *m)
{
	return member_load(s, member_sql_columns, code, NULL, m);
}

int
member_by_identity(struct store *s, const char *identity, struct member *m)
{
	return member_load(s, member_sql_by_identity, identity, NULL, m);
}

int
member_pending_of(struct store *s, const char *agent, const char *phone,
    struct member *m)
{
	return member_load(s, member_sql_pending, agent, phone, m);
}

int
member_agent_point(struct store *s, const char *msisdn, char *point,
    size_t len)
{
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(s, member_sql_agent)) == NULL)
		return -1;
	store_bind_text(st, 1, msisdn);
	if ((rc = store_step(st)) == STORE_ROW)
		member_copy(point, len, store_text(st, 0));
	store_done(st);
	if (rc == STORE_ERROR)
		return -1;
	return rc == STORE_ROW;
}
