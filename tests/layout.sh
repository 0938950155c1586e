#!/bin/bash
# tests/layout.sh - the house rules of src/ (README.md, "Layout"), read
# from the sources:
#
#	- every source is in a layer, and includes headers of its own layer
#	  or of those below it only: calls go one way, down;
#	- the HTTP server names no path of its own: whoever serves one
#	  registers it in the server's table;
#	- the inbox reaches the engine through the dispatch step alone;
#	- no source over 1,500 lines without the reason written at its top
#	  (a head comment with "One file:").

. "$(dirname "$0")/integration/lib.sh"

TOP=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
SRC=$TOP/src
MAX_LINES=1500

# The layers, bottom up: a path prefix (under src/) per line, its layer's
# number first.  queue/ holds both ends of a message: the outbox below the
# engine, the inbox (and the instance that has the outbox take over a dead
# one's messages) above it.
LAYERS='
0 base/
0 marketbox-plugin.h
1 text/
2 store/
3 queue/outbox
3 queue/mo.h
4 plugin/
4 pay/
5 engine/
6 queue/inbox
6 queue/instance
7 link/
7 http/
8 admin/
9 main.c
9 ctl/
'

# layer_of PATH (under src/): its layer's number, or nothing.
layer_of()
{
	local n prefix

	while read -r n prefix; do
		[ -n "$n" ] || continue
		case $1 in
		"$prefix"*) echo "$n"; return ;;
		esac
	done <<< "$LAYERS"
}

tap_plan 5

cd "$SRC" || tap_bail "no $SRC"
files=$(find . -name '*.[ch]' | sed 's|^\./||' | sort)
[ -n "$files" ] || tap_bail "no sources under $SRC"

# 1. Every source has a layer.
lost=
for f in $files; do
	[ -n "$(layer_of "$f")" ] || lost="$lost $f"
done
tap_is "${lost# }" "" "every source of src/ is in a layer"

# 2. Includes go down (or across, within a layer).
up=
for f in $files; do
	lf=$(layer_of "$f")
	[ -n "$lf" ] || continue
	for h in $(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\.h\)".*/\1/p' "$f"); do
		[ -f "$h" ] || continue		# config.h, libgw's
		lh=$(layer_of "$h")
		if [ -n "$lh" ] && [ "$lh" -gt "$lf" ]; then
			up="$up $f->$h"
		fi
	done
done
tap_is "${up# }" "" "no source includes a header of a layer above its own"

# 3. The server knows only its table.
named=$(grep -lE '"/(sms|ussd|health|status|metrics|admin)' \
    http/server.c http/access.c http/http.h http/http_int.h 2>/dev/null)
tap_is "$named" "" "the HTTP server names no path of its own"

# 4. The inbox hands an MO to the dispatch step, and to nothing else of
# the engine.
engine=$(sed -n 's/^#[[:space:]]*include[[:space:]]*"\(engine\/[^"]*\)".*/\1/p' \
    queue/inbox.c queue/inbox.h | grep -vx 'engine/dispatch.h')
tap_is "$engine" "" "the inbox reaches the engine through engine/dispatch.h alone"

# 5. Long files say why they are one.
long=
for f in $files "$TOP"/plugins/*/*.[ch]; do
	[ -f "$f" ] || continue
	[ "$(wc -l < "$f")" -le "$MAX_LINES" ] && continue
	sed -n '1,/\*\//p' "$f" | grep -q 'One file:' || long="$long $f"
done
tap_is "${long# }" "" "no source over $MAX_LINES lines without its reason at the top"

tap_end
