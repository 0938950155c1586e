/*
 * smppsim.c - a small SMPP 3.4 SMSC for the USSD integration test: the
 * operator's side of an SMPP link, on loopback, that Kannel's bearerbox
 * connects to as its "smsc = smpp" client.
 *
 *	smppsim -p PORT [-u USER] [-w PASSWORD] [-t SECONDS] [-T SECONDS]
 *		[SCRIPT]
 *
 * It listens on 127.0.0.1:PORT (one connection at a time), answers
 * bind_transceiver (and bind_transmitter/receiver) when the system_id and
 * password are USER and PASSWORD, enquire_link, unbind, and every submit_sm
 * with a submit_sm_resp; anything else a client sends gets a generic_nack.
 * Meanwhile it plays SCRIPT (a file, or standard input), one command a
 * line ('#' lines and blank lines are skipped):
 *
 *	wait-bind			until a client has bound
 *	mo FROM TO OP SESSION END TEXT	a deliver_sm: the phone FROM (TON
 *					international) to the service code TO,
 *					with the TLVs ussd_service_op = OP and
 *					its_session_info = SESSION, END (the end
 *					bit); TEXT (may be empty) as
 *					short_message.  Waits for its
 *					deliver_sm_resp, which must be OK
 *					(offered again after a temporary
 *					error, within the step's time).
 *	expect OP ITS TEXT		the next submit_sm carrying
 *					ussd_service_op must have that op (two
 *					hex digits), its_session_info ITS (four
 *					hex digits) and TEXT ("\n" is a newline)
 *	quiet SECONDS			no submit_sm carrying ussd_service_op
 *					comes for SECONDS
 *	sleep SECONDS
 *
 * Every PDU in and out is printed on standard output, one line each
 * (submit_sm with its TLVs and decoded text).  Every wait is bounded: -t
 * for one step (default 10 s), -T for the whole run (default 120 s).
 * Exits 0 when every step passed, 1 when one failed (the line says why),
 * 2 on a usage or network error.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SIM_PDU_MAX		65536	/* bytes of one PDU we accept */
#define SIM_SUBMITS		1024	/* submit_sm remembered */
#define SIM_TEXT		2048

#define BIND_RECEIVER		0x00000001u
#define BIND_TRANSMITTER	0x00000002u
#define SUBMIT_SM		0x00000004u
#define DELIVER_SM		0x00000005u
#define UNBIND			0x00000006u
#define BIND_TRANSCEIVER	0x00000009u
#define ENQUIRE_LINK		0x00000015u
#define GENERIC_NACK		0x80000000u
#define RESP			0x80000000u

#define TLV_USSD_SERVICE_OP	0x0501
#define TLV_ITS_SESSION_INFO	0x1383

struct sim_submit {
	char		 from[32], to[32];
	int		 op;		/* -1: no ussd_service_op */
	int		 its;		/* two bytes, -1: none */
	int		 dcs;
	char		 text[SIM_TEXT];
	int		 used;
};

static int		 listen_fd = -1, conn_fd = -1;
static int		 bound;
static uint32_t		 next_seq = 1;
static unsigned char	 inbuf[SIM_PDU_MAX + 16];
static size_t		 inlen;
static struct sim_submit submits[SIM_SUBMITS];
static size_t		 nsubmits;
static double		 deadline, step_timeout = 10;
static const char	*sim_user = "marketbox", *sim_password = "secret";
static uint32_t		 resp_seq;	/* the deliver_sm_resp awaited */
static long		 resp_status = -1;

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
say(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* text, escaped for one output line: \n, \\, other controls as \xHH. */
static const char *
escape(const char *s, char *buf, size_t size)
{
	size_t	 o = 0;

	for (; *s != '\0' && o + 5 < size; s++) {
		unsigned char	 c = (unsigned char)*s;

		if (c == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (c == '\\') {
			buf[o++] = '\\';
			buf[o++] = '\\';
		} else if (c < ' ')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02X", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/* The script's text: "\n" is a newline, "\\" a backslash. */
static void
unescape(const char *s, char *out, size_t size)
{
	size_t	 o = 0;

	for (; *s != '\0' && o + 1 < size; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			out[o++] = '\n';
			s++;
		} else if (s[0] == '\\' && s[1] == '\\') {
			out[o++] = '\\';
			s++;
		} else
			out[o++] = *s;
	}
	out[o] = '\0';
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
drop_connection(const char *why)
{
	if (conn_fd == -1)
		return;
	say("closed %s", why);
	close(conn_fd);
	conn_fd = -1;
	bound = 0;
	inlen = 0;
}

/* Write one PDU, whole (loopback: a short blocking write).  0 or -1. */
static int
send_pdu(uint32_t id, uint32_t status, uint32_t seq, const unsigned char *body,
    size_t len)
{
	unsigned char	 buf[SIM_PDU_MAX];
	size_t		 off = 0;
	ssize_t		 n;

	if (conn_fd == -1 || len + 16 > sizeof(buf))
		return -1;
	put32(buf, (uint32_t)(len + 16));
	put32(buf + 4, id);
	put32(buf + 8, status);
	put32(buf + 12, seq);
	if (len > 0)
		memcpy(buf + 16, body, len);
	while (off < len + 16) {
		n = write(conn_fd, buf + off, len + 16 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			drop_connection("on a write error");
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* A C-octet string at *p of the body (end e): copied into out. 0 or -1. */
static int
cstring(const unsigned char **p, const unsigned char *e, char *out,
    size_t size)
{
	size_t	 i = 0;

	while (*p < e && **p != '\0') {
		if (i + 1 < size)
			out[i++] = (char)**p;
		(*p)++;
	}
	out[i] = '\0';
	if (*p >= e)
		return -1;
	(*p)++;
	return 0;
}

/* Append the UTF-8 of code point cp. */
static size_t
utf8_put(char *out, size_t o, size_t size, unsigned long cp)
{
	if (cp < 0x80 && o + 1 < size)
		out[o++] = (char)cp;
	else if (cp < 0x800 && o + 2 < size) {
		out[o++] = (char)(0xC0 | cp >> 6);
		out[o++] = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000 && o + 3 < size) {
		out[o++] = (char)(0xE0 | cp >> 12);
		out[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[o++] = (char)(0x80 | (cp & 0x3F));
	}
	return o;
}

/*
 * The short_message as UTF-8: data_coding 8 is UCS-2 (UTF-16BE); else the
 * GSM 03.38 default alphabet, one septet a byte (what Kannel sends), of
 * which the characters the tests use are decoded.
 */
static void
decode_text(const unsigned char *sm, size_t len, int dcs, char *out,
    size_t size)
{
	static const unsigned long gsm[128] = {
		'@', 0xA3, '$', 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7,
		'\n', 0xD8, 0xF8, '\r', 0xC5, 0xE5, 0x394, '_', 0x3A6, 0x393,
		0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0x1B, 0xC6,
		0xE6, 0xDF, 0xC9, ' ', '!', '"', '#', 0xA4, '%', '&', '\'',
		'(', ')', '*', '+', ',', '-', '.', '/', '0', '1', '2', '3',
		'4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
		0xA1, 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K',
		'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W',
		'X', 'Y', 'Z', 0xC4, 0xD6, 0xD1, 0xDC, 0xA7, 0xBF, 'a', 'b',
		'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n',
		'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z',
		0xE4, 0xF6, 0xF1, 0xFC, 0xE0,
	};
	size_t	 i, o = 0;

	if (dcs == 8) {
		for (i = 0; i + 1 < len; i += 2)
			o = utf8_put(out, o, size,
			    (unsigned long)sm[i] << 8 | sm[i + 1]);
	} else {
		for (i = 0; i < len; i++) {
			unsigned long	 cp = gsm[sm[i] & 0x7F];

			if (sm[i] == 0x1B && i + 1 < len) {
				switch (sm[++i]) {
				case 0x28: cp = '{'; break;
				case 0x29: cp = '}'; break;
				case 0x2F: cp = '\\'; break;
				case 0x3C: cp = '['; break;
				case 0x3D: cp = '~'; break;
				case 0x3E: cp = ']'; break;
				case 0x40: cp = '|'; break;
				case 0x14: cp = '^'; break;
				case 0x65: cp = 0x20AC; break;
				default: cp = '?'; break;
				}
			}
			o = utf8_put(out, o, size, cp);
		}
	}
	out[o] = '\0';
}

static void
handle_bind(uint32_t id, uint32_t seq, const unsigned char *b, size_t len)
{
	const unsigned char	*p = b, *e = b + len;
	char			 sysid[32], password[32];
	unsigned char		 body[32];
	size_t			 n;
	uint32_t		 status = 0;

	if (cstring(&p, e, sysid, sizeof(sysid)) == -1 ||
	    cstring(&p, e, password, sizeof(password)) == -1)
		status = 0x0000000Du;		/* ESME_RBINDFAIL */
	else if (strcmp(sysid, sim_user) != 0)
		status = 0x0000000Fu;		/* ESME_RINVSYSID */
	else if (strcmp(password, sim_password) != 0)
		status = 0x0000000Eu;		/* ESME_RINVPASWD */
	n = (size_t)snprintf((char *)body, sizeof(body), "smppsim") + 1;
	/* sc_interface_version 3.4 */
	body[n++] = 0x02;
	body[n++] = 0x10;
	body[n++] = 0x00;
	body[n++] = 0x01;
	body[n++] = 0x34;
	say("bind id=0x%08X system_id=%s status=0x%08X", id,
	    status == 0x0000000Du ? "?" : sysid, status);
	send_pdu(id | RESP, status, seq, body, n);
	bound = status == 0;
}

static void
handle_submit(uint32_t seq, const unsigned char *b, size_t len)
{
	const unsigned char	*p = b, *e = b + len;
	struct sim_submit	 s;
	char			 skip[32], esc[SIM_TEXT * 2];
	unsigned char		 body[32];
	size_t			 smlen, n;
	uint32_t		 status = 0;

	memset(&s, 0, sizeof(s));
	s.op = s.its = -1;
	if (cstring(&p, e, skip, sizeof(skip)) == -1 || e - p < 2)
		goto bad;
	p += 2;						/* ton, npi */
	if (cstring(&p, e, s.from, sizeof(s.from)) == -1 || e - p < 2)
		goto bad;
	p += 2;
	if (cstring(&p, e, s.to, sizeof(s.to)) == -1 || e - p < 3)
		goto bad;
	p += 3;				/* esm_class, protocol_id, priority */
	if (cstring(&p, e, skip, sizeof(skip)) == -1 ||
	    cstring(&p, e, skip, sizeof(skip)) == -1 || e - p < 5)
		goto bad;
	s.dcs = p[2];		/* registered_delivery, replace_if_present */
	smlen = p[4];
	p += 5;
	if ((size_t)(e - p) < smlen)
		goto bad;
	decode_text(p, smlen, s.dcs, s.text, sizeof(s.text));
	p += smlen;
	while (e - p >= 4) {
		unsigned	 tag = (unsigned)p[0] << 8 | p[1];
		size_t		 tl = (size_t)p[2] << 8 | p[3];

		p += 4;
		if ((size_t)(e - p) < tl)
			goto bad;
		if (tag == TLV_USSD_SERVICE_OP && tl == 1)
			s.op = p[0];
		else if (tag == TLV_ITS_SESSION_INFO && tl == 2)
			s.its = p[0] << 8 | p[1];
		else
			say("submit_sm tlv 0x%04X of %zu bytes", tag, tl);
		p += tl;
	}
	if (nsubmits < SIM_SUBMITS)
		submits[nsubmits++] = s;
	if (s.op >= 0)
		say("submit_sm seq=%u from=%s to=%s op=%02X its=%04X dcs=%d "
		    "text=%s", seq, s.from, s.to, s.op, s.its < 0 ? 0 : s.its,
		    s.dcs, escape(s.text, esc, sizeof(esc)));
	else
		say("submit_sm seq=%u from=%s to=%s op=- dcs=%d text=%s", seq,
		    s.from, s.to, s.dcs, escape(s.text, esc, sizeof(esc)));
	n = (size_t)snprintf((char *)body, sizeof(body), "sim%zu",
	    nsubmits) + 1;
	send_pdu(SUBMIT_SM | RESP, status, seq, body, n);
	return;
bad:
	say("submit_sm seq=%u malformed", seq);
	send_pdu(SUBMIT_SM | RESP, 0x00000001u, seq, NULL, 0);
}

static void
handle_pdu(uint32_t id, uint32_t status, uint32_t seq,
    const unsigned char *body, size_t len)
{
	switch (id) {
	case BIND_TRANSCEIVER:
	case BIND_TRANSMITTER:
	case BIND_RECEIVER:
		handle_bind(id, seq, body, len);
		break;
	case ENQUIRE_LINK:
		send_pdu(ENQUIRE_LINK | RESP, 0, seq, NULL, 0);
		break;
	case ENQUIRE_LINK | RESP:
		break;
	case UNBIND:
		say("unbind");
		send_pdu(UNBIND | RESP, 0, seq, NULL, 0);
		drop_connection("after unbind");
		break;
	case SUBMIT_SM:
		if (!bound) {
			send_pdu(SUBMIT_SM | RESP, 0x00000004u, seq, NULL, 0);
			break;
		}
		handle_submit(seq, body, len);
		break;
	case DELIVER_SM | RESP:
		say("deliver_sm_resp seq=%u status=0x%08X", seq, status);
		if (seq == resp_seq)
			resp_status = (long)status;
		break;
	case GENERIC_NACK:
		say("generic_nack seq=%u status=0x%08X", seq, status);
		break;
	default:
		say("pdu 0x%08X seq=%u: answered generic_nack", id, seq);
		if (!(id & RESP))
			send_pdu(GENERIC_NACK, 0x00000003u, seq, NULL, 0);
		break;
	}
}

/* Take the whole PDUs read so far. */
static void
parse_input(void)
{
	size_t	 off = 0;

	while (inlen - off >= 16) {
		uint32_t	 len = get32(inbuf + off);

		if (len < 16 || len > SIM_PDU_MAX) {
			drop_connection("on a bad PDU length");
			return;
		}
		if (inlen - off < len)
			break;
		handle_pdu(get32(inbuf + off + 4), get32(inbuf + off + 8),
		    get32(inbuf + off + 12), inbuf + off + 16, len - 16);
		if (conn_fd == -1)
			return;
		off += len;
	}
	memmove(inbuf, inbuf + off, inlen - off);
	inlen -= off;
}

/*
 * Serve the link until done(arg) says so (1), or until `until` or the
 * run's deadline passes (0).
 */
static int
pump(double until, int (*done)(void *), void *arg)
{
	struct pollfd	 pfd;
	double		 t;
	ssize_t		 n;
	int		 fd;

	for (;;) {
		if (done != NULL && done(arg))
			return 1;
		t = now();
		if (t >= until || t >= deadline)
			return 0;
		if (until > deadline)
			until = deadline;
		pfd.fd = conn_fd != -1 ? conn_fd : listen_fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, (int)((until - t) * 1000) + 1) <= 0)
			continue;
		if (conn_fd == -1) {
			if ((fd = accept(listen_fd, NULL, NULL)) == -1)
				continue;
			conn_fd = fd;
			say("connected");
			continue;
		}
		n = read(conn_fd, inbuf + inlen, sizeof(inbuf) - inlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			drop_connection(n == 0 ? "by the client" :
			    "on a read error");
			continue;
		}
		inlen += (size_t)n;
		parse_input();
	}
}

static int
is_bound(void *arg)
{
	(void)arg;
	return bound;
}

static int
got_resp(void *arg)
{
	(void)arg;
	return resp_status != -1;
}

/* The first USSD submit_sm not yet expected, or NULL. */
static struct sim_submit *
next_ussd(void)
{
	size_t	 i;

	for (i = 0; i < nsubmits; i++)
		if (!submits[i].used && submits[i].op >= 0)
			return &submits[i];
	return NULL;
}

static int
has_ussd(void *arg)
{
	(void)arg;
	return next_ussd() != NULL;
}

/* mo FROM TO OP SESSION END [TEXT] */
static int
step_mo(char *args)
{
	char		 from[32], to[32], esc[SIM_TEXT * 2];
	unsigned	 op, session, end;
	int		 used = 0;
	unsigned char	 body[512];
	const char	*text;
	size_t		 n = 0, tl;
	double		 until = now() + step_timeout;

	if (sscanf(args, "%31s %31s %x %x %u %n", from, to, &op, &session,
	    &end, &used) < 5 || op > 255 || session > 255 || end > 1) {
		say("FAIL bad mo step: %s", args);
		return -1;
	}
	text = used > 0 ? args + used : "";
	tl = strlen(text);
	if (tl > 160) {
		say("FAIL mo text longer than 160 bytes");
		return -1;
	}
	if (!bound) {
		say("FAIL mo: no client bound");
		return -1;
	}
	body[n++] = '\0';				/* service_type */
	body[n++] = 1;					/* international */
	body[n++] = 1;					/* E.164 */
	n += (size_t)snprintf((char *)body + n, 22, "%s",
	    from[0] == '+' ? from + 1 : from) + 1;
	body[n++] = 0;
	body[n++] = 0;
	n += (size_t)snprintf((char *)body + n, 22, "%s", to) + 1;
	body[n++] = 0;		/* esm_class */
	body[n++] = 0;		/* protocol_id */
	body[n++] = 0;		/* priority_flag */
	body[n++] = '\0';	/* schedule_delivery_time */
	body[n++] = '\0';	/* validity_period */
	body[n++] = 0;		/* registered_delivery */
	body[n++] = 0;		/* replace_if_present_flag */
	body[n++] = 0;		/* data_coding: SMSC default (GSM) */
	body[n++] = 0;		/* sm_default_msg_id */
	body[n++] = (unsigned char)tl;
	memcpy(body + n, text, tl);
	n += tl;
	body[n++] = TLV_USSD_SERVICE_OP >> 8;
	body[n++] = TLV_USSD_SERVICE_OP & 0xff;
	body[n++] = 0;
	body[n++] = 1;
	body[n++] = (unsigned char)op;
	body[n++] = TLV_ITS_SESSION_INFO >> 8;
	body[n++] = TLV_ITS_SESSION_INFO & 0xff;
	body[n++] = 0;
	body[n++] = 2;
	body[n++] = (unsigned char)session;
	body[n++] = (unsigned char)end;
	/*
	 * Offered again, as an SMSC does, while the answer is a temporary
	 * error (bearerbox starting up answers ESME_RX_T_APPN).
	 */
	for (;;) {
		resp_seq = next_seq++;
		resp_status = -1;
		say("deliver_sm seq=%u from=%s to=%s op=%02X its=%02X%02X "
		    "text=%s", resp_seq, from, to, op, session, end,
		    escape(text, esc, sizeof(esc)));
		if (send_pdu(DELIVER_SM, 0, resp_seq, body, n) == -1) {
			say("FAIL mo: cannot send");
			return -1;
		}
		if (!pump(until, got_resp, NULL)) {
			say("FAIL mo: no deliver_sm_resp within %g s",
			    step_timeout);
			return -1;
		}
		if (resp_status == 0)
			return 0;
		if ((resp_status != 0x64 && resp_status != 0x58 &&
		    resp_status != 0x14 && resp_status != 0x08) ||
		    now() + 0.5 >= until) {
			say("FAIL mo: deliver_sm_resp status 0x%08lX",
			    resp_status);
			return -1;
		}
		pump(now() + 0.5, NULL, NULL);
	}
}

/* expect OP ITS TEXT */
static int
step_expect(char *args)
{
	struct sim_submit	*s;
	char			 want[SIM_TEXT], e1[SIM_TEXT * 2], e2[SIM_TEXT * 2];
	unsigned		 op, its;
	int			 used = 0;

	if (sscanf(args, "%x %x %n", &op, &its, &used) < 2) {
		say("FAIL bad expect step: %s", args);
		return -1;
	}
	unescape(used > 0 ? args + used : "", want, sizeof(want));
	if (!pump(now() + step_timeout, has_ussd, NULL)) {
		say("FAIL expect op=%02X its=%04X text=%s: no USSD submit_sm "
		    "within %g s", op, its, escape(want, e1, sizeof(e1)),
		    step_timeout);
		return -1;
	}
	s = next_ussd();
	s->used = 1;
	if ((unsigned)s->op != op || (unsigned)s->its != its ||
	    strcmp(s->text, want) != 0) {
		say("FAIL expect op=%02X its=%04X text=%s", op, its,
		    escape(want, e1, sizeof(e1)));
		say("FAIL   got op=%02X its=%04X text=%s", s->op,
		    s->its < 0 ? 0 : s->its, escape(s->text, e2, sizeof(e2)));
		return -1;
	}
	say("ok expect op=%02X its=%04X", op, its);
	return 0;
}

static int
run_script(FILE *fp)
{
	char	 line[4096];
	long	 lineno = 0;

	while (fgets(line, sizeof(line), fp) != NULL) {
		char	*cmd = line, *args;
		size_t	 len = strlen(line);

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		while (*cmd == ' ' || *cmd == '\t')
			cmd++;
		if (*cmd == '\0' || *cmd == '#')
			continue;
		args = cmd + strcspn(cmd, " \t");
		if (*args != '\0')
			*args++ = '\0';
		if (strcmp(cmd, "wait-bind") == 0) {
			double	 secs = *args ? atof(args) : step_timeout;

			if (!pump(now() + secs, is_bound, NULL)) {
				say("FAIL line %ld: no bind within %g s",
				    lineno, secs);
				return -1;
			}
		} else if (strcmp(cmd, "mo") == 0) {
			if (step_mo(args) == -1)
				return -1;
		} else if (strcmp(cmd, "expect") == 0) {
			if (step_expect(args) == -1)
				return -1;
		} else if (strcmp(cmd, "quiet") == 0) {
			pump(now() + atof(args), has_ussd, NULL);
			if (next_ussd() != NULL) {
				say("FAIL line %ld: a USSD submit_sm came: %s",
				    lineno, next_ussd()->text);
				return -1;
			}
		} else if (strcmp(cmd, "sleep") == 0) {
			pump(now() + atof(args), NULL, NULL);
		} else {
			say("FAIL line %ld: unknown step '%s'", lineno, cmd);
			return -1;
		}
	}
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: smppsim -p PORT [-u USER] [-w PASSWORD] "
	    "[-t STEP-SECONDS] [-T RUN-SECONDS] [SCRIPT]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sin;
	FILE			*fp = stdin;
	double			 total = 120;
	int			 ch, port = 0, one = 1, rc;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "p:u:w:t:T:")) != -1) {
		switch (ch) {
		case 'p':
			port = atoi(optarg);
			break;
		case 'u':
			sim_user = optarg;
			break;
		case 'w':
			sim_password = optarg;
			break;
		case 't':
			step_timeout = atof(optarg);
			break;
		case 'T':
			total = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (port <= 0 || port > 65535 || argc - optind > 1 ||
	    step_timeout <= 0 || total <= 0)
		usage();
	if (argc - optind == 1 && (fp = fopen(argv[optind], "r")) == NULL) {
		perror(argv[optind]);
		return 2;
	}
	deadline = now() + total;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);	/* loopback only */
	if ((listen_fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1 ||
	    bind(listen_fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(listen_fd, 4) == -1) {
		perror("smppsim: 127.0.0.1");
		return 2;
	}
	say("listening on 127.0.0.1:%d", port);
	rc = run_script(fp);
	if (fp != stdin)
		fclose(fp);
	/* Part as an SMSC does: unbind, then close. */
	if (conn_fd != -1 && bound) {
		send_pdu(UNBIND, 0, next_seq++, NULL, 0);
		pump(now() + 1, NULL, NULL);
	}
	drop_connection("at the end");
	close(listen_fd);
	say(rc == 0 ? "passed" : "failed");
	return rc == 0 ? 0 : 1;
}
