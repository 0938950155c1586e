/*
 * question.c - the open YES/NO questions of the core, in the questions
 * table (store.c, schema step 7).  See question.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gw.h"

#include "question.h"
#include "store.h"

static const char question_sql_put[] =
    "INSERT INTO questions(msisdn, command, language, asker, inbox_id,"
    " created, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    " ON CONFLICT(msisdn) DO UPDATE SET command = excluded.command,"
    " language = excluded.language, asker = excluded.asker,"
    " inbox_id = excluded.inbox_id, created = excluded.created,"
    " expires = excluded.expires";
static const char question_sql_get[] =
    "SELECT command, language, asker, created, expires FROM questions"
    " WHERE msisdn = ?1";
static const char question_sql_delete[] =
    "DELETE FROM questions WHERE msisdn = ?1";

int
question_put(struct store *s, const char *msisdn, const char *command,
    const char *language, const char *asker, long long inbox_id,
    long long created, long long expires)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_stmt(s, question_sql_put)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, msisdn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, command, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, language, -1, SQLITE_STATIC);
	if (asker != NULL)
		sqlite3_bind_text(st, 4, asker, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	if (inbox_id > 0)
		sqlite3_bind_int64(st, 5, inbox_id);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, created);
	sqlite3_bind_int64(st, 7, expires);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error(0, "questions: cannot ask %s: %s", msisdn,
		    sqlite3_errmsg(store_db(s)));
		return -1;
	}
	return 0;
}

static char *
question_column(sqlite3_stmt *st, int col)
{
	const unsigned char	*t = sqlite3_column_text(st, col);

	return t != NULL ? strdup((const char *)t) : NULL;
}

int
question_take(struct store *s, const char *msisdn, struct question *q)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(q, 0, sizeof(*q));
	if ((st = store_stmt(s, question_sql_get)) == NULL)
		return -1;
	sqlite3_bind_text(st, 1, msisdn, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		q->command = question_column(st, 0);
		q->language = question_column(st, 1);
		q->asker = question_column(st, 2);
		q->created = sqlite3_column_int64(st, 3);
		q->expires = sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW || q->command == NULL || q->language == NULL) {
		error(0, "questions: cannot read the question of %s: %s",
		    msisdn, rc != SQLITE_ROW ? sqlite3_errmsg(store_db(s)) :
		    "out of memory");
		question_clear(q);
		return -1;
	}
	if ((st = store_stmt(s, question_sql_delete)) == NULL) {
		question_clear(q);
		return -1;
	}
	sqlite3_bind_text(st, 1, msisdn, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		error(0, "questions: cannot delete the question of %s: %s",
		    msisdn, sqlite3_errmsg(store_db(s)));
		question_clear(q);
		return -1;
	}
	return 1;
}

void
question_clear(struct question *q)
{
	free(q->command);
	free(q->language);
	free(q->asker);
	memset(q, 0, sizeof(*q));
}
