#!/bin/sh
# test-quantize.sh: stored weight formats (TAP). `seqmatch quantize` writes
# bf16 and q8 model files (model file version 4); generate reads them without
# converting, their matrices mapped from the file (copied with --load copy;
# `generate -v` says which), and decodes token for token, probability for
# probability, as --weights does at load time, mapped or copied; --weights
# that disagrees converts or refuses; train, finetune and export refuse a
# stored file, naming it, its format and the way back to fp32; a damaged
# stored file is refused by its CRC, a truncated one with a message naming
# it; config.yaml's weights: reaches generate and eval, and the command line
# wins. tests/test-mmap.c checks where the mapped matrices are.
#
# Run by `make check` with SEQMATCH (the binary) and SRCDIR set.

: "${SEQMATCH:?set SEQMATCH to the seqmatch binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"

n=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seqmatch-quantize.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

unset SEQMATCH_MODEL SEQMATCH_REEXEC SEQMATCH_GENERIC_CORE XDG_CONFIG_HOME
HOME=$tmp/home
XDG_DATA_HOME=$tmp/home/.local/share
XDG_STATE_HOME=$tmp/home/.local/state
export HOME XDG_DATA_HOME XDG_STATE_HOME
mkdir -p "$HOME"
model=$SRCDIR/data/model.bin

. "${SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# Run seqmatch; output in $tmp/out and $tmp/err, status in $status.
run() {
	"$SEQMATCH" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
}

# expect DESC STATUS PATTERN ARGS...: exit status and stderr (extended regex).
expect() {
	desc=$1
	want=$2
	pattern=$3
	shift 3
	run "$@"
	if [ "$status" -ge 128 ] || grep -Eq 'Sanitizer|runtime error:' "$tmp/err"; then
		fail "$desc" "crashed or sanitizer error (status $status)"
	elif [ "$status" -ne "$want" ]; then
		fail "$desc" "exit status $status, expected $want"
	elif [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$tmp/err"; then
		fail "$desc" "stderr does not match /$pattern/"
	else
		pass "$desc"
	fi
}

# gen OUT ARGS...: greedy --json generation of a few prompts into OUT, with the
# timings and the model's path taken out (everything else must match).
gen() {
	out=$1
	shift
	: >"$out"
	for p in "Once upon a time" "Milo counted 3" "The little fox" "Sam had a red"; do
		"$SEQMATCH" generate --json --top-k 1 --max-tokens 60 --seed 3 --prompt "$p" \
		    "$@" 2>"$tmp/err" </dev/null |
		    sed -e 's/"t": [0-9.e+-]*//' -e 's/"model": "[^"]*"//' \
		    -e 's/"prefill_seconds": [0-9.e+-]*//' \
		    -e 's/"generate_tokens_per_s": [0-9.e+-]*//' >>"$out" || return 1
	done
}

if [ ! -f "$model" ]; then
	echo "1..0 # SKIP no $model"
	exit 0
fi

# --- quantize writes smaller files that say their format ----------------------
for f in bf16 q8; do
	expect "quantize --weights $f" 0 "matrices stored as $f" \
	    quantize --model "$model" --out "$tmp/m-$f.bin" --weights $f
done
s32=$(wc -c <"$model")
s16=$(wc -c <"$tmp/m-bf16.bin")
s8=$(wc -c <"$tmp/m-q8.bin")
if [ "$s8" -lt "$s16" ] && [ "$s16" -lt "$s32" ]; then
	pass "q8 ($s8 bytes) < bf16 ($s16) < fp32 ($s32)"
else
	fail "file sizes" "q8 $s8, bf16 $s16, fp32 $s32"
fi
if [ ! -e "$tmp/m-q8.bin.tmp" ] && ! ls "$tmp" | grep -q '\.tmp'; then
	pass "no temporary file is left beside the output"
else
	fail "no temporary file is left beside the output" "$(ls "$tmp")"
fi
expect "generate -v names the stored format, its matrices mapped from the file" 0 \
    "weights q8, stored in the file \\(matrices mapped from it, [0-9.]+ MiB" \
    generate -v --model "$tmp/m-q8.bin" --prompt "Once" --max-tokens 4 --seed 1
expect "generate -v --load copy: copied, and why" 0 \
    "weights bf16, stored in the file \\(copied from it: a copy was asked for" \
    generate -v --load copy --model "$tmp/m-bf16.bin" --prompt "Once" --max-tokens 4 --seed 1
# A file of the first version 4 writer (ALGN before PARM, QMAT 4-byte aligned).
expect "a stored file of the earlier layout is mapped too" 0 \
    "weights q8, stored in the file \\(matrices mapped from it" \
    generate -v --model "$SRCDIR/tests/fuzz-seeds/checkpoint/tiny-q8.bin" --prompt "a" \
    --max-tokens 2 --seed 1
expect "generate -v names a conversion at load" 0 "weights bf16, converted at load" \
    generate -v --model "$model" --weights bf16 --prompt "Once" --max-tokens 4 --seed 1
expect "tokenize reads a stored file" 0 "" tokenize --model "$tmp/m-q8.bin" "Once"

# --- round trip: stored = converted at load, token for token -----------------
gen "$tmp/fp32.json" --model "$model" || fail "generate fp32" "failed"
for f in bf16 q8; do
	if gen "$tmp/load-$f.json" --model "$model" --weights $f &&
	    gen "$tmp/stored-$f.json" --model "$tmp/m-$f.bin"; then
		if cmp -s "$tmp/load-$f.json" "$tmp/stored-$f.json"; then
			pass "$f: the stored file, mapped, generates exactly as --weights $f at load (greedy, probabilities included)"
		else
			fail "$f: stored = converted at load" "$(diff "$tmp/load-$f.json" "$tmp/stored-$f.json" | head -4)"
		fi
		if gen "$tmp/copied-$f.json" --model "$tmp/m-$f.bin" --load copy &&
		    cmp -s "$tmp/copied-$f.json" "$tmp/stored-$f.json"; then
			pass "$f: --load copy generates exactly as the mapped file"
		else
			fail "$f: copied = mapped" "$(diff "$tmp/copied-$f.json" "$tmp/stored-$f.json" | head -4)"
		fi
		if grep -q "\"weights\": \"$f\"" "$tmp/stored-$f.json"; then
			pass "$f: the start event names the format"
		else
			fail "$f: the start event names the format" "$(head -c 300 "$tmp/stored-$f.json")"
		fi
	else
		fail "$f: round trip" "generate failed"
	fi
done
if ! cmp -s "$tmp/fp32.json" "$tmp/load-q8.json"; then
	pass "q8's probabilities differ from fp32's (the comparison above means something)"
else
	fail "q8 differs from fp32" "identical output"
fi

# --- --weights against a stored format ---------------------------------------
gen "$tmp/deq.json" --model "$tmp/m-q8.bin" --weights fp32 || fail "q8 file, --weights fp32" "failed"
expect "--weights fp32 on a q8 file says it dequantizes" 0 "holds q8 weights: generating with them dequantized to fp32" \
    generate --model "$tmp/m-q8.bin" --weights fp32 --prompt "Once" --max-tokens 2 --seed 1
expect "quantize --weights fp32 writes a q8 file back as fp32" 0 "fp32 weights dequantized from" \
    quantize --model "$tmp/m-q8.bin" --out "$tmp/m-deq.bin" --weights fp32
gen "$tmp/deq2.json" --model "$tmp/m-deq.bin" || fail "dequantized file" "failed"
if cmp -s "$tmp/deq.json" "$tmp/deq2.json"; then
	pass "--weights fp32 on a q8 file = the file quantize --weights fp32 wrote"
else
	fail "dequantized at load = dequantized file" "$(diff "$tmp/deq.json" "$tmp/deq2.json" | head -4)"
fi
expect "--weights bf16 on a q8 file is refused" 1 "m-q8.bin holds q8 weights .*--weights bf16 would round them twice" \
    generate --model "$tmp/m-q8.bin" --weights bf16 --prompt "Once" --max-tokens 2
expect "quantize q8 -> bf16 is refused" 2 "holds q8 weights; converting them to bf16 would round them twice" \
    quantize --model "$tmp/m-q8.bin" --out "$tmp/never.bin" --weights bf16
expect "quantize to the format it has is refused" 2 "already holds bf16 weights" \
    quantize --model "$tmp/m-bf16.bin" --out "$tmp/never.bin" --weights bf16
expect "quantize without --weights" 2 "--model, --out and --weights are required" \
    quantize --model "$model" --out "$tmp/never.bin"
expect "quantize --weights q4" 2 "weights" \
    quantize --model "$model" --out "$tmp/never.bin" --weights q4
if [ ! -e "$tmp/never.bin" ]; then
	pass "a refused quantize writes nothing"
else
	fail "a refused quantize writes nothing" "never.bin exists"
fi

# --- what needs fp32 refuses a stored file -----------------------------------
refusal="m-q8.bin: this model file holds q8 weights .*seqmatch quantize --model [^ ]*m-q8.bin --out OUT --weights fp32"
expect "export refuses a q8 file" 1 "$refusal" \
    export --model "$tmp/m-q8.bin" --llmc "$tmp/never.bin" --llmc-tokenizer "$tmp/never-tok.bin"
printf 'Once upon a time there was a cat.\n\nThe dog ran home.\n\n' >"$tmp/corpus.txt"
expect "finetune refuses a q8 file" 1 "$refusal" \
    finetune --model "$tmp/m-q8.bin" --corpus "$tmp/corpus.txt" --out "$tmp/never.bin" --steps 1
for i in 1 2 3 4 5 6 7 8; do
	printf 'Once upon a time there was a cat number %d. It sat on a mat.\n\n' "$i"
done >>"$tmp/corpus.txt"
run train --corpus "$tmp/corpus.txt" --out "$tmp/run.bin" --preset tiny --steps 2 \
    --vocab-size 300 --seq-len 16 --batch-size 2 --seed 1
if [ "$status" -eq 0 ] && [ -s "$tmp/run.bin.opt" ]; then
	"$SEQMATCH" quantize --model "$tmp/run.bin" --out "$tmp/run.bin" --weights bf16 \
	    2>"$tmp/err" </dev/null
	expect "train --resume refuses a bf16 file" 1 "run.bin: this model file holds bf16 weights" \
	    train --corpus "$tmp/corpus.txt" --out "$tmp/run.bin" --resume --steps 3 \
	    --vocab-size 300 --seq-len 16 --batch-size 2 --seed 1
else
	fail "train a tiny model to resume" "status $status"
fi

# --- damage ------------------------------------------------------------------
# The last byte of QMAT's payload: 4 (END.'s CRC) + 4 + 8 + 4 (END.'s frame)
# + 4 (QMAT's CRC) + 1 bytes from the end.
cp "$tmp/m-q8.bin" "$tmp/bad.bin"
size=$(wc -c <"$tmp/bad.bin")
off=$((size - 25))
printf '\377' | dd of="$tmp/bad.bin" bs=1 seek="$off" conv=notrunc 2>/dev/null
expect "a damaged QMAT is refused by its CRC" 1 "bad.bin: corrupt: CRC mismatch in section QMAT" \
    generate --model "$tmp/bad.bin" --prompt "Once" --max-tokens 2
expect "also with --load lazy" 1 "bad.bin: corrupt: CRC mismatch in section QMAT" \
    generate --model "$tmp/bad.bin" --load lazy --prompt "Once" --max-tokens 2
# Truncated: in the header, in PARM, in QMAT (mapped, every length is checked
# against the file's before a page is read), one byte short of the end.
for cut in 40 5000 $((size / 2)) $((size - 1)); do
	head -c "$cut" "$tmp/m-q8.bin" >"$tmp/cut.bin"
	for load in map copy lazy; do
		expect "cut to $cut of $size bytes, --load $load: refused" 1 "cut.bin: truncated: " \
		    generate --model "$tmp/cut.bin" --load $load --prompt "Once" --max-tokens 2
	done
done

# --- config.yaml's weights: --------------------------------------------------
mkdir -p "$HOME/.config/seqmatch"
printf 'weights: q8\n' >"$HOME/.config/seqmatch/config.yaml"
gen "$tmp/conf.json" --model "$model" || fail "generate with config weights" "failed"
if cmp -s "$tmp/conf.json" "$tmp/load-q8.json"; then
	pass "generate uses config.yaml's weights: q8"
else
	fail "generate uses config.yaml's weights: q8" "$(diff "$tmp/conf.json" "$tmp/load-q8.json" | head -4)"
fi
gen "$tmp/conf-cli.json" --model "$model" --weights fp32 || fail "generate --weights fp32" "failed"
if cmp -s "$tmp/conf-cli.json" "$tmp/fp32.json"; then
	pass "--weights fp32 wins over config.yaml"
else
	fail "--weights wins over config.yaml" "differs from fp32"
fi
expect "generate -v says where the format came from" 0 "weights q8, converted at load \\(config.yaml's weights:\\)" \
    generate -v --model "$model" --prompt "Once" --max-tokens 2 --seed 1
head -c 4000 "$SRCDIR/data/heldout.txt" >"$tmp/held.txt" 2>/dev/null ||
    printf 'Once upon a time there was a cat. It sat.\n\nThe dog ran home fast.\n\n' >"$tmp/held.txt"
eval_args="eval --model $model --corpus $tmp/held.txt --samples 2 --gen-seeds 1 --prompt-tokens 4 --max-tokens 4 --no-human --seed 1 --featurizer $model --json"
run $eval_args
if [ "$status" -eq 0 ] && grep -q '"weights": "q8"' "$tmp/out"; then
	pass "eval uses config.yaml's weights: q8"
else
	fail "eval uses config.yaml's weights: q8" "status $status: $(grep -o '"weights": "[a-z0-9]*"' "$tmp/out")"
fi
run $eval_args --weights bf16
if [ "$status" -eq 0 ] && grep -q '"weights": "bf16"' "$tmp/out"; then
	pass "eval --weights bf16 wins over config.yaml"
else
	fail "eval --weights wins over config.yaml" "status $status"
fi
printf 'weights: bf16\n' >"$HOME/.config/seqmatch/config.yaml"
gen "$tmp/conf-stored.json" --model "$tmp/m-q8.bin" || fail "stored file with config" "failed"
if cmp -s "$tmp/conf-stored.json" "$tmp/stored-q8.json"; then
	pass "a stored q8 file decodes with its own format whatever config.yaml says"
else
	fail "a stored file's format wins over config.yaml" "differs"
fi
printf 'weights: q4\n' >"$HOME/.config/seqmatch/config.yaml"
expect "a bad config.yaml is a warning, not a failure" 0 "config: .*weights" \
    generate --model "$model" --prompt "Once" --max-tokens 2 --seed 1
rm -f "$HOME/.config/seqmatch/config.yaml"

echo "1..$n"
[ "$failed" -eq 0 ]
