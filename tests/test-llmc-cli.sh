#!/bin/sh
# test-llmc-cli.sh: `seqmatch import` and `export` from the command line (TAP).
# A small random model with GPT-2's vocabulary (50257 tokens, padded to 50304)
# is written in llm.c's format by python3 below, with GPT-2's real tokenizer
# (tests/data/gpt2-tokenizer.bin); it is imported, and then every command
# that takes a model runs on it: tokenize gives GPT-2's ids, generate, eval
# with it as the featurizer, a few SequenceMatch fine-tune steps, export of
# the fine-tuned model (<bksp> in row 50257, the first padded one, the file
# still llm.c's version 3 with 50304 rows) and its import again; export of the
# imported model gives back the same bytes. Bad files exit 1 with a message
# that names the file and nothing on stdout.
#
# Run by `make check` with SEQMATCH, SRCDIR and BUILDDIR set.

: "${SEQMATCH:?set SEQMATCH to the seqmatch binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"

n=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seqmatch-llmc.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
if command -v timeout >/dev/null 2>&1; then
	TIMEOUT="timeout 600"
else
	TIMEOUT=
fi
unset SEQMATCH_MODEL SEQMATCH_REEXEC SEQMATCH_GENERIC_CORE
HOME=$tmp/home
XDG_DATA_HOME=$tmp/home/.local/share
XDG_STATE_HOME=$tmp/home/.local/state
export HOME XDG_DATA_HOME XDG_STATE_HOME
mkdir -p "$HOME"

. "${SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# Run seqmatch; sets $status, output in $tmp/out and $tmp/err.
run() {
	$TIMEOUT "$SEQMATCH" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
}

# A command that must succeed.
expect_ok() {
	what=$1
	shift
	run "$@"
	if [ "$status" -eq 0 ]; then
		pass "$what"
	else
		fail "$what" "exit $status"
	fi
}

# A bad file: exit 1, stderr names FILE and holds WORDS, stdout empty.
expect_bad() {
	what=$1 file=$2 words=$3
	shift 3
	run "$@"
	if [ "$status" -ne 1 ]; then
		fail "$what" "exit $status, expected 1"
	elif [ -s "$tmp/out" ]; then
		fail "$what" "something on stdout"
	elif ! grep -qF "$file" "$tmp/err" || ! grep -qF "$words" "$tmp/err"; then
		fail "$what" "stderr does not name $file with '$words'"
	else
		pass "$what: $(head -n 1 "$tmp/err")"
	fi
}

if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP python3 is needed to write the llm.c model"
	exit 0
fi

# llm.c's model file: 256 int32 (magic, version 3, T, V, L, NH, C, Vp), then
# the 16 float32 tensors in llm.c's order; the padded rows of wte are zero.
python3 - "$tmp/model.bin" <<'PY' || exit 99
import array, random, struct, sys
T, V, L, NH, C, Vp = 64, 50257, 2, 2, 16, 50304
rng = random.Random(1)
def rand(n, scale):
    return array.array('f', (rng.gauss(0.0, scale) for _ in range(n)))
def ones(n):
    return array.array('f', (1.0 + rng.gauss(0.0, 0.05) for _ in range(n)))
wte = rand(V * C, 0.5)
wte.extend(array.array('f', bytes(4 * (Vp - V) * C)))
tensors = [wte, rand(T * C, 0.1), ones(L * C), rand(L * C, 0.02),
           rand(L * 3 * C * C, 0.2), rand(L * 3 * C, 0.02),
           rand(L * C * C, 0.2), rand(L * C, 0.02), ones(L * C),
           rand(L * C, 0.02), rand(L * 4 * C * C, 0.2), rand(L * 4 * C, 0.02),
           rand(L * 4 * C * C, 0.1), rand(L * C, 0.02), ones(C), rand(C, 0.02)]
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<8i', 20240326, 3, T, V, L, NH, C, Vp) + bytes(4 * 248))
    for t in tensors:
        if sys.byteorder != 'little':
            t.byteswap()
        f.write(t.tobytes())
PY
tokfile=$SRCDIR/tests/data/gpt2-tokenizer.bin

expect_ok "import an llm.c model with GPT-2's tokenizer" \
    import --llmc "$tmp/model.bin" --llmc-tokenizer "$tokfile" --out "$tmp/m.bin"

# GPT-2's ids for this text (gpt-3-encoder's encode, tests/data/README).
run tokenize --model "$tmp/m.bin" --json -- "Hello, world! I'm here."
if [ "$status" -eq 0 ] && grep -qF '{"ids": [15496, 11, 995, 0, 314, 1101, 994, 13],' "$tmp/out"; then
	pass "tokenize --json prints GPT-2's ids"
else
	fail "tokenize --json prints GPT-2's ids" "exit $status: $(cat "$tmp/out")"
fi

expect_ok "export the imported model" \
    export --model "$tmp/m.bin" --llmc "$tmp/back.bin" --llmc-tokenizer "$tmp/back-tok.bin"
if cmp -s "$tmp/model.bin" "$tmp/back.bin" && cmp -s "$tokfile" "$tmp/back-tok.bin"; then
	pass "import then export gives back the same bytes"
else
	fail "import then export gives back the same bytes" "files differ"
fi

run generate --model "$tmp/m.bin" --prompt "Once upon a time" --max-tokens 12 --seed 3
if [ "$status" -eq 0 ] && [ -s "$tmp/out" ]; then
	pass "generate on the imported model"
else
	fail "generate on the imported model" "exit $status"
fi

expect_ok "eval with the imported model as the featurizer" \
    eval --model "$SRCDIR/data/model.bin" --featurizer "$tmp/m.bin" \
    --corpus "$SRCDIR/data/test.txt" --samples 12 --prompt-tokens 8 --max-tokens 12 \
    --gen-seeds 1 --seed 1 --no-human --mauve-seeds 1

printf 'One day a cat sat on a mat.\n\nThe dog ran to the park and back.\n\n' >"$tmp/corpus.txt"
i=0
while [ $i -lt 12 ]; do
	printf 'Story %d: a bird sang a song in the tall green tree by the river.\n\n' $i >>"$tmp/corpus.txt"
	i=$((i + 1))
done
expect_ok "finetune --method sm on the imported model" \
    finetune --model "$tmp/m.bin" --corpus "$tmp/corpus.txt" --out "$tmp/ft.bin" \
    --method sm --steps 4 --bc-warmup 2 --batch-size 2 --window 8 --prompt-tokens 4 \
    --sample-every 2 --samples-per-round 2 --eval-every 4 --eval-batches 1 --seed 1

expect_ok "export the fine-tuned model" \
    export --model "$tmp/ft.bin" --llmc "$tmp/ft-llmc.bin" --llmc-tokenizer "$tmp/ft-tok.bin"
# The header as llm.c reads it, and <bksp>'s row (50257) against the rest.
python3 - "$tmp/model.bin" "$tmp/ft-llmc.bin" >"$tmp/check" <<'PY'
import struct, sys
a = open(sys.argv[1], 'rb').read()
b = open(sys.argv[2], 'rb').read()
h = struct.unpack('<8i', b[:32])
C = 16
row = lambda buf, r: buf[1024 + 4 * C * r:1024 + 4 * C * (r + 1)]
print('header', h[1], h[3], h[7], 'size', len(b) == len(a),
      'bksp', row(b, 50257) != row(a, 50257), 'pad', row(b, 50258) == row(a, 50258))
PY
if grep -qx 'header 3 50257 50304 size True bksp True pad True' "$tmp/check" &&
    cmp -s "$tokfile" "$tmp/ft-tok.bin"; then
	pass "the fine-tuned export is llm.c's version 3 with 50304 rows, <bksp> in row 50257"
else
	fail "the fine-tuned export is llm.c's version 3 with 50304 rows, <bksp> in row 50257" "$(cat "$tmp/check")"
fi
expect_ok "the fine-tuned export imports again" \
    import --llmc "$tmp/ft-llmc.bin" --llmc-tokenizer "$tmp/ft-tok.bin" --out "$tmp/m2.bin"

# The UI in compare mode: the imported model beside its fine-tune, one prompt.
if command -v tmux >/dev/null 2>&1; then
	T="tmux -L llmc-cli-$$"
	$T new-session -d -x 160 -y 40 -s ui \
	    "exec env TERM=xterm-256color LANG=C.UTF-8 '$SEQMATCH' ui --model '$tmp/m.bin' \
	    --compare '$tmp/ft.bin' 2>'$tmp/ui.err'" 2>/dev/null
	# Wait (up to 60 s) until the screen matches a pattern.
	screen_has() {
		k=0
		while [ $k -lt 600 ]; do
			$T capture-pane -p -t ui 2>/dev/null | grep -Eq "$1" && return 0
			sleep 0.1
			k=$((k + 1))
		done
		return 1
	}
	if screen_has ' A m\.bin \| B ft\.bin \(bksp\)'; then
		pass "ui --compare opens on the imported model and its fine-tune"
	else
		fail "ui --compare opens on the imported model and its fine-tune" "$(cat "$tmp/ui.err")"
	fi
	$T send-keys -t ui -l "Once upon"
	$T send-keys -t ui Enter
	# (the panes' titles, not the status line, which a wide memory column may cut)
	if screen_has 'Text A m\.bin - [a-z]+ - [1-9][0-9]*/[0-9]+' &&
	    screen_has 'Text B ft\.bin - [a-z]+ - [1-9][0-9]*/[0-9]+'; then
		pass "ui --compare: both models write after the prompt"
	else
		fail "ui --compare: both models write after the prompt" "$($T capture-pane -p -t ui | tail -n 2)"
	fi
	$T kill-server >/dev/null 2>&1
fi

# Bad files.
expect_bad "a missing model file" "$tmp/none.bin" "No such file" \
    import --llmc "$tmp/none.bin" --llmc-tokenizer "$tokfile" --out "$tmp/x.bin"
expect_bad "the files swapped" "$tokfile" "tokenizer file" \
    import --llmc "$tokfile" --llmc-tokenizer "$tmp/model.bin" --out "$tmp/x.bin"
head -c 5000 "$tmp/model.bin" >"$tmp/cut.bin"
expect_bad "a truncated model" "$tmp/cut.bin" "but the file has" \
    import --llmc "$tmp/cut.bin" --llmc-tokenizer "$tokfile" --out "$tmp/x.bin"
head -c 1000 "$tokfile" >"$tmp/cut-tok.bin"
expect_bad "a truncated tokenizer" "$tmp/cut-tok.bin" "truncated" \
    import --llmc "$tmp/model.bin" --llmc-tokenizer "$tmp/cut-tok.bin" --out "$tmp/x.bin"
printf 'not a model at all' >"$tmp/junk.bin"
expect_bad "a junk file" "$tmp/junk.bin" "truncated" \
    import --llmc "$tmp/junk.bin" --llmc-tokenizer "$tokfile" --out "$tmp/x.bin"
if [ ! -e "$tmp/x.bin" ]; then
	pass "no output file after a failed import"
else
	fail "no output file after a failed import" "$tmp/x.bin exists"
fi
run import --llmc "$tmp/model.bin"
if [ "$status" -eq 2 ]; then
	pass "import without --llmc-tokenizer and --out is a usage error"
else
	fail "import without --llmc-tokenizer and --out is a usage error" "exit $status"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
