#!/bin/sh
# test-check-story.sh: the story grammar checker data/check-story.py and the
# corpus script data/make-corpus.py (TAP): every document of data/corpus.txt,
# data/heldout.txt and data/test.txt follows the grammar; --fresh documents
# follow it too, are the same on a second run and never equal a training
# document; the default run reproduces corpus.txt and heldout.txt byte for
# byte; a planted error of each kind is reported with that kind through the
# JSON-lines protocol, ids in order; a cut story is no violation; bad input
# exits 1 naming the line.
#
# Run by `make check` with SRCDIR set (else the directory above this script's).

if [ -z "${SRCDIR:-}" ]; then
	SRCDIR=$(cd "$(dirname "$0")/.." && pwd) || exit 1
fi
CHECK=$SRCDIR/data/check-story.py
MAKE_CORPUS=$SRCDIR/data/make-corpus.py

if ! command -v python3 >/dev/null 2>&1; then
	echo '1..0 # SKIP no python3'
	exit 0
fi

n=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seqmatch-story.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

if command -v timeout >/dev/null 2>&1; then
	TIMEOUT="timeout 300"
else
	TIMEOUT=
fi

. "${SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# Run python3 SCRIPT ARGS with stdin from $stdin (default /dev/null); sets
# $status, output in $tmp/out and $tmp/err.
run() {
	$TIMEOUT python3 "$@" >"$tmp/out" 2>"$tmp/err" <"${stdin:-/dev/null}"
	status=$?
}

# check_text DESC FILE: check-story.py --text FILE finds no violation.
check_text() {
	run "$CHECK" --text "$2"
	if [ "$status" -ne 0 ]; then
		fail "$1" "exit status $status: $(grep -v ': documents: \|: violations: ' "$tmp/out" | head -3 | tr '\n' ';')"
	elif ! grep -q ': violating documents: 0$' "$tmp/out" ||
	    grep -q ': documents: 0$' "$tmp/out"; then
		fail "$1" "$(tail -3 "$tmp/out" | tr '\n' ';')"
	else
		pass "$1 ($(sed -n 's/.*: documents: //p' "$tmp/out") documents)"
	fi
}

check_text "every document of corpus.txt follows the grammar" "$SRCDIR/data/corpus.txt"
check_text "every document of heldout.txt follows the grammar" "$SRCDIR/data/heldout.txt"
check_text "every document of test.txt follows the grammar" "$SRCDIR/data/test.txt"

# Fresh documents: valid, deterministic, none from the training set.
run "$MAKE_CORPUS" --fresh 200 --seed 7 --out "$tmp/fresh1"
if [ "$status" -eq 0 ] && [ "$(grep -c . "$tmp/fresh1")" -eq 200 ]; then
	pass "make-corpus.py --fresh 200 --seed 7 writes 200 documents"
else
	fail "make-corpus.py --fresh 200 --seed 7 writes 200 documents" \
	    "exit status $status, $(grep -c . "$tmp/fresh1" 2>/dev/null) documents"
fi
check_text "the fresh documents follow the grammar" "$tmp/fresh1"
run "$MAKE_CORPUS" --fresh 200 --seed 7 --out "$tmp/fresh2"
if [ "$status" -eq 0 ] && cmp -s "$tmp/fresh1" "$tmp/fresh2"; then
	pass "a second run writes the same documents"
else
	fail "a second run writes the same documents" "exit status $status or they differ"
fi
# Each document is one line (its sentences are joined by spaces).
grep . "$tmp/fresh1" >"$tmp/fresh-docs"
shared=$(grep -Fxc -f "$tmp/fresh-docs" "$SRCDIR/data/corpus.txt")
if [ "$shared" -eq 0 ]; then
	pass "no fresh document is a training document"
else
	fail "no fresh document is a training document" "$shared shared"
fi

# The default run in a copy of the tree reproduces the shipped files.
mkdir -p "$tmp/tree/data"
cp "$MAKE_CORPUS" "$tmp/tree/data/make-corpus.py"
(cd "$tmp/tree" && $TIMEOUT python3 data/make-corpus.py) >"$tmp/out" 2>"$tmp/err"
status=$?
if [ "$status" -eq 0 ] &&
    cmp -s "$tmp/tree/data/corpus.txt" "$SRCDIR/data/corpus.txt" &&
    cmp -s "$tmp/tree/data/heldout.txt" "$SRCDIR/data/heldout.txt"; then
	pass "the default run reproduces corpus.txt and heldout.txt byte for byte"
else
	fail "the default run reproduces corpus.txt and heldout.txt byte for byte" \
	    "exit status $status or the files differ"
fi

# Planted errors through the JSON-lines protocol. The base story has four
# middle sentences; each line plants one error (ids out of numeric order on
# purpose: they must come back as given).
O='Ada had a old cat.'
M1='Ada gave the cat a map.'
M2='They sat by the lake and ate soup.'
M3='Ada counted 3 stars and then 4.'
M4='\"Look,\" said Ada, \"the cat is glad.\"'
C='At night Ada and the cat went home.'
MID="$M1 $M2 $M3 $M4"
# line ID PROMPT TEXT STOP: one input line.
line() {
	printf '{"id": %s, "prompt": "%s", "text": "%s", "stop": "%s"}\n' "$1" "$2" "$3" "$4"
}
{
	line 7 'Ada had a o' "ld cat. $MID $C" eot
	line 3 "$O $M1" " $M2 $M3 \\\"Look,\\\" said Ben, \\\"the cat is glad.\\\" $C" eot
	line 12 "$O" " $M1 $M2 $M3 \\\"Look,\\\" said Ada, \\\"the dog is glad.\\\" $C" eot
	line 5 "$O" " $M1 $M2 Ada counted 3 stars and then 5. $M4 $C" eot
	line 1 "$O" " $M1 They sat by the lake and ate pizza. $M3 $M4 $C" eot
	line 0 "$O" " $M1 $M2 $C" eot
	line 100 "$O" " $MID $M1 Ada met Ben at the hill. Ada met Ada at the barn. $C" eot
	line 42 "$O" " $MID" eot
	line 43 "$O" " $MID $C Ben had a red dog." eot
	line 44 'Ada had a o' "ld cat and $MID $C" eot
	line 45 "$O $M1" " $M2 $M3 \\\"Look,\\\" said Ada, \\\"the ca" max_tokens
	line 46 "Ada" " had a red cat. $M1 $M3  $M2 $C" eot
	line 47 "$O" " $MID At night Ben and the cat went home." eot
} >"$tmp/planted"
# The kinds each line must report (in order), "-" for none.
cat >"$tmp/want" <<'EOF'
7 -
3 hero
12 pet
5 count
1 sentence
0 length
100 length
42 ending
43 ending
44 opening
45 -
46 sentence
47 hero ending
EOF
stdin=$tmp/planted run "$CHECK"
stdin=
# One "ID KIND..." line per output line (which must be JSON).
python3 -c 'import json, sys
for l in sys.stdin:
    o = json.loads(l)
    print(o["id"], " ".join(v["kind"] for v in o["violations"]) or "-")' \
    <"$tmp/out" >"$tmp/got" 2>"$tmp/err"
if [ "$status" -ne 0 ]; then
	fail "planted errors: check-story.py runs" "exit status $status"
elif [ "$(wc -l <"$tmp/out")" -ne "$(wc -l <"$tmp/planted")" ]; then
	fail "planted errors: one output line per input line" \
	    "$(wc -l <"$tmp/out") lines for $(wc -l <"$tmp/planted")"
else
	pass "planted errors: one output line per input line"
fi
if [ "$(cut -d' ' -f1 "$tmp/got" | tr '\n' ' ')" = "$(cut -d' ' -f1 "$tmp/want" | tr '\n' ' ')" ]; then
	pass "the ids come back in order"
else
	fail "the ids come back in order" "$(cut -d' ' -f1 "$tmp/got" | tr '\n' ' ')"
fi
i=0
while read -r id kinds; do
	i=$((i + 1))
	got=$(sed -n "${i}p" "$tmp/got" | cut -d' ' -f2-)
	case $id in
	7) desc="a clean story, its prompt cut mid-word" ;;
	3) desc="another hero in \"said {hero}\"" ;;
	12) desc="another pet" ;;
	5) desc="counted 3 and then 5" ;;
	1) desc="a word outside the grammar's lists" ;;
	0) desc="two middle sentences (too short)" ;;
	100) desc="seven middle sentences (too long); met {NAME} may name anyone" ;;
	42) desc="eot without the closing sentence" ;;
	43) desc="text after the closing sentence" ;;
	44) desc="a wrong opening" ;;
	45) desc="a story cut mid-sentence without the closing" ;;
	46) desc="two spaces between sentences" ;;
	47) desc="a closing with another hero" ;;
	*) desc="id $id" ;;
	esac
	if [ "$got" = "$kinds" ]; then
		pass "$desc: $kinds"
	else
		fail "$desc: $kinds" "got: $got; $(sed -n "${i}p" "$tmp/out")"
	fi
done <"$tmp/want"

# --text mode on a file with a planted error: exit 1 and the counts.
{
	printf '%s %s %s\n\n' "$O" "$M1 $M2 $M3" "$C"
	printf '%s %s %s\n' "$O" "$M1 $M2 Ada counted 2 boats and then 4." "$C"
} >"$tmp/bad.txt"
run "$CHECK" --text "$tmp/bad.txt"
if [ "$status" -eq 1 ] && grep -q ': documents: 2$' "$tmp/out" &&
    grep -q ': violating documents: 1$' "$tmp/out" &&
    grep -q ':3: count: Ada counted 2 boats and then 4\.$' "$tmp/out" &&
    grep -q ': violations: opening 0, hero 0, pet 0, count 1, sentence 0, length 0, ending 0$' "$tmp/out"; then
	pass "--text: a violating document gives exit 1, its line and the counts"
else
	fail "--text: a violating document gives exit 1, its line and the counts" \
	    "exit status $status: $(tr '\n' ';' <"$tmp/out")"
fi

# Bad input: exit 1, a message naming the line.
{
	line 1 "$O" " $MID $C" eot
	echo '{"id": 2, "prompt": "", "text": '
	line 3 "$O" " $MID $C" eot
} >"$tmp/badjson"
stdin=$tmp/badjson run "$CHECK"
stdin=
if [ "$status" -eq 1 ] && grep -q '^check-story.py: stdin:2: not JSON' "$tmp/err" &&
    [ "$(wc -l <"$tmp/out")" -eq 1 ]; then
	pass "a line that is not JSON: exit 1 and stdin:2 named"
else
	fail "a line that is not JSON: exit 1 and stdin:2 named" \
	    "exit status $status, $(wc -l <"$tmp/out") output lines"
fi
printf '{"id": 1, "prompt": "", "stop": "eot"}\n' >"$tmp/nofield"
stdin=$tmp/nofield run "$CHECK"
stdin=
if [ "$status" -eq 1 ] && grep -q '^check-story.py: stdin:1: .*"text"' "$tmp/err"; then
	pass "a missing field: exit 1 and the field named"
else
	fail "a missing field: exit 1 and the field named" "exit status $status"
fi

printf '1..%d\n' "$n"
[ "$failed" -eq 0 ]
