/*
 * box_frame.c - the frames of the bearerbox link: the 4-byte big-endian
 * length and the bytes of libgw's msg_pack(), written and read.
 *
 * What arrives is checked field by field, with the field lists of Kannel's
 * gw/msg-decl.h, before msg_unpack() sees it, because libgw panics on an
 * unknown message type and trusts string lengths.  The hot frames (the
 * acks we send for MOs and DLRs, the sms of every MT, bearerbox's acks for
 * MTs and its sms, MOs and DLRs) are packed and unpacked here without a
 * Msg: msg_create(), which msg_unpack() calls too, reads /dev/urandom for
 * every UUID field of every message kind.  Only the rare kinds (admin,
 * heartbeat, wdp) still go through a Msg.
 *
 * This file knows bytes and Kannel's message layout only: no connection,
 * no state, no store.  box.c owns the link (connecting, identify, the
 * acks' contract, reconnect) and calls these through box.h; box_int.h
 * holds the little they share besides.  tests/unit/link/test_box.c
 * checks every byte against libgw's own msg_pack() and msg_unpack().
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/util.h>

#include "base/gw.h"
#include "gw/msg.h"

#include "link/box.h"
#include "link/box_int.h"
#include "text/gsm.h"
#include "queue/outbox.h"
#include "base/urlcode.h"

#define BOX_ACK_BODY		(4 * 4 + UUID_STR_LEN)	/* an ack: type,
						   nack, time, id length,
						   id */
#define BOX_SMS_BUF_MIN		512		/* first size of a box_sms's
						   buffer */

/* ------------------------------------------------------------------------
 * Framing, and the check of every field before libgw reads it.
 */

long
box_frame_decode32(const unsigned char *p)
{
	uint32_t	u;

	u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
	/* As libgw reads it: a signed 32-bit value (two's complement). */
	return u > INT32_MAX ? -(long)(~u) - 1 : (long)u;
}

/* Take one 32-bit integer at *off; -1 if the bytes run out. */
static int
box_frame_check_int(const unsigned char *p, size_t len, size_t *off,
    long *value)
{
	if (len - *off < 4)
		return -1;
	if (value != NULL)
		*value = box_frame_decode32(p + *off);
	*off += 4;
	return 0;
}

/* An OCTSTR field: data NULL is absent (packed as length -1). */
struct box_str {
	const void	*data;
	size_t		 len;
};

/*
 * Take one string at *off: -1 (NULL) or a length that fits in what is
 * left.  want >= 0 demands that exact length (a UUID's text).  With str
 * not NULL, *str is set to the string's bytes in p (data NULL: absent).
 */
static int
box_frame_check_str(const unsigned char *p, size_t len, size_t *off,
    long want, struct box_str *str)
{
	long	n;

	if (box_frame_check_int(p, len, off, &n) == -1)
		return -1;
	if (want >= 0 && n != want)
		return -1;
	if (n == -1) {
		if (str != NULL) {
			str->data = NULL;
			str->len = 0;
		}
		return 0;
	}
	if (n < 0 || (size_t)n > len - *off)
		return -1;
	if (str != NULL) {
		str->data = p + *off;
		str->len = (size_t)n;
	}
	*off += (size_t)n;
	return 0;
}

/*
 * Walk the packed bytes the way msg_unpack() will, with the same field
 * list (gw/msg-decl.h), checking every length before libgw reads it.
 * Trailing bytes are allowed, as msg_unpack() allows them.
 */
static int
box_frame_check(const unsigned char *p, size_t len)
{
	size_t	off = 0;
	long	kind;

	if (box_frame_check_int(p, len, &off, &kind) == -1)
		return -1;
	switch (kind) {
#define INTEGER(name) \
		if (box_frame_check_int(p, len, &off, NULL) == -1) \
			return -1;
#define OCTSTR(name) \
		if (box_frame_check_str(p, len, &off, -1, NULL) == -1) \
			return -1;
#define UUID(name) \
		if (box_frame_check_str(p, len, &off, UUID_STR_LEN, \
		    NULL) == -1) \
			return -1;
#define VOID(name)
#define MSG(type, fields) \
	case type: \
		fields \
		break;
#include "gw/msg-decl.h"
	default:
		return -1;
	}
	return 0;
}

int
box_frame_write(struct evbuffer *out, void *msg)
{
	Msg		*m = msg;
	Octstr		*os;
	unsigned char	 hdr[BOX_HEADER];
	long		 n;
	int		 rc = 0;

	/* msg_pack() panics on a type it does not know. */
	if (out == NULL || m == NULL || (int)m->type < 0 ||
	    (int)m->type >= (int)msg_type_count)
		return -1;
	os = msg_pack(m);
	n = octstr_len(os);
	if (n <= 0 || n > INT32_MAX) {
		octstr_destroy(os);
		return -1;
	}
	hdr[0] = (unsigned char)(n >> 24);
	hdr[1] = (unsigned char)(n >> 16);
	hdr[2] = (unsigned char)(n >> 8);
	hdr[3] = (unsigned char)n;
	if (evbuffer_expand(out, BOX_HEADER + (size_t)n) == -1 ||
	    evbuffer_add(out, hdr, sizeof(hdr)) == -1 ||
	    evbuffer_add(out, octstr_get_cstr(os), (size_t)n) == -1)
		rc = -1;
	octstr_destroy(os);
	return rc;
}

/*
 * The frame at the head of in, its length checked against max and its
 * fields walked by box_frame_check(): 1 with *body and *len set (the
 * bytes stay in in, pulled up, until the caller drains BOX_HEADER + *len),
 * 0 when more bytes are needed, -1 when the frame is bad.
 */
static int
box_frame_peek(struct evbuffer *in, size_t max, const unsigned char **body,
    size_t *len)
{
	unsigned char	 hdr[BOX_HEADER], *p;
	long		 n;

	if (evbuffer_get_length(in) < BOX_HEADER)
		return 0;
	if (evbuffer_copyout(in, hdr, sizeof(hdr)) != (ev_ssize_t)sizeof(hdr))
		return -1;
	n = box_frame_decode32(hdr);
	/* The smallest message is a type and one integer. */
	if (n < 8 || (size_t)n > max)
		return -1;
	if (evbuffer_get_length(in) < BOX_HEADER + (size_t)n)
		return 0;
	if ((p = evbuffer_pullup(in, BOX_HEADER + (ev_ssize_t)n)) == NULL)
		return -1;
	p += BOX_HEADER;
	if (box_frame_check(p, (size_t)n) == -1)
		return -1;
	*body = p;
	*len = (size_t)n;
	return 1;
}

/* msg_unpack() the checked frame body; drains the frame on success. */
static int
box_frame_unpack(struct evbuffer *in, const unsigned char *p, size_t n,
    void **msg)
{
	Octstr	*os;
	Msg	*m;

	os = octstr_create_from_data((const char *)p, (long)n);
	m = msg_unpack(os);
	octstr_destroy(os);
	if (m == NULL)
		return -1;
	evbuffer_drain(in, BOX_HEADER + n);
	*msg = m;
	return 1;
}

int
box_frame_read(struct evbuffer *in, size_t max, void **msg)
{
	const unsigned char	*p;
	size_t			 n;
	int			 r;

	*msg = NULL;
	if ((r = box_frame_peek(in, max, &p, &n)) != 1)
		return r;
	return box_frame_unpack(in, p, n, msg);
}

/*
 * marketbox's own packing of the frames it sends most: an ack for every
 * MO and DLR, an sms for every MT.  msg_create() gives every UUID of every
 * message kind a fresh uuid_generate() (a read(2) of /dev/urandom each),
 * which cost more than the rest of the frame; these build the same bytes
 * as msg_pack() straight into the output buffer.
 *
 * The field lists come from gw/msg-decl.h, as box_frame_check's do: one
 * struct per message kind (box_wire_<kind>), a function that sets its
 * fields to what msg_create() sets (integers MSG_PARAM_UNDEFINED, strings
 * absent), one that sizes it, one that appends it as a frame and one that
 * reads it back from a frame's body (box_wire_get_<kind>, for the sms
 * frames bearerbox sends).  The functions are static inline so that the
 * kinds not packed here do not count as unused.  tests/unit/link/test_box.c
 * compares every byte with msg_pack(), and every field read with
 * msg_unpack().
 */

#define INTEGER(name)		long name;
#define OCTSTR(name)		struct box_str name;
#define UUID(name)		char name[UUID_STR_LEN + 1];
#define VOID(name)
#define MSG(type, fields)	struct box_wire_##type fields;
#include "gw/msg-decl.h"

/*
 * Where msg_create() draws a fresh UUID, the nil UUID stands in: the
 * caller sets every id it sends.
 */
#define BOX_UUID_NIL		"00000000-0000-0000-0000-000000000000"
#define INTEGER(name)		w->name = MSG_PARAM_UNDEFINED;
#define OCTSTR(name)		w->name.data = NULL; w->name.len = 0;
#define UUID(name)		memcpy(w->name, BOX_UUID_NIL, \
				    sizeof(BOX_UUID_NIL));
#define VOID(name)
#define MSG(type, fields)						\
static inline void							\
box_wire_init_##type(struct box_wire_##type *w)				\
{									\
	fields								\
}
#include "gw/msg-decl.h"

/* Bytes of the packed message, without the frame's length prefix. */
#define INTEGER(name)		n += 4;
#define OCTSTR(name)		n += 4 + (w->name.data != NULL ? \
				    w->name.len : 0);
#define UUID(name)		n += 4 + UUID_STR_LEN;
#define VOID(name)
#define MSG(type, fields)						\
static inline size_t							\
box_wire_size_##type(const struct box_wire_##type *w)			\
{									\
	size_t	n = 4;		/* the type */				\
									\
	(void)w;		/* kinds without strings */		\
	fields								\
	return n;							\
}
#include "gw/msg-decl.h"

/* As libgw's encode_network_long(): the low 32 bits, big-endian. */
static unsigned char *
box_wire_put_int(unsigned char *p, long value)
{
	uint32_t	u = (uint32_t)value;

	p[0] = (unsigned char)(u >> 24);
	p[1] = (unsigned char)(u >> 16);
	p[2] = (unsigned char)(u >> 8);
	p[3] = (unsigned char)u;
	return p + 4;
}

static unsigned char *
box_wire_put_str(unsigned char *p, const void *data, size_t len)
{
	if (data == NULL)
		return box_wire_put_int(p, -1);
	p = box_wire_put_int(p, (long)len);
	if (len > 0)
		memcpy(p, data, len);
	return p + len;
}

/*
 * Append w as one frame (length prefix, type, fields) to out, in one
 * contiguous piece of its buffer.  0, or -1 with out unchanged.
 */
#define INTEGER(name)		p = box_wire_put_int(p, w->name);
#define OCTSTR(name)		p = box_wire_put_str(p, w->name.data, \
				    w->name.len);
#define UUID(name)		p = box_wire_put_str(p, w->name, UUID_STR_LEN);
#define VOID(name)
#define MSG(type, fields)						\
static inline int							\
box_wire_add_##type(struct evbuffer *out,				\
    const struct box_wire_##type *w)					\
{									\
	struct evbuffer_iovec	 v;					\
	unsigned char		*p;					\
	size_t			 n;					\
									\
	n = box_wire_size_##type(w);					\
	if (n > INT32_MAX || evbuffer_reserve_space(out,		\
	    (ev_ssize_t)(BOX_HEADER + n), &v, 1) != 1)			\
		return -1;						\
	p = v.iov_base;							\
	p = box_wire_put_int(p, (long)n);				\
	p = box_wire_put_int(p, type);					\
	fields								\
	v.iov_len = BOX_HEADER + n;					\
	return evbuffer_commit_space(out, &v, 1);			\
}
#include "gw/msg-decl.h"

/*
 * Read w from a message's packed bytes p (n of them, from the type on) as
 * msg_unpack() reads them: integers as libgw decodes them, strings as
 * views into p (data NULL: absent), a UUID as its 36 characters of text,
 * NUL-terminated but not parsed (the caller does that).  0, or -1 when p
 * is not of this kind or a field runs past n.  Bytes after the last field
 * are ignored, as msg_unpack() ignores them.
 */
#define INTEGER(name)							\
	if (box_frame_check_int(p, n, &off, &w->name) == -1)		\
		return -1;
#define OCTSTR(name)							\
	if (box_frame_check_str(p, n, &off, -1, &w->name) == -1)	\
		return -1;
#define UUID(name)							\
	if (box_frame_check_str(p, n, &off, UUID_STR_LEN, &uuid) == -1)	\
		return -1;						\
	memcpy(w->name, uuid.data, UUID_STR_LEN);			\
	w->name[UUID_STR_LEN] = '\0';
#define VOID(name)
#define MSG(type, fields)						\
static inline int							\
box_wire_get_##type(const unsigned char *p, size_t n,			\
    struct box_wire_##type *w)						\
{									\
	struct box_str	uuid;						\
	size_t		off = 0;					\
	long		kind;						\
									\
	(void)uuid;		/* kinds without a UUID */		\
	if (box_frame_check_int(p, n, &off, &kind) == -1 ||		\
	    kind != type)						\
		return -1;						\
	fields								\
	return 0;							\
}
#include "gw/msg-decl.h"

/* Where a uuid's text has its dashes (libgw's form: 8-4-4-4-12). */
static int
box_uuid_dash(size_t i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

void
box_uuid_unparse(const unsigned char id[16], char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, b = 0;

	for (i = 0; i < UUID_STR_LEN; i++) {
		if (box_uuid_dash(i)) {
			out[i] = '-';
			continue;
		}
		out[i++] = hex[id[b] >> 4];
		out[i] = hex[id[b++] & 0x0F];
	}
	out[UUID_STR_LEN] = '\0';
}

int
box_uuid_parse(const char *text, unsigned char id[16])
{
	unsigned char	out[16];
	size_t		i, b = 0;
	int		hi, lo;

	if (text == NULL)
		return -1;
	for (i = 0; i < UUID_STR_LEN; i++) {
		if (box_uuid_dash(i)) {
			if (text[i] != '-')
				return -1;
			continue;
		}
		/* a NUL is no digit: a short text stops here */
		if ((hi = urlcode_hexval((unsigned char)text[i])) == -1 ||
		    (lo = urlcode_hexval((unsigned char)text[i + 1])) == -1)
			return -1;
		out[b++] = (unsigned char)(hi << 4 | lo);
		i++;
	}
	if (text[UUID_STR_LEN] != '\0')
		return -1;
	memcpy(id, out, sizeof(out));
	return 0;
}

int
box_frame_write_ack(struct evbuffer *out, long nack, long time_,
    const unsigned char id[16])
{
	struct box_wire_ack	w;

	if (out == NULL || id == NULL)
		return -1;
	box_wire_init_ack(&w);
	w.nack = nack;
	w.time = time_;
	box_uuid_unparse(id, w.id);
	return box_wire_add_ack(out, &w);
}

/* A NUL-terminated string as an OCTSTR field; NULL stays absent. */
static struct box_str
box_wire_cstr(const char *s)
{
	struct box_str	str;

	str.data = s;
	str.len = s != NULL ? strlen(s) : 0;
	return str;
}

int
box_frame_write_mt(struct evbuffer *out, const struct outbox_mt *mt,
    const char *boxc_id, long time_)
{
	struct box_wire_sms	 w;
	uuid_t			 id;
	unsigned char		*ucs2 = NULL;
	size_t			 ucs2_len;
	char			 url[32];
	int			 rc;

	if (out == NULL || mt == NULL || mt->kannel_id == NULL ||
	    mt->sender == NULL || mt->receiver == NULL || mt->text == NULL ||
	    box_uuid_parse(mt->kannel_id, id) == -1)
		return -1;

	box_wire_init_sms(&w);
	w.sms_type = mt_push;
	w.sender = box_wire_cstr(mt->sender);
	w.receiver = box_wire_cstr(mt->receiver);
	w.coding = mt->coding;
	if (mt->coding == GSM_CODING_UCS2) {
		ucs2 = gsm_utf8_to_ucs2(mt->text, strlen(mt->text), &ucs2_len);
		if (ucs2 == NULL)
			return -1;
		w.msgdata.data = ucs2;
		w.msgdata.len = ucs2_len;
		w.charset = box_wire_cstr("UTF-16BE");
	} else {
		w.msgdata = box_wire_cstr(mt->text);
		if (mt->coding == GSM_CODING_7BIT)
			w.charset = box_wire_cstr("UTF-8");
	}
	if (mt->udh != NULL && mt->udh_len > 0) {
		w.udhdata.data = mt->udh;
		w.udhdata.len = mt->udh_len;
	}
	/* The id as libgw writes it back, whatever case it came in. */
	box_uuid_unparse(id, w.id);
	w.boxc_id = box_wire_cstr(boxc_id);
	if (mt->smsc_id != NULL && mt->smsc_id[0] != '\0')
		w.smsc_id = box_wire_cstr(mt->smsc_id);
	if (mt->meta_data != NULL && mt->meta_data[0] != '\0')
		w.meta_data = box_wire_cstr(mt->meta_data);
	w.dlr_mask = mt->dlr_mask;
	snprintf(url, sizeof(url), "%lld", mt->row);
	w.dlr_url = box_wire_cstr(url);
	w.time = time_;

	rc = box_wire_add_sms(out, &w);
	free(ucs2);
	return rc;
}

/* ------------------------------------------------------------------------
 * Unpacking without a Msg: bearerbox's acks and sms.
 */

/*
 * An ack's fields from its checked body (type, nack, time, then the id as
 * a 36-byte string: box_frame_check has seen to the lengths).  The id text
 * is read as libgw's uuid_parse() in msg_unpack() reads it (see
 * box_uuid_parse), so that both refuse the same frames.
 */
static int
box_frame_decode_ack(const unsigned char *p, size_t n, struct box_ack *a)
{
	char	idtext[UUID_STR_LEN + 1];

	if (n < BOX_ACK_BODY || box_frame_decode32(p) != ack ||
	    box_frame_decode32(p + 12) != UUID_STR_LEN)
		return -1;
	memcpy(idtext, p + 16, UUID_STR_LEN);
	idtext[UUID_STR_LEN] = '\0';
	if (box_uuid_parse(idtext, a->id) == -1)
		return -1;
	a->nack = box_frame_decode32(p + 4);
	a->time = box_frame_decode32(p + 8);
	return 0;
}

/*
 * The strings of w (views into a frame) copied into s's own buffer, each
 * followed by a NUL, so that they outlive the frame and read as C
 * strings: see struct box_sms.  -1 if memory runs out.
 */
static int
box_sms_copy_strings(struct box_sms *s, const struct box_wire_sms *w)
{
	const struct {
		const struct box_str	*from;
		struct box_sms_str	*to;
	}		 str[] = {
		{ &w->sender, &s->sender },
		{ &w->receiver, &s->receiver },
		{ &w->msgdata, &s->msgdata },
		{ &w->smsc_id, &s->smsc_id },
		{ &w->foreign_id, &s->foreign_id },
		{ &w->dlr_url, &s->dlr_url },
		{ &w->meta_data, &s->meta_data }
	};
	size_t		 i, need = 0;
	char		*buf;

	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		if (str[i].from->data != NULL)
			need += str[i].from->len + 1;
	if (need > s->bufsize) {
		/* Kept for the next sms: it grows to the biggest seen. */
		if (need < BOX_SMS_BUF_MIN)
			need = BOX_SMS_BUF_MIN;
		if ((buf = realloc(s->buf, need)) == NULL)
			return -1;
		s->buf = buf;
		s->bufsize = need;
	}
	buf = s->buf;
	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++) {
		if (str[i].from->data == NULL) {
			str[i].to->data = NULL;
			str[i].to->len = 0;
			continue;
		}
		if (str[i].from->len > 0)
			memcpy(buf, str[i].from->data, str[i].from->len);
		buf[str[i].from->len] = '\0';
		str[i].to->data = buf;
		str[i].to->len = str[i].from->len;
		buf += str[i].from->len + 1;
	}
	return 0;
}

/*
 * The id is read as libgw's uuid_parse() in msg_unpack() reads it (see
 * box_uuid_parse), so that both refuse the same frames.
 */
int
box_frame_decode_sms(const unsigned char *p, size_t n, struct box_sms *s)
{
	struct box_wire_sms	w;

	if (p == NULL || s == NULL || box_wire_get_sms(p, n, &w) == -1 ||
	    box_uuid_parse(w.id, s->id) == -1)
		return -1;
	if (box_sms_copy_strings(s, &w) == -1) {
		error(0, "box: out of memory reading an sms of %zu bytes", n);
		return -1;
	}
	s->sms_type = w.sms_type;
	s->coding = w.coding;
	s->dlr_mask = w.dlr_mask;
	s->time = w.time;
	return 0;
}

void
box_sms_clear(struct box_sms *s)
{
	if (s == NULL)
		return;
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

int
box_frame_next(struct evbuffer *in, size_t max, void **msg,
    struct box_ack *a, struct box_sms *s)
{
	const unsigned char	*p;
	size_t			 n;
	int			 r;

	*msg = NULL;
	if ((r = box_frame_peek(in, max, &p, &n)) != 1)
		return r;
	switch (box_frame_decode32(p)) {
	case ack:
		if (box_frame_decode_ack(p, n, a) == -1)
			return -1;
		r = 2;
		break;
	case sms:
		if (box_frame_decode_sms(p, n, s) == -1)
			return -1;
		r = 3;
		break;
	default:
		return box_frame_unpack(in, p, n, msg);
	}
	evbuffer_drain(in, BOX_HEADER + n);
	return r;
}
