/*
 * actions.c - what marketctl changes, asked of the running marketbox
 * through its admin interface over HTTP (so the daemon stays the only
 * writer and its rules apply): broadcast (and its progress), retry, user
 * set, agent add and remove, dispute close (dispute list reads the
 * database: lists.c).  A small blocking HTTP/1.1 client with Basic
 * authentication and deadlines, to the conf's http-interface and
 * http-port; the answers are the admin pages' JSON (src/admin), read for
 * the few keys used here.  A broadcast's texts go as text= (one for
 * every language) or text-LANG= (one a language, --text LANG=TEXT); the
 * daemon picks each reader's and refuses, before queuing, a broadcast
 * some readers would get no text of.  Phones given as arguments are
 * normalised here first (ctl_phone), so a local number without
 * country-code is a usage error, not the daemon's refusal.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "base/conf.h"
#include "queue/outbox.h"
#include "ctl/ctl.h"

#define CTL_CONNECT_MS		5000
#define CTL_ANSWER_MS		30000
#define CTL_ANSWER_MAX		(1 << 20)
#define CTL_POLL_MS		500	/* between broadcast progress asks */

struct ctl_answer {
	int	 code;
	char	*body;		/* NUL-terminated */
};

static void
ctl_answer_free(struct ctl_answer *a)
{
	free(a->body);
	a->body = NULL;
}

static const char ctl_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
ctl_base64(const char *s)
{
	size_t		 n = strlen(s), i, o = 0;
	char		*out;
	unsigned	 v;

	if ((out = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i += 3) {
		v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = ctl_b64[v >> 18 & 63];
		out[o++] = ctl_b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? ctl_b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? ctl_b64[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* Append name=value (urlencoded) to a form of size bytes.  0 or -1. */
static int
ctl_form_add(char *form, size_t size, const char *name, const char *value)
{
	size_t		 len = strlen(form);
	const char	*p;
	int		 n;

	n = snprintf(form + len, size - len, "%s%s=", len ? "&" : "", name);
	if (n < 0 || (size_t)n >= size - len)
		return -1;
	len += (size_t)n;
	for (p = value; *p != '\0'; p++) {
		unsigned char	 ch = (unsigned char)*p;

		if (len + 4 >= size)
			return -1;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~')
			form[len++] = (char)ch;
		else
			len += (size_t)snprintf(form + len, size - len, "%%%02X",
			    ch);
	}
	form[len] = '\0';
	return 0;
}

/* Wait for fd to be ready for events, until deadline (ms, monotonic). */
static int
ctl_wait_fd(int fd, short events, long long deadline)
{
	struct pollfd	 pfd;
	struct timespec	 ts;
	long long	 now;
	int		 rc;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (now >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, (int)(deadline - now));
		if (rc > 0)
			return 0;
		if (rc == -1 && errno != EINTR)
			return -1;
	}
}

static long long
ctl_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One request to the running marketbox's admin interface: method, target
 * (path and query), a form body or NULL.  Fills ans; 0, or -1 (said on
 * stderr) when marketbox cannot be reached.
 */
static int
ctl_http(struct ctl *c, const char *method, const char *target,
    const char *form, struct ctl_answer *ans)
{
	const struct conf	*k = c->conf;
	struct addrinfo		 hints, *ai = NULL;
	const char		*host;
	char			 port[16], *auth = NULL, *req = NULL, *cred = NULL;
	char			*buf = NULL, *sep;
	size_t			 len = 0, cap = 0;
	ssize_t			 n;
	long long		 deadline;
	int			 fd = -1, rc = -1, err, gai;
	socklen_t		 elen = sizeof(err);

	memset(ans, 0, sizeof(*ans));
	if (k == NULL) {
		ctl_err("this needs marketbox's conf (-c): it says where the "
		    "admin interface listens");
		return -1;
	}
	if (k->http_port == 0) {
		ctl_err("%s: http-port is 0: marketbox has no HTTP server, so "
		    "no admin interface", k->path);
		return -1;
	}
	if (k->admin_password == NULL) {
		ctl_err("%s: no admin-password: the admin interface is off",
		    k->path);
		return -1;
	}
	host = k->http_interface;
	if (host == NULL || *host == '\0' || strcmp(host, "0.0.0.0") == 0)
		host = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		host = "::1";
	snprintf(port, sizeof(port), "%d", k->http_port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((gai = getaddrinfo(host, port, &hints, &ai)) != 0) {
		ctl_err("%s: %s", host, gai_strerror(gai));
		return -1;
	}
	if (asprintf(&cred, "marketctl:%s", k->admin_password) == -1) {
		cred = NULL;
		goto oom;
	}
	if ((auth = ctl_base64(cred)) == NULL)
		goto oom;
	if (asprintf(&req, "%s %s HTTP/1.1\r\nHost: %s:%s\r\n"
	    "Authorization: Basic %s\r\nX-Marketbox-Admin: 1\r\n"
	    "User-Agent: marketctl/%s\r\nConnection: close\r\n"
	    "Content-Type: application/x-www-form-urlencoded\r\n"
	    "Content-Length: %zu\r\n\r\n%s", method, target, host, port,
	    auth, MARKETBOX_VERSION, form != NULL ? strlen(form) : (size_t)0,
	    form != NULL ? form : "") == -1) {
		req = NULL;
		goto oom;
	}
	deadline = ctl_now_ms() + CTL_CONNECT_MS;
	if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) == -1 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		goto neterr;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto neterr;
		if (ctl_wait_fd(fd, POLLOUT, deadline) == -1)
			goto neterr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			goto neterr;
		if (err != 0) {
			errno = err;
			goto neterr;
		}
	}
	deadline = ctl_now_ms() + CTL_ANSWER_MS;
	for (len = 0; len < strlen(req); ) {
		if (ctl_wait_fd(fd, POLLOUT, deadline) == -1)
			goto neterr;
		n = send(fd, req + len, strlen(req) - len, MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			goto neterr;
		if (n > 0)
			len += (size_t)n;
	}
	for (len = 0;;) {
		if (len + 4096 + 1 > cap) {
			char	*nb;

			if (cap >= CTL_ANSWER_MAX) {
				ctl_err("the answer is too big");
				goto out;
			}
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap)) == NULL)
				goto oom;
			buf = nb;
		}
		if (ctl_wait_fd(fd, POLLIN, deadline) == -1)
			goto neterr;
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			goto neterr;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &ans->code) != 1 ||
	    (sep = strstr(buf, "\r\n\r\n")) == NULL) {
		ctl_err("marketbox at %s:%s answered something that is not "
		    "HTTP", host, port);
		goto out;
	}
	if ((ans->body = strdup(sep + 4)) == NULL)
		goto oom;
	rc = 0;
	goto out;
neterr:
	ctl_err("cannot reach marketbox at %s:%s: %s (is it running, with "
	    "http-port set?)", host, port, strerror(errno));
	goto out;
oom:
	ctl_err("out of memory");
out:
	if (fd != -1)
		close(fd);
	if (ai != NULL)
		freeaddrinfo(ai);
	free(cred);
	free(auth);
	free(req);
	free(buf);
	return rc;
}

/* The number after "key": in a JSON text, or def. */
static long long
ctl_json_int(const char *json, const char *key, long long def)
{
	char		 pat[64];
	const char	*p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	if (json == NULL || (p = strstr(json, pat)) == NULL)
		return def;
	return strtoll(p + strlen(pat), NULL, 10);
}

static int
ctl_json_true(const char *json, const char *key)
{
	char	 pat[64];

	snprintf(pat, sizeof(pat), "\"%s\": true", key);
	return json != NULL && strstr(json, pat) != NULL;
}

/* An answer that is not the one hoped for: say why.  Returns 1. */
static int
ctl_refused(const struct ctl_answer *ans)
{
	const char	*p, *e;

	if (ans->body != NULL && (p = strstr(ans->body, "\"error\": \"")) !=
	    NULL && (e = strchr(p + 10, '"')) != NULL)
		ctl_err("marketbox said %d: %.*s", ans->code,
		    (int)(e - p - 10), p + 10);
	else if (ans->code == 401)
		ctl_err("marketbox refused the admin-password of the conf "
		    "(401)");
	else
		ctl_err("marketbox answered %d: %s", ans->code,
		    ans->body != NULL ? ans->body : "");
	return 1;
}

/*
 * The texts of a broadcast into form: TEXT (every language's) as text=,
 * or each --text LANG=TEXT as text-LANG= (LANG one of the conf's
 * languages, once).  0, or 2 (said).  Which reader gets which text, and
 * whether every reader gets one, the daemon decides (it knows their
 * languages): src/admin/actions.c.
 */
int
ctl_broadcast_texts(const struct ctl *c, const struct ctl_args *a,
    char *form, size_t size)
{
	char		 key[32];
	const char	*eq;
	int		 i, k;

	if (a->ntexts == 0) {
		if (a->argc != 1 || a->argv[0][0] == '\0') {
			ctl_err("broadcast takes one text (quote it), or "
			    "--text LANG=TEXT for each language");
			return 2;
		}
		if (ctl_form_add(form, size, "text", a->argv[0]) == -1) {
			ctl_err("the text is too long");
			return 2;
		}
		return 0;
	}
	if (a->argc != 0) {
		ctl_err("broadcast takes one TEXT for every language or "
		    "--text LANG=TEXT for each, not both");
		return 2;
	}
	for (i = 0; i < a->ntexts; i++) {
		if ((eq = strchr(a->texts[i], '=')) == NULL ||
		    eq == a->texts[i] || eq - a->texts[i] > 8 ||
		    eq[1] == '\0') {
			ctl_err("--text is LANG=TEXT (en=\"Market closed\"), "
			    "not '%s'", a->texts[i]);
			return 2;
		}
		snprintf(key, sizeof(key), "text-%.*s",
		    (int)(eq - a->texts[i]), a->texts[i]);
		for (k = 0; k < i; k++)
			if (strncmp(a->texts[k], a->texts[i],
			    (size_t)(eq - a->texts[i]) + 1) == 0) {
				ctl_err("--text: two texts for %s", key + 5);
				return 2;
			}
		if (ctl_language(c, "--text", key + 5) != 0)
			return 2;
		if (ctl_form_add(form, size, key, eq + 1) == -1) {
			ctl_err("the texts are too long");
			return 2;
		}
	}
	return 0;
}

int
ctl_broadcast(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_answer	 ans;
	char			 form[32768], target[64];
	long long		 id, people, deadline, queued_rows, waiting;
	int			 rc = 1, done = 0, shown = 0;

	if (a->f.market == NULL && a->f.commodity == NULL && !a->all) {
		ctl_err("broadcast needs --market, --commodity or --all");
		return 2;
	}
	form[0] = '\0';
	if ((a->f.market != NULL && ctl_form_add(form, sizeof(form), "market",
	    a->f.market) == -1) || (a->f.commodity != NULL &&
	    ctl_form_add(form, sizeof(form), "commodity", a->f.commodity) ==
	    -1) || (a->all && ctl_form_add(form, sizeof(form), "all", "1") ==
	    -1)) {
		ctl_err("the market or commodity is too long");
		return 2;
	}
	if ((rc = ctl_broadcast_texts(c, a, form, sizeof(form))) != 0)
		return rc;
	rc = 1;
	if (ctl_http(c, "POST", "/admin/broadcast", form, &ans) == -1)
		return 1;
	if (ans.code != 202) {
		rc = ctl_refused(&ans);
		ctl_answer_free(&ans);
		return rc;
	}
	id = ctl_json_int(ans.body, "id", 0);
	people = ctl_json_int(ans.body, "recipients", 0);
	ctl_answer_free(&ans);
	snprintf(target, sizeof(target), "/admin/broadcast?id=%lld", id);
	deadline = ctl_now_ms() + a->timeout * 1000;
	/* Until every notice is queued (and with --wait, handed on). */
	while (ctl_now_ms() < deadline) {
		if (ctl_http(c, "GET", target, NULL, &ans) == -1)
			return 1;
		if (ans.code != 200) {
			rc = ctl_refused(&ans);
			ctl_answer_free(&ans);
			return rc;
		}
		queued_rows = ctl_json_int(ans.body, "queued", 0);
		waiting = queued_rows + ctl_json_int(ans.body, "sending", 0);
		done = ctl_json_true(ans.body, "done");
		if (c->tty) {
			fprintf(stderr, "\rbroadcast %lld: %lld of %lld people "
			    "queued, %lld SMS waiting to leave   ", id,
			    ctl_json_int(ans.body, "notices", 0), people,
			    waiting);
			shown = 1;
		}
		if (ctl_json_true(ans.body, "failed")) {
			if (shown)
				fputc('\n', stderr);
			ctl_err("broadcast %lld stopped: see marketbox's log", id);
			ctl_answer_free(&ans);
			return 1;
		}
		if (done && (!a->wait || waiting == 0)) {
			if (shown)
				fputc('\n', stderr);
			if (c->format == CTL_JSON)
				fputs(ans.body, stdout);
			else
				printf("broadcast %lld: %lld people matched, "
				    "%lld notices queued\n", id, people,
				    ctl_json_int(ans.body, "notices", 0));
			ctl_answer_free(&ans);
			return 0;
		}
		ctl_answer_free(&ans);
		usleep(CTL_POLL_MS * 1000);
	}
	if (shown)
		fputc('\n', stderr);
	ctl_err("broadcast %lld: not %s after %ld s (it goes on in marketbox)",
	    id, done ? "sent" : "queued", a->timeout);
	return 1;
}

int
ctl_retry(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_answer	 ans;
	char			 form[256];
	long long		 total = 0, n, left = 0;
	long			 rounds;
	int			 rc;
	static const char *const kinds[] = { OUTBOX_KINDS };

	if (a->f.kind != NULL && ctl_choice("--kind", a->f.kind, kinds,
	    sizeof(kinds) / sizeof(kinds[0])) != 0)
		return 2;
	form[0] = '\0';
	if (a->f.kind != NULL && ctl_form_add(form, sizeof(form), "kind",
	    a->f.kind) == -1)
		return 2;
	/* Each request requeues a batch; bounded, in case rows keep
	 * failing as fast as they are requeued. */
	for (rounds = 0; rounds < 100000; rounds++) {
		if (ctl_http(c, "POST", "/admin/retry", form, &ans) == -1)
			return 1;
		if (ans.code != 200) {
			rc = ctl_refused(&ans);
			ctl_answer_free(&ans);
			return rc;
		}
		n = ctl_json_int(ans.body, "requeued", 0);
		left = ctl_json_int(ans.body, "failed_left", 0);
		ctl_answer_free(&ans);
		total += n;
		if (c->tty && (left > 0 || rounds > 0))
			fprintf(stderr, "\rretry: %lld queued again, %lld "
			    "failed left   ", total, left);
		if (n == 0 || left == 0)
			break;
	}
	if (c->tty && rounds > 0)
		fputc('\n', stderr);
	if (c->format == CTL_JSON)
		printf("{\"requeued\": %lld, \"failed_left\": %lld}\n", total,
		    left);
	else
		printf("%lld failed message%s queued again\n", total,
		    total == 1 ? "" : "s");
	return 0;
}

int
ctl_user(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_answer	 ans;
	char			 form[256], phone[32];
	int			 rc;
	static const char *const roles[] = { ADMIN_ROLES };

	if (a->argc != 3 || strcmp(a->argv[0], "set") != 0) {
		ctl_err("usage: marketctl user set ROLE PHONE");
		return 2;
	}
	if (ctl_choice("ROLE", a->argv[1], roles, sizeof(roles) /
	    sizeof(roles[0])) != 0 || ctl_phone(c, "PHONE", a->argv[2], phone,
	    sizeof(phone)) != 0)
		return 2;
	form[0] = '\0';
	if (ctl_form_add(form, sizeof(form), "role", a->argv[1]) == -1 ||
	    ctl_form_add(form, sizeof(form), "msisdn", phone) == -1)
		return 2;
	if (ctl_http(c, "POST", "/admin/user", form, &ans) == -1)
		return 1;
	if (ans.code != 200) {
		rc = ctl_refused(&ans);
		ctl_answer_free(&ans);
		return rc;
	}
	if (c->format == CTL_JSON)
		fputs(ans.body, stdout);
	else {
		const char	*m = strstr(ans.body, "\"msisdn\": \"");
		const char	*e = m != NULL ? strchr(m + 11, '"') : NULL;

		printf("%.*s is now %s%s\n", e != NULL ? (int)(e - m - 11) : 0,
		    m != NULL ? m + 11 : "", a->argv[1],
		    ctl_json_true(ans.body, "created") ? " (new)" : "");
	}
	ctl_answer_free(&ans);
	return 0;
}

/* The text after "key": " in a JSON text, into dst (size bytes). */
static void
ctl_json_text(const char *json, const char *key, char *dst, size_t size)
{
	char		 pat[64];
	const char	*p, *e;

	dst[0] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	if (json == NULL || (p = strstr(json, pat)) == NULL)
		return;
	p += strlen(pat);
	if ((e = strchr(p, '"')) != NULL)
		snprintf(dst, size, "%.*s", (int)(e - p), p);
}

/*
 * agent add PHONE --point CODE, agent remove PHONE: POST /admin/agent.
 * The admin checks the phone and the point (a service point of the
 * conf) and answers after the commit.
 */
int
ctl_agent(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_answer	 ans;
	char			 form[256], msisdn[64], point[64], was[64];
	char			 moved[96] = "", phone[32];
	int			 rc, add;

	add = a->argc == 2 && strcmp(a->argv[0], "add") == 0;
	if (!(add && a->f.point != NULL) && !(a->argc == 2 &&
	    strcmp(a->argv[0], "remove") == 0 && a->f.point == NULL)) {
		ctl_err("usage: marketctl agent add PHONE --point CODE | "
		    "agent remove PHONE");
		return 2;
	}
	if (ctl_phone(c, "PHONE", a->argv[1], phone, sizeof(phone)) != 0)
		return 2;
	form[0] = '\0';
	if (ctl_form_add(form, sizeof(form), "msisdn", phone) == -1 ||
	    ctl_form_add(form, sizeof(form), add ? "point" : "remove",
	    add ? a->f.point : "1") == -1)
		return 2;
	if (ctl_http(c, "POST", "/admin/agent", form, &ans) == -1)
		return 1;
	if (ans.code != 200) {
		rc = ctl_refused(&ans);
		ctl_answer_free(&ans);
		return rc;
	}
	ctl_json_text(ans.body, "msisdn", msisdn, sizeof(msisdn));
	ctl_json_text(ans.body, "point", point, sizeof(point));
	ctl_json_text(ans.body, "point_before", was, sizeof(was));
	if (c->format == CTL_JSON)
		fputs(ans.body, stdout);
	else if (add) {
		if (was[0] != '\0' && strcmp(was, point) != 0)
			snprintf(moved, sizeof(moved), " (moved from %s)", was);
		printf("%s is an agent of %s%s%s\n", msisdn, point,
		    ctl_json_true(ans.body, "created") ? " (new)" : "", moved);
	}
	else
		printf("%s is no longer an agent of %s (%lld active member%s "
		    "left without one)\n", msisdn, point,
		    ctl_json_int(ans.body, "members", 0),
		    ctl_json_int(ans.body, "members", 0) == 1 ? "" : "s");
	ctl_answer_free(&ans);
	return 0;
}

/*
 * dispute list (lists.c), dispute close N --for buyer|seller "note": POST
 * /admin/dispute.  The daemon closes it and tells both parties, in one
 * unit of work, and answers after the commit; an unknown or closed
 * dispute is refused with the reason.
 */
int
ctl_dispute(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_answer	 ans;
	char			 form[1024], buyer[64], seller[64];
	int			 rc;

	if (a->argc >= 1 && strcmp(a->argv[0], "list") == 0) {
		if (c->store == NULL && ctl_db_open(c) == -1)
			return 1;
		return ctl_dispute_list(c, a);
	}
	if (a->argc < 2 || a->argc > 3 || strcmp(a->argv[0], "close") != 0 ||
	    a->f.side == NULL) {
		ctl_err("usage: marketctl dispute list [--state S] | dispute "
		    "close N --for buyer|seller [NOTE]");
		return 2;
	}
	if (strcmp(a->f.side, "buyer") != 0 &&
	    strcmp(a->f.side, "seller") != 0) {
		ctl_err("--for is buyer or seller: the side it is decided for");
		return 2;
	}
	form[0] = '\0';
	if (ctl_form_add(form, sizeof(form), "ref", a->argv[1]) == -1 ||
	    ctl_form_add(form, sizeof(form), "for", a->f.side) == -1 ||
	    ctl_form_add(form, sizeof(form), "note", a->argc == 3 ?
	    a->argv[2] : "") == -1) {
		ctl_err("the note is too long");
		return 2;
	}
	if (ctl_http(c, "POST", "/admin/dispute", form, &ans) == -1)
		return 1;
	if (ans.code != 200) {
		rc = ctl_refused(&ans);
		ctl_answer_free(&ans);
		return rc;
	}
	ctl_json_text(ans.body, "buyer", buyer, sizeof(buyer));
	ctl_json_text(ans.body, "seller", seller, sizeof(seller));
	if (c->format == CTL_JSON)
		fputs(ans.body, stdout);
	else
		printf("dispute %lld (order %lld) closed for the %s; told "
		    "%s and %s\n", ctl_json_int(ans.body, "dispute", 0),
		    ctl_json_int(ans.body, "order", 0), a->f.side, buyer,
		    seller);
	ctl_answer_free(&ans);
	return 0;
}

/*
 * payments [--unmatched] [--since D] [--until D]: the ledger (lists.c,
 * the database opened); payments match TRANSID ORDER: POST
 * /admin/payments/match, a suspense payment put on its order, whose
 * money state moves and whose parties are told as the provider's
 * confirmation would have done.
 */
int
ctl_payments(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_answer	 ans;
	char			 form[256], amount[32], currency[16], state[24];
	int			 rc;

	if (a->argc == 0) {
		if (c->store == NULL && ctl_db_open(c) == -1)
			return 1;
		return ctl_payments_list(c, a);
	}
	if (a->argc != 3 || strcmp(a->argv[0], "match") != 0) {
		ctl_err("usage: marketctl payments [--unmatched] [--since "
		    "DATE] [--until DATE] | payments match TRANSID ORDER");
		return 2;
	}
	form[0] = '\0';
	if (ctl_form_add(form, sizeof(form), "trans", a->argv[1]) == -1 ||
	    ctl_form_add(form, sizeof(form), "order", a->argv[2]) == -1) {
		ctl_err("the TransID or the order is too long");
		return 2;
	}
	if (ctl_http(c, "POST", "/admin/payments/match", form, &ans) == -1)
		return 1;
	if (ans.code != 200) {
		rc = ctl_refused(&ans);
		ctl_answer_free(&ans);
		return rc;
	}
	ctl_json_text(ans.body, "amount", amount, sizeof(amount));
	ctl_json_text(ans.body, "currency", currency, sizeof(currency));
	ctl_json_text(ans.body, "state", state, sizeof(state));
	if (c->format == CTL_JSON)
		fputs(ans.body, stdout);
	else
		printf("payment %s (%s %s) matched to order %lld: its money "
		    "is %s; the parties are told\n", a->argv[1], amount,
		    currency, ctl_json_int(ans.body, "order", 0), state);
	ctl_answer_free(&ans);
	return 0;
}

/* An answer's JSON object without its trailing blanks, to stdout. */
static void
ctl_json_trim(const char *body)
{
	size_t	 n = strlen(body);

	while (n > 0 && (body[n - 1] == '\n' || body[n - 1] == ' '))
		n--;
	fwrite(body, 1, n, stdout);
}

/*
 * payouts: what the operator must send (lists.c); payouts done TRANSID...
 * [--ref REF]: POST /admin/payouts/done for each, in its own unit of
 * work: the refund, payout or credit of that payment's order recorded,
 * its recipient told; a payment in suspense, with --ref, returned to its
 * payer.  --ref, the transfer's own reference, names one TransID only.
 * Each refused one is said, the others done: exit 1 if any was refused.
 * With --json, one JSON array of the answers done (the refusals on
 * stderr), [] when none was.
 */
int
ctl_payouts(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_answer	 ans;
	char			 form[256], amount[32], currency[16];
	char			 kind[16], to[64], ref[64];
	int			 i, rc = 0, shown = 0;

	if (a->argc == 0) {
		if (c->store == NULL && ctl_db_open(c) == -1)
			return 1;
		return ctl_payouts_list(c, a);
	}
	if (a->argc < 2 || strcmp(a->argv[0], "done") != 0) {
		ctl_err("usage: marketctl payouts | payouts done TRANSID... "
		    "[--ref REF]");
		return 2;
	}
	if (a->f.ref != NULL && a->argc != 2) {
		ctl_err("--ref is the reference of one transfer: name one "
		    "TransID with it");
		return 2;
	}
	for (i = 1; i < a->argc; i++) {
		form[0] = '\0';
		if (ctl_form_add(form, sizeof(form), "trans", a->argv[i]) ==
		    -1 || ctl_form_add(form, sizeof(form), "ref",
		    a->f.ref != NULL ? a->f.ref : "") == -1) {
			ctl_err("%s: too long", a->argv[i]);
			rc = 1;
			continue;
		}
		if (ctl_http(c, "POST", "/admin/payouts/done", form, &ans) ==
		    -1)
			return 1;
		if (ans.code != 200) {
			rc = ctl_refused(&ans);
			ctl_answer_free(&ans);
			continue;
		}
		ctl_json_text(ans.body, "amount", amount, sizeof(amount));
		ctl_json_text(ans.body, "currency", currency,
		    sizeof(currency));
		ctl_json_text(ans.body, "kind", kind, sizeof(kind));
		ctl_json_text(ans.body, "to", to, sizeof(to));
		ctl_json_text(ans.body, "ref", ref, sizeof(ref));
		if (c->format == CTL_JSON) {
			/* one array of the answers, not objects one after
			   the other */
			fputs(shown++ == 0 ? "[" : ",\n", stdout);
			ctl_json_trim(ans.body);
		} else if (strcmp(kind, "return") == 0)
			printf("payment %s (%s %s, in suspense) returned to "
			    "its payer %s, recorded as %s\n", a->argv[i],
			    amount, currency, to, ref);
		else
			printf("%s of %s %s for order %lld to %s recorded as "
			    "%s; %s told\n", kind, amount, currency,
			    ctl_json_int(ans.body, "order", 0), to, ref, to);
		ctl_answer_free(&ans);
	}
	if (c->format == CTL_JSON)
		fputs(shown > 0 ? "]\n" : "[]\n", stdout);
	return rc;
}

/*
 * reports [--held] (lists.c), reports approve|reject ID...: POST
 * /admin/reports once per report.  The daemon decides each in its own
 * unit of work and answers after the commit: approved, it counts on the
 * board at once; rejected, it is kept, never counted.  An unknown or
 * already decided report is refused with the reason and the others are
 * still done; exit 1 if any was refused.
 */
int
ctl_reports(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_answer	 ans;
	char			 form[256], commodity[64], market[64];
	const char		*p;
	int			 i, rc = 0, approve;

	if (a->argc == 0 || (a->argc >= 1 && strcmp(a->argv[0], "list") ==
	    0)) {
		if (c->store == NULL && ctl_db_open(c) == -1)
			return 1;
		return ctl_reports_list(c, a);
	}
	if ((strcmp(a->argv[0], "approve") != 0 &&
	    strcmp(a->argv[0], "reject") != 0) || a->argc < 2)
		goto usage;
	for (i = 1; i < a->argc; i++) {
		for (p = a->argv[i]; *p >= '0' && *p <= '9'; p++)
			;
		if (*p != '\0' || p == a->argv[i] || p - a->argv[i] > 18) {
			ctl_err("'%s' is not a report's number (marketctl "
			    "reports --held lists them)", a->argv[i]);
			goto usage;
		}
	}
	approve = strcmp(a->argv[0], "approve") == 0;
	for (i = 1; i < a->argc; i++) {
		form[0] = '\0';
		if (ctl_form_add(form, sizeof(form), "id", a->argv[i]) == -1 ||
		    ctl_form_add(form, sizeof(form), "decision", approve ?
		    "approve" : "reject") == -1)
			goto usage;
		if (ctl_http(c, "POST", "/admin/reports", form, &ans) == -1)
			return 1;
		if (ans.code != 200) {
			rc = ctl_refused(&ans);
			ctl_answer_free(&ans);
			continue;
		}
		ctl_json_text(ans.body, "commodity", commodity,
		    sizeof(commodity));
		ctl_json_text(ans.body, "market", market, sizeof(market));
		if (c->format == CTL_JSON)
			fputs(ans.body, stdout);
		else
			printf("report %s (%s at %s) %s%s\n", a->argv[i],
			    commodity, market, approve ? "approved" :
			    "rejected", approve ? ": it counts on the board" :
			    ": kept, never counted");
		ctl_answer_free(&ans);
	}
	return rc;
usage:
	ctl_err("usage: marketctl reports [--held] [--commodity C] "
	    "[--market M] | reports approve|reject ID...");
	return 2;
}
