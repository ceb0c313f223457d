#!/bin/sh
# test-session.sh: `seqmatch session` (TAP): the config loader through
# check-config (good file, bad files with FILE:LINE:COL), export of a
# hand-written transcript as Markdown and JSON lines (normalised, stable),
# broken transcripts (the line number, exit 1), and list.
#
# Run by `make check` with SEQMATCH (the binary) set.

: "${SEQMATCH:?set SEQMATCH to the seqmatch binary}"

n=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seqmatch-session.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

unset SEQMATCH_MODEL
HOME=$tmp/home
XDG_CONFIG_HOME=$tmp/config
XDG_STATE_HOME=$tmp/state
export HOME XDG_CONFIG_HOME XDG_STATE_HOME
mkdir -p "$HOME" "$XDG_CONFIG_HOME/seqmatch" "$XDG_STATE_HOME/seqmatch/sessions"

. "${SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# Report a failing test with both outputs (instead of lib.sh's fail).
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	printf 'not ok %d - %s\n' "$n" "$1"
	sed 's/^/# /' "$tmp/err" "$tmp/out" 2>/dev/null | head -20
}

# expect STATUS GREP-PATTERN(stderr, or - for none) NAME -- command...
expect() {
	want=$1 pat=$2 name=$3
	shift 4
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "exit $rc, want $want" >>"$tmp/err"
		fail "$name"
	elif [ "$pat" != - ] && ! grep -q -- "$pat" "$tmp/err"; then
		echo "stderr lacks: $pat" >>"$tmp/err"
		fail "$name"
	else
		pass "$name"
	fi
}

# The config: the user's file, then bad ones with their positions.
cfg=$XDG_CONFIG_HOME/seqmatch/config.yaml
printf 'theme: light\ncolors: 256\nmouse: false\nplot: block\ndecoding:\n  temperature: 0.5\n  top-k: 7\n' >"$cfg"
expect 0 - "check-config: the user's config loads" -- "$SEQMATCH" session check-config
if grep -q 'theme light, colors 256, mouse off, plot block, 2 decoding values' "$tmp/out"; then
	pass "check-config: every key is read"
else
	fail "check-config: every key is read"
fi
printf 'theme: light\ndecoding:\n  temperature: 0.5\n  top_k: lots\n' >"$tmp/bad1.yaml"
expect 1 "bad1.yaml:4:10: decoding: .*lots" "config: a bad decoding value has its line and column" -- \
	"$SEQMATCH" session check-config "$tmp/bad1.yaml"
printf 'decoding:\n  top_p: 2\n' >"$tmp/bad2.yaml"
expect 1 "bad2.yaml:2:10: " "config: an out-of-range value" -- \
	"$SEQMATCH" session check-config "$tmp/bad2.yaml"
printf 'theme: x\n  colour: [\n' >"$tmp/bad3.yaml"
expect 1 "bad3.yaml:[0-9]*:[0-9]*: " "config: not YAML" -- \
	"$SEQMATCH" session check-config "$tmp/bad3.yaml"
printf 'mouse: true\nbogus: 1\n' >"$tmp/bad4.yaml"
expect 1 "bad4.yaml:2:1: unknown key 'bogus'" "config: an unknown key" -- \
	"$SEQMATCH" session check-config "$tmp/bad4.yaml"
printf 'decoding:\n  warmth: 1\n' >"$tmp/bad5.yaml"
expect 1 "bad5.yaml:2:3: decoding: unknown parameter 'warmth'" "config: an unknown parameter" -- \
	"$SEQMATCH" session check-config "$tmp/bad5.yaml"
printf 'colors: lots\n' >"$tmp/bad6.yaml"
expect 1 "bad6.yaml:1:9: colors must be" "config: a bad colors value" -- \
	"$SEQMATCH" session check-config "$tmp/bad6.yaml"
printf 'mouse: on\nplot: sixel\n' >"$tmp/bad8.yaml"
expect 1 "bad8.yaml:2:7: plot must be braille, block or ascii, not 'sixel'" "config: a bad plot value" -- \
	"$SEQMATCH" session check-config "$tmp/bad8.yaml"
printf 'a: &a [*a, *a]\n' >"$tmp/bad7.yaml"
expect 1 "bad7.yaml:" "config: an alias does not crash" -- \
	"$SEQMATCH" session check-config "$tmp/bad7.yaml"
expect 1 "no such file" "check-config: a missing file" -- \
	"$SEQMATCH" session check-config "$tmp/missing.yaml"

# A transcript written by hand: "Hello" + " wor", "x|y" erased, "ld\n".
sess=$XDG_STATE_HOME/seqmatch/sessions/20260101-000000-42.jsonl
header='{"type": "header", "format": 1, "version": "0.1", "model": "m.bin", "model_hash": "00000000deadbeef", "weights_version": 0, "time": "2026-01-01T00:00:00+0000", "prompt": "Hello", "params": {"temperature": 0.8, "top_k": 40, "top_p": 0.95, "min_p": 0.05, "typical_p": 1, "repeat_penalty": 1.1, "repeat_last_n": 64, "max_tokens": 10, "seed": -1, "backspace_bias": null, "max_consecutive_backspaces": -1, "max_total_backspaces": -1, "forbid_retype": 0}, "seed": 42}'
{
	echo "$header"
	echo '{"type": "append", "id": 5, "text": " wor", "slot": 1, "prob": 0.5}'
	echo '{"type": "append", "id": 6, "text": "x|y", "slot": 2, "prob": 0.25}'
	echo '{"type": "erase", "id": 6, "text": "x|y", "slot": 2, "prob": 0.125}'
	printf '%s\n' '{"type":"append","id":7,"text":"ld\n","slot":2,"prob":0.75}'
	echo '{"type": "stop", "reason": "max-tokens", "generated": 3, "erased": 1, "seconds": 0.5}'
} >"$sess"

expect 0 - "export --markdown" -- "$SEQMATCH" session export "$sess" --markdown
md=$tmp/out
cp "$md" "$tmp/md"
if grep -q '^Hello world$' "$tmp/md" && grep -q '| seed used | 42 |' "$tmp/md" &&
    grep -q '| temperature | 0.8 |' "$tmp/md" && grep -q '| 1 | 3 | 2 | `x\\|y` | 0.1250 |' "$tmp/md"; then
	pass "markdown: settings, final text, backspace table"
else
	fail "markdown: settings, final text, backspace table"
fi
# A big fixed seed in the parameters is exported exactly (a double would round it).
sed 's/"seed": -1, "backspace_bias"/"seed": 2995247067578669240, "backspace_bias"/' "$sess" \
    >"$tmp/bigseed.jsonl"
expect 0 - "export --markdown with a 64-bit seed" -- "$SEQMATCH" session export \
    "$tmp/bigseed.jsonl" --markdown
if grep -q '| seed | 2995247067578669240 |' "$tmp/out"; then
	pass "markdown: a 64-bit seed is printed exactly"
else
	fail "markdown: a 64-bit seed is printed exactly" "$(grep '| seed |' "$tmp/out")"
fi
expect 0 - "export as JSON lines" -- "$SEQMATCH" session export "$sess"
cp "$tmp/out" "$tmp/n.jsonl"
if [ "$(wc -l <"$tmp/n.jsonl")" -eq 6 ] && grep -q '"temperature": 0.8,' "$tmp/n.jsonl" &&
    grep -q '^{"type": "append", "id": 7, "text": "ld\\n", "slot": 2, "prob": 0.75}$' "$tmp/n.jsonl"; then
	pass "json: normalised lines"
else
	fail "json: normalised lines"
fi
"$SEQMATCH" session export "$tmp/n.jsonl" >"$tmp/n2.jsonl" 2>"$tmp/err"
if cmp -s "$tmp/n.jsonl" "$tmp/n2.jsonl"; then
	pass "json: exporting the export changes nothing"
else
	fail "json: exporting the export changes nothing"
fi

# Broken transcripts: exit 1, the line number in the message.
broken() {
	name=$1 pat=$2 line=$3
	{ echo "$header"; printf '%s\n' "$line"; } >"$tmp/broken.jsonl"
	expect 1 "broken.jsonl:$pat" "broken: $name" -- "$SEQMATCH" session export "$tmp/broken.jsonl"
	if [ -s "$tmp/out" ]; then
		echo "printed on stdout" >"$tmp/err"
		fail "broken: $name prints nothing"
	fi
}
broken "not JSON" "2:27: " '{"type": "append", "id": 5'
broken "missing field" '2:1: "slot" is missing' '{"type": "append", "id": 5, "text": "a", "prob": 0.5}'
broken "text not a string" '2:37: "text" must be a string' '{"type": "append", "id": 5, "text": 3, "slot": 1, "prob": 0.5}'
broken "unknown type" '2:10: unknown line type' '{"type": "nope"}'
broken "a second header" '2:10: a second header' "$header"
broken "not an object" '2:1: not a JSON object' '[1, 2]'
broken "an erase first" '2:1: the first event must append after the prompt' \
	'{"type": "erase", "id": 5, "text": "a", "slot": 1, "prob": 0.5}'
broken "details half there" '2:1: "entropy" is missing' \
	'{"type": "append", "id": 5, "text": "a", "slot": 1, "prob": 0.5, "model_prob": 0.5, "seconds": 1, "p_bksp": 0, "top": []}'
printf '{"type": "append", "id": 5, "text": "a", "slot": 1, "prob": 0.5}\n' >"$tmp/broken.jsonl"
expect 1 "broken.jsonl:1:10: the first line must be the header" "broken: no header" -- \
	"$SEQMATCH" session export "$tmp/broken.jsonl"
: >"$tmp/empty.jsonl"
expect 1 "empty.jsonl:1:1: empty file" "broken: empty file" -- "$SEQMATCH" session export "$tmp/empty.jsonl"
expect 1 "" "export: a missing file" -- "$SEQMATCH" session export "$tmp/none.jsonl"
expect 2 "unknown option" "export: a bad option" -- "$SEQMATCH" session export "$sess" --bogus
expect 2 "unknown action" "session: a bad action" -- "$SEQMATCH" session frobnicate

# list: the saved session, with its seed and prompt; broken ones warned about.
cp "$tmp/broken.jsonl" "$XDG_STATE_HOME/seqmatch/sessions/20250101-000000-1.jsonl"
expect 0 "20250101-000000-1.jsonl:1:10" "list: a broken session is a warning" -- "$SEQMATCH" session list
if [ "$(cat "$tmp/out")" = "$(printf '20260101-000000-42\t2026-01-01T00:00:00+0000\tm.bin\t42\t3/1\tHello')" ]; then
	pass "list: the session's id, time, model, seed, tokens/erased and prompt"
else
	fail "list: the session's id, time, model, seed, tokens/erased and prompt"
fi
# Newest first: a later session is listed above.
sed 's/"seed": 42}$/"seed": 43}/' "$sess" >"$XDG_STATE_HOME/seqmatch/sessions/20260102-000000-43.jsonl"
"$SEQMATCH" session list >"$tmp/out" 2>"$tmp/err"
if [ "$(cut -f1 "$tmp/out" | tr '\n' ' ')" = "20260102-000000-43 20260101-000000-42 " ]; then
	pass "list: newest first"
else
	fail "list: newest first"
fi
# A tab in a prompt is written \t: the line keeps its six tab-separated columns.
sed 's/"prompt": "Hello"/"prompt": "Tab\\there\\u0001 \\u00e9t\\u00e9\\nsecond line"/; s/"seed": 42}$/"seed": 44}/' "$sess" \
    >"$XDG_STATE_HOME/seqmatch/sessions/20260103-000000-44.jsonl"
"$SEQMATCH" session list >"$tmp/out" 2>"$tmp/err"
if [ "$(head -n 1 "$tmp/out" | awk -F '\t' '{ print NF }')" = 6 ] &&
    [ "$(head -n 1 "$tmp/out" | cut -f6)" = 'Tab\there\x01 été' ]; then
	pass "list: control characters in a prompt are escaped (\\t, \\xNN), six columns kept"
else
	fail "list: control characters in a prompt are escaped (\\t, \\xNN), six columns kept"
fi
rm -f "$XDG_STATE_HOME/seqmatch/sessions/20260103-000000-44.jsonl"
expect 0 - "export: by the id list shows" -- "$SEQMATCH" session export 20260101-000000-42
if cmp -s "$tmp/out" "$tmp/n.jsonl"; then pass "export: the id names the same file"; else fail "export: the id names the same file"; fi
expect 1 "no session '20990101-000000-1'" "export: an unknown id" -- "$SEQMATCH" session export 20990101-000000-1
rm -rf "$XDG_STATE_HOME/seqmatch"
expect 0 - "list: no sessions yet" -- "$SEQMATCH" session list
if [ -s "$tmp/out" ]; then fail "list: no sessions prints nothing"; else pass "list: no sessions prints nothing"; fi

echo "1..$n"
[ "$failed" -eq 0 ]
