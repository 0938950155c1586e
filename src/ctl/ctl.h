/*
 * ctl.h - what marketctl's files share: the run's state (struct ctl), the
 * options a command was given (struct ctl_args), rows to print, and the
 * functions one file offers the others.  Internal to marketctl; nothing
 * outside src/ctl includes it.
 *
 * Each command is a function int ctl_NAME(struct ctl *, const struct
 * ctl_args *), listed in marketctl.c's command table, that returns the
 * exit status: 0 done, 1 failed (said on stderr), 2 usage.
 */
#ifndef MARKETBOX_CTL_H
#define MARKETBOX_CTL_H

#include <stddef.h>
#include <stdio.h>

struct conf;
struct store;
struct store_stmt;

#define CTL_TABLE_LIMIT		100	/* rows shown to people by default */

enum ctl_format { CTL_TABLE, CTL_CSV, CTL_JSON };

struct ctl {
	const char	*conf_path;	/* -c, or the default */
	int		 conf_given;
	const char	*db_path;	/* -d */
	struct conf	*conf;
	struct store	*store;		/* opened read-only */
	enum ctl_format	 format;
	long		 limit;		/* -1: the format's default */
	int		 tty;		/* stderr is a terminal: progress */
};

/* marketctl.c's main (declared so that the unit test's build, which
   renames it -Dmain=marketctl_main, has its prototype) */
int	main(int, char **);

/* "marketctl: " and the message on stderr (marketctl.c). */
void	ctl_err(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * Values checked as the daemon checks them (marketctl.c): each 0, or 2
 * (a usage error, said on stderr).  ctl_phone: a phone into the form
 * the tables keep (the daemon's msisdn_normalise and the conf's
 * country-code); ctl_choice: one of n values; ctl_language: one of the
 * conf's languages; ctl_db_choice: one of the values the CHECK
 * constraint of table.column allows, or extra.
 */
int	ctl_phone(const struct ctl *, const char *, const char *, char *,
	    size_t);
int	ctl_choice(const char *, const char *, const char *const *, size_t);
int	ctl_language(const struct ctl *, const char *, const char *);
int	ctl_db_choice(struct ctl *, const char *, const char *, const char *,
	    const char *, const char *);

/* --- rows and their printing (rows.c) ------------------------------------- */

/* A value: text (NULL for SQL NULL), and whether it is a number. */
struct ctl_cell {
	char	*text;
	int	 number;
};

struct ctl_rows {
	char		**names;
	size_t		  ncols;
	struct ctl_cell	 *cells;	/* nrows * ncols */
	size_t		  nrows, cap;
};

void		 ctl_rows_free(struct ctl_rows *);
void		 ctl_rows_columns(struct ctl_rows *, const char *const *,
		    size_t);
void		 ctl_rows_add(struct ctl_rows *, const struct ctl_cell *);
void		 ctl_json_value(FILE *, const char *, int);
void		 ctl_print_rows(struct ctl *, FILE *, struct ctl_rows *);
int		 ctl_print_stmt(struct ctl *, FILE *, struct store_stmt *,
		    const char *, long, const char *);

/* --- the database, read-only (rows.c) ------------------------------------- */

int		 ctl_db_open(struct ctl *);
struct store_stmt *ctl_prepare(struct ctl *, const char *);
int		 ctl_has_table(struct ctl *, const char *);
int		 ctl_has_column(struct ctl *, const char *, const char *);
int		 ctl_need_market(struct ctl *);
long		 ctl_limit(const struct ctl *);

/* --- a command's options (marketctl.c) ------------------------------------ */

/*
 * Options of the read commands, parsed by ctl_parse: each command
 * says which it takes.
 */
struct ctl_filters {
	const char	*market, *role, *language, *kind, *state, *commodity,
			*to, *since, *until, *output, *from, *point;
	const char	*side;		/* --for (dispute close) */
	const char	*date;		/* --date (manifest) */
	const char	*ref;		/* --ref (payouts done) */
	int		 opted_out, with_phones;
	int		 unmatched;	/* --unmatched (payments) */
	int		 held;		/* --held (reports) */
};

#define CTL_MAX_TEXTS		16	/* --text LANG=TEXT of a broadcast */

struct ctl_args {
	struct ctl_filters	 f;
	const char		*texts[CTL_MAX_TEXTS];	/* --text, in order */
	int			 ntexts;
	int			 all, wait, force;
	long			 timeout;
	int			 keep;		/* --keep N (backup); 0: not
						   given */
	int			 argc;		/* what is left */
	char			**argv;
};

/* --- the commands --------------------------------------------------------- */

/* lists.c */
int	ctl_users(struct ctl *, const struct ctl_args *);
int	ctl_agents(struct ctl *, const struct ctl_args *);
int	ctl_offers(struct ctl *, const struct ctl_args *);
int	ctl_orders(struct ctl *, const struct ctl_args *);
int	ctl_outbox(struct ctl *, const struct ctl_args *);
int	ctl_dispute_list(struct ctl *, const struct ctl_args *);
int	ctl_payments_list(struct ctl *, const struct ctl_args *);
int	ctl_payouts_list(struct ctl *, const struct ctl_args *);
/* The ledger's query (lists.c; export.c's payments.csv): $1, $2 the
   period, $3 1 for the suspense list, $4 1 for phones and names. */
extern const char ctl_ledger_sql[];
int	ctl_reports_list(struct ctl *, const struct ctl_args *);
/* stats.c */
int	ctl_stats(struct ctl *, const struct ctl_args *);
/* export.c */
int	ctl_export(struct ctl *, const struct ctl_args *);
/* A YYYY-MM-DD date (UTC midnight) into *t.  0 or -1. */
int	ctl_date(const char *, long long *);
/* actions.c */
int	ctl_broadcast(struct ctl *, const struct ctl_args *);
/* A broadcast's texts (TEXT, or --text LANG=TEXT...) appended to a form
   of size bytes as text= or text-LANG=.  0, or 2 (said). */
int	ctl_broadcast_texts(const struct ctl *, const struct ctl_args *,
	    char *, size_t);
int	ctl_retry(struct ctl *, const struct ctl_args *);
int	ctl_user(struct ctl *, const struct ctl_args *);
int	ctl_agent(struct ctl *, const struct ctl_args *);
/* dispute list | dispute close (list: lists.c's, the database opened) */
int	ctl_dispute(struct ctl *, const struct ctl_args *);
/* payments [--unmatched] | payments match TRANSID ORDER; payouts |
   payouts done TRANSID... (the lists: lists.c's) */
int	ctl_payments(struct ctl *, const struct ctl_args *);
int	ctl_payouts(struct ctl *, const struct ctl_args *);
/* reports [--held] | reports approve|reject ID... (list: lists.c's) */
int	ctl_reports(struct ctl *, const struct ctl_args *);
/* manifest.c */
int	ctl_manifest(struct ctl *, const struct ctl_args *);
/* template.c */
int	ctl_template(struct ctl *, const struct ctl_args *);
/* store_copy.c */
int	ctl_store(struct ctl *, const struct ctl_args *);
/* Whether a SQLite database is open by a marketbox (a lock on the file or
   its -shm): 1, 0, or -1 (said). */
int	ctl_copy_live_lite(const char *);
/* backup.c: backup [--keep N] [FILE|DIR], restore FILE */
int	ctl_backup(struct ctl *, const struct ctl_args *);
int	ctl_restore(struct ctl *, const struct ctl_args *);
/* Keep the N newest backups in DIR (store_backup_name), and the one just
   written (its name; NULL: none) whatever its rank: 0 or -1 (said). */
int	ctl_backup_rotate(const char *, int, const char *);
/* The database (a SQLite file) backed up to FILE: 0 or -1 (said). */
int	ctl_backup_file(struct ctl *, const char *, const char *);
/* FILE put in place of the database: 0, -1 failed, -2 refused (said). */
int	ctl_restore_file(const char *, const char *);

#endif
