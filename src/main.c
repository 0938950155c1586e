/*
 * main.c - marketbox: start-up, signals, reload and shutdown.
 *
 * The command line is the one Kannel's boxes have.  One event loop runs
 * everything; signals arrive as libevent events, so handlers run as normal
 * callbacks and nothing happens in signal context.  SIGHUP reads the conf
 * afresh, validates it and swaps it in only if it is good; SIGUSR1 reopens
 * the log; SIGTERM and SIGINT stop taking new work, commit what is open and
 * close cleanly.
 */
#include "config.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/gw.h"

#include "admin/admin.h"
#include "link/box.h"
#include "base/conf.h"
#include "plugin/core.h"
#include "base/file.h"
#include "http/http.h"
#include "queue/inbox.h"
#include "engine/dispatch.h"
#include "queue/instance.h"
#include "text/lang.h"
#include "base/log.h"
#include "queue/outbox.h"
#include "plugin/plugin.h"
#include "engine/router.h"
#include "store/store.h"
#include "engine/ussd.h"

struct daemon {
	struct event_base	*base;
	struct conf		*conf;
	struct lang_set		*langs;		/* until the router owns them */
	struct plugin_set	*plugins;
	struct store		*store;
	struct instance		*instance;	/* its row among those of the
						   database */
	struct outbox		*outbox;
	struct router		*router;
	struct inbox		*inbox;
	struct dispatch		*dispatch;	/* SMS or USSD, once */
	struct ussd		*ussd;		/* NULL: no USSD menus */
	struct box		*box;
	struct http		*http;
	struct http_sendsms	*sendsms;
	struct admin		*admin;		/* the admin pages, with http */
	struct event		*sig_term, *sig_int, *sig_hup, *sig_usr1;
	const char		*pid_file;
	int			 stderr_level;
	/* Started as root with user = NAME: that user, whose ids are the
	 * effective ones from before the first file is opened, until they
	 * are dropped for good (then 0). */
	int			 as_user;
	uid_t			 uid;
	gid_t			 gid;
};

static int	daemon_act_as_user(struct daemon *);
static int	daemon_act_as_root(struct daemon *);

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: marketbox [-v LEVEL] [-d|--daemonize] [-p|--pid-file FILE]\n"
	    "                 [-n|--check] [-V|--version] [-h] marketbox.conf\n"
	    "  -v LEVEL      log level on stderr: 0 debug, 1 info, 2 warning,\n"
	    "                3 error, 4 panic (default 0; with -n, 2)\n"
	    "  -d            run in the background\n"
	    "  -p FILE       write the process id to FILE\n"
	    "  -n            check the configuration and exit: prints the\n"
	    "                problems (file:line: what) and the verdict\n"
	    "  -V            print the version and exit\n");
}

static int
daemon_write_pid(const char *path)
{
	char	 buf[32];
	int	 fd, len;

	if ((fd = file_open_private(path, "pid file", O_WRONLY | O_CREAT,
	    0644)) == -1)
		return -1;
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, buf, len) != len) {
		error(errno, "cannot write pid file %s", path);
		close(fd);
		return -1;
	}
	if (close(fd) == -1) {
		error(errno, "cannot write pid file %s", path);
		return -1;
	}
	return 0;
}

/* The log file checked (and made, 0640) before libgw appends to it. */
static int
daemon_check_log(const char *path)
{
	int	 fd;

	if (path == NULL)
		return 0;
	if ((fd = file_open_private(path, "log file",
	    O_WRONLY | O_APPEND | O_CREAT, 0640)) == -1)
		return -1;
	close(fd);
	return 0;
}

static int
daemon_detach(void)
{
	pid_t	 pid;
	int	 fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		/* stderr stays: libgw logs there until the log file is open */
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

static void
daemon_sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;

	(void)what;
	info(0, "signal %d: shutting down", (int)sig);
	/* Pending callbacks run; then the loop ends and main() cleans up. */
	event_base_loopexit(d->base, NULL);
}

/* 1 if two confs name the same plugins the same way. */
static int
daemon_same_plugins(const struct conf *a, const struct conf *b)
{
	size_t	 i;

	if (a->nplugins != b->nplugins ||
	    strcmp(a->plugin_dir, b->plugin_dir) != 0)
		return 0;
	for (i = 0; i < a->nplugins; i++)
		if (strcmp(a->plugins[i].name, b->plugins[i].name) != 0 ||
		    strcmp(a->plugins[i].module, b->plugins[i].module) != 0)
			return 0;
	return 1;
}

static void
daemon_sighup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;
	struct conf	*fresh;

	struct lang_set	*langs;

	(void)sig;
	(void)what;
	info(0, "SIGHUP: reloading %s", d->conf->path);
	if ((fresh = conf_load(d->conf->path)) == NULL) {
		error(0, "reload failed: keeping the configuration in use");
		return;
	}
	if ((langs = lang_load(fresh->language_dir,
	    fresh->default_language)) == NULL) {
		error(0, "reload failed: the languages in %s are not usable; "
		    "keeping the configuration in use", fresh->language_dir);
		conf_free(fresh);
		return;
	}
	if (ussd_check(fresh, langs) == -1) {
		error(0, "reload failed: the USSD menus name templates the "
		    "languages lack; keeping the configuration in use");
		lang_free(langs);
		conf_free(fresh);
		return;
	}
	/* The plugins loaded stay: the new menus and HELP must fit them. */
	if (router_check_commands(fresh, langs, d->plugins) == -1) {
		error(0, "reload failed: the USSD menus or HELP name commands "
		    "no plugin runs; keeping the configuration in use");
		lang_free(langs);
		conf_free(fresh);
		return;
	}
	if (d->ussd == NULL && fresh->nussd_menus > 0)
		warning(0, "reload: USSD menus added; they need a restart");
	if (!daemon_same_plugins(d->conf, fresh))
		warning(0, "reload: plugin changes need a restart; the plugins "
		    "loaded stay");
	/* A PostgreSQL database string may hold a password: not logged. */
	if (strcmp(conf_instance_name(fresh),
	    conf_instance_name(d->conf)) != 0 ||
	    conf_outbox_lease(fresh) != conf_outbox_lease(d->conf))
		warning(0, "reload: instance and outbox-lease changes need a "
		    "restart");
	if (strcmp(fresh->database, d->conf->database) != 0)
		warning(0, "reload: database changes need a restart; "
		    "still using %s", store_is_postgresql(d->conf->database) ?
		    "the database it started with" : d->conf->database);
	log_set_log_level(fresh->log_level);
	if (router_set_conf(d->router, fresh, langs) == -1) {
		error(0, "reload failed: out of memory; keeping the "
		    "configuration in use");
		conf_free(fresh);
		return;
	}
	outbox_set_conf(d->outbox, fresh);
	store_set_commit_policy(d->store, fresh->commit_delay,
	    fresh->commit_batch);
	ussd_set_conf(d->ussd, fresh);
	if (d->box != NULL)
		box_set_conf(d->box, fresh);
	if (d->http != NULL)
		http_set_conf(d->http, fresh);
	admin_set_conf(d->admin, fresh);
	conf_free(d->conf);
	d->conf = fresh;
	info(0, "reload done");
}

static void
daemon_sigusr1_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	log_reopen_files();
}

static int
daemon_signals(struct daemon *d)
{
	signal(SIGPIPE, SIG_IGN);
	d->sig_term = evsignal_new(d->base, SIGTERM, daemon_sigterm_cb, d);
	d->sig_int = evsignal_new(d->base, SIGINT, daemon_sigterm_cb, d);
	d->sig_hup = evsignal_new(d->base, SIGHUP, daemon_sighup_cb, d);
	d->sig_usr1 = evsignal_new(d->base, SIGUSR1, daemon_sigusr1_cb, d);
	if (d->sig_term == NULL || d->sig_int == NULL || d->sig_hup == NULL ||
	    d->sig_usr1 == NULL || evsignal_add(d->sig_term, NULL) == -1 ||
	    evsignal_add(d->sig_int, NULL) == -1 ||
	    evsignal_add(d->sig_hup, NULL) == -1 ||
	    evsignal_add(d->sig_usr1, NULL) == -1)
		return -1;
	return 0;
}

static int
daemon_start(struct daemon *d)
{
	const struct conf	*c = d->conf;
	struct plugin_env	 env;

	if ((d->base = event_base_new()) == NULL) {
		error(0, "cannot create the event loop");
		return -1;
	}
	if (daemon_signals(d) == -1) {
		error(0, "cannot install signal handlers");
		return -1;
	}
	if ((d->store = store_open(c->database, d->base)) == NULL)
		return -1;
	store_set_commit_policy(d->store, c->commit_delay, c->commit_batch);
	/* Before the outbox: it takes back the rows of this instance's
	 * name, and those of none only when no other instance is live. */
	if ((d->instance = instance_new(d->base, d->store, c)) == NULL)
		return -1;
	if ((d->outbox = outbox_new(d->base, d->store, c)) == NULL)
		return -1;
	instance_set_outbox(d->instance, d->outbox);
	d->router = router_new(c, d->store, d->outbox, d->langs, d->plugins);
	d->langs = NULL;	/* the router's now, even on failure */
	if (d->router == NULL)
		return -1;
	env.host = &host_table;
	env.host_abi1 = &host_table_abi1;
	env.run_timer = router_run_timer;
	env.arg = d->router;
	/* Timer runs are claimed under this name (timer_runs.owner). */
	if (d->plugins != NULL)
		plugin_set_instance(d->plugins, conf_instance_name(c));
	if (d->plugins != NULL &&
	    plugin_start(d->plugins, d->store, d->base, &env) == -1)
		return -1;
	if (c->nussd_menus > 0 && (d->ussd = ussd_new(d->base, c, d->store,
	    d->outbox, d->router)) == NULL)
		return -1;
	if ((d->dispatch = dispatch_new(d->router, d->ussd,
	    d->outbox)) == NULL ||
	    (d->inbox = inbox_new(d->store, d->dispatch)) == NULL)
		return -1;
	/* The one thing root's rights are taken back for: a port below
	 * 1024.  Nothing is opened by name meanwhile. */
	if (c->http_port != 0) {
		if (daemon_act_as_root(d) == -1)
			return -1;
		d->http = http_new(d->base, c, d->store);
		if (daemon_act_as_user(d) == -1 || d->http == NULL ||
		    http_waysin_register(d->http, d->inbox, d->ussd) == -1)
			return -1;
	}
	if (c->sendsms_url != NULL) {
		if ((d->sendsms = http_sendsms_new(d->base, c, d->outbox)) == NULL)
			return -1;
	} else if (c->bearerbox_host != NULL) {
		if ((d->box = box_new(d->base, c, d->inbox, d->outbox)) == NULL ||
		    box_start(d->box) == -1)
			return -1;
	}
	if (d->http != NULL) {
		struct admin_sources	 src = {
			.store = d->store, .outbox = d->outbox,
			.inbox = d->inbox, .router = d->router,
			.plugins = d->plugins, .box = d->box,
			.link_mode = d->box != NULL ? "box" :
			    d->sendsms != NULL ? "sendsms" : "none"
		};

		if ((d->admin = admin_new(d->base, c, &src)) == NULL ||
		    admin_register(d->admin, d->http) == -1)
			return -1;
	}
	/*
	 * A database server is waited for on the task thread, not by the
	 * loop.  MB_STORE_THREAD=1 runs SQLite that way too: the tests use
	 * it to prove that every path to the store is a task.
	 */
	if ((strcmp(store_engine(d->store), "sqlite") != 0 ||
	    (getenv("MB_STORE_THREAD") != NULL &&
	    strcmp(getenv("MB_STORE_THREAD"), "1") == 0)) &&
	    store_use_tasks(d->store, d->base) == -1)
		return -1;
	store_serving(d->store);
	return 0;
}

/*
 * The user of conf key user, or NULL (logged) if there is none such.
 */
static struct passwd *
daemon_user(const char *name)
{
	struct passwd	*pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		error(errno, "user = %s: no such user", name);
		return NULL;
	}
	if (pw->pw_uid == 0) {
		error(0, "user = %s: that is root; name an unprivileged user",
		    name);
		return NULL;
	}
	return pw;
}

/*
 * Privileges.  Started as root with user = NAME, marketbox takes that
 * user's ids as its effective ids, and that user's group as its only one,
 * before it opens its first file: the log, the pid file, the database and
 * its -wal, -shm and -journal are opened and made by the user, so a link
 * or a file the user planted there leads only where the user may go
 * anyway.  Nothing is chown()ed.  Root's rights come back only to bind the
 * HTTP port, then are given up for good (daemon_drop_privileges), with
 * the real and saved ids; the process, whose real uid stays root until
 * then, cannot be signalled or traced by the user meanwhile.  The files'
 * directories must be the user's (a package's postinst, or systemd's
 * StateDirectory, LogsDirectory, RuntimeDirectory make them so).
 */
static int
daemon_act_as_user(struct daemon *d)
{
	if (!d->as_user)
		return 0;
	if (setgroups(1, &d->gid) == -1 || setegid(d->gid) == -1 ||
	    seteuid(d->uid) == -1) {
		error(errno, "cannot act as user %s", d->conf->user);
		return -1;
	}
	return 0;
}

static int
daemon_act_as_root(struct daemon *d)
{
	if (!d->as_user)
		return 0;
	if (seteuid(0) == -1 || setegid(0) == -1) {
		error(errno, "cannot take back root's rights");
		return -1;
	}
	return 0;
}

/*
 * Called first, before any file is opened: when started as root with a
 * user, act as that user from now on.  0, or -1 (logged).
 */
static int
daemon_become_user(struct daemon *d)
{
	const struct conf	*c = d->conf;
	struct passwd		*pw;

	if (c->user == NULL)
		return 0;
	if ((pw = daemon_user(c->user)) == NULL)
		return -1;
	if (geteuid() != 0) {
		if (geteuid() != pw->pw_uid)
			warning(0, "user = %s: not started as root, so running "
			    "on as uid %ld", c->user, (long)geteuid());
		return 0;
	}
	d->as_user = 1;
	d->uid = pw->pw_uid;
	d->gid = pw->pw_gid;
	return daemon_act_as_user(d);
}

/*
 * After the sockets are bound: become conf's user for good (supplementary
 * groups, group, then user, real and saved ids too), and check that root
 * cannot be had back.  0, or -1 (logged): marketbox must not run on as
 * root by mistake.
 */
static int
daemon_drop_ids(struct daemon *d)
{
	const struct conf	*c = d->conf;

	if (daemon_act_as_root(d) == -1)
		return -1;
	if (setgroups(1, &d->gid) == -1) {
		error(errno, "cannot drop supplementary groups");
		return -1;
	}
	if (setgid(d->gid) == -1) {
		error(errno, "cannot change to group %ld", (long)d->gid);
		return -1;
	}
	if (setuid(d->uid) == -1) {
		error(errno, "cannot change to user %s", c->user);
		return -1;
	}
	if (setuid(0) != -1 || geteuid() != d->uid || getuid() != d->uid ||
	    getegid() != d->gid || getgid() != d->gid) {
		error(0, "privileges were not dropped to user %s", c->user);
		return -1;
	}
	d->as_user = 0;		/* for good: nothing to switch back */
	return 0;
}

static int
daemon_drop_privileges(struct daemon *d)
{
	if (!d->as_user)
		return 0;
	if (daemon_drop_ids(d) == -1)
		return -1;
	info(0, "running as user %s (uid %ld, gid %ld)", d->conf->user,
	    (long)d->uid, (long)d->gid);
	return 0;
}

static void
daemon_stop(struct daemon *d)
{
	/* The tasks still queued or waiting use the links, the admin and
	 * the HTTP server: they end first. */
	store_tasks_end(d->store);
	/* Links first: nothing new arrives while the store closes.  The
	 * admin answers what waits before the server goes. */
	box_free(d->box);
	http_sendsms_free(d->sendsms);
	admin_free(d->admin);
	http_free(d->http);
	if (d->store != NULL)
		store_commit(d->store);
	/* A clean stop: no other instance waits a lease for its rows. */
	instance_free(d->instance);
	inbox_free(d->inbox);
	dispatch_free(d->dispatch);
	ussd_free(d->ussd);
	plugin_free(d->plugins);
	router_free(d->router);
	lang_free(d->langs);
	outbox_free(d->outbox);
	store_free(d->store);
	if (d->sig_term)
		event_free(d->sig_term);
	if (d->sig_int)
		event_free(d->sig_int);
	if (d->sig_hup)
		event_free(d->sig_hup);
	if (d->sig_usr1)
		event_free(d->sig_usr1);
	if (d->base)
		event_base_free(d->base);
	conf_free(d->conf);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "daemonize",	no_argument,		NULL, 'd' },
		{ "pid-file",	required_argument,	NULL, 'p' },
		{ "check",	no_argument,		NULL, 'n' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	struct daemon	 d;
	int		 ch, check = 0, detach = 0, rc = 1, pid_written = 0;
	int		 level_given = 0;
	char		*end;

	/* Nothing marketbox makes is for others: the database and its
	 * journals hold every phone, name and message (see also store.c's
	 * 0600 and the log's 0640). */
	umask(027);
	memset(&d, 0, sizeof(d));
	while ((ch = getopt_long(argc, argv, "v:dp:nVh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'v':
			d.stderr_level = strtol(optarg, &end, 10);
			if (*end != '\0' || d.stderr_level < 0 ||
			    d.stderr_level > 4) {
				fprintf(stderr, "marketbox: -v takes 0 to 4\n");
				return 2;
			}
			level_given = 1;
			break;
		case 'd':
			detach = 1;
			break;
		case 'p':
			d.pid_file = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("marketbox %s\n", MARKETBOX_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return 2;
	}

	/* A check prints its verdict and the problems, not libgw's and the
	   loaders' progress: warnings and errors, unless -v says more. */
	if (check && !level_given)
		d.stderr_level = GW_WARNING;
	gwlib_init();
	log_setup(d.stderr_level, NULL, 0);
	if ((d.conf = conf_load(argv[optind])) == NULL) {
		gwlib_shutdown();
		return 1;
	}
	/* Languages and plugins are part of the configuration: -n checks them. */
	if ((d.langs = lang_load(d.conf->language_dir,
	    d.conf->default_language)) == NULL ||
	    ussd_check(d.conf, d.langs) == -1 ||
	    (d.plugins = plugin_load(d.conf)) == NULL ||
	    router_check_commands(d.conf, d.langs, d.plugins) == -1) {
		error(0, "%s: cannot use this configuration", argv[optind]);
		goto out;
	}
	/* No country code starts with 0: without one, "0722000111" can be
	   made no international number, and is refused wherever typed. */
	if (d.conf->country_code == NULL)
		warning(0, "%s: no country-code: phone numbers typed in local "
		    "form (0722000111) are refused; set country-code to the "
		    "country's calling code (254) to accept them",
		    argv[optind]);
	if (d.conf->user != NULL && daemon_user(d.conf->user) == NULL) {
		error(0, "%s: cannot use this configuration", argv[optind]);
		goto out;
	}
	if (check) {
		/* A PostgreSQL database: reachable, and its schema one we know. */
		if (store_check(d.conf->database) == -1) {
			error(0, "%s: cannot use this configuration", argv[optind]);
			goto out;
		}
		printf("%s: configuration OK\n", argv[optind]);
		rc = 0;
		goto out;
	}
	/* As root only when told: a box needs no privilege. */
	if (geteuid() == 0 && d.conf->user == NULL && !d.conf->run_as_root) {
		error(0, "%s: refusing to run as root: set 'user = NAME' (marketbox "
		    "drops to that user once its files and sockets are open) or "
		    "'run-as-root = yes'", argv[optind]);
		goto out;
	}
	if (daemon_become_user(&d) == -1) {
		error(0, "%s: cannot become user %s", argv[optind], d.conf->user);
		goto out;
	}
	if (daemon_check_log(d.conf->log_file) == -1 ||
	    log_setup(d.stderr_level, d.conf->log_file, d.conf->log_level) == -1) {
		error(errno, "cannot open log file %s", d.conf->log_file);
		goto out;
	}
	if (detach && daemon_detach() == -1) {
		error(errno, "cannot run in the background");
		goto out;
	}
	if (d.pid_file == NULL)
		d.pid_file = d.conf->pid_file;
	if (d.pid_file != NULL) {
		if (daemon_write_pid(d.pid_file) == -1)
			goto out;
		pid_written = 1;
	}
	info(0, "marketbox %s starting with %s", MARKETBOX_VERSION,
	    d.conf->path);
	if (daemon_start(&d) == -1 || daemon_drop_privileges(&d) == -1) {
		error(0, "marketbox could not start");
		goto out;
	}
	info(0, "marketbox running");
	if (event_base_dispatch(d.base) == -1)
		error(0, "event loop failed");
	else
		rc = 0;
	info(0, "marketbox stopped");
out:
	/* A start that failed while acting as the user ends as the user,
	 * with root's rights given up, as a running one would. */
	if (d.as_user && daemon_drop_ids(&d) == -1)
		_exit(1);
	daemon_stop(&d);
	if (pid_written)
		unlink(d.pid_file);
	log_flush_repeats();	/* a summary still owed is written, not lost */
	gwlib_shutdown();
	return rc;
}
