/*
 * test_box.c - box.c: the frame codec (every message kind round trip, the
 * bytes on the wire, several frames, partial, truncated, oversized and
 * garbage input, fuzz loops) and the link against a fake bearerbox on
 * 127.0.0.1: identify, an MO acked only after its commit, the reply MT,
 * bearerbox's acks for MTs, DLRs, duplicates, reconnects, protocol errors,
 * admin commands, a reload that moves the link, and box_free with MOs
 * still waiting for their commit.
 *
 * The frames box.c packs itself (the ack of an MO or a DLR, the sms of an
 * MT) are compared byte for byte with msg_pack() of the Msg box.c used to
 * build, and its ack decoder with msg_unpack() on the same bytes.
 *
 * The fake bearerbox lives on the test's own event loop; a 20 ms ticker
 * keeps every EVLOOP_ONCE pass short and every wait has a deadline.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <sqlite3.h>

#include "base/gw.h"
#include "gw/msg.h"

#include "link/box.h"
#include "base/conf.h"
#include "text/gsm.h"
#include "queue/inbox.h"
#include "queue/mo.h"
#include "queue/outbox.h"
#include "engine/router.h"
#include "router_fixture.h"
#include "store/store.h"

#define MAX_FRAME	(1 << 20)

/* "Bei 3000 € 你好": UTF-8 with a GSM extension char and two CJK ones. */
#define TEXT_UTF8	"Bei 3000 \xE2\x82\xAC \xE4\xBD\xA0\xE5\xA5\xBD"

static void
test_log_level(void)
{
	log_set_output_level(getenv("TEST_BOX_VERBOSE") ? GW_DEBUG : GW_PANIC);
}

/* Octstr holds exactly the len bytes at s (s NULL: the Octstr is NULL). */
static void
assert_octstr(Octstr *os, const char *s, long len)
{
	if (s == NULL) {
		cr_assert_null(os);
		return;
	}
	cr_assert_not_null(os);
	cr_assert_eq(octstr_len(os), len, "length %ld, want %ld",
	    octstr_len(os), len);
	cr_assert_eq(memcmp(octstr_get_cstr(os), s, (size_t)len), 0);
}

static void
assert_octstr_cstr(Octstr *os, const char *s)
{
	assert_octstr(os, s, s != NULL ? (long)strlen(s) : 0);
}

/* Write m as a frame, check the length prefix, read it back. */
static Msg *
round_trip(Msg *m)
{
	struct evbuffer	*b = evbuffer_new();
	unsigned char	 hdr[4];
	size_t		 total;
	uint32_t	 n;
	void		*out = NULL;

	cr_assert_not_null(b);
	cr_assert_eq(box_frame_write(b, m), 0);
	total = evbuffer_get_length(b);
	cr_assert_gt(total, 4);
	cr_assert_eq(evbuffer_copyout(b, hdr, 4), 4);
	n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	cr_assert_eq(n, total - 4);
	cr_assert_eq(box_frame_read(b, MAX_FRAME, &out), 1);
	cr_assert_not_null(out);
	cr_assert_eq(evbuffer_get_length(b), 0);
	evbuffer_free(b);
	return out;
}

/* Appenders for hand-built payloads, in msg_pack's layout. */
static void
put_int(struct evbuffer *b, long v)
{
	unsigned char	p[4];
	uint32_t	u = (uint32_t)v;

	p[0] = u >> 24;
	p[1] = u >> 16;
	p[2] = u >> 8;
	p[3] = u;
	evbuffer_add(b, p, 4);
}

static void
put_str(struct evbuffer *b, const char *s, long len)
{
	put_int(b, len);
	if (len > 0)
		evbuffer_add(b, s, (size_t)len);
}

/* A frame around the payload in p (p is emptied). */
static struct evbuffer *
frame_of(struct evbuffer *p)
{
	struct evbuffer	*f = evbuffer_new();

	put_int(f, (long)evbuffer_get_length(p));
	evbuffer_add_buffer(f, p);
	return f;
}

static int
read_one(struct evbuffer *f, size_t max)
{
	void	*m = NULL;
	int	 r;

	r = box_frame_read(f, max, &m);
	if (r == 1) {
		cr_assert_not_null(m);
		msg_destroy(m);
	} else
		cr_assert_null(m);
	return r;
}

/* ------------------------------------------------------------------------
 * The codec.
 */

static void
codec_init(void)
{
	gwlib_init();
	test_log_level();
}

static void
codec_fini(void)
{
	gwlib_shutdown();
}

TestSuite(codec, .init = codec_init, .fini = codec_fini);

Test(codec, heartbeat_round_trip)
{
	Msg	*m = msg_create(heartbeat), *r;

	m->heartbeat.load = 42;
	r = round_trip(m);
	cr_assert_eq(r->type, heartbeat);
	cr_assert_eq(r->heartbeat.load, 42);
	msg_destroy(m);
	msg_destroy(r);
}

Test(codec, admin_round_trip)
{
	Msg	*m = msg_create(admin), *r;

	m->admin.command = cmd_identify;
	m->admin.boxc_id = octstr_create("marketbox");
	r = round_trip(m);
	cr_assert_eq(r->type, admin);
	cr_assert_eq(r->admin.command, 3);
	assert_octstr_cstr(r->admin.boxc_id, "marketbox");
	msg_destroy(m);

	/* An anonymous box: boxc_id stays NULL. */
	m = msg_create(admin);
	m->admin.command = cmd_restart;
	msg_destroy(r);
	r = round_trip(m);
	cr_assert_eq(r->admin.command, 4);
	cr_assert_null(r->admin.boxc_id);
	msg_destroy(m);
	msg_destroy(r);
}

Test(codec, sms_round_trip_every_field)
{
	static const char udh[] = "\x05\x00\x03\x2a\x02\x01";
	Msg	*m = msg_create(sms), *r;
	char	 a[UUID_STR_LEN + 1], b[UUID_STR_LEN + 1];

	m->sms.sender = octstr_create("+254700000001");
	m->sms.receiver = octstr_create("777");
	m->sms.udhdata = octstr_create_from_data(udh, 6);
	m->sms.msgdata = octstr_create(TEXT_UTF8);
	m->sms.time = 1700000000;
	m->sms.smsc_id = octstr_create("FAKE");
	m->sms.smsc_number = octstr_create("+254722000000");
	m->sms.foreign_id = octstr_create("smsc-msg-9");
	m->sms.service = octstr_create("market");
	m->sms.account = octstr_create("acct");
	m->sms.sms_type = mo;
	m->sms.mclass = 1;
	m->sms.mwi = -1;
	m->sms.coding = 0;
	m->sms.compress = 0;
	m->sms.validity = 1440;
	m->sms.deferred = 10;
	m->sms.dlr_mask = 31;
	m->sms.dlr_url = octstr_create("12345");
	m->sms.pid = 0;
	m->sms.alt_dcs = 0;
	m->sms.rpi = 0;
	m->sms.charset = octstr_create("UTF-8");
	m->sms.boxc_id = octstr_create("marketbox");
	m->sms.binfo = octstr_create("billing");
	m->sms.msg_left = 2;
	m->sms.priority = 1;
	m->sms.resend_try = 3;
	m->sms.resend_time = 1700000001;
	m->sms.meta_data = octstr_create(
	    "?smpp?ussd_service_op=%01&its_session_info=%12%00&");

	r = round_trip(m);
	cr_assert_eq(r->type, sms);
	assert_octstr_cstr(r->sms.sender, "+254700000001");
	assert_octstr_cstr(r->sms.receiver, "777");
	assert_octstr(r->sms.udhdata, udh, 6);
	assert_octstr_cstr(r->sms.msgdata, TEXT_UTF8);
	cr_assert_eq(r->sms.time, 1700000000);
	assert_octstr_cstr(r->sms.smsc_id, "FAKE");
	assert_octstr_cstr(r->sms.smsc_number, "+254722000000");
	assert_octstr_cstr(r->sms.foreign_id, "smsc-msg-9");
	assert_octstr_cstr(r->sms.service, "market");
	assert_octstr_cstr(r->sms.account, "acct");
	uuid_unparse(m->sms.id, a);
	uuid_unparse(r->sms.id, b);
	cr_assert_str_eq(b, a);
	cr_assert_eq(r->sms.sms_type, mo);
	cr_assert_eq(r->sms.mclass, 1);
	cr_assert_eq(r->sms.mwi, -1);
	cr_assert_eq(r->sms.coding, 0);
	cr_assert_eq(r->sms.compress, 0);
	cr_assert_eq(r->sms.validity, 1440);
	cr_assert_eq(r->sms.deferred, 10);
	cr_assert_eq(r->sms.dlr_mask, 31);
	assert_octstr_cstr(r->sms.dlr_url, "12345");
	cr_assert_eq(r->sms.pid, 0);
	cr_assert_eq(r->sms.alt_dcs, 0);
	cr_assert_eq(r->sms.rpi, 0);
	assert_octstr_cstr(r->sms.charset, "UTF-8");
	assert_octstr_cstr(r->sms.boxc_id, "marketbox");
	assert_octstr_cstr(r->sms.binfo, "billing");
	cr_assert_eq(r->sms.msg_left, 2);
	cr_assert_eq(r->sms.priority, 1);
	cr_assert_eq(r->sms.resend_try, 3);
	cr_assert_eq(r->sms.resend_time, 1700000001);
	assert_octstr_cstr(r->sms.meta_data,
	    "?smpp?ussd_service_op=%01&its_session_info=%12%00&");
	msg_destroy(m);
	msg_destroy(r);
}

Test(codec, sms_round_trip_absent_fields)
{
	Msg	*m = msg_create(sms), *r;

	/* msg_create: every integer -1, every string NULL. */
	r = round_trip(m);
	cr_assert_null(r->sms.sender);
	cr_assert_null(r->sms.msgdata);
	cr_assert_null(r->sms.meta_data);
	cr_assert_eq(r->sms.time, -1);
	cr_assert_eq(r->sms.coding, -1);
	cr_assert_eq(r->sms.dlr_mask, -1);
	msg_destroy(m);
	msg_destroy(r);
}

Test(codec, ack_round_trip)
{
	Msg	*m = msg_create(ack), *r;

	m->ack.nack = ack_buffered;
	m->ack.time = 1700000002;
	r = round_trip(m);
	cr_assert_eq(r->type, ack);
	cr_assert_eq(r->ack.nack, 3);
	cr_assert_eq(r->ack.time, 1700000002);
	cr_assert_eq(memcmp(r->ack.id, m->ack.id, sizeof(uuid_t)), 0);
	msg_destroy(m);
	msg_destroy(r);
}

Test(codec, wdp_datagram_round_trip)
{
	Msg	*m = msg_create(wdp_datagram), *r;

	m->wdp_datagram.source_address = octstr_create("10.0.0.1");
	m->wdp_datagram.source_port = 9200;
	m->wdp_datagram.destination_address = octstr_create("10.0.0.2");
	m->wdp_datagram.destination_port = 2948;
	m->wdp_datagram.user_data = octstr_create_from_data("\x01\x00\x02", 3);
	r = round_trip(m);
	cr_assert_eq(r->type, wdp_datagram);
	assert_octstr_cstr(r->wdp_datagram.source_address, "10.0.0.1");
	cr_assert_eq(r->wdp_datagram.source_port, 9200);
	assert_octstr_cstr(r->wdp_datagram.destination_address, "10.0.0.2");
	cr_assert_eq(r->wdp_datagram.destination_port, 2948);
	assert_octstr(r->wdp_datagram.user_data, "\x01\x00\x02", 3);
	msg_destroy(m);
	msg_destroy(r);
}

Test(codec, bytes_on_the_wire)
{
	static const unsigned char want[] = {
		0, 0, 0, 8,		/* length of what follows */
		0, 0, 0, 0,		/* heartbeat */
		0, 0, 0, 5		/* load */
	};
	static const unsigned char want_admin[] = {
		0, 0, 0, 15,
		0, 0, 0, 1,		/* admin */
		0, 0, 0, 3,		/* cmd_identify */
		0, 0, 0, 3, 'm', 'b', 'x'
	};
	struct evbuffer	*b = evbuffer_new();
	unsigned char	 got[64];
	Msg		*m = msg_create(heartbeat);

	m->heartbeat.load = 5;
	cr_assert_eq(box_frame_write(b, m), 0);
	cr_assert_eq(evbuffer_get_length(b), sizeof(want));
	evbuffer_remove(b, got, sizeof(want));
	cr_assert_eq(memcmp(got, want, sizeof(want)), 0);
	msg_destroy(m);

	m = msg_create(admin);
	m->admin.command = cmd_identify;
	m->admin.boxc_id = octstr_create("mbx");
	cr_assert_eq(box_frame_write(b, m), 0);
	cr_assert_eq(evbuffer_get_length(b), sizeof(want_admin));
	evbuffer_remove(b, got, sizeof(want_admin));
	cr_assert_eq(memcmp(got, want_admin, sizeof(want_admin)), 0);
	msg_destroy(m);
	evbuffer_free(b);
}

Test(codec, several_frames_in_one_buffer)
{
	struct evbuffer	*b = evbuffer_new();
	Msg		*h = msg_create(heartbeat), *a = msg_create(ack);
	Msg		*s = msg_create(sms);
	void		*out;

	h->heartbeat.load = 1;
	a->ack.nack = ack_failed_tmp;
	s->sms.msgdata = octstr_create("third");
	cr_assert_eq(box_frame_write(b, h), 0);
	cr_assert_eq(box_frame_write(b, a), 0);
	cr_assert_eq(box_frame_write(b, s), 0);

	cr_assert_eq(box_frame_read(b, MAX_FRAME, &out), 1);
	cr_assert_eq(((Msg *)out)->type, heartbeat);
	cr_assert_eq(((Msg *)out)->heartbeat.load, 1);
	msg_destroy(out);
	cr_assert_eq(box_frame_read(b, MAX_FRAME, &out), 1);
	cr_assert_eq(((Msg *)out)->type, ack);
	cr_assert_eq(((Msg *)out)->ack.nack, 2);
	msg_destroy(out);
	cr_assert_eq(box_frame_read(b, MAX_FRAME, &out), 1);
	cr_assert_eq(((Msg *)out)->type, sms);
	assert_octstr_cstr(((Msg *)out)->sms.msgdata, "third");
	msg_destroy(out);
	cr_assert_eq(box_frame_read(b, MAX_FRAME, &out), 0);
	cr_assert_null(out);
	cr_assert_eq(evbuffer_get_length(b), 0);
	msg_destroy(h);
	msg_destroy(a);
	msg_destroy(s);
	evbuffer_free(b);
}

Test(codec, byte_by_byte)
{
	struct evbuffer	*src = evbuffer_new(), *in = evbuffer_new();
	Msg		*m = msg_create(sms);
	unsigned char	*bytes;
	size_t		 n, i;
	void		*out = NULL;

	m->sms.sender = octstr_create("+254700000001");
	m->sms.msgdata = octstr_create(TEXT_UTF8);
	m->sms.sms_type = mo;
	cr_assert_eq(box_frame_write(src, m), 0);
	n = evbuffer_get_length(src);
	bytes = evbuffer_pullup(src, -1);
	for (i = 0; i + 1 < n; i++) {
		evbuffer_add(in, bytes + i, 1);
		cr_assert_eq(box_frame_read(in, MAX_FRAME, &out), 0,
		    "complete after %zu of %zu bytes", i + 1, n);
		cr_assert_null(out);
		cr_assert_eq(evbuffer_get_length(in), i + 1);
	}
	evbuffer_add(in, bytes + n - 1, 1);
	cr_assert_eq(box_frame_read(in, MAX_FRAME, &out), 1);
	assert_octstr_cstr(((Msg *)out)->sms.msgdata, TEXT_UTF8);
	cr_assert_eq(evbuffer_get_length(in), 0);
	msg_destroy(out);
	msg_destroy(m);
	evbuffer_free(src);
	evbuffer_free(in);
}

Test(codec, truncated_frame_waits)
{
	struct evbuffer	*b = evbuffer_new();
	Msg		*m = msg_create(ack);
	size_t		 n;

	cr_assert_eq(box_frame_write(b, m), 0);
	n = evbuffer_get_length(b);
	/* Drop the last byte: the frame is incomplete, nothing consumed. */
	evbuffer_free(b);
	b = evbuffer_new();
	cr_assert_eq(box_frame_write(b, m), 0);
	{
		struct evbuffer	*t = evbuffer_new();

		evbuffer_remove_buffer(b, t, n - 1);
		cr_assert_eq(read_one(t, MAX_FRAME), 0);
		cr_assert_eq(evbuffer_get_length(t), n - 1);
		/* Only the length prefix, or part of it. */
		evbuffer_drain(t, evbuffer_get_length(t));
		evbuffer_add(t, "\0\0", 2);
		cr_assert_eq(read_one(t, MAX_FRAME), 0);
		evbuffer_free(t);
	}
	msg_destroy(m);
	evbuffer_free(b);
}

Test(codec, oversized_length_prefix)
{
	static const unsigned char huge[] = { 0x7f, 0xff, 0xff, 0xff };
	static const unsigned char negative[] = { 0xff, 0xff, 0xff, 0xff };
	struct evbuffer	*b = evbuffer_new();
	Msg		*m = msg_create(sms);
	size_t		 n;

	/* Refused from the prefix alone, before any payload arrives. */
	put_int(b, 1025);
	cr_assert_eq(read_one(b, 1024), -1);
	evbuffer_drain(b, evbuffer_get_length(b));
	evbuffer_add(b, huge, 4);
	cr_assert_eq(read_one(b, MAX_FRAME), -1);
	evbuffer_drain(b, evbuffer_get_length(b));
	evbuffer_add(b, negative, 4);
	cr_assert_eq(read_one(b, MAX_FRAME), -1);
	evbuffer_drain(b, evbuffer_get_length(b));

	/* The limit is inclusive. */
	m->sms.msgdata = octstr_create("x");
	cr_assert_eq(box_frame_write(b, m), 0);
	n = evbuffer_get_length(b) - 4;
	cr_assert_eq(read_one(b, n - 1), -1);
	cr_assert_eq(read_one(b, n), 1);
	msg_destroy(m);
	evbuffer_free(b);
}

Test(codec, zero_and_short_lengths)
{
	struct evbuffer	*b = evbuffer_new();
	long		 len;

	for (len = 0; len < 8; len++) {
		evbuffer_drain(b, evbuffer_get_length(b));
		put_int(b, len);
		evbuffer_add(b, "\0\0\0\0\0\0\0\0", 8);
		cr_assert_eq(read_one(b, MAX_FRAME), -1, "length %ld", len);
	}
	evbuffer_free(b);
}

Test(codec, garbage_payloads)
{
	static const char good_uuid[] = "2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e10";
	struct evbuffer	*p = evbuffer_new(), *f;
	int		 i;

	/* Unknown message types: libgw would panic on them. */
	put_int(p, 99);
	put_int(p, 0);
	f = frame_of(p);
	cr_assert_eq(read_one(f, MAX_FRAME), -1);
	evbuffer_free(f);
	put_int(p, -1);
	put_int(p, 0);
	f = frame_of(p);
	cr_assert_eq(read_one(f, MAX_FRAME), -1);
	evbuffer_free(f);

	/* An ack cut short. */
	put_int(p, ack);
	put_int(p, 0);
	put_int(p, 1700000000);
	f = frame_of(p);
	cr_assert_eq(read_one(f, MAX_FRAME), -1);
	evbuffer_free(f);

	/* An ack whose id is 36 bytes but not a UUID: msg_unpack says no. */
	put_int(p, ack);
	put_int(p, 0);
	put_int(p, 1700000000);
	put_str(p, "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", 36);
	f = frame_of(p);
	cr_assert_eq(read_one(f, MAX_FRAME), -1);
	evbuffer_free(f);

	/* An id of the wrong length, and a NULL id. */
	put_int(p, ack);
	put_int(p, 0);
	put_int(p, 1700000000);
	put_str(p, good_uuid, 35);
	f = frame_of(p);
	cr_assert_eq(read_one(f, MAX_FRAME), -1);
	evbuffer_free(f);
	put_int(p, ack);
	put_int(p, 0);
	put_int(p, 1700000000);
	put_int(p, -1);
	f = frame_of(p);
	cr_assert_eq(read_one(f, MAX_FRAME), -1);
	evbuffer_free(f);

	/* The same ack, well formed, is taken. */
	put_int(p, ack);
	put_int(p, 0);
	put_int(p, 1700000000);
	put_str(p, good_uuid, 36);
	f = frame_of(p);
	cr_assert_eq(read_one(f, MAX_FRAME), 1);
	evbuffer_free(f);

	/* Admin with string lengths that lie: negative, past the end. */
	for (i = 0; i < 3; i++) {
		static const long lies[] = { -2, 1000, 0x7fffffff };

		put_int(p, admin);
		put_int(p, cmd_identify);
		put_int(p, lies[i]);
		evbuffer_add(p, "abc", 3);
		f = frame_of(p);
		cr_assert_eq(read_one(f, MAX_FRAME), -1, "length %ld",
		    lies[i]);
		evbuffer_free(f);
	}

	/* Trailing bytes after a whole message are ignored, as libgw does. */
	put_int(p, heartbeat);
	put_int(p, 7);
	evbuffer_add(p, "tail", 4);
	f = frame_of(p);
	cr_assert_eq(read_one(f, MAX_FRAME), 1);
	cr_assert_eq(evbuffer_get_length(f), 0);
	evbuffer_free(f);
	evbuffer_free(p);
}

Test(codec, write_refuses_what_libgw_would_panic_on)
{
	struct evbuffer	*b = evbuffer_new();
	Msg		*m = msg_create(ack);

	cr_assert_eq(box_frame_write(b, NULL), -1);
	m->type = msg_type_count;
	cr_assert_eq(box_frame_write(b, m), -1);
	m->type = ack;
	cr_assert_eq(evbuffer_get_length(b), 0);
	msg_destroy(m);
	evbuffer_free(b);
}

/* Random bytes behind a correct length prefix, and random prefixes. */
Test(codec, fuzz_random_bytes)
{
	struct evbuffer	*b = evbuffer_new();
	unsigned char	 buf[300];
	unsigned int	 seed = 20240601;
	int		 i, r, taken = 0;
	size_t		 n, j;

	for (i = 0; i < 2000; i++) {
		n = (size_t)(rand_r(&seed) % sizeof(buf));
		for (j = 0; j < n; j++)
			buf[j] = (unsigned char)rand_r(&seed);
		/* Half with a small valid message type up front. */
		if (n >= 4 && (i & 1)) {
			buf[0] = buf[1] = buf[2] = 0;
			buf[3] = (unsigned char)(rand_r(&seed) % msg_type_count);
		}
		evbuffer_drain(b, evbuffer_get_length(b));
		if (i % 4 == 3)
			evbuffer_add(b, buf, n);	/* prefix is random too */
		else {
			put_int(b, (long)n);
			evbuffer_add(b, buf, n);
		}
		for (j = 0; j < 10; j++) {
			r = read_one(b, 4096);
			cr_assert(r >= -1 && r <= 1);
			if (r != 1)
				break;
			taken++;
		}
	}
	evbuffer_free(b);
	cr_log_info("fuzz_random_bytes: %d frames taken", taken);
}

/* Valid frames of every kind with a few bytes changed. */
Test(codec, fuzz_mutated_frames)
{
	struct evbuffer	*b = evbuffer_new();
	Msg		*kinds[4];
	unsigned char	*seedbuf[4], *copy;
	size_t		 seedlen[4], k, j;
	unsigned int	 seed = 7;
	int		 i, r, taken = 0, flips;

	kinds[0] = msg_create(sms);
	kinds[0]->sms.sender = octstr_create("+254700000001");
	kinds[0]->sms.receiver = octstr_create("777");
	kinds[0]->sms.msgdata = octstr_create(TEXT_UTF8);
	kinds[0]->sms.meta_data = octstr_create("?smpp?ussd_service_op=%01&");
	kinds[0]->sms.dlr_url = octstr_create("17");
	kinds[1] = msg_create(ack);
	kinds[2] = msg_create(admin);
	kinds[2]->admin.boxc_id = octstr_create("marketbox");
	kinds[3] = msg_create(heartbeat);
	for (k = 0; k < 4; k++) {
		cr_assert_eq(box_frame_write(b, kinds[k]), 0);
		seedlen[k] = evbuffer_get_length(b);
		seedbuf[k] = malloc(seedlen[k]);
		evbuffer_remove(b, seedbuf[k], seedlen[k]);
	}
	for (i = 0; i < 2000; i++) {
		k = (size_t)i % 4;
		copy = malloc(seedlen[k]);
		memcpy(copy, seedbuf[k], seedlen[k]);
		for (flips = 1 + rand_r(&seed) % 4; flips > 0; flips--) {
			j = (size_t)rand_r(&seed) % seedlen[k];
			copy[j] ^= (unsigned char)(1 + rand_r(&seed) % 255);
		}
		evbuffer_drain(b, evbuffer_get_length(b));
		evbuffer_add(b, copy, seedlen[k]);
		r = read_one(b, 4096);
		cr_assert(r >= -1 && r <= 1);
		taken += r == 1;
		free(copy);
	}
	for (k = 0; k < 4; k++) {
		msg_destroy(kinds[k]);
		free(seedbuf[k]);
	}
	evbuffer_free(b);
	cr_log_info("fuzz_mutated_frames: %d frames taken", taken);
}

/* ------------------------------------------------------------------------
 * The hot frames packed without a Msg, byte for byte against msg_pack(),
 * and bearerbox's acks decoded without msg_unpack(), against it.
 */

/* Non-BMP: U+1F33D (ear of maize) and U+1F600 need surrogate pairs. */
#define TEXT_NON_BMP	"Mahindi \xF0\x9F\x8C\xBD bei 3000 \xF0\x9F\x98\x80"

/*
 * The Msg that box_send_mt_cb built before box_frame_write_mt existed,
 * kept here as the reference: its msg_pack() is what bearerbox expects.
 */
static Msg *
legacy_mt_msg(const struct outbox_mt *mt, const char *boxc_id, long time_)
{
	Msg		*m;
	unsigned char	*ucs2;
	size_t		 ucs2_len;

	m = msg_create(sms);
	m->sms.sms_type = mt_push;
	m->sms.sender = octstr_create(mt->sender);
	m->sms.receiver = octstr_create(mt->receiver);
	m->sms.coding = mt->coding;
	if (mt->coding == GSM_CODING_UCS2) {
		ucs2 = gsm_utf8_to_ucs2(mt->text, strlen(mt->text), &ucs2_len);
		cr_assert_not_null(ucs2);
		m->sms.msgdata = octstr_create_from_data((char *)ucs2,
		    (long)ucs2_len);
		m->sms.charset = octstr_create("UTF-16BE");
		free(ucs2);
	} else {
		m->sms.msgdata = octstr_create(mt->text);
		if (mt->coding == GSM_CODING_7BIT)
			m->sms.charset = octstr_create("UTF-8");
	}
	if (mt->udh != NULL && mt->udh_len > 0)
		m->sms.udhdata = octstr_create_from_data((const char *)mt->udh,
		    (long)mt->udh_len);
	cr_assert_eq(uuid_parse(mt->kannel_id, m->sms.id), 0);
	if (boxc_id != NULL)
		m->sms.boxc_id = octstr_create(boxc_id);
	if (mt->smsc_id != NULL && mt->smsc_id[0] != '\0')
		m->sms.smsc_id = octstr_create(mt->smsc_id);
	if (mt->meta_data != NULL && mt->meta_data[0] != '\0')
		m->sms.meta_data = octstr_create(mt->meta_data);
	m->sms.dlr_mask = mt->dlr_mask;
	m->sms.dlr_url = octstr_format("%lld", mt->row);
	m->sms.time = time_;
	return m;
}

/* The last n bytes of b, as a malloc'd copy. */
static unsigned char *
tail_bytes(struct evbuffer *b, size_t n)
{
	unsigned char	*all, *t;
	size_t		 len = evbuffer_get_length(b);

	cr_assert_geq(len, n);
	all = evbuffer_pullup(b, -1);
	cr_assert(n == 0 || all != NULL);
	t = malloc(n > 0 ? n : 1);
	cr_assert_not_null(t);
	memcpy(t, all + (len - n), n);
	return t;
}

/* Both frames are the same bytes; says where they first differ. */
static void
assert_same_frame(const unsigned char *got, size_t got_len,
    const unsigned char *want, size_t want_len, const char *what)
{
	size_t	i;

	cr_assert_eq(got_len, want_len, "%s: %zu bytes, msg_pack gives %zu",
	    what, got_len, want_len);
	for (i = 0; i < want_len && got[i] == want[i]; i++)
		;
	cr_assert_eq(i, want_len, "%s: byte %zu is 0x%02x, msg_pack gives "
	    "0x%02x", what, i, got[i], want[i]);
	cr_assert_eq(memcmp(got, want, want_len), 0, "%s", what);
}

/*
 * Pack mt both ways and compare the whole frames.  prior bytes already
 * in the new encoder's buffer check that it appends after them.
 */
static void
assert_mt_frame(const struct outbox_mt *mt, const char *boxc_id, long t,
    size_t prior, const char *what)
{
	struct evbuffer	*old = evbuffer_new(), *new = evbuffer_new();
	unsigned char	*want, *got, *head;
	size_t		 want_len, got_len, i;
	Msg		*m;

	cr_assert_not_null(old);
	cr_assert_not_null(new);
	m = legacy_mt_msg(mt, boxc_id, t);
	cr_assert_eq(box_frame_write(old, m), 0);
	msg_destroy(m);
	want_len = evbuffer_get_length(old);
	want = tail_bytes(old, want_len);

	for (i = 0; i < prior; i++)
		evbuffer_add(new, "p", 1);
	cr_assert_eq(box_frame_write_mt(new, mt, boxc_id, t), 0, "%s", what);
	got_len = evbuffer_get_length(new) - prior;
	got = tail_bytes(new, got_len);
	head = evbuffer_pullup(new, (ev_ssize_t)prior);
	for (i = 0; i < prior; i++)
		cr_assert_eq(head[i], 'p', "%s: earlier bytes changed", what);
	assert_same_frame(got, got_len, want, want_len, what);
	free(want);
	free(got);
	evbuffer_free(old);
	evbuffer_free(new);
}

Test(codec, mt_frame_matches_msg_pack)
{
	static const unsigned char udh[] = { 0x05, 0x00, 0x03, 0x2a, 0x02,
	    0x01 };
	static const struct {
		const char	*text;
		int		 coding;
	} texts[] = {
		{ "SELL maize 10 bags 3000", GSM_CODING_7BIT },
		{ "", GSM_CODING_7BIT },
		{ "Bei {3000} ~ [mahindi] \xE2\x82\xAC", GSM_CODING_7BIT },
		{ TEXT_UTF8, GSM_CODING_UCS2 },
		{ TEXT_NON_BMP, GSM_CODING_UCS2 },
		{ "\xF0\x9F\x8C\xBD", GSM_CODING_UCS2 },
		{ "", GSM_CODING_UCS2 },
		{ "raw \x01\x02 bytes", GSM_CODING_8BIT }
	};
	static const char *ids[] = {
		"2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e10",
		"2F2A8D6E-6F1C-4A55-9D3E-3B1C0F7A9E10",	/* written lower */
		"00000000-0000-0000-0000-000000000000",
		"ffffffff-ffff-ffff-ffff-ffffffffffff"
	};
	static const char *smscs[] = { NULL, "", "FAKE" };
	static const char *metas[] = { NULL, "",
	    "?smpp?ussd_service_op=%11&its_session_info=%12%01" };
	static const char *boxc_ids[] = { NULL, "marketbox" };
	static const int masks[] = { 0, 31 };
	static const long long rows[] = { 1, 0, 42, 2147483648LL,
	    9007199254740993LL, 9223372036854775807LL, -7 };
	static const long times[] = { 1700000000, 0, -1, 2147483647,
	    4102444800 };	/* 2100: beyond 32 bits, cut as libgw cuts */
	struct outbox_mt	mt;
	char			what[256];
	size_t			it, iu, is, im, ib, ik, ir, n = 0;

	for (it = 0; it < sizeof(texts) / sizeof(texts[0]); it++)
	for (iu = 0; iu < 3; iu++)
	for (is = 0; is < 3; is++)
	for (im = 0; im < 3; im++)
	for (ib = 0; ib < 2; ib++)
	for (ik = 0; ik < 2; ik++)
	for (ir = 0; ir < sizeof(rows) / sizeof(rows[0]); ir++) {
		memset(&mt, 0, sizeof(mt));
		mt.row = rows[ir];
		mt.kannel_id = ids[n % 4];
		mt.sender = n % 5 == 0 ? "" : "777";
		mt.receiver = "+254700000001";
		mt.text = texts[it].text;
		mt.coding = texts[it].coding;
		/* No UDH; a concatenation header; a pointer of length 0. */
		mt.udh = iu == 0 ? NULL : udh;
		mt.udh_len = iu == 1 ? sizeof(udh) : 0;
		mt.smsc_id = smscs[is];
		mt.meta_data = metas[im];
		mt.dlr_mask = masks[ik];
		snprintf(what, sizeof(what), "text %zu udh %zu smsc %zu "
		    "meta %zu boxc %zu mask %d row %lld", it, iu, is, im, ib,
		    mt.dlr_mask, mt.row);
		assert_mt_frame(&mt, boxc_ids[ib],
		    times[n % (sizeof(times) / sizeof(times[0]))], n % 3,
		    what);
		n++;
	}
	cr_log_info("mt_frame_matches_msg_pack: %zu combinations", n);
}

/* A long text and a long meta_data: lengths past one byte's worth. */
Test(codec, mt_frame_matches_msg_pack_long_fields)
{
	struct outbox_mt	mt;
	char			text[1200], meta[700];
	size_t			i;

	for (i = 0; i + 4 < sizeof(text); i += 4)
		memcpy(text + i, "\xF0\x9F\x8C\xBD", 4);
	text[i] = '\0';
	memset(meta, 'm', sizeof(meta) - 1);
	meta[sizeof(meta) - 1] = '\0';
	memset(&mt, 0, sizeof(mt));
	mt.row = 123456789;
	mt.kannel_id = "5d7f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b";
	mt.sender = "777";
	mt.receiver = "+254711222333";
	mt.text = text;
	mt.coding = GSM_CODING_UCS2;
	mt.smsc_id = "USSD";
	mt.meta_data = meta;
	mt.dlr_mask = 31;
	assert_mt_frame(&mt, "marketbox", 1700000000, 0, "long ucs2");
	mt.coding = GSM_CODING_7BIT;
	assert_mt_frame(&mt, "marketbox", 1700000000, 5, "long utf-8");
}

/* What bearerbox reads back from the new frame: the MT as sent. */
Test(codec, mt_frame_unpacks_as_sent)
{
	struct evbuffer		*b = evbuffer_new();
	struct outbox_mt	 mt;
	void			*out = NULL;
	Msg			*r;
	char			 id[UUID_STR_LEN + 1];

	memset(&mt, 0, sizeof(mt));
	mt.row = 9876543210LL;
	mt.kannel_id = "2F2A8D6E-6F1C-4A55-9D3E-3B1C0F7A9E10";
	mt.sender = "777";
	mt.receiver = "+254700000001";
	mt.text = TEXT_NON_BMP;
	mt.coding = GSM_CODING_UCS2;
	mt.udh = (const unsigned char *)"\x05\x00\x03\x2a\x02\x01";
	mt.udh_len = 6;
	mt.smsc_id = "FAKE";
	mt.dlr_mask = 31;
	cr_assert_eq(box_frame_write_mt(b, &mt, "marketbox", 1700000000), 0);
	cr_assert_eq(box_frame_read(b, MAX_FRAME, &out), 1);
	r = out;
	cr_assert_eq(r->type, sms);
	cr_assert_eq(r->sms.sms_type, mt_push);
	assert_octstr_cstr(r->sms.sender, "777");
	assert_octstr_cstr(r->sms.receiver, "+254700000001");
	/* "Mahindi " then U+1F33D as the pair D83C DF3D. */
	cr_assert_eq(octstr_len(r->sms.msgdata), 2 * 8 + 4 + 2 * 10 + 4);
	cr_assert_eq(memcmp(octstr_get_cstr(r->sms.msgdata) + 16,
	    "\xD8\x3C\xDF\x3D", 4), 0);
	assert_octstr(r->sms.udhdata, "\x05\x00\x03\x2a\x02\x01", 6);
	assert_octstr_cstr(r->sms.charset, "UTF-16BE");
	assert_octstr_cstr(r->sms.smsc_id, "FAKE");
	assert_octstr_cstr(r->sms.boxc_id, "marketbox");
	assert_octstr_cstr(r->sms.dlr_url, "9876543210");
	cr_assert_null(r->sms.meta_data);
	cr_assert_null(r->sms.foreign_id);
	cr_assert_eq(r->sms.coding, 2);
	cr_assert_eq(r->sms.dlr_mask, 31);
	cr_assert_eq(r->sms.time, 1700000000);
	cr_assert_eq(r->sms.mclass, -1);
	cr_assert_eq(r->sms.priority, -1);
	uuid_unparse(r->sms.id, id);
	cr_assert_str_eq(id, "2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e10");
	msg_destroy(r);
	evbuffer_free(b);
}

Test(codec, mt_frame_refuses_an_incomplete_mt)
{
	struct evbuffer		*b = evbuffer_new();
	struct outbox_mt	 mt, good;

	memset(&good, 0, sizeof(good));
	good.row = 1;
	good.kannel_id = "2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e10";
	good.sender = "777";
	good.receiver = "+254700000001";
	good.text = "hi";
	cr_assert_eq(box_frame_write_mt(NULL, &good, NULL, 0), -1);
	cr_assert_eq(box_frame_write_mt(b, NULL, NULL, 0), -1);
	mt = good;
	mt.kannel_id = NULL;
	cr_assert_eq(box_frame_write_mt(b, &mt, NULL, 0), -1);
	mt = good;
	mt.kannel_id = "2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e1";	/* 35 */
	cr_assert_eq(box_frame_write_mt(b, &mt, NULL, 0), -1);
	mt.kannel_id = "2f2a8d6e+6f1c-4a55-9d3e-3b1c0f7a9e10";
	cr_assert_eq(box_frame_write_mt(b, &mt, NULL, 0), -1);
	mt.kannel_id = "2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e1g";
	cr_assert_eq(box_frame_write_mt(b, &mt, NULL, 0), -1);
	mt = good;
	mt.sender = NULL;
	cr_assert_eq(box_frame_write_mt(b, &mt, NULL, 0), -1);
	mt = good;
	mt.receiver = NULL;
	cr_assert_eq(box_frame_write_mt(b, &mt, NULL, 0), -1);
	mt = good;
	mt.text = NULL;
	cr_assert_eq(box_frame_write_mt(b, &mt, NULL, 0), -1);
	cr_assert_eq(evbuffer_get_length(b), 0);
	cr_assert_eq(box_frame_write_mt(b, &good, NULL, 0), 0);
	cr_assert_gt(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}

/* The ack's frame, both ways, for every nack value and edge times. */
Test(codec, ack_frame_matches_msg_pack)
{
	static const long nacks[] = { ack_success, ack_failed,
	    ack_failed_tmp, ack_buffered, -1, 7 };
	static const long times[] = { 1700000000, 0, -1, 2147483647,
	    -2147483647 - 1, 4102444800, MSG_PARAM_UNDEFINED };
	struct evbuffer	*old = evbuffer_new(), *new = evbuffer_new();
	unsigned char	*want, *got;
	uuid_t		 id;
	size_t		 in, it, k, want_len, got_len;
	char		 what[64];
	Msg		*m;

	for (k = 0; k < 6; k++)
	for (in = 0; in < sizeof(nacks) / sizeof(nacks[0]); in++)
	for (it = 0; it < sizeof(times) / sizeof(times[0]); it++) {
		if (k == 0)
			uuid_clear(id);
		else if (k == 1)
			memset(id, 0xff, sizeof(id));
		else
			uuid_generate(id);
		m = msg_create(ack);
		m->ack.nack = nacks[in];
		m->ack.time = times[it];
		uuid_copy(m->ack.id, id);
		cr_assert_eq(box_frame_write(old, m), 0);
		msg_destroy(m);
		want_len = evbuffer_get_length(old);
		want = tail_bytes(old, want_len);
		cr_assert_eq(box_frame_write_ack(new, nacks[in], times[it],
		    id), 0);
		got_len = evbuffer_get_length(new);
		got = tail_bytes(new, got_len);
		snprintf(what, sizeof(what), "id %zu nack %ld time %ld", k,
		    nacks[in], times[it]);
		assert_same_frame(got, got_len, want, want_len, what);
		cr_assert_eq(got_len, 4 + 52);
		free(want);
		free(got);
		evbuffer_drain(old, want_len);
		evbuffer_drain(new, got_len);
	}
	cr_assert_eq(box_frame_write_ack(NULL, 0, 0, id), -1);
	cr_assert_eq(box_frame_write_ack(new, 0, 0, NULL), -1);
	cr_assert_eq(evbuffer_get_length(new), 0);
	evbuffer_free(old);
	evbuffer_free(new);
}

/*
 * A string of a decoded sms holds what msg_unpack() gave: NULL for NULL,
 * else the same bytes, and a NUL after them.
 */
static void
assert_sms_str(const struct box_sms_str *got, Octstr *want,
    const char *field, const char *what)
{
	if (want == NULL) {
		cr_assert_null(got->data, "%s: %s set, msg_unpack has NULL",
		    what, field);
		cr_assert_eq(got->len, 0, "%s: %s", what, field);
		return;
	}
	cr_assert_not_null(got->data, "%s: %s NULL, msg_unpack has %ld "
	    "bytes", what, field, octstr_len(want));
	cr_assert_eq(got->len, (size_t)octstr_len(want), "%s: %s has %zu "
	    "bytes, msg_unpack %ld", what, field, got->len, octstr_len(want));
	cr_assert_eq(memcmp(got->data, octstr_get_cstr(want), got->len), 0,
	    "%s: %s differs", what, field);
	cr_assert_eq(got->data[got->len], '\0', "%s: %s not terminated",
	    what, field);
}

/* Every field of s is the one msg_unpack() gave m. */
static void
assert_sms_fields(const struct box_sms *s, const Msg *m, const char *what)
{
	cr_assert_eq(m->type, sms, "%s", what);
	cr_assert_eq(s->sms_type, m->sms.sms_type, "%s: sms_type %ld, "
	    "msg_unpack %ld", what, s->sms_type, m->sms.sms_type);
	cr_assert_eq(s->coding, m->sms.coding, "%s: coding %ld, msg_unpack "
	    "%ld", what, s->coding, m->sms.coding);
	cr_assert_eq(s->dlr_mask, m->sms.dlr_mask, "%s: dlr_mask %ld, "
	    "msg_unpack %ld", what, s->dlr_mask, m->sms.dlr_mask);
	cr_assert_eq(s->time, m->sms.time, "%s: time %ld, msg_unpack %ld",
	    what, s->time, m->sms.time);
	cr_assert_eq(memcmp(s->id, m->sms.id, 16), 0, "%s: id", what);
	assert_sms_str(&s->sender, m->sms.sender, "sender", what);
	assert_sms_str(&s->receiver, m->sms.receiver, "receiver", what);
	assert_sms_str(&s->msgdata, m->sms.msgdata, "msgdata", what);
	assert_sms_str(&s->smsc_id, m->sms.smsc_id, "smsc_id", what);
	assert_sms_str(&s->foreign_id, m->sms.foreign_id, "foreign_id",
	    what);
	assert_sms_str(&s->dlr_url, m->sms.dlr_url, "dlr_url", what);
	assert_sms_str(&s->meta_data, m->sms.meta_data, "meta_data", what);
}

/*
 * Read the frame at the head of a copy of f both ways: box_frame_read
 * (msg_unpack) and box_frame_next (the ack and sms decoders).  They must
 * agree on the outcome, on what is left in the buffer and, for an ack or
 * an sms, on every field.  Returns box_frame_next's result.
 */
static int
assert_reads_agree(struct evbuffer *f, size_t max, const char *what)
{
	struct evbuffer	*a = evbuffer_new(), *b = evbuffer_new();
	unsigned char	*bytes;
	size_t		 n = evbuffer_get_length(f);
	struct box_ack	 ack_;
	struct box_sms	 sms_;
	void		*m = NULL, *m2 = NULL;
	Msg		*r;
	int		 ra, rb;

	memset(&sms_, 0, sizeof(sms_));
	bytes = n > 0 ? evbuffer_pullup(f, -1) : NULL;
	evbuffer_add(a, bytes, n);
	evbuffer_add(b, bytes, n);
	ra = box_frame_read(a, max, &m);
	rb = box_frame_next(b, max, &m2, &ack_, &sms_);
	r = m;
	if (ra == 1 && r->type == ack) {
		cr_assert_eq(rb, 2, "%s: an ack msg_unpack takes is refused "
		    "(%d)", what, rb);
		cr_assert_null(m2);
		cr_assert_eq(ack_.nack, r->ack.nack, "%s", what);
		cr_assert_eq(ack_.time, r->ack.time, "%s", what);
		cr_assert_eq(memcmp(ack_.id, r->ack.id, 16), 0, "%s", what);
	} else if (ra == 1 && r->type == sms) {
		cr_assert_eq(rb, 3, "%s: an sms msg_unpack takes is refused "
		    "(%d)", what, rb);
		cr_assert_null(m2);
		assert_sms_fields(&sms_, r, what);
	} else if (ra == 1) {
		cr_assert_eq(rb, 1, "%s", what);
		cr_assert_not_null(m2);
		cr_assert_eq(((Msg *)m2)->type, r->type, "%s", what);
	} else {
		cr_assert_eq(rb, ra, "%s: box_frame_next %d, box_frame_read "
		    "%d", what, rb, ra);
		cr_assert_null(m2);
	}
	cr_assert_eq(evbuffer_get_length(b), evbuffer_get_length(a), "%s",
	    what);
	msg_destroy(m);
	msg_destroy(m2);
	box_sms_clear(&sms_);
	evbuffer_free(a);
	evbuffer_free(b);
	return rb;
}

/*
 * box_uuid_unparse and box_uuid_parse against libgw's uuid_unparse and
 * uuid_parse: random ids, ids whose text is mangled one byte at a time
 * (a non-digit, a dash moved, upper case, cut short, one byte longer), and
 * random texts of 36 characters drawn from what a uuid holds.
 */
Test(codec, uuid_text_agrees_with_libgw)
{
	static const char	 alphabet[] = "0123456789abcdefABCDEFgG-x\t ";
	uuid_t			 id, ours, theirs;
	char			 a[UUID_STR_LEN + 2], b[UUID_STR_LEN + 2];
	unsigned int		 seed = 14;
	int			 i, k, rc1, rc2;

	for (i = 0; i < 2000; i++) {
		for (k = 0; k < 16; k++)
			id[k] = (unsigned char)(i < 256 ? (k == i % 16 ?
			    i : 0) : rand_r(&seed));
		box_uuid_unparse(id, a);
		uuid_unparse(id, b);
		cr_assert_str_eq(a, b);
		cr_assert_eq(box_uuid_parse(a, ours), 0);
		cr_assert_eq(memcmp(ours, id, 16), 0);

		/* one byte changed, or the text cut or made longer */
		k = rand_r(&seed) % (UUID_STR_LEN + 1);
		switch (rand_r(&seed) % 4) {
		case 0:
			a[k] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
			break;
		case 1:
			a[k] = '\0';
			break;
		case 2:
			a[UUID_STR_LEN] = alphabet[rand_r(&seed) % 16];
			a[UUID_STR_LEN + 1] = '\0';
			break;
		default:
			if (a[k] >= 'a' && a[k] <= 'f')
				a[k] = (char)(a[k] - 'a' + 'A');
			break;
		}
		memset(ours, 0x55, 16);
		memset(theirs, 0x55, 16);
		rc1 = box_uuid_parse(a, ours);
		rc2 = uuid_parse(a, theirs);
		cr_assert_eq(rc1, rc2, "\"%s\": %d, libgw %d", a, rc1, rc2);
		if (rc1 == 0)
			cr_assert_eq(memcmp(ours, theirs, 16), 0, "%s", a);

		/* anything of the right length */
		for (k = 0; k < UUID_STR_LEN; k++)
			a[k] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
		a[UUID_STR_LEN] = '\0';
		if (i % 2 == 0)
			a[8] = a[13] = a[18] = a[23] = '-';
		rc1 = box_uuid_parse(a, ours);
		rc2 = uuid_parse(a, theirs);
		cr_assert_eq(rc1, rc2, "\"%s\": %d, libgw %d", a, rc1, rc2);
		if (rc1 == 0)
			cr_assert_eq(memcmp(ours, theirs, 16), 0, "%s", a);
	}
}

Test(codec, ack_decode_round_trip)
{
	static const long nacks[] = { 0, 1, 2, 3, -1, 2147483647 };
	static const long times[] = { 1700000000, 0, -1, 2147483647,
	    -2147483647 - 1 };
	struct evbuffer	*b = evbuffer_new();
	struct box_ack	 got;
	struct box_sms	 sms_got = { 0 };
	size_t		 in, it;
	void		*m;
	Msg		*a;

	for (in = 0; in < sizeof(nacks) / sizeof(nacks[0]); in++)
	for (it = 0; it < sizeof(times) / sizeof(times[0]); it++) {
		a = msg_create(ack);
		a->ack.nack = nacks[in];
		a->ack.time = times[it];
		cr_assert_eq(box_frame_write(b, a), 0);
		cr_assert_eq(assert_reads_agree(b, MAX_FRAME, "round trip"),
		    2);
		memset(&got, 0x5a, sizeof(got));
		cr_assert_eq(box_frame_next(b, MAX_FRAME, &m, &got,
		    &sms_got), 2);
		cr_assert_null(m);
		cr_assert_eq(evbuffer_get_length(b), 0);
		cr_assert_eq(got.nack, nacks[in]);
		cr_assert_eq(got.time, times[it]);
		cr_assert_eq(memcmp(got.id, a->ack.id, 16), 0);
		msg_destroy(a);
	}
	evbuffer_free(b);
}

/* Acks and an sms between other kinds: each kind goes its way, in order. */
Test(codec, ack_decode_among_other_frames)
{
	struct evbuffer	*b = evbuffer_new();
	Msg		*h = msg_create(heartbeat), *s = msg_create(sms);
	struct box_ack	 got;
	struct box_sms	 sms_got = { 0 };
	uuid_t		 id1, id2;
	void		*m;

	uuid_generate(id1);
	uuid_generate(id2);
	h->heartbeat.load = 3;
	s->sms.sms_type = mo;
	s->sms.sender = octstr_create("+254700000001");
	cr_assert_eq(box_frame_write_ack(b, ack_buffered, 11, id1), 0);
	cr_assert_eq(box_frame_write(b, h), 0);
	cr_assert_eq(box_frame_write_ack(b, ack_failed, 12, id2), 0);
	cr_assert_eq(box_frame_write(b, s), 0);

	cr_assert_eq(box_frame_next(b, MAX_FRAME, &m, &got, &sms_got), 2);
	cr_assert_eq(got.nack, ack_buffered);
	cr_assert_eq(got.time, 11);
	cr_assert_eq(memcmp(got.id, id1, 16), 0);
	cr_assert_eq(box_frame_next(b, MAX_FRAME, &m, &got, &sms_got), 1);
	cr_assert_eq(((Msg *)m)->type, heartbeat);
	cr_assert_eq(((Msg *)m)->heartbeat.load, 3);
	msg_destroy(m);
	cr_assert_eq(box_frame_next(b, MAX_FRAME, &m, &got, &sms_got), 2);
	cr_assert_eq(got.nack, ack_failed);
	cr_assert_eq(memcmp(got.id, id2, 16), 0);
	cr_assert_eq(box_frame_next(b, MAX_FRAME, &m, &got, &sms_got), 3);
	cr_assert_null(m);
	cr_assert_eq(sms_got.sms_type, mo);
	cr_assert_str_eq(sms_got.sender.data, "+254700000001");
	cr_assert_eq(memcmp(sms_got.id, s->sms.id, 16), 0);
	cr_assert_eq(box_frame_next(b, MAX_FRAME, &m, &got, &sms_got), 0);
	cr_assert_null(m);
	msg_destroy(h);
	msg_destroy(s);
	box_sms_clear(&sms_got);
	evbuffer_free(b);
}

/* An ack's frame cut anywhere: wait while the prefix promises more. */
Test(codec, ack_decode_truncated)
{
	struct evbuffer	*full = evbuffer_new(), *b = evbuffer_new();
	struct evbuffer	*p;
	unsigned char	*bytes;
	struct box_ack	 got;
	struct box_sms	 sms_got = { 0 };
	uuid_t		 id;
	size_t		 n, k;
	void		*m;

	uuid_generate(id);
	cr_assert_eq(box_frame_write_ack(full, ack_success, 5, id), 0);
	n = evbuffer_get_length(full);
	bytes = evbuffer_pullup(full, -1);
	for (k = 0; k < n; k++) {
		evbuffer_drain(b, evbuffer_get_length(b));
		evbuffer_add(b, bytes, k);
		cr_assert_eq(box_frame_next(b, MAX_FRAME, &m, &got,
		    &sms_got), 0, "complete after %zu of %zu bytes", k, n);
		cr_assert_null(m);
		cr_assert_eq(evbuffer_get_length(b), k);
	}
	/* The prefix tells the truth but the body stops short: refused. */
	for (k = 0; k < n - 4; k++) {
		p = evbuffer_new();
		evbuffer_add(p, bytes + 4, k);
		evbuffer_drain(b, evbuffer_get_length(b));
		evbuffer_free(b);
		b = frame_of(p);
		evbuffer_free(p);
		cr_assert_eq(assert_reads_agree(b, MAX_FRAME, "short body"),
		    -1, "a body of %zu bytes", k);
	}
	evbuffer_free(full);
	evbuffer_free(b);
}

/* An ack over max, a bad id length or text, trailing bytes. */
Test(codec, ack_decode_refuses_bad_frames)
{
	static const char *bad_ids[] = {
		"2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e1g",	/* not hex */
		"2f2a8d6e_6f1c-4a55-9d3e-3b1c0f7a9e10",	/* no hyphen */
		"2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e\0000",	/* a NUL */
		"                                    "
	};
	static const long bad_lens[] = { -1, 0, 35, 37, 2147483647 };
	struct evbuffer	*p = evbuffer_new(), *f;
	struct box_ack	 got;
	struct box_sms	 sms_got = { 0 };
	size_t		 i, n;
	void		*m;
	uuid_t		 id;

	/* Over max, by the prefix alone: refused before the body is in. */
	uuid_generate(id);
	f = evbuffer_new();
	cr_assert_eq(box_frame_write_ack(f, 0, 1, id), 0);
	n = evbuffer_get_length(f) - 4;
	cr_assert_eq(box_frame_next(f, n - 1, &m, &got, &sms_got), -1);
	cr_assert_null(m);
	/* A prefix one byte over MAX_FRAME. */
	evbuffer_drain(f, 4);
	evbuffer_prepend(f, "\x00\x10\x00\x01", 4);
	cr_assert_eq(box_frame_next(f, MAX_FRAME, &m, &got, &sms_got), -1);
	cr_assert_null(m);
	evbuffer_free(f);

	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		put_int(p, ack);
		put_int(p, 0);
		put_int(p, 1700000000);
		put_str(p, bad_ids[i], UUID_STR_LEN);
		f = frame_of(p);
		cr_assert_eq(assert_reads_agree(f, MAX_FRAME, bad_ids[i]), -1);
		evbuffer_free(f);
	}
	for (i = 0; i < sizeof(bad_lens) / sizeof(bad_lens[0]); i++) {
		put_int(p, ack);
		put_int(p, 0);
		put_int(p, 1700000000);
		put_int(p, bad_lens[i]);
		evbuffer_add(p, "2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e10xx", 38);
		f = frame_of(p);
		cr_assert_eq(assert_reads_agree(f, MAX_FRAME, "id length"), -1,
		    "id length %ld", bad_lens[i]);
		evbuffer_free(f);
	}
	/* Upper case is an id libgw takes; bytes after it are ignored. */
	put_int(p, ack);
	put_int(p, 3);
	put_int(p, 1700000000);
	put_str(p, "2F2A8D6E-6F1C-4A55-9D3E-3B1C0F7A9E10", UUID_STR_LEN);
	evbuffer_add(p, "tail", 4);
	f = frame_of(p);
	cr_assert_eq(assert_reads_agree(f, MAX_FRAME, "upper case"), 2);
	cr_assert_eq(box_frame_next(f, MAX_FRAME, &m, &got, &sms_got), 2);
	cr_assert_eq(evbuffer_get_length(f), 0);
	cr_assert_eq(got.nack, 3);
	cr_assert_eq(uuid_parse("2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e10", id),
	    0);
	cr_assert_eq(memcmp(got.id, id, 16), 0);
	evbuffer_free(f);
	evbuffer_free(p);
}

/* Ack frames with bytes changed: both readers always agree. */
Test(codec, ack_decode_fuzz_agrees_with_msg_unpack)
{
	struct evbuffer	*b = evbuffer_new();
	unsigned char	 seed_frame[56], copy[56];
	unsigned int	 seed = 1234;
	uuid_t		 id;
	int		 i, r, flips, acks = 0;
	size_t		 j, len;

	uuid_generate(id);
	cr_assert_eq(box_frame_write_ack(b, ack_success, 1700000000, id), 0);
	cr_assert_eq(evbuffer_get_length(b), sizeof(seed_frame));
	evbuffer_remove(b, seed_frame, sizeof(seed_frame));
	for (i = 0; i < 5000; i++) {
		memcpy(copy, seed_frame, sizeof(copy));
		for (flips = 1 + rand_r(&seed) % 3; flips > 0; flips--) {
			/* Mostly the type, lengths and id text. */
			j = (size_t)rand_r(&seed) % sizeof(copy);
			if (i & 1)
				copy[j] = (unsigned char)rand_r(&seed);
			else
				copy[j] ^= (unsigned char)(1 << rand_r(&seed) %
				    8);
		}
		/* Sometimes cut short, the prefix left as it was. */
		len = i % 7 == 0 ? (size_t)rand_r(&seed) % sizeof(copy) :
		    sizeof(copy);
		evbuffer_drain(b, evbuffer_get_length(b));
		evbuffer_add(b, copy, len);
		r = assert_reads_agree(b, 4096, "mutated ack");
		cr_assert(r >= -1 && r <= 2);
		acks += r == 2;
	}
	evbuffer_free(b);
	cr_log_info("ack_decode_fuzz_agrees_with_msg_unpack: %d acks", acks);
}

/*
 * Incoming sms frames (MOs, DLRs) decoded without a Msg.  Every frame is
 * made by msg_pack() from a Msg, and box_frame_next's struct box_sms is
 * compared field by field with what msg_unpack() gives for the same bytes.
 */

#define SMS_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static Msg	*make_mo(const char *, const char *, long);

/* The values a generated sms's integers take. */
static const long sms_ints[] = {
	-1, 0, 1, 2, 3, 4, 8, 31, 255, 65535, 65536, 1700000000,
	2147483647, -2147483647 - 1, -2
};

static const long sms_types[] = {
	mo, mt_reply, mt_push, report_mo, report_mt, -1, 99
};

/* The values its strings take: data NULL is a NULL Octstr. */
struct sms_bytes {
	const char	*data;
	long		 len;
};
#define SMS_BYTES(s)	{ s, (long)sizeof(s) - 1 }
static const struct sms_bytes sms_strs[] = {
	{ NULL, 0 },
	SMS_BYTES(""),
	SMS_BYTES("+254700000001"),
	SMS_BYTES("777"),
	SMS_BYTES("FAKE"),
	SMS_BYTES(TEXT_UTF8),
	SMS_BYTES("\0e\0c\0h\0o\0 \x4f\x60\x59\x7d"),	/* UCS-2 */
	SMS_BYTES("a\0b"),
	SMS_BYTES("\0"),
	SMS_BYTES("?smpp?ussd_service_op=%01&its_session_info=%12%00&"),
	SMS_BYTES("\x05\x00\x03\x2a\x02\x01"),	/* a concatenation UDH */
	SMS_BYTES("UTF-16BE"),
	SMS_BYTES("12345")
};

static Octstr *
sms_octstr(const struct sms_bytes *b)
{
	return b->data != NULL ? octstr_create_from_data(b->data, b->len) :
	    NULL;
}

/* Bytes 0..255 over and over: n of them. */
static Octstr *
sms_binary(long n)
{
	Octstr	*os = octstr_create("");
	long	 i;

	for (i = 0; i < n; i++)
		octstr_append_char(os, (int)(i & 0xff));
	return os;
}

/*
 * Every field of an sms (from gw/msg-decl.h, so that none is missed) set
 * to a value picked by *seed; the id stays msg_create's fresh one.
 */
#define INTEGER(name)	p->name = sms_ints[rand_r(seed) % SMS_NELEM(sms_ints)];
#define OCTSTR(name)	p->name = sms_octstr(&sms_strs[rand_r(seed) %	\
			    SMS_NELEM(sms_strs)]);
#define UUID(name)
#define VOID(name)
#define MSG(type, fields)						\
static inline void							\
sms_fill_##type(struct type *p, unsigned int *seed)			\
{									\
	(void)p;							\
	(void)seed;							\
	fields								\
}
#include "gw/msg-decl.h"

static Msg *
sms_random(unsigned int *seed)
{
	Msg	*m = msg_create(sms);

	sms_fill_sms(&m->sms, seed);
	if (rand_r(seed) % 2)
		m->sms.sms_type = sms_types[rand_r(seed) %
		    SMS_NELEM(sms_types)];
	switch (rand_r(seed) % 8) {
	case 0:		/* binary, sometimes past 64 KiB */
		octstr_destroy(m->sms.msgdata);
		m->sms.msgdata = sms_binary(rand_r(seed) % 4 == 0 ? 70000 :
		    rand_r(seed) % 600);
		break;
	case 1:
		m->sms.coding = rand_r(seed) % 3;
		break;
	}
	return m;
}

/*
 * Read every frame of frames both ways: box_frame_read (msg_unpack) and
 * box_frame_next into one struct box_sms, reused from frame to frame as
 * box.c reuses it.  Every frame must be an sms both take, with the same
 * fields.  Returns the number of frames.
 */
static int
assert_sms_stream_agrees(struct evbuffer *frames, const char *what)
{
	struct evbuffer	*a = evbuffer_new(), *b = evbuffer_new();
	struct box_sms	 s;
	struct box_ack	 ack_;
	void		*m, *m2;
	int		 ra, rb, count = 0;

	memset(&s, 0, sizeof(s));
	evbuffer_add_buffer(a, frames);
	evbuffer_add(b, evbuffer_pullup(a, -1), evbuffer_get_length(a));
	for (;;) {
		ra = box_frame_read(a, MAX_FRAME, &m);
		rb = box_frame_next(b, MAX_FRAME, &m2, &ack_, &s);
		if (ra == 0) {
			cr_assert_eq(rb, 0, "%s: frame %d", what, count);
			break;
		}
		cr_assert_eq(ra, 1, "%s: frame %d: msg_unpack refuses it",
		    what, count);
		cr_assert_eq(rb, 3, "%s: frame %d: %d", what, count, rb);
		cr_assert_null(m2);
		assert_sms_fields(&s, m, what);
		cr_assert_eq(evbuffer_get_length(b), evbuffer_get_length(a));
		msg_destroy(m);
		count++;
	}
	box_sms_clear(&s);
	cr_assert_null(s.buf);
	cr_assert_eq(s.bufsize, 0);
	evbuffer_free(a);
	evbuffer_free(b);
	return count;
}

/*
 * Every sms_type, with each kind of text (GSM, UCS-2, binary with a UDH,
 * none, empty), every other string absent or set, the integers at their
 * extremes: the decoder gives what msg_unpack gives.
 */
Test(codec, sms_decode_matches_msg_unpack)
{
	static const struct {
		long		coding;
		struct sms_bytes text, udh;
	} texts[] = {
		{ 0, SMS_BYTES(TEXT_UTF8), { NULL, 0 } },
		{ 0, SMS_BYTES("SELL maize 10 bags 3000"), { NULL, 0 } },
		{ 2, SMS_BYTES("\0e\0c\0h\0o\0 \x4f\x60\x59\x7d"),
		    { NULL, 0 } },
		{ 1, SMS_BYTES("\x00\x01\xfe\xff\x80"),
		    SMS_BYTES("\x05\x00\x03\x2a\x02\x01") },
		{ -1, { NULL, 0 }, { NULL, 0 } },
		{ 0, SMS_BYTES(""), SMS_BYTES("") }
	};
	static const long extremes[][4] = {	/* time, dlr_mask, others */
		{ 1700000000, 31, 0 },
		{ -1, -1, -1 },
		{ 2147483647, 2147483647, -2147483647 - 1 },
		{ -2147483647 - 1, 0, 2147483647 }
	};
	struct evbuffer	*b = evbuffer_new();
	size_t		 it, ix, ie, strings;
	int		 frames = 0;
	char		 what[64];
	Msg		*m;

	for (it = 0; it < SMS_NELEM(sms_types); it++)
	for (ix = 0; ix < SMS_NELEM(texts); ix++)
	for (ie = 0; ie < SMS_NELEM(extremes); ie++)
	for (strings = 0; strings < 2; strings++) {
		m = msg_create(sms);
		m->sms.sms_type = sms_types[it];
		m->sms.coding = texts[ix].coding;
		m->sms.msgdata = sms_octstr(&texts[ix].text);
		m->sms.udhdata = sms_octstr(&texts[ix].udh);
		m->sms.time = extremes[ie][0];
		m->sms.dlr_mask = extremes[ie][1];
		m->sms.mclass = m->sms.validity = m->sms.priority =
		    m->sms.resend_time = extremes[ie][2];
		if (strings) {
			m->sms.sender = octstr_create("+254700000001");
			m->sms.receiver = octstr_create("777");
			m->sms.smsc_id = octstr_create("FAKE");
			m->sms.smsc_number = octstr_create("+254722000000");
			m->sms.foreign_id = octstr_create("smsc-4711");
			m->sms.service = octstr_create("market");
			m->sms.account = octstr_create("coop");
			m->sms.dlr_url = octstr_create("123456789");
			m->sms.charset = octstr_create(texts[ix].coding == 2 ?
			    "UTF-16BE" : "UTF-8");
			m->sms.boxc_id = octstr_create("marketbox");
			m->sms.binfo = octstr_create("");
			m->sms.meta_data = octstr_create("?smpp?ussd_service_"
			    "op=%01&its_session_info=%12%00&");
		}
		snprintf(what, sizeof(what), "type %ld text %zu ints %zu "
		    "strings %zu", sms_types[it], ix, ie, strings);
		cr_assert_eq(box_frame_write(b, m), 0);
		cr_assert_eq(assert_reads_agree(b, MAX_FRAME, what), 3, "%s",
		    what);
		msg_destroy(m);
		frames++;
	}
	/* And all of them again in one stream, read with one struct. */
	cr_assert_eq(assert_sms_stream_agrees(b, "stream"), frames);
	evbuffer_free(b);
	cr_log_info("sms_decode_matches_msg_unpack: %d frames", frames);
}

/*
 * Thousands of sms with every field picked at random, read as one stream
 * (one struct box_sms for all, as box.c keeps one): the same fields as
 * msg_unpack, frame after frame, whatever the previous one held.
 */
Test(codec, sms_decode_random_fields_match_msg_unpack)
{
	struct evbuffer	*b = evbuffer_new();
	unsigned int	 seed = 4711;
	int		 i, frames = 0;
	Msg		*m;

	for (i = 0; i < 3000; i++) {
		m = sms_random(&seed);
		cr_assert_eq(box_frame_write(b, m), 0);
		msg_destroy(m);
		if (i % 50 == 49)
			frames += assert_sms_stream_agrees(b, "random");
	}
	frames += assert_sms_stream_agrees(b, "random");
	cr_assert_eq(frames, 3000);
	evbuffer_free(b);
}

/* A decoded sms's values, checked against the Msg it was packed from. */
Test(codec, sms_decode_values)
{
	static const char ucs2[] = "\0e\0c\0h\0o\0 \x4f\x60\x59\x7d";
	struct evbuffer	*b = evbuffer_new();
	struct box_sms	 s;
	struct box_ack	 a;
	char		 idtext[UUID_STR_LEN + 1];
	void		*m;
	Msg		*mo_, *dlr;

	memset(&s, 0, sizeof(s));
	mo_ = make_mo("+254700000001", "", 2);
	octstr_destroy(mo_->sms.msgdata);
	mo_->sms.msgdata = octstr_create_from_data(ucs2, sizeof(ucs2) - 1);
	mo_->sms.meta_data = octstr_create("?smpp?x=1&");
	mo_->sms.udhdata = octstr_create("\x05\x00\x03\x2a\x02\x01");
	dlr = msg_create(sms);
	dlr->sms.sms_type = report_mo;
	dlr->sms.dlr_mask = 8;
	dlr->sms.dlr_url = octstr_create("42");
	dlr->sms.foreign_id = octstr_create("smsc-1");
	dlr->sms.time = -2147483647 - 1;
	cr_assert_eq(box_frame_write(b, mo_), 0);
	cr_assert_eq(box_frame_write(b, dlr), 0);

	cr_assert_eq(box_frame_next(b, MAX_FRAME, &m, &a, &s), 3);
	cr_assert_eq(s.sms_type, mo);
	cr_assert_eq(s.coding, 2);
	cr_assert_eq(s.time, 1700000000);
	cr_assert_eq(s.dlr_mask, -1);
	cr_assert_eq(memcmp(s.id, mo_->sms.id, 16), 0);
	cr_assert_str_eq(s.sender.data, "+254700000001");
	cr_assert_eq(s.sender.len, 13);
	cr_assert_str_eq(s.receiver.data, "777");
	cr_assert_eq(s.msgdata.len, sizeof(ucs2) - 1);
	cr_assert_eq(memcmp(s.msgdata.data, ucs2, sizeof(ucs2) - 1), 0);
	cr_assert_str_eq(s.smsc_id.data, "FAKE");
	cr_assert_str_eq(s.meta_data.data, "?smpp?x=1&");
	cr_assert_null(s.foreign_id.data);
	cr_assert_null(s.dlr_url.data);

	cr_assert_eq(box_frame_next(b, MAX_FRAME, &m, &a, &s), 3);
	cr_assert_eq(s.sms_type, report_mo);
	cr_assert_eq(s.dlr_mask, 8);
	cr_assert_eq(s.time, -2147483647 - 1);
	cr_assert_eq(s.coding, -1);
	uuid_unparse(s.id, idtext);
	cr_assert_eq(memcmp(s.id, dlr->sms.id, 16), 0, "%s", idtext);
	cr_assert_str_eq(s.dlr_url.data, "42");
	cr_assert_eq(s.dlr_url.len, 2);
	cr_assert_str_eq(s.foreign_id.data, "smsc-1");
	cr_assert_null(s.sender.data);
	cr_assert_null(s.receiver.data);
	cr_assert_null(s.msgdata.data);
	cr_assert_null(s.smsc_id.data);
	cr_assert_null(s.meta_data.data);
	cr_assert_eq(evbuffer_get_length(b), 0);

	box_sms_clear(&s);
	box_sms_clear(NULL);
	msg_destroy(mo_);
	msg_destroy(dlr);
	evbuffer_free(b);
}

/* An sms with every string set and a long text: its frame body. */
static struct evbuffer *
sms_rich_body(Msg **mp)
{
	struct evbuffer	*b = evbuffer_new();
	Msg		*m = make_mo("+254700000001", TEXT_UTF8, 0);

	m->sms.udhdata = octstr_create("\x05\x00\x03\x2a\x02\x01");
	m->sms.smsc_number = octstr_create("+254722000000");
	m->sms.foreign_id = octstr_create("smsc-4711");
	m->sms.service = octstr_create("market");
	m->sms.account = octstr_create("coop");
	m->sms.dlr_url = octstr_create("123456789");
	m->sms.charset = octstr_create("UTF-8");
	m->sms.boxc_id = octstr_create("marketbox");
	m->sms.binfo = octstr_create("b");
	m->sms.meta_data = octstr_create("?smpp?ussd_service_op=%01&");
	/* A fixed id: the fuzz test's mutations are the same every run. */
	cr_assert_eq(uuid_parse("0b7c35e2-8d4f-4f0a-9a61-5e2d4c3b2a19",
	    m->sms.id), 0);
	cr_assert_eq(box_frame_write(b, m), 0);
	evbuffer_drain(b, 4);
	if (mp != NULL)
		*mp = m;
	else
		msg_destroy(m);
	return b;
}

/*
 * A frame cut anywhere: wait while the prefix promises more; refused when
 * the prefix says the body is shorter than its fields.  The decoder on
 * its own, without box_frame_check before it, refuses every cut too.
 */
Test(codec, sms_decode_truncated)
{
	struct evbuffer	*body = sms_rich_body(NULL), *f, *p;
	struct box_sms	 s;
	struct box_ack	 a;
	unsigned char	*bytes;
	size_t		 n, k;
	void		*m;

	memset(&s, 0, sizeof(s));
	n = evbuffer_get_length(body);
	bytes = evbuffer_pullup(body, -1);
	f = evbuffer_new();
	for (k = 0; k < n; k++) {
		evbuffer_drain(f, evbuffer_get_length(f));
		put_int(f, (long)n);
		evbuffer_add(f, bytes, k);
		cr_assert_eq(box_frame_next(f, MAX_FRAME, &m, &a, &s), 0,
		    "complete after %zu of %zu bytes", k + 4, n + 4);
		cr_assert_eq(evbuffer_get_length(f), 4 + k);
	}
	for (k = 0; k < n; k++) {
		p = evbuffer_new();
		evbuffer_add(p, bytes, k);
		evbuffer_free(f);
		f = frame_of(p);
		evbuffer_free(p);
		cr_assert_eq(assert_reads_agree(f, MAX_FRAME, "short body"),
		    -1, "a body of %zu of %zu bytes", k, n);
		cr_assert_eq(box_frame_decode_sms(bytes, k, &s), -1,
		    "decoded from %zu of %zu bytes", k, n);
	}
	cr_assert_eq(box_frame_decode_sms(bytes, n, &s), 0);
	cr_assert_str_eq(s.meta_data.data, "?smpp?ussd_service_op=%01&");
	cr_assert_eq(box_frame_decode_sms(NULL, n, &s), -1);
	cr_assert_eq(box_frame_decode_sms(bytes, n, NULL), -1);
	box_sms_clear(&s);
	evbuffer_free(f);
	evbuffer_free(body);
}

/* Where each field of a packed sms starts, found with gw/msg-decl.h. */
struct sms_field {
	const char	*field;
	int		 kind;		/* 'i', 's' or 'u' */
	size_t		 off;		/* of its integer or length */
};

static long
sms_get32(const unsigned char *p)
{
	uint32_t	u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			    (uint32_t)p[2] << 8 | p[3];

	return (long)(int32_t)u;
}

#define INTEGER(name)							\
	f[nf].field = #name; f[nf].kind = 'i'; f[nf++].off = off;	\
	off += 4;
#define OCTSTR(name)							\
	f[nf].field = #name; f[nf].kind = 's'; f[nf++].off = off;	\
	len = sms_get32(body + off);					\
	off += 4 + (len > 0 ? (size_t)len : 0);
#define UUID(name)							\
	f[nf].field = #name; f[nf].kind = 'u'; f[nf++].off = off;	\
	off += 4 + UUID_STR_LEN;
#define VOID(name)
#define MSG(type, fields)						\
static inline size_t							\
sms_fields_##type(const unsigned char *body, struct sms_field *f)	\
{									\
	size_t	off = 4, nf = 0;					\
	long	len;							\
									\
	(void)body;							\
	(void)len;							\
	fields								\
	return nf;							\
}
#include "gw/msg-decl.h"

/* A copy of body with the 32-bit value at off replaced. */
static struct evbuffer *
sms_patched(const unsigned char *body, size_t n, size_t off, long v)
{
	struct evbuffer	*p = evbuffer_new(), *f;
	unsigned char	 be[4];
	uint32_t	 u = (uint32_t)v;

	be[0] = u >> 24;
	be[1] = u >> 16;
	be[2] = u >> 8;
	be[3] = u;
	evbuffer_add(p, body, off);
	evbuffer_add(p, be, 4);
	evbuffer_add(p, body + off + 4, n - off - 4);
	f = frame_of(p);
	evbuffer_free(p);
	return f;
}

/*
 * Every string's length made too big (by one byte, or by far), negative
 * other than -1, and the id's length anything but 36: refused by both
 * readers, and by the decoder without box_frame_check.
 */
Test(codec, sms_decode_refuses_bad_lengths)
{
	struct evbuffer		*body = sms_rich_body(NULL), *f;
	struct sms_field	 fields[64];
	struct box_sms		 s;
	unsigned char		*bytes, *fb;
	size_t			 n, nf, i, j, left, tried = 0;
	long			 bad[6];
	char			 what[64];

	memset(&s, 0, sizeof(s));
	n = evbuffer_get_length(body);
	bytes = evbuffer_pullup(body, -1);
	nf = sms_fields_sms(bytes, fields);
	cr_assert_eq(nf, 31);
	cr_assert_eq(fields[nf - 1].kind, 's');
	cr_assert_str_eq(fields[nf - 1].field, "meta_data");
	for (i = 0; i < nf; i++) {
		if (fields[i].kind == 'i')
			continue;
		left = n - fields[i].off - 4;
		if (fields[i].kind == 's') {
			bad[0] = (long)left + 1;
			bad[1] = (long)left + 1000;
			bad[2] = 2147483647;
			bad[3] = -2;
			bad[4] = -2147483647 - 1;
			bad[5] = (long)left + 65536;
		} else {
			bad[0] = -1;
			bad[1] = 0;
			bad[2] = UUID_STR_LEN - 1;
			bad[3] = UUID_STR_LEN + 1;
			bad[4] = 2147483647;
			bad[5] = (long)left + 1;
		}
		for (j = 0; j < SMS_NELEM(bad); j++) {
			snprintf(what, sizeof(what), "%s length %ld",
			    fields[i].field, bad[j]);
			f = sms_patched(bytes, n, fields[i].off, bad[j]);
			cr_assert_eq(assert_reads_agree(f, MAX_FRAME, what),
			    -1, "%s", what);
			fb = evbuffer_pullup(f, -1);
			cr_assert_eq(box_frame_decode_sms(fb + 4, n, &s), -1,
			    "%s", what);
			evbuffer_free(f);
			tried++;
		}
	}
	/* The last string may run to the end of the frame, and no further. */
	f = sms_patched(bytes, n, fields[nf - 1].off,
	    (long)(n - fields[nf - 1].off - 4));
	cr_assert_eq(assert_reads_agree(f, MAX_FRAME, "to the end"), 3);
	evbuffer_free(f);
	box_sms_clear(&s);
	evbuffer_free(body);
	cr_log_info("sms_decode_refuses_bad_lengths: %zu frames", tried);
}

/*
 * An id libgw does not take is refused, as msg_unpack refuses it; one in
 * upper case is taken (as libgw takes it); bytes after the last field are
 * ignored; a frame of another kind is not an sms.
 */
Test(codec, sms_decode_ids_and_trailing_bytes)
{
	static const char *bad_ids[] = {
		"2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e1g",	/* not hex */
		"2f2a8d6e_6f1c-4a55-9d3e-3b1c0f7a9e10",	/* no hyphen */
		"2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e\0000",	/* a NUL */
		"2f2a8d6e-6f1c-4a55-9d3e3-b1c0f7a9e10",	/* hyphen moved */
		"                                    ",
		"{2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e}"
	};
	struct evbuffer		*body = sms_rich_body(NULL), *f, *p;
	struct sms_field	 fields[64];
	struct box_sms		 s;
	struct box_ack		 a;
	unsigned char		*bytes, *copy;
	uuid_t			 want;
	size_t			 n, nf, i, id_at = 0;
	void			*m;

	memset(&s, 0, sizeof(s));
	n = evbuffer_get_length(body);
	bytes = evbuffer_pullup(body, -1);
	nf = sms_fields_sms(bytes, fields);
	for (i = 0; i < nf; i++)
		if (fields[i].kind == 'u')
			id_at = fields[i].off + 4;
	cr_assert_gt(id_at, 0);
	copy = malloc(n);
	cr_assert_not_null(copy);
	for (i = 0; i < SMS_NELEM(bad_ids); i++) {
		memcpy(copy, bytes, n);
		memcpy(copy + id_at, bad_ids[i], UUID_STR_LEN);
		p = evbuffer_new();
		evbuffer_add(p, copy, n);
		f = frame_of(p);
		cr_assert_eq(assert_reads_agree(f, MAX_FRAME, bad_ids[i]), -1,
		    "%s", bad_ids[i]);
		cr_assert_eq(box_frame_decode_sms(copy, n, &s), -1);
		evbuffer_free(f);
		evbuffer_free(p);
	}

	memcpy(copy, bytes, n);
	memcpy(copy + id_at, "2F2A8D6E-6F1C-4A55-9D3E-3B1C0F7A9E10",
	    UUID_STR_LEN);
	p = evbuffer_new();
	evbuffer_add(p, copy, n);
	evbuffer_add(p, "tail", 4);
	f = frame_of(p);
	cr_assert_eq(assert_reads_agree(f, MAX_FRAME, "upper case, tail"), 3);
	cr_assert_eq(box_frame_next(f, MAX_FRAME, &m, &a, &s), 3);
	cr_assert_eq(evbuffer_get_length(f), 0);
	cr_assert_eq(uuid_parse("2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e10", want),
	    0);
	cr_assert_eq(memcmp(s.id, want, 16), 0);
	cr_assert_str_eq(s.sender.data, "+254700000001");
	cr_assert_str_eq(s.meta_data.data, "?smpp?ussd_service_op=%01&");
	evbuffer_free(f);
	evbuffer_free(p);

	/* An ack's body is not an sms. */
	f = evbuffer_new();
	cr_assert_eq(box_frame_write_ack(f, 0, 1, want), 0);
	cr_assert_eq(box_frame_decode_sms(evbuffer_pullup(f, -1) + 4,
	    evbuffer_get_length(f) - 4, &s), -1);
	evbuffer_free(f);
	free(copy);
	box_sms_clear(&s);
	evbuffer_free(body);
}

/* sms frames with bytes changed: both readers always agree. */
Test(codec, sms_decode_fuzz_agrees_with_msg_unpack)
{
	struct evbuffer	*body = sms_rich_body(NULL), *b = evbuffer_new();
	struct sms_field fields[64];
	unsigned char	*seed_body, *copy;
	unsigned int	 seed = 2718;
	size_t		 n, nf, j, len;
	int		 i, r, flips, taken = 0;

	n = evbuffer_get_length(body);
	seed_body = evbuffer_pullup(body, -1);
	nf = sms_fields_sms(seed_body, fields);
	copy = malloc(n);
	cr_assert_not_null(copy);
	for (i = 0; i < 5000; i++) {
		memcpy(copy, seed_body, n);
		for (flips = 1 + rand_r(&seed) % 3; flips > 0; flips--) {
			/* Half the time a length or the id, else anywhere. */
			if (i & 2)
				j = fields[rand_r(&seed) % nf].off +
				    (size_t)rand_r(&seed) % 4;
			else
				j = (size_t)rand_r(&seed) % n;
			if (i & 1)
				copy[j] = (unsigned char)rand_r(&seed);
			else
				copy[j] ^= (unsigned char)(1 << rand_r(&seed) %
				    8);
		}
		/* Sometimes cut short, the prefix telling the truth. */
		len = i % 7 == 0 ? (size_t)rand_r(&seed) % n : n;
		evbuffer_drain(b, evbuffer_get_length(b));
		put_int(b, (long)len);
		evbuffer_add(b, copy, len);
		r = assert_reads_agree(b, 4096, "mutated sms");
		cr_assert(r >= -1 && r <= 3);
		taken += r == 3;
	}
	free(copy);
	evbuffer_free(b);
	evbuffer_free(body);
	cr_log_info("sms_decode_fuzz_agrees_with_msg_unpack: %d sms taken",
	    taken);
}

/* ------------------------------------------------------------------------
 * The link, against a fake bearerbox.
 */

#define FAKE_QUEUE	64

struct fake {
	struct evconnlistener	*listener;
	int			 port;
	struct bufferevent	*bev;		/* the box's connection */
	int			 accepts, closes, bad_frames;
	Msg			*queue[FAKE_QUEUE];
	size_t			 nqueue;
};

static char			 dir[] = "/tmp/test_box_XXXXXX";
static char			 path[256];
static struct event_base	*base;
static struct event		*ticker;
static struct conf		*conf, *conf2;
static struct store		*store;
static struct outbox		*outbox;
static struct router		*router;
static struct inbox		*inbox;
static struct box		*box;
static struct fake		 fake_a, fake_b;

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run the loop until expr holds or secs pass; 1 if it held.  expr is
 * evaluated once per pass (it may take something). */
#define RUN_UNTIL(expr, secs) __extension__ ({				\
	double	_deadline = now() + (secs);				\
	int	_held;							\
	while (!(_held = !!(expr)) && now() < _deadline)		\
		event_base_loop(base, EVLOOP_ONCE);			\
	_held;								\
})

static void
run_for(double secs)
{
	double	deadline = now() + secs;

	while (now() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
}

static void
ticker_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void
fake_read_cb(struct bufferevent *bev, void *arg)
{
	struct fake	*f = arg;
	void		*m;
	int		 r;

	while ((r = box_frame_read(bufferevent_get_input(bev), MAX_FRAME,
	    &m)) == 1) {
		if (f->nqueue < FAKE_QUEUE)
			f->queue[f->nqueue++] = m;
		else
			msg_destroy(m);
	}
	if (r == -1) {
		f->bad_frames++;
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
	}
}

static void
fake_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct fake	*f = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (f->bev == bev)
			f->bev = NULL;
		bufferevent_free(bev);
		f->closes++;
	}
}

static void
fake_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct fake	*f = arg;

	(void)l;
	(void)sa;
	(void)salen;
	if (f->bev != NULL)
		bufferevent_free(f->bev);
	f->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	cr_assert_not_null(f->bev);
	bufferevent_setcb(f->bev, fake_read_cb, NULL, fake_event_cb, f);
	bufferevent_enable(f->bev, EV_READ | EV_WRITE);
	f->accepts++;
}

static void
fake_open(struct fake *f)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	memset(f, 0, sizeof(*f));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	f->listener = evconnlistener_new_bind(base, fake_accept_cb, f,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	    (struct sockaddr *)&sin, sizeof(sin));
	cr_assert_not_null(f->listener);
	cr_assert_eq(getsockname(evconnlistener_get_fd(f->listener),
	    (struct sockaddr *)&sin, &len), 0);
	f->port = ntohs(sin.sin_port);
}

static void
fake_close(struct fake *f)
{
	size_t	i;

	if (f->bev != NULL)
		bufferevent_free(f->bev);
	if (f->listener != NULL)
		evconnlistener_free(f->listener);
	for (i = 0; i < f->nqueue; i++)
		msg_destroy(f->queue[i]);
	memset(f, 0, sizeof(*f));
}

/* Take the first queued message of type t (sms: of sms_type st, or any
 * when st < 0); NULL if none. */
static Msg *
fake_take(struct fake *f, enum msg_type t, long st)
{
	size_t	i;
	Msg	*m;

	for (i = 0; i < f->nqueue; i++) {
		m = f->queue[i];
		if (m->type != t || (t == sms && st >= 0 &&
		    m->sms.sms_type != st))
			continue;
		memmove(f->queue + i, f->queue + i + 1,
		    (f->nqueue - i - 1) * sizeof(*f->queue));
		f->nqueue--;
		return m;
	}
	return NULL;
}

/* 1 if a message of type t is queued. */
static int
fake_queued(struct fake *f, enum msg_type t)
{
	size_t	i;

	for (i = 0; i < f->nqueue; i++)
		if (f->queue[i]->type == t)
			return 1;
	return 0;
}

/* Wait up to secs for a message of type t. */
static Msg *
fake_wait(struct fake *f, enum msg_type t, long st, double secs)
{
	Msg	*m = NULL;

	RUN_UNTIL((m = fake_take(f, t, st)) != NULL, secs);
	return m;
}

static void
fake_send(struct fake *f, Msg *m)
{
	cr_assert_not_null(f->bev, "no connection to send on");
	cr_assert_eq(box_frame_write(bufferevent_get_output(f->bev), m), 0);
}

static void
fake_send_raw(struct fake *f, const void *p, size_t n)
{
	cr_assert_not_null(f->bev, "no connection to send on");
	bufferevent_write(f->bev, p, n);
}

/* Close the box's connection from bearerbox's side. */
static void
fake_hang_up(struct fake *f)
{
	cr_assert_not_null(f->bev);
	bufferevent_free(f->bev);
	f->bev = NULL;
}

/* Wait for the box to connect and identify; checks the identify. */
static void
fake_expect_identify(struct fake *f, int accepts)
{
	Msg	*m;

	cr_assert(RUN_UNTIL(f->accepts >= accepts, 5.0),
	    "bearerbox connection %d not made", accepts);
	m = fake_wait(f, admin, -1, 5.0);
	cr_assert_not_null(m, "no identify");
	cr_assert_eq(m->admin.command, cmd_identify);
	assert_octstr_cstr(m->admin.boxc_id, "marketbox");
	msg_destroy(m);
	cr_assert(RUN_UNTIL(box_is_up(box), 5.0));
}

static Msg *
make_mo(const char *sender, const char *text, long coding)
{
	Msg	*m = msg_create(sms);

	m->sms.sms_type = mo;
	if (sender != NULL)
		m->sms.sender = octstr_create(sender);
	m->sms.receiver = octstr_create("777");
	m->sms.msgdata = octstr_create(text);
	m->sms.coding = coding;
	m->sms.time = 1700000000;
	m->sms.smsc_id = octstr_create("FAKE");
	return m;
}

static long long
db_count(const char *sql, const char *arg)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	long long	 v = -1;

	/* A second connection sees committed data only. */
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static struct conf *
make_conf(int port)
{
	struct conf	*c = calloc(1, sizeof(*c));

	cr_assert_not_null(c);
	c->smsbox_id = strdup("marketbox");
	c->bearerbox_host = strdup("127.0.0.1");
	c->bearerbox_port = port;
	c->global_sender = strdup("777");
	c->default_language = strdup("en");
	c->currency = strdup("KES");
	c->dlr_mask = 31;
	c->max_parts = 3;
	c->retry_limit = 3;
	c->retry_delay = 1;
	c->heartbeat_interval = 0;
	c->reconnect_delay_max = 1;
	c->max_frame_size = MAX_FRAME;
	c->commit_batch = 100;
	return c;
}

static void
link_init(void)
{
	struct timeval	tv = { 0, 20000 };

	gwlib_init();
	test_log_level();
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mb.db", dir);
	base = event_base_new();
	cr_assert_not_null(base);
	ticker = event_new(base, -1, EV_PERSIST, ticker_cb, NULL);
	event_add(ticker, &tv);
	fake_open(&fake_a);
	conf = make_conf(fake_a.port);
}

/*
 * The daemon's modules on the test's loop.  auto_commit 0 opens the store
 * without the loop, so the test decides when the group commit happens.
 */
static void
link_start(int auto_commit)
{
	store = store_open(path, auto_commit ? base : NULL);
	cr_assert_not_null(store);
	outbox = outbox_new(base, store, conf);
	cr_assert_not_null(outbox);
	router = fixture_router_new(conf, store, outbox);
	cr_assert_not_null(router);
	inbox = fixture_inbox_new(store, router, NULL, outbox);
	cr_assert_not_null(inbox);
	box = box_new(base, conf, inbox, outbox);
	cr_assert_not_null(box);
	cr_assert_eq(box_is_up(box), 0);
	cr_assert_eq(box_start(box), 0);
}

static void
link_fini(void)
{
	char	cmd[512];

	/* As daemon_stop(): links first, then the last commit. */
	box_free(box);
	box = NULL;
	if (store != NULL)
		store_commit(store);
	fixture_inbox_free(inbox);
	fixture_router_free(router);
	outbox_free(outbox);
	store_free(store);
	store = NULL;
	fake_close(&fake_a);
	fake_close(&fake_b);
	conf_free(conf);
	conf_free(conf2);
	event_free(ticker);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	gwlib_shutdown();
}

TestSuite(link, .init = link_init, .fini = link_fini, .timeout = 30);

Test(link, refuses_a_conf_without_bearerbox)
{
	store = store_open(path, base);
	outbox = outbox_new(base, store, conf);
	router = fixture_router_new(conf, store, outbox);
	inbox = fixture_inbox_new(store, router, NULL, outbox);
	free(conf->bearerbox_host);
	conf->bearerbox_host = NULL;
	cr_assert_null(box_new(base, conf, inbox, outbox));
	box_free(NULL);
}

Test(link, identifies_on_connect)
{
	struct box_stats	st;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	box_stats(box, &st);
	cr_assert_eq(st.connects, 1);
	cr_assert_eq(st.protocol_errors, 0);
	run_for(0.2);
	cr_assert_eq(fake_a.nqueue, 0, "unexpected traffic after identify");
	cr_assert_eq(fake_a.accepts, 1);
}

/* The whole path: MO, ack after commit, reply MT, MT ack, duplicate, DLR. */
Test(link, mo_reply_ack_duplicate_dlr)
{
	Msg			*m, *got, *mt;
	char			 id[UUID_STR_LEN + 1], gotid[UUID_STR_LEN + 1];
	char			 mtid[UUID_STR_LEN + 1], url[32];
	uuid_t			 mo_id, mt_uuid;
	struct outbox_counts	 c;
	struct box_stats	 st;
	unsigned long long	 received, dups;
	const char		*p;

	link_start(1);
	fake_expect_identify(&fake_a, 1);

	m = make_mo("+254700000001", "echo hello", 0);
	m->sms.meta_data = octstr_create("?smpp?x=1&");
	uuid_copy(mo_id, m->sms.id);
	uuid_unparse(mo_id, id);
	fake_send(&fake_a, m);
	msg_destroy(m);

	got = fake_wait(&fake_a, ack, -1, 5.0);
	cr_assert_not_null(got, "MO not acked");
	uuid_unparse(got->ack.id, gotid);
	cr_assert_str_eq(gotid, id);
	cr_assert_eq(got->ack.nack, ack_success);
	cr_assert_eq(got->ack.time, 1700000000);
	msg_destroy(got);
	/* Acked, so committed: a second connection sees it. */
	cr_assert_eq(db_count("SELECT count(*) FROM inbox WHERE kannel_id = ?1"
	    " AND sender = '+254700000001' AND receiver = '777' AND"
	    " text = 'echo hello' AND channel = 'box' AND smsc_id = 'FAKE' AND"
	    " meta_data = '?smpp?x=1&' AND received = 1700000000", id), 1);

	mt = fake_wait(&fake_a, sms, -1, 5.0);
	cr_assert_not_null(mt, "no reply MT");
	cr_assert_eq(mt->sms.sms_type, mt_push);
	assert_octstr_cstr(mt->sms.sender, "777");
	assert_octstr_cstr(mt->sms.receiver, "+254700000001");
	assert_octstr_cstr(mt->sms.msgdata, "You said: hello");
	cr_assert_eq(mt->sms.coding, 0);
	assert_octstr_cstr(mt->sms.charset, "UTF-8");
	assert_octstr_cstr(mt->sms.boxc_id, "marketbox");
	assert_octstr_cstr(mt->sms.smsc_id, "FAKE");
	cr_assert_eq(mt->sms.dlr_mask, 31);
	cr_assert_null(mt->sms.udhdata);
	cr_assert_not_null(mt->sms.dlr_url);
	cr_assert_gt(octstr_len(mt->sms.dlr_url), 0);
	for (p = octstr_get_cstr(mt->sms.dlr_url); *p != '\0'; p++)
		cr_assert(*p >= '0' && *p <= '9', "dlr_url not a row id");
	snprintf(url, sizeof(url), "%s", octstr_get_cstr(mt->sms.dlr_url));
	cr_assert_gt(mt->sms.time, 0);
	uuid_copy(mt_uuid, mt->sms.id);
	uuid_unparse(mt_uuid, mtid);
	msg_destroy(mt);
	cr_assert_eq(db_count("SELECT count(*) FROM outbox WHERE"
	    " kannel_id = ?1", mtid), 1);

	/* bearerbox accepts the MT. */
	m = msg_create(ack);
	m->ack.nack = ack_success;
	m->ack.time = 1700000001;
	uuid_copy(m->ack.id, mt_uuid);
	fake_send(&fake_a, m);
	msg_destroy(m);
	cr_assert(RUN_UNTIL(outbox_counts(outbox, &c) == 0 &&
	    c.accepted == 1, 5.0), "MT not accepted");

	/* bearerbox offers the same MO again: acked, no second reply. */
	m = make_mo("+254700000001", "echo hello", 0);
	uuid_copy(m->sms.id, mo_id);
	fake_send(&fake_a, m);
	msg_destroy(m);
	got = fake_wait(&fake_a, ack, -1, 5.0);
	cr_assert_not_null(got, "duplicate not acked");
	uuid_unparse(got->ack.id, gotid);
	cr_assert_str_eq(gotid, id);
	cr_assert_eq(got->ack.nack, ack_success);
	msg_destroy(got);
	run_for(0.3);
	cr_assert_null(fake_take(&fake_a, sms, -1), "second reply sent");
	inbox_stats(inbox, &received, &dups);
	cr_assert_eq(received, 2);
	cr_assert_eq(dups, 1);
	cr_assert_eq(db_count("SELECT count(*) FROM outbox", NULL), 1);

	/* The DLR: delivered. */
	m = msg_create(sms);
	m->sms.sms_type = report_mo;
	m->sms.sender = octstr_create("777");
	m->sms.receiver = octstr_create("+254700000001");
	m->sms.dlr_mask = 1;
	m->sms.dlr_url = octstr_create(url);
	m->sms.foreign_id = octstr_create("smsc-1");
	m->sms.time = 1700000005;
	m->sms.boxc_id = octstr_create("marketbox");
	uuid_unparse(m->sms.id, id);
	fake_send(&fake_a, m);
	msg_destroy(m);
	got = fake_wait(&fake_a, ack, -1, 5.0);
	cr_assert_not_null(got, "DLR not acked");
	uuid_unparse(got->ack.id, gotid);
	cr_assert_str_eq(gotid, id);
	cr_assert_eq(got->ack.nack, ack_success);
	cr_assert_eq(got->ack.time, 1700000005);
	msg_destroy(got);
	cr_assert(RUN_UNTIL(outbox_counts(outbox, &c) == 0 &&
	    c.delivered == 1, 5.0), "DLR not recorded");
	cr_assert_eq(db_count("SELECT count(*) FROM outbox WHERE"
	    " foreign_id = 'smsc-1' AND dlr_state = 'delivered'", NULL), 1);

	box_stats(box, &st);
	cr_assert_eq(st.mo, 2);
	cr_assert_eq(st.dlr, 1);
	cr_assert_eq(st.mt, 1);
	cr_assert_eq(st.acks_sent, 3);
	cr_assert_eq(st.acks_received, 1);
	cr_assert_eq(st.connects, 1);
	cr_assert_eq(st.protocol_errors, 0);
	cr_assert_eq(fake_a.bad_frames, 0);
}

/* With the commit held back, no ack leaves; after it, the ack does. */
Test(link, ack_waits_for_the_commit)
{
	Msg			*m, *got;
	char			 id[UUID_STR_LEN + 1], gotid[UUID_STR_LEN + 1];
	struct box_stats	 st;

	link_start(0);
	fake_expect_identify(&fake_a, 1);
	m = make_mo("+254700000002", "price maize", 0);
	uuid_unparse(m->sms.id, id);
	fake_send(&fake_a, m);
	msg_destroy(m);
	cr_assert(RUN_UNTIL((box_stats(box, &st), st.mo == 1), 5.0));
	run_for(0.3);
	cr_assert_null(fake_take(&fake_a, ack, -1), "acked before the commit");
	cr_assert_eq(store_pending(store), 1);
	cr_assert_eq(db_count("SELECT count(*) FROM inbox", NULL), 0);

	cr_assert_eq(store_commit(store), 0);
	got = fake_wait(&fake_a, ack, -1, 5.0);
	cr_assert_not_null(got, "not acked after the commit");
	uuid_unparse(got->ack.id, gotid);
	cr_assert_str_eq(gotid, id);
	cr_assert_eq(got->ack.nack, ack_success);
	msg_destroy(got);
	cr_assert_eq(db_count("SELECT count(*) FROM inbox WHERE"
	    " kannel_id = ?1", id), 1);
}

/*
 * Make every commit fail, as a full disk does, until store_heals(): each
 * MO's row also writes one that breaks a deferred foreign key, which only
 * the COMMIT checks.
 */
static void
store_breaks(void)
{
	cr_assert_eq(store_exec(store, "CREATE TABLE IF NOT EXISTS "
	    "fail_parent(id INTEGER PRIMARY KEY); CREATE TABLE IF NOT EXISTS "
	    "fail_child(pid INTEGER REFERENCES fail_parent(id) DEFERRABLE "
	    "INITIALLY DEFERRED); CREATE TEMP TRIGGER full AFTER INSERT ON "
	    "main.inbox BEGIN INSERT INTO fail_child VALUES (42); END"), 0);
}

static void
store_heals(void)
{
	cr_assert_eq(store_exec(store, "DROP TRIGGER temp.full"), 0);
}

/* Acks that came, each counted as success or not, over secs. */
static void
count_acks(double secs, int *ok, int *failed)
{
	Msg	*got;

	run_for(secs);
	while ((got = fake_take(&fake_a, ack, -1)) != NULL) {
		if (got->ack.nack == ack_success)
			(*ok)++;
		else {
			cr_assert_eq(got->ack.nack, ack_failed_tmp);
			(*failed)++;
		}
		msg_destroy(got);
	}
}

/*
 * While the store cannot commit the link stops reading: the copies that
 * bearerbox offers again at once are not read (and failed) in a tight
 * loop, and once the store is back every one of them is handled.
 */
Test(link, a_failing_store_pauses_the_reads_then_resumes)
{
	Msg			*m;
	struct box_stats	 st;
	int			 ok = 0, failed = 0, i;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	store_breaks();
	m = make_mo("+254700000002", "echo full", 0);
	fake_send(&fake_a, m);
	cr_assert(RUN_UNTIL(fake_queued(&fake_a, ack), 5.0));
	count_acks(0, &ok, &failed);
	cr_assert_eq(failed, 1, "the failed MO not answered ack_failed_tmp");
	/* bearerbox offers it again, again and again */
	for (i = 0; i < 5; i++)
		fake_send(&fake_a, m);
	msg_destroy(m);
	count_acks(0.15, &ok, &failed);
	cr_assert_eq(failed, 1, "%d copies read while the store fails",
	    failed - 1);
	box_stats(box, &st);
	cr_assert_eq(st.mo, 1);
	cr_assert_eq(st.stalls, 1);

	/* the store is back: the probe is stored, the rest are duplicates */
	store_heals();
	for (i = 0; i < 40 && ok < 5; i++)
		count_acks(0.1, &ok, &failed);
	cr_assert_eq(ok, 5, "%d of 5 copies acked after the store healed", ok);
	cr_assert_eq(failed, 1);
	cr_assert_eq(db_count("SELECT count(*) FROM inbox", NULL), 1);
	cr_assert_eq(db_count("SELECT count(*) FROM outbox WHERE text = "
	    "'You said: full'", NULL), 1);
	box_stats(box, &st);
	cr_assert_eq(st.stalls, 1);
}

/*
 * As bearerbox does, offer a copy again as soon as it is refused: over a
 * second of a failing store the link tries a few times (the pause
 * doubles from 250 ms), not hundreds; once the store is back the MO is
 * handled once.
 */
Test(link, a_failing_store_is_retried_with_a_growing_pause)
{
	Msg		*m, *got;
	struct timeval	 start, now;
	int		 failed = 0, stored = 0, healed = 0;
	double		 t;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	store_breaks();
	m = make_mo("+254700000002", "echo again", 0);
	fake_send(&fake_a, m);
	gettimeofday(&start, NULL);
	do {
		if ((got = fake_wait(&fake_a, ack, -1, 0.05)) != NULL) {
			if (got->ack.nack == ack_success)
				stored = 1;
			else {
				failed++;
				fake_send(&fake_a, m);
			}
			msg_destroy(got);
		}
		gettimeofday(&now, NULL);
		t = (double)(now.tv_sec - start.tv_sec) +
		    (now.tv_usec - start.tv_usec) / 1e6;
		if (t >= 1.2 && !healed) {
			store_heals();
			healed = 1;
		}
	} while (!stored && t < 10);
	msg_destroy(m);
	cr_assert(stored, "not stored once the store healed");
	/* 0, 0.25, 0.75 and maybe 1.75 s: a few tries, not a spin */
	cr_assert(failed >= 2 && failed <= 4, "%d tries", failed);
	cr_assert_eq(db_count("SELECT count(*) FROM inbox", NULL), 1);
	cr_assert_eq(db_count("SELECT count(*) FROM outbox WHERE text = "
	    "'You said: again'", NULL), 1);
}

/* A DLR is acked once its row's update is durable, as an MO is. */
Test(link, dlr_ack_waits_for_the_commit)
{
	Msg			*m, *got;
	struct box_stats	 st;

	link_start(0);
	fake_expect_identify(&fake_a, 1);
	m = msg_create(sms);
	m->sms.sms_type = report_mo;
	m->sms.dlr_mask = 1;
	m->sms.dlr_url = octstr_create("1");
	fake_send(&fake_a, m);
	msg_destroy(m);
	cr_assert(RUN_UNTIL((box_stats(box, &st), st.dlr == 1), 5.0));
	run_for(0.3);
	cr_assert_null(fake_take(&fake_a, ack, -1), "DLR acked before the "
	    "commit");
	cr_assert_eq(store_commit(store), 0);
	got = fake_wait(&fake_a, ack, -1, 5.0);
	cr_assert_not_null(got, "DLR not acked after the commit");
	cr_assert_eq(got->ack.nack, ack_success);
	msg_destroy(got);
}

/* UCS-2 in, UCS-2 out. */
Test(link, ucs2_mo_and_reply)
{
	/* "echo 你好" as UTF-16BE; the reply "You said: 你好" must be UCS-2. */
	static const char in[] = "\0e\0c\0h\0o\0 \x4f\x60\x59\x7d";
	static const char want[] =
	    "\0Y\0o\0u\0 \0s\0a\0i\0d\0:\0 \x4f\x60\x59\x7d";
	Msg	*m, *mt, *got;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	m = make_mo("+254700000003", "", 2);
	octstr_destroy(m->sms.msgdata);
	m->sms.msgdata = octstr_create_from_data(in, sizeof(in) - 1);
	fake_send(&fake_a, m);
	msg_destroy(m);
	got = fake_wait(&fake_a, ack, -1, 5.0);
	cr_assert_not_null(got);
	cr_assert_eq(got->ack.nack, ack_success);
	msg_destroy(got);
	cr_assert_eq(db_count("SELECT count(*) FROM inbox WHERE text = ?1"
	    " AND coding = 2", "echo \xE4\xBD\xA0\xE5\xA5\xBD"), 1);
	mt = fake_wait(&fake_a, sms, -1, 5.0);
	cr_assert_not_null(mt);
	cr_assert_eq(mt->sms.coding, 2);
	assert_octstr(mt->sms.msgdata, want, (long)sizeof(want) - 1);
	assert_octstr_cstr(mt->sms.charset, "UTF-16BE");
	assert_octstr_cstr(mt->sms.receiver, "+254700000003");
	msg_destroy(mt);
}

/* Invalid UTF-8 is replaced, not refused. */
Test(link, invalid_utf8_mo_is_repaired)
{
	Msg	*m, *got;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	m = make_mo("+254700000004", "\xff\xfe hi", 0);
	fake_send(&fake_a, m);
	msg_destroy(m);
	got = fake_wait(&fake_a, ack, -1, 5.0);
	cr_assert_not_null(got);
	cr_assert_eq(got->ack.nack, ack_success);
	msg_destroy(got);
	cr_assert_eq(db_count("SELECT count(*) FROM inbox WHERE text = ?1",
	    "\xEF\xBF\xBD\xEF\xBF\xBD hi"), 1);
}

/* An MO that can never be processed is acked ack_failed (dropped). */
Test(link, mo_without_sender_is_refused)
{
	Msg			*m, *got;
	char			 id[UUID_STR_LEN + 1], gotid[UUID_STR_LEN + 1];
	struct box_stats	 st;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	m = make_mo(NULL, "no sender", 0);
	uuid_unparse(m->sms.id, id);
	fake_send(&fake_a, m);
	msg_destroy(m);
	got = fake_wait(&fake_a, ack, -1, 5.0);
	cr_assert_not_null(got);
	uuid_unparse(got->ack.id, gotid);
	cr_assert_str_eq(gotid, id);
	cr_assert_eq(got->ack.nack, ack_failed);
	msg_destroy(got);
	box_stats(box, &st);
	cr_assert_eq(st.mo, 1);
	cr_assert_eq(st.acks_sent, 1);
	cr_assert_eq(db_count("SELECT count(*) FROM inbox", NULL), 0);
	cr_assert(box_is_up(box));
}

/* A DLR for a row that is not ours is still acked (and dropped). */
Test(link, foreign_dlr_is_acked)
{
	Msg	*m, *got;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	m = msg_create(sms);
	m->sms.sms_type = report_mo;
	m->sms.dlr_mask = 8;
	m->sms.dlr_url = octstr_create("http://elsewhere/");
	fake_send(&fake_a, m);
	msg_destroy(m);
	got = fake_wait(&fake_a, ack, -1, 5.0);
	cr_assert_not_null(got);
	cr_assert_eq(got->ack.nack, ack_success);
	msg_destroy(got);
}

/* bearerbox sends boxes no MTs; one that comes anyway is refused. */
Test(link, unexpected_sms_type_is_refused)
{
	Msg			*m, *got;
	struct box_stats	 st;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	m = make_mo("+254700000007", "odd", 0);
	m->sms.sms_type = mt_reply;
	fake_send(&fake_a, m);
	msg_destroy(m);
	got = fake_wait(&fake_a, ack, -1, 5.0);
	cr_assert_not_null(got);
	cr_assert_eq(got->ack.nack, ack_failed);
	msg_destroy(got);
	box_stats(box, &st);
	cr_assert_eq(st.mo, 0);
	cr_assert_eq(db_count("SELECT count(*) FROM inbox", NULL), 0);
	cr_assert(box_is_up(box));
}

/*
 * An MO whose id comes in upper case (libgw takes it): acked with the
 * same id, stored under the id as libgw writes it (lower case), as when
 * msg_unpack read it.
 */
Test(link, mo_id_in_upper_case)
{
	static const char upper[] = "2F2A8D6E-6F1C-4A55-9D3E-3B1C0F7A9E10";
	static const char lower[] = "2f2a8d6e-6f1c-4a55-9d3e-3b1c0f7a9e10";
	struct evbuffer	*b = evbuffer_new();
	unsigned char	*bytes;
	char		 id[UUID_STR_LEN + 1], gotid[UUID_STR_LEN + 1];
	size_t		 n, i;
	Msg		*m, *got;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	m = make_mo("+254700000009", "price beans", 0);
	uuid_unparse(m->sms.id, id);
	cr_assert_eq(box_frame_write(b, m), 0);
	msg_destroy(m);
	n = evbuffer_get_length(b);
	bytes = evbuffer_pullup(b, -1);
	for (i = 0; i + UUID_STR_LEN <= n; i++)
		if (memcmp(bytes + i, id, UUID_STR_LEN) == 0)
			break;
	cr_assert_leq(i + UUID_STR_LEN, n, "id not in the frame");
	memcpy(bytes + i, upper, UUID_STR_LEN);
	fake_send_raw(&fake_a, bytes, n);

	got = fake_wait(&fake_a, ack, -1, 5.0);
	cr_assert_not_null(got, "MO not acked");
	uuid_unparse(got->ack.id, gotid);
	cr_assert_str_eq(gotid, lower);
	cr_assert_eq(got->ack.nack, ack_success);
	msg_destroy(got);
	cr_assert_eq(db_count("SELECT count(*) FROM inbox WHERE kannel_id = ?1"
	    " AND sender = '+254700000009' AND text = 'price beans'", lower),
	    1);
	evbuffer_free(b);
}

/*
 * MOs of very different sizes and a DLR, sent in one piece: the box reads
 * them in one go, one decoded sms after the other in the same buffer, and
 * each is stored with its own fields (nothing left over from a longer one
 * before it) and acked with its own id and time.
 */
Test(link, mos_and_a_dlr_in_one_read)
{
	struct evbuffer		*b = evbuffer_new();
	char			 ids[5][UUID_STR_LEN + 1], gotid[UUID_STR_LEN + 1];
	char			 text[3][700], sql[512];
	int			 seen[5] = { 0 }, i, j;
	struct box_stats	 st;
	Msg			*m, *got;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	memset(text[0], 'a', 600);
	text[0][600] = '\0';
	memcpy(text[0], "echo ", 5);
	snprintf(text[1], sizeof(text[1]), "echo b");
	snprintf(text[2], sizeof(text[2]), "%s", "");
	for (i = 0; i < 3; i++) {
		m = make_mo(NULL, text[i], 0);
		m->sms.sender = octstr_format("+25470000010%d", i);
		m->sms.time = 1700000100 + i;
		if (i == 0)
			m->sms.meta_data = octstr_create("?smpp?long=1&");
		uuid_unparse(m->sms.id, ids[i]);
		cr_assert_eq(box_frame_write(b, m), 0);
		msg_destroy(m);
	}
	m = msg_create(sms);
	m->sms.sms_type = report_mo;
	m->sms.dlr_mask = 1;
	m->sms.dlr_url = octstr_create("999999");
	m->sms.foreign_id = octstr_create("smsc-9");
	m->sms.time = 1700000200;
	uuid_unparse(m->sms.id, ids[3]);
	cr_assert_eq(box_frame_write(b, m), 0);
	msg_destroy(m);
	/* The MO without a sender: refused, after the others. */
	m = make_mo(NULL, "no sender", 0);
	m->sms.time = 1700000300;
	uuid_unparse(m->sms.id, ids[4]);
	cr_assert_eq(box_frame_write(b, m), 0);
	msg_destroy(m);
	fake_send_raw(&fake_a, evbuffer_pullup(b, -1),
	    evbuffer_get_length(b));

	for (j = 0; j < 5; j++) {
		got = fake_wait(&fake_a, ack, -1, 5.0);
		cr_assert_not_null(got, "%d acks of 5", j);
		uuid_unparse(got->ack.id, gotid);
		for (i = 0; i < 5 && strcmp(gotid, ids[i]) != 0; i++)
			;
		cr_assert_lt(i, 5, "ack for an unknown id %s", gotid);
		cr_assert_eq(seen[i]++, 0, "two acks for %s", gotid);
		cr_assert_eq(got->ack.nack, i == 4 ? ack_failed : ack_success,
		    "message %d", i);
		cr_assert_eq(got->ack.time, i < 3 ? 1700000100 + i :
		    i == 3 ? 1700000200 : 1700000300, "message %d", i);
		msg_destroy(got);
	}
	for (i = 0; i < 3; i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM inbox WHERE "
		    "text = ?1 AND kannel_id = '%s' AND sender = "
		    "'+25470000010%d' AND receiver = '777' AND smsc_id = "
		    "'FAKE' AND received = %d AND meta_data IS %s", ids[i], i,
		    1700000100 + i, i == 0 ? "'?smpp?long=1&'" : "NULL");
		cr_assert_eq(db_count(sql, text[i]), 1, "%s", sql);
	}
	cr_assert_eq(db_count("SELECT count(*) FROM inbox", NULL), 3);
	box_stats(box, &st);
	cr_assert_eq(st.mo, 4);
	cr_assert_eq(st.dlr, 1);
	cr_assert_eq(st.acks_sent, 5);
	cr_assert_eq(st.protocol_errors, 0);
	evbuffer_free(b);
}

/* A reply committed while the link is down leaves once it is back. */
Test(link, mt_waits_for_the_link)
{
	Msg			*m, *mt;
	struct box_stats	 st;

	link_start(0);
	fake_expect_identify(&fake_a, 1);
	m = make_mo("+254700000008", "echo later", 0);
	fake_send(&fake_a, m);
	msg_destroy(m);
	cr_assert(RUN_UNTIL((box_stats(box, &st), st.mo == 1), 5.0));
	fake_hang_up(&fake_a);
	cr_assert(RUN_UNTIL(!box_is_up(box), 5.0));
	cr_assert_eq(store_commit(store), 0);
	fake_expect_identify(&fake_a, 2);
	mt = fake_wait(&fake_a, sms, -1, 5.0);
	cr_assert_not_null(mt, "reply not sent after the reconnect");
	assert_octstr_cstr(mt->sms.receiver, "+254700000008");
	assert_octstr_cstr(mt->sms.msgdata, "You said: later");
	msg_destroy(mt);
	box_stats(box, &st);
	cr_assert_eq(st.mt, 1);
	cr_assert_eq(st.acks_sent, 0);
}

Test(link, reconnects_after_bearerbox_hangs_up)
{
	struct box_stats	st;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	fake_hang_up(&fake_a);
	cr_assert(RUN_UNTIL(!box_is_up(box), 5.0), "loss not noticed");
	fake_expect_identify(&fake_a, 2);
	box_stats(box, &st);
	cr_assert_eq(st.connects, 2);
	cr_assert_eq(st.protocol_errors, 0);
}

/*
 * An MO committed after its connection ended is not acked on the new one
 * (bearerbox took it back); offered again, it is a duplicate and acked.
 */
Test(link, ack_of_a_lost_connection_is_dropped)
{
	Msg			*m, *got;
	uuid_t			 mo_id;
	char			 id[UUID_STR_LEN + 1], gotid[UUID_STR_LEN + 1];
	struct box_stats	 st;
	unsigned long long	 received, dups;

	link_start(0);
	fake_expect_identify(&fake_a, 1);
	m = make_mo("+254700000005", "sell beans", 0);
	uuid_copy(mo_id, m->sms.id);
	uuid_unparse(mo_id, id);
	fake_send(&fake_a, m);
	msg_destroy(m);
	cr_assert(RUN_UNTIL((box_stats(box, &st), st.mo == 1), 5.0));
	fake_hang_up(&fake_a);
	fake_expect_identify(&fake_a, 2);

	cr_assert_eq(store_commit(store), 0);
	run_for(0.3);
	cr_assert_null(fake_take(&fake_a, ack, -1),
	    "ack sent on a connection the MO did not come in on");

	m = make_mo("+254700000005", "sell beans", 0);
	uuid_copy(m->sms.id, mo_id);
	fake_send(&fake_a, m);
	msg_destroy(m);
	cr_assert(RUN_UNTIL((box_stats(box, &st), st.mo == 2), 5.0));
	cr_assert_eq(store_commit(store), 0);
	got = fake_wait(&fake_a, ack, -1, 5.0);
	cr_assert_not_null(got);
	uuid_unparse(got->ack.id, gotid);
	cr_assert_str_eq(gotid, id);
	cr_assert_eq(got->ack.nack, ack_success);
	msg_destroy(got);
	inbox_stats(inbox, &received, &dups);
	cr_assert_eq(received, 2);
	cr_assert_eq(dups, 1);
}

/* daemon_stop() order: box_free, then the commit runs the callbacks. */
Test(link, free_with_pending_mo)
{
	Msg			*m;
	char			 id[UUID_STR_LEN + 1];
	struct box_stats	 st;

	link_start(0);
	fake_expect_identify(&fake_a, 1);
	m = make_mo("+254700000006", "buy rice", 0);
	uuid_unparse(m->sms.id, id);
	fake_send(&fake_a, m);
	msg_destroy(m);
	cr_assert(RUN_UNTIL((box_stats(box, &st), st.mo == 1), 5.0));
	cr_assert_eq(store_pending(store), 1);
	box_free(box);
	box = NULL;
	cr_assert_eq(store_commit(store), 0);
	cr_assert_eq(db_count("SELECT count(*) FROM inbox WHERE"
	    " kannel_id = ?1", id), 1);
	cr_assert(RUN_UNTIL(fake_a.closes == 1, 5.0), "box did not hang up");
	cr_assert_null(fake_take(&fake_a, ack, -1));
}

Test(link, protocol_errors_drop_and_reconnect)
{
	static const unsigned char bad_type[] = {
		0, 0, 0, 8, 0, 0, 0, 99, 0, 0, 0, 0
	};
	static const unsigned char too_big[] = { 0x7f, 0xff, 0xff, 0xff };
	struct box_stats	st;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	fake_send_raw(&fake_a, bad_type, sizeof(bad_type));
	cr_assert(RUN_UNTIL(fake_a.closes == 1, 5.0), "not dropped");
	box_stats(box, &st);
	cr_assert_eq(st.protocol_errors, 1);
	fake_expect_identify(&fake_a, 2);

	fake_send_raw(&fake_a, too_big, sizeof(too_big));
	cr_assert(RUN_UNTIL(fake_a.closes == 2, 5.0), "not dropped");
	fake_expect_identify(&fake_a, 3);
	box_stats(box, &st);
	cr_assert_eq(st.protocol_errors, 2);
	cr_assert_eq(st.connects, 3);
}

Test(link, admin_restart_and_shutdown_reconnect)
{
	Msg			*m;
	struct box_stats	 st;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	m = msg_create(admin);
	m->admin.command = cmd_restart;
	fake_send(&fake_a, m);
	msg_destroy(m);
	cr_assert(RUN_UNTIL(fake_a.closes == 1, 5.0), "restart ignored");
	fake_expect_identify(&fake_a, 2);

	m = msg_create(admin);
	m->admin.command = cmd_shutdown;
	fake_send(&fake_a, m);
	msg_destroy(m);
	cr_assert(RUN_UNTIL(fake_a.closes == 2, 5.0), "shutdown ignored");
	fake_expect_identify(&fake_a, 3);
	box_stats(box, &st);
	cr_assert_eq(st.connects, 3);
	cr_assert_eq(st.protocol_errors, 0);
}

Test(link, heartbeats_while_up)
{
	Msg	*m;
	double	 t0;

	conf->heartbeat_interval = 1;
	link_start(1);
	fake_expect_identify(&fake_a, 1);
	t0 = now();
	m = fake_wait(&fake_a, heartbeat, -1, 3.0);
	cr_assert_not_null(m, "no heartbeat");
	cr_assert_eq(m->heartbeat.load, 0);
	cr_assert_geq(now() - t0, 0.8);
	msg_destroy(m);
	m = fake_wait(&fake_a, heartbeat, -1, 3.0);
	cr_assert_not_null(m, "no second heartbeat");
	msg_destroy(m);
}

Test(link, retries_until_bearerbox_listens)
{
	/* Nobody listens: every connect is refused. */
	fake_close(&fake_a);
	link_start(1);
	run_for(1.5);
	cr_assert_eq(box_is_up(box), 0);
	/* Listen on the same port: the box gets there by itself. */
	{
		struct sockaddr_in	sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin.sin_port = htons(conf->bearerbox_port);
		fake_a.listener = evconnlistener_new_bind(base,
		    fake_accept_cb, &fake_a,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
		    (struct sockaddr *)&sin, sizeof(sin));
		cr_assert_not_null(fake_a.listener);
		fake_a.port = conf->bearerbox_port;
	}
	fake_expect_identify(&fake_a, 1);
}

Test(link, reload_moves_the_link)
{
	struct box_stats	 st;
	struct conf		*fleeting;

	link_start(1);
	fake_expect_identify(&fake_a, 1);
	fake_open(&fake_b);
	fleeting = make_conf(fake_b.port);
	box_set_conf(box, fleeting);
	cr_assert(RUN_UNTIL(fake_a.closes == 1, 5.0), "old link kept");
	fake_expect_identify(&fake_b, 1);
	box_stats(box, &st);
	cr_assert_eq(st.connects, 2);

	/*
	 * A reload with the same address changes nothing, and the conf it
	 * replaces may be freed at once (ASan would see a later use).
	 */
	conf2 = make_conf(fake_b.port);
	box_set_conf(box, conf2);
	conf_free(fleeting);
	run_for(0.3);
	cr_assert_eq(fake_b.closes, 0);
	cr_assert_eq(fake_b.accepts, 1);
	cr_assert(box_is_up(box));
}
