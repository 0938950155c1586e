#!/bin/bash
# tests/integration/commands.sh - the command router through a real
# bearerbox and fakesmsc: REG, HELP, HELP command, LANG sw then HELP in
# Swahili, a Swahili keyword from an English user answered in Swahili, a
# Chinese HELP in UCS-2 answered in UCS-2, a typo answered with a
# suggestion, and a flood from one phone while another phone is served
# normally.
#
# The expected replies are rendered from the shipped language files
# (conf/lang/*.conf), the same templates marketbox loads: what is tested is
# that the router picks the right template in the right language and fills
# its placeholders, not the wording of the day.

# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
LANG_DIR=$top_srcdir/conf/lang

# lang_template CODE NAME: the text of template NAME in LANG_DIR/CODE.conf,
# without its quotes; nothing when there is no such template.
lang_template()
{
	awk -v want="$2" '
		/^group[ \t]*=/ { tmpl = ($0 ~ /=[ \t]*template[ \t]*$/); named = 0; next }
		/^[ \t]*$/ { tmpl = 0; named = 0; next }
		tmpl && /^name[ \t]*=/ {
			sub(/^name[ \t]*=[ \t]*/, ""); named = ($0 == want); next
		}
		tmpl && named && /^text[ \t]*=/ {
			sub(/^text[ \t]*=[ \t]*"?/, ""); sub(/"[ \t]*$/, "")
			print; exit
		}' "$LANG_DIR/$1.conf"
}

# expect VAR CODE NAME [PLACEHOLDER=VALUE...]: VAR is template NAME of
# language CODE with its placeholders filled.  Bails out when the template
# is missing or a placeholder is left unfilled, so that no expectation is
# ever empty or half-rendered.
expect()
{
	local var=$1 code=$2 name=$3 text kv key
	shift 3

	text=$(lang_template "$code" "$name")
	[ -n "$text" ] || tap_bail "no template $name in $LANG_DIR/$code.conf"
	for kv in "$@"; do
		key="{${kv%%=*}}"
		text=${text//"$key"/"${kv#*=}"}
	done
	[[ $text == *\{*\}* ]] && tap_bail "$code $name: unfilled in '$text'"
	printf -v "$var" '%s' "$text"
}

# --- what is sent, and what marketbox answers -------------------------------
# One phone per story, so that each stays within the flood burst below
# (3 messages at once, then one each 10 s) that the flood test needs.
FARMER=+254700000001		# Mary, English: REG, HELP, HELP SELL
SWAHILI=+254700000002		# LANG sw, then HELP
BUYER=+254700000003		# John registers in English, then MSAADA
CHINESE=+254700000004		# 帮助 in UCS-2
TYPO=+254700000005		# SEL maize
FLOODER=+254700000006		# 10 messages at once
OTHER=+254700000007		# one message during the flood

REG_TEXT="REG Mary Wanjiku Nakuru"
expect REG_REPLY en reg-ok name="Mary Wanjiku" market=Nakuru
HELP_TEXT="HELP"
expect HELP_REPLY en help
HELP_SELL_TEXT="HELP SELL"
expect HELP_SELL_REPLY en help-SELL
LANG_TEXT="LANG sw"
expect LANG_REPLY sw lang-ok language=Kiswahili
expect SW_HELP_REPLY sw help
BUYER_REG_TEXT="REG John Otieno Nakuru"
expect BUYER_REG_REPLY en reg-ok name="John Otieno" market=Nakuru
MSAADA_TEXT="MSAADA"			# HELP in Swahili
ZH_TEXT="帮助"				# HELP in Chinese
ZH_URLENC="%5E%2E%52%A9"		# the same, UTF-16BE url-encoded
expect ZH_HELP_REPLY zh help
TYPO_TEXT="SEL maize"
expect TYPO_REPLY en unknown-suggest word=SEL suggestion=SELL

FLOOD_RATE=6				# messages per minute
FLOOD_BURST=3
FLOOD_N=10
FLOOD_TEXT="echo flood"			# fakesmsc -z 4 appends " <number>"
expect FLOOD_REPLY_PREFIX en echo text="flood "
expect SLOW_REPLY en slow-down
OTHER_TEXT="echo hello"
expect OTHER_REPLY en echo text=hello
OTHER_WAIT=5				# seconds: "promptly"


integ_require_kannel
integ_init commands
tap_plan 25

# The second fakesmsc (the other phone during the flood) runs beside the
# session lib.sh manages, on a second fake SMSC: stop it at exit too.
OTHER_PID=
commands_teardown()
{
	local rc=$?

	[ -n "$OTHER_PID" ] && proc_stop "$OTHER_PID" INT 3
	OTHER_PID=
	(exit "$rc")
	integ_teardown
}
trap commands_teardown EXIT

kannel_conf_write || tap_bail "cannot pick ports"
# A second fake SMSC, so that two phones can be connected at the same time
# (each fake SMSC serves one fakesmsc); replies go back through the SMSC
# their MO came from.
port_pick BB_SMSC2_PORT || tap_bail "cannot pick ports"
cat >> "$T/kannel.conf" <<EOF

group = smsc
smsc = fake
smsc-id = FAKE2
port = $BB_SMSC2_PORT
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1
EOF
marketbox_conf_write "$T/marketbox.conf" "flood-rate = $FLOOD_RATE" \
    "flood-burst = $FLOOD_BURST"
bearerbox_start || tap_bail "bearerbox does not start"
wait_until 10 port_listening "$BB_SMSC2_PORT" ||
    tap_bail "the second fake SMSC does not listen"
marketbox_start || tap_bail "cannot run $MARKETBOX"
marketbox_wait_connected 15 || tap_bail "marketbox does not connect"

# send_expect FROM TEXT WANT DESC [TYPE]: send TEXT (TYPE text by default),
# wait for the answer (10 s at most), and one test: the answer is exactly
# WANT (several lines if it came in several messages).
phone_answered()
{
	[ "$(phone_mt_count "$1")" -gt "$2" ]
}
send_expect()
{
	local before

	before=$(phone_mt_count "$1")
	phone_send "$1" 777 "$2" "${5:-text}"
	wait_until 10 phone_answered "$1" "$before"
	sleep 0.2		# the rest of a reply in several messages
	tap_is "$(phone_texts "$1" | tail -n +"$((before + 1))")" "$3" "$4"
}

# --- REG, HELP, HELP command (English) ---------------------------------------

send_expect "$FARMER" "$REG_TEXT" "$REG_REPLY" \
    "REG gets reg-ok with the name and the market"
tap_is "$(db "SELECT name, market, language FROM users
    WHERE msisdn = '$FARMER'")" "Mary Wanjiku|nakuru|en" \
    "REG stores the name, the market's code and the language"
send_expect "$FARMER" "$HELP_TEXT" "$HELP_REPLY" "HELP gets the help"
send_expect "$FARMER" "$HELP_SELL_TEXT" "$HELP_SELL_REPLY" \
    "HELP SELL gets help-SELL"
tap_is "$(phone_mt_count "$FARMER")" 3 "one reply per message"

# --- LANG sw, then HELP in Swahili -----------------------------------------------

send_expect "$SWAHILI" "$LANG_TEXT" "$LANG_REPLY" \
    "LANG sw is confirmed in Swahili"
tap_is "$(db "SELECT language FROM users WHERE msisdn = '$SWAHILI'")" sw \
    "the language is remembered"
send_expect "$SWAHILI" "$HELP_TEXT" "$SW_HELP_REPLY" \
    "then HELP (an English keyword) gets the Swahili help"

# --- a Swahili keyword from an English user --------------------------------------

send_expect "$BUYER" "$BUYER_REG_TEXT" "$BUYER_REG_REPLY" \
    "a second user registers in English"
send_expect "$BUYER" "$MSAADA_TEXT" "$SW_HELP_REPLY" \
    "MSAADA from an English user is answered in Swahili"
tap_is "$(db "SELECT language FROM users WHERE msisdn = '$BUYER'")" sw \
    "the language of the keyword is remembered"

# --- Chinese in UCS-2 ------------------------------------------------------------------

send_expect "$CHINESE" "$ZH_URLENC" "$ZH_HELP_REPLY" \
    "$ZH_TEXT in UCS-2 gets the Chinese help" ucs2
tap_is "$(phone_mts | awk -v r="$CHINESE" '$2 == r { print $3 }')" ucs-2 \
    "the Chinese help travels as one UCS-2 message"
tap_is "$(db "SELECT text, coding FROM inbox WHERE sender = '$CHINESE'")" \
    "$ZH_TEXT|2" "the MO is stored as UTF-8 with its coding"

# --- a typo ------------------------------------------------------------------------------

send_expect "$TYPO" "$TYPO_TEXT" "$TYPO_REPLY" \
    "a typo gets the suggestion"
tap_is "$(phone_mt_count "$TYPO")" 1 "and only that"

# --- a flood from one phone, another phone served meanwhile --------------------------
# The flooder sends 10 distinct texts at once (no interval; -z 4 appends a
# random number to each, so none is a repeat); the other phone, on the
# second fake SMSC, sends one message at the same time.

phone_batch "$FLOOD_N" 0 4 "$FLOODER 777 text $FLOOD_TEXT"
"$FAKESMSC" -H 127.0.0.1 -r "$BB_SMSC2_PORT" -i 0 -m 1 \
    "$OTHER 777 text $OTHER_TEXT" > "$T/phone.other.log" 2>&1 &
OTHER_PID=$!

tap_ok "the other phone is answered within $OTHER_WAIT s" \
    phone_expect_text "$OTHER" "$OTHER_REPLY" "$OTHER_WAIT"

flood_stored()
{
	[ "$(db "SELECT count(*) FROM inbox WHERE sender = '$FLOODER'")" \
	    -ge "$FLOOD_N" ]
}
flood_answered()
{
	[ "$(phone_mt_count "$FLOODER")" -ge $((FLOOD_BURST + 1)) ]
}
wait_until 15 flood_stored
wait_until 10 flood_answered
sleep 2			# a late extra reply or notice would show now
tap_is "$(db "SELECT count(*),
    sum(CASE WHEN state = 'throttled' THEN 1 ELSE 0 END),
    sum(CASE WHEN state = 'done' THEN 1 ELSE 0 END) FROM inbox WHERE sender = '$FLOODER'")" \
    "$FLOOD_N|$((FLOOD_N - FLOOD_BURST))|$FLOOD_BURST" \
    "all $FLOOD_N messages are stored, $((FLOOD_N - FLOOD_BURST)) throttled"
tap_is "$(phone_texts "$FLOODER" | grep -cE \
    "^${FLOOD_REPLY_PREFIX}[0-9]+\$")" "$FLOOD_BURST" \
    "the flooder gets exactly $FLOOD_BURST replies"
tap_is "$(phone_texts "$FLOODER" | grep -cxF -- "$SLOW_REPLY")" 1 \
    "and exactly one slow-down notice"
tap_is "$(phone_mt_count "$FLOODER")" $((FLOOD_BURST + 1)) \
    "and nothing else"
tap_is "$(phone_texts "$OTHER")" "$OTHER_REPLY" \
    "the other phone gets its reply, and no slow-down"
tap_is "$(db "SELECT state FROM inbox WHERE sender = '$OTHER'")" "done" \
    "the other phone's message was processed, not throttled"

# --- clean stop ----------------------------------------------------------------------------

proc_stop "$OTHER_PID" INT 3
OTHER_PID=
phone_stop
marketbox_stop
tap_is "$MB_EXIT" 0 "marketbox stops cleanly"
tap_is "$(marketbox_sanitizer_report)" "" \
    "no sanitizer report in marketbox's stderr"

tap_end
