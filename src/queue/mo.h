/*
 * mo.h - one message from a phone, as every way in hands it to the inbox.
 *
 * The strings are borrowed: they belong to the transport that received the
 * message and live until inbox_receive() returns.  text is valid UTF-8
 * (gsm_to_utf8 made it so).
 */
#ifndef MARKETBOX_MO_H
#define MARKETBOX_MO_H

struct mo {
	const char	*id;		/* Kannel's UUID, or the HTTP/USSD id:
					   the same id twice has one effect */
	const char	*channel;	/* "box", "http", "ussd" */
	const char	*sender;	/* the phone, as the network gave it */
	const char	*receiver;	/* the short code it was sent to */
	const char	*text;		/* UTF-8 */
	int		 coding;	/* as received (0, 1, 2) */
	const char	*smsc_id;	/* may be NULL */
	const char	*meta_data;	/* may be NULL */
	long long	 time;		/* Unix seconds, when received */
	int		 reply_inline;	/* the transport returns the reply
					   itself (HTTP); it is not sent */
};

#endif
