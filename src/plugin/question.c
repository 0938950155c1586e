/*
 * question.c - the open YES/NO questions of the core, in the questions
 * table (schema.c, step 7).  See question.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/gw.h"

#include "plugin/question.h"
#include "store/store.h"

static const char question_sql_put[] =
    "INSERT INTO questions(msisdn, command, language, asker, inbox_id,"
    " created, expires) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    " ON CONFLICT(msisdn) DO UPDATE SET command = excluded.command,"
    " language = excluded.language, asker = excluded.asker,"
    " inbox_id = excluded.inbox_id, created = excluded.created,"
    " expires = excluded.expires";
static const char question_sql_get[] =
    "SELECT command, language, asker, created, expires FROM questions"
    " WHERE msisdn = $1";
static const char question_sql_delete[] =
    "DELETE FROM questions WHERE msisdn = $1";

int
question_put(struct store *s, const char *msisdn, const char *command,
    const char *language, const char *asker, long long inbox_id,
    long long created, long long expires)
{
	struct store_stmt	*st;
	int			 rc;

	if ((st = store_query(s, question_sql_put)) == NULL)
		return -1;
	store_bind_text(st, 1, msisdn);
	store_bind_text(st, 2, command);
	store_bind_text(st, 3, language);
	store_bind_text(st, 4, asker);		/* NULL for a timer */
	if (inbox_id > 0)
		store_bind_int(st, 5, inbox_id);
	else
		store_bind_null(st, 5);
	store_bind_int(st, 6, created);
	store_bind_int(st, 7, expires);
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE) {
		error(0, "questions: cannot ask %s", msisdn);
		return -1;
	}
	return 0;
}

static char *
question_column(struct store_stmt *st, int col)
{
	const char	*t = store_text(st, col);

	return t != NULL ? strdup(t) : NULL;
}

int
question_take(struct store *s, const char *msisdn, struct question *q)
{
	struct store_stmt	*st;
	int			 rc;

	memset(q, 0, sizeof(*q));
	if ((st = store_query(s, question_sql_get)) == NULL)
		return -1;
	store_bind_text(st, 1, msisdn);
	rc = store_step(st);
	if (rc == STORE_ROW) {
		q->command = question_column(st, 0);
		q->language = question_column(st, 1);
		q->asker = question_column(st, 2);
		q->created = store_int(st, 3);
		q->expires = store_int(st, 4);
	}
	store_done(st);
	if (rc == STORE_DONE)
		return 0;
	if (rc != STORE_ROW || q->command == NULL || q->language == NULL) {
		error(0, "questions: cannot read the question of %s%s",
		    msisdn, rc == STORE_ROW ? ": out of memory" : "");
		question_clear(q);
		return -1;
	}
	if ((st = store_query(s, question_sql_delete)) == NULL) {
		question_clear(q);
		return -1;
	}
	store_bind_text(st, 1, msisdn);
	rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE) {
		error(0, "questions: cannot delete the question of %s",
		    msisdn);
		question_clear(q);
		return -1;
	}
	return 1;
}

int
question_command(struct store *s, const char *msisdn, char *command,
    size_t len)
{
	struct store_stmt	*st;
	const char		*t;
	int			 rc;

	if ((st = store_query(s, question_sql_get)) == NULL)
		return -1;
	store_bind_text(st, 1, msisdn);
	if ((rc = store_step(st)) == STORE_ROW) {
		t = store_text(st, 0);
		snprintf(command, len, "%s", t != NULL ? t : "");
	}
	store_done(st);
	if (rc == STORE_ERROR) {
		error(0, "questions: cannot read the question of %s", msisdn);
		return -1;
	}
	return rc == STORE_ROW;
}

void
question_clear(struct question *q)
{
	free(q->command);
	free(q->language);
	free(q->asker);
	memset(q, 0, sizeof(*q));
}
