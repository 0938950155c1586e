/*
 * fuzz_box.c - libFuzzer target for the box protocol's frame decoder
 * (box.c): the input is the byte stream bearerbox sends on the link,
 * taken frame by frame with box_frame_next() exactly as the link does, and
 * each frame also with box_frame_read() (libgw's msg_unpack()): the two
 * decoders must agree.  Built and run by tests/fuzz/run.sh.
 *
 * Invariants: at most one frame per 4 + 1 bytes; box_frame_next() and
 * box_frame_read() agree on every frame (both refuse it, or both take it
 * and drain the same bytes); an ack or an sms decoded without a Msg has
 * the fields msg_unpack() gives (kind, numbers, id, and every string
 * byte for byte, absent when NULL); box_frame_decode_sms() of the frame's
 * body gives the same sms again; a Msg taken is packed again by
 * box_frame_write() into a frame that decodes to the same kind.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "base/gw.h"
#include "gw/msg.h"

#include "link/box.h"

#define FUZZ_BOX_MAX	(64 * 1024)	/* the link's frame limit */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_box_check(int ok)
{
	if (!ok)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	gwlib_init();
	log_set_output_level(GW_PANIC);
	return 0;
}

/* The string s is what libgw's Octstr o holds (NULL: absent). */
static void
fuzz_box_same(const struct box_sms_str *s, Octstr *o)
{
	if (o == NULL) {
		fuzz_box_check(s->data == NULL);
		return;
	}
	fuzz_box_check(s->data != NULL);
	fuzz_box_check(s->len == (size_t)octstr_len(o));
	fuzz_box_check(memcmp(s->data, octstr_get_cstr(o), s->len) == 0);
	fuzz_box_check(s->data[s->len] == '\0');
}

static void
fuzz_box_same_sms(const struct box_sms *b, Msg *m)
{
	fuzz_box_check(b->sms_type == m->sms.sms_type);
	fuzz_box_check(b->coding == m->sms.coding);
	fuzz_box_check(b->dlr_mask == m->sms.dlr_mask);
	fuzz_box_check(b->time == m->sms.time);
	fuzz_box_check(memcmp(b->id, m->sms.id, 16) == 0);
	fuzz_box_same(&b->sender, m->sms.sender);
	fuzz_box_same(&b->receiver, m->sms.receiver);
	fuzz_box_same(&b->msgdata, m->sms.msgdata);
	fuzz_box_same(&b->smsc_id, m->sms.smsc_id);
	fuzz_box_same(&b->foreign_id, m->sms.foreign_id);
	fuzz_box_same(&b->dlr_url, m->sms.dlr_url);
	fuzz_box_same(&b->meta_data, m->sms.meta_data);
}

/* A Msg packs again into a frame that reads back as the same kind. */
static void
fuzz_box_repack(Msg *m)
{
	struct evbuffer	*b;
	void		*again = NULL;

	fuzz_box_check((b = evbuffer_new()) != NULL);
	fuzz_box_check(box_frame_write(b, m) == 0);
	fuzz_box_check(box_frame_read(b, SIZE_MAX, &again) == 1);
	fuzz_box_check(((Msg *)again)->type == m->type);
	fuzz_box_check(evbuffer_get_length(b) == 0);
	msg_destroy(again);
	evbuffer_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer	*fast, *slow;
	struct box_ack	 a;
	struct box_sms	 s, again;
	unsigned char	*body;
	void		*msg, *ref;
	size_t		 frames = 0, before, n;
	int		 r, rs;

	memset(&s, 0, sizeof(s));
	memset(&again, 0, sizeof(again));
	fuzz_box_check((fast = evbuffer_new()) != NULL);
	fuzz_box_check((slow = evbuffer_new()) != NULL);
	fuzz_box_check(evbuffer_add(fast, data, size) == 0);
	fuzz_box_check(evbuffer_add(slow, data, size) == 0);

	for (;;) {
		fuzz_box_check(frames++ <= size / 5);
		before = evbuffer_get_length(fast);
		fuzz_box_check(before == evbuffer_get_length(slow));
		/* The body, for box_frame_decode_sms below. */
		body = NULL;
		n = 0;
		if (before >= 4) {
			unsigned char	hdr[4];

			evbuffer_copyout(fast, hdr, 4);
			n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
			    (size_t)hdr[2] << 8 | hdr[3];
			if (n <= FUZZ_BOX_MAX && before - 4 >= n) {
				fuzz_box_check((body = malloc(n + 1)) != NULL);
				memcpy(body, evbuffer_pullup(fast,
				    (ev_ssize_t)(4 + n)) + 4, n);
			}
		}
		msg = ref = NULL;
		r = box_frame_next(fast, FUZZ_BOX_MAX, &msg, &a, &s);
		rs = box_frame_read(slow, FUZZ_BOX_MAX, &ref);
		if (r <= 0) {
			fuzz_box_check(rs == r);
			fuzz_box_check(msg == NULL);
			free(body);
			break;
		}
		fuzz_box_check(rs == 1 && ref != NULL && body != NULL);
		fuzz_box_check(evbuffer_get_length(fast) ==
		    evbuffer_get_length(slow));
		fuzz_box_check(evbuffer_get_length(fast) == before - 4 - n);
		if (r == 1) {
			fuzz_box_check(msg != NULL);
			fuzz_box_check(((Msg *)msg)->type ==
			    ((Msg *)ref)->type);
			fuzz_box_repack(msg);
			msg_destroy(msg);
		} else if (r == 2) {
			fuzz_box_check(msg == NULL);
			fuzz_box_check(((Msg *)ref)->type == ack);
			fuzz_box_check(a.nack == ((Msg *)ref)->ack.nack);
			fuzz_box_check(a.time == ((Msg *)ref)->ack.time);
			fuzz_box_check(memcmp(a.id, ((Msg *)ref)->ack.id,
			    16) == 0);
		} else {
			fuzz_box_check(r == 3 && msg == NULL);
			fuzz_box_check(((Msg *)ref)->type == sms);
			fuzz_box_same_sms(&s, ref);
			fuzz_box_check(box_frame_decode_sms(body, n,
			    &again) == 0);
			fuzz_box_same_sms(&again, ref);
			fuzz_box_repack(ref);
		}
		msg_destroy(ref);
		free(body);
	}
	box_sms_clear(&s);
	box_sms_clear(&again);
	evbuffer_free(fast);
	evbuffer_free(slow);

	/* The whole input as one frame's body. */
	if (box_frame_decode_sms(data, size, &s) == 0)
		fuzz_box_check(s.sender.data == NULL ||
		    s.sender.data[s.sender.len] == '\0');
	box_sms_clear(&s);
	return 0;
}
