#!/bin/sh
# test-eval-cli.sh: `seqmatch eval` end to end (TAP): two tiny models trained
# on a small corpus, then eval with --json: valid JSON, every field present,
# numbers in range, identical output on a second run (timing fields aside),
# two --model values evaluated on identical prompts and seeds, the plain
# table, --save-features, and usage (exit 2) and file (exit 1) errors that
# print nothing on stdout.
#
# Run by `make check` with SEQMATCH (the binary), SRCDIR and BUILDDIR set.

: "${SEQMATCH:?set SEQMATCH to the seqmatch binary}"

n=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seqmatch-eval.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

if command -v timeout >/dev/null 2>&1; then
	TIMEOUT="timeout 300"
else
	TIMEOUT=
fi

unset SEQMATCH_MODEL SEQMATCH_REEXEC SEQMATCH_GENERIC_CORE
HOME=$tmp/home
XDG_DATA_HOME=$tmp/home/.local/share
OPENBLAS_NUM_THREADS=1
export HOME XDG_DATA_HOME OPENBLAS_NUM_THREADS
mkdir -p "$HOME"

# Report a passing test.
pass() {
	n=$((n + 1))
	printf 'ok %d - %s\n' "$n" "$1"
}

# Report a failing test with the reason and the last command's stderr.
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	printf 'not ok %d - %s\n# %s\n' "$n" "$1" "$2"
	if [ -s "$tmp/err" ]; then
		sed -n '1,8s/^/#   stderr: /p' "$tmp/err"
	fi
}

# Run seqmatch quietly; sets $status, output in $tmp/out and $tmp/err.
run() {
	$TIMEOUT "$SEQMATCH" -q "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
}

# expect DESC STATUS PATTERN ARGS...: exit status, stderr matching PATTERN,
# and for a failure an empty stdout.
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
	elif [ -n "$pattern" ] && ! grep -Eqi -- "$pattern" "$tmp/err"; then
		fail "$desc" "stderr does not match /$pattern/"
	elif [ "$want" -ne 0 ] && [ -s "$tmp/out" ]; then
		fail "$desc" "an error printed on stdout: $(head -c 200 "$tmp/out")"
	else
		pass "$desc"
	fi
}

# Whether file $1 is valid JSON (Perl's core JSON::PP, else Python); 2 if
# neither is available.
valid_json() {
	if command -v perl >/dev/null 2>&1 && perl -MJSON::PP -e 1 2>/dev/null; then
		perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die;
			JSON::PP->new->decode(<$f>)' "$1" 2>"$tmp/json-err"
	elif command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" \
		    2>"$tmp/json-err"
	else
		return 2
	fi
}

# The output without timing fields (they differ from run to run).
untimed() {
	grep -Ev '"[a-z_]*(seconds|per_s)"' "$1"
}

# The fields of model block $1 of JSON file $2, timing aside.
model_block() {
	sed -n "/\"index\": $1,/,/^    }/p" "$2" | grep -v '^    }' | untimed /dev/stdin
}

# A corpus of 60 short documents separated by blank lines.
i=0
: >"$tmp/corpus"
for a in quiet brave small old bright; do
	for b in fox river garden lamp tower engine; do
		for c in sings waits runs; do
			i=$((i + 1))
			[ $i -gt 60 ] && break 3
			printf 'The %s %s %s near the hill while the wind moves over the %s fields, and %d birds watch it from the %s roof.\n\n' \
			    "$a" "$b" "$c" "$b" "$i" "$a" >>"$tmp/corpus"
		done
	done
done
C=$tmp/corpus
M=$tmp/m.bin
M2=$tmp/m2.bin

expect "train a tiny model" 0 "" train --corpus "$C" --out "$M" --preset tiny \
    --steps 30 --vocab-size 300 --seq-len 32 --batch-size 4
expect "train a second one" 0 "" train --corpus "$C" --out "$M2" --preset tiny \
    --steps 10 --vocab-size 300 --seq-len 32 --batch-size 4 --seed 7

set -- --corpus "$C" --samples 20 --prompt-tokens 8 --max-tokens 16 --seed 1
expect "eval --json" 0 "" eval --model "$M" "$@" --json
cp "$tmp/out" "$tmp/j1"

valid_json "$tmp/j1"
case $? in
0) pass "the output is one valid JSON object" ;;
2) pass "# SKIP no perl JSON::PP or python3 to parse JSON" ;;
*) fail "the output is one valid JSON object" "$(head -c 300 "$tmp/json-err")" ;;
esac

missing=
for f in command version corpus corpus_hash separator documents samples \
    samples_requested prompt_tokens max_tokens seed decoding temperature top_k \
    top_p min_p featurizer features_of max_text_tokens feature_dim \
    num_buckets_option scaling explained_variance kmeans_restarts \
    kmeans_max_iter divergence_points mauve_seeds reference models index model \
    params_hash estimator mauve mauve_std mauve_per_seed frontier_integral \
    mauve_star frontier_integral_star num_buckets n_p n_q empty_generations \
    distinct_1 distinct_2 distinct_3 repetition_rate mean_logprob perplexity \
    gross_tokens net_tokens actions erase_events backspace_rate re_emissions \
    re_emission_rate longest_backspace_run stops generate_tokens_per_s \
    prefill_tokens_per_s seconds; do
	grep -q "\"$f\": " "$tmp/j1" || missing="$missing $f"
done
if [ -z "$missing" ]; then
	pass "every field is present"
else
	fail "every field is present" "missing:$missing"
fi

# Every score, rate and distinct-n is a number in [0, 1]; counts as expected.
bad=$(awk '
	/^ *"(mauve|frontier_integral|mauve_star|frontier_integral_star|distinct_[123]|repetition_rate|backspace_rate|re_emission_rate)": / {
		v = $2; sub(/,$/, "", v)
		if (v !~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/ || v + 0 < 0 || v + 0 > 1)
			print $1 " " v
		seen++
	}
	/^ *"mean_logprob": / { v = $2; sub(/,$/, "", v); if (v !~ /^-[0-9.]/) print "mean_logprob " v }
	/^ *"(n_p|samples|texts)": / { v = $2; sub(/,$/, "", v); if (v != 20) print $1 " " v }
	/^ *"n_q": / { v = $2; sub(/,$/, "", v); if (v < 2 || v > 20) print "n_q " v }
	/^ *"num_buckets": / { v = $2; sub(/,$/, "", v); if (v != 2) print "num_buckets " v }
	END { if (seen != 14) print "saw " seen " ranged fields, expected 14" }
' "$tmp/j1")
if [ -z "$bad" ]; then
	pass "scores, rates and distinct-n in [0, 1]; n_p 20, k 2 (= max(2, 20/10))"
else
	fail "scores, rates and distinct-n in [0, 1]; n_p 20, k 2 (= max(2, 20/10))" \
	    "$(echo "$bad" | tr '\n' ';')"
fi

expect "eval --json again" 0 "" eval --model "$M" "$@" --json
cp "$tmp/out" "$tmp/j2"
if untimed "$tmp/j1" >"$tmp/u1" && untimed "$tmp/j2" >"$tmp/u2" &&
    cmp -s "$tmp/u1" "$tmp/u2"; then
	pass "the same seed gives the same output (timing aside)"
else
	fail "the same seed gives the same output (timing aside)" \
	    "$(diff "$tmp/u1" "$tmp/u2" | head -5 | tr '\n' ';')"
fi

expect "another seed" 0 "" eval --model "$M" --corpus "$C" --samples 20 \
    --prompt-tokens 8 --max-tokens 16 --seed 2 --json
untimed "$tmp/out" >"$tmp/u3"
if cmp -s "$tmp/u1" "$tmp/u3"; then
	fail "another seed gives other results" "identical output"
else
	pass "another seed gives other results"
fi

expect "two --model values" 0 "" eval --model "$M" --model "$M2" "$@" --json
cp "$tmp/out" "$tmp/j3"
if [ "$(grep -c '"index": ' "$tmp/j3")" -eq 2 ] && grep -q "\"model\": \"$M2\"" "$tmp/j3"; then
	pass "two --model values give two result blocks"
else
	fail "two --model values give two result blocks" "$(grep '"index"\|"model"' "$tmp/j3")"
fi
# The first model sees the same prompts and seeds with or without a second one.
model_block 1 "$tmp/j1" >"$tmp/b1"
model_block 1 "$tmp/j3" >"$tmp/b3"
if [ -s "$tmp/b1" ] && cmp -s "$tmp/b1" "$tmp/b3"; then
	pass "model 1's results do not depend on the other model"
else
	fail "model 1's results do not depend on the other model" \
	    "$(diff "$tmp/b1" "$tmp/b3" | head -5 | tr '\n' ';')"
fi
model_block 2 "$tmp/j3" >"$tmp/b4"
if ! cmp -s "$tmp/b3" "$tmp/b4"; then
	pass "the two models get their own results"
else
	fail "the two models get their own results" "identical blocks"
fi

expect "plain table" 0 "" eval --model "$M" --model "$M2" "$@" --mauve-seeds 2
if grep -q '^  mauve  ' "$tmp/out" && grep -q 'model 1 *model 2' "$tmp/out" &&
    grep -q '^settings: featurizer' "$tmp/out" && ! grep -q '^{' "$tmp/out"; then
	pass "the table has side-by-side columns, the scores and the settings"
else
	fail "the table has side-by-side columns, the scores and the settings" \
	    "$(head -c 300 "$tmp/out")"
fi

expect "--save-features" 0 "" eval --model "$M" --model "$M2" "$@" \
    --save-features "$tmp/feat"
ok=1
for f in "$tmp/feat-p.npy" "$tmp/feat-q-1.npy" "$tmp/feat-q-2.npy"; do
	if [ ! -s "$f" ] || [ "$(head -c 6 "$f" | tail -c 5)" != "NUMPY" ]; then
		ok=0
	fi
done
if [ $ok -eq 1 ]; then
	pass "--save-features writes PREFIX-p.npy and PREFIX-q-<i>.npy"
else
	fail "--save-features writes PREFIX-p.npy and PREFIX-q-<i>.npy" "$(ls "$tmp")"
fi

# Usage errors: exit 2, a message, nothing on stdout.
expect "no --corpus" 2 "corpus" eval --model "$M"
expect "--samples 0" 2 "samples" eval --model "$M" --corpus "$C" --samples 0
expect "--samples abc" 2 "samples" eval --model "$M" --corpus "$C" --samples abc
expect "--prompt-tokens 0" 2 "prompt-tokens" eval --model "$M" --corpus "$C" \
    --prompt-tokens 0
expect "--max-tokens 0" 2 "max-tokens" eval --model "$M" --corpus "$C" --max-tokens 0
expect "--max-tokens -1" 2 "max-tokens" eval --model "$M" --corpus "$C" --max-tokens -1
expect "--separator foo" 2 "separator" eval --model "$M" --corpus "$C" --separator foo
expect "--num-buckets 1" 2 "num-buckets" eval --model "$M" --corpus "$C" --num-buckets 1
expect "--mauve-seeds 0" 2 "mauve-seeds" eval --model "$M" --corpus "$C" --mauve-seeds 0
expect "--temperature abc" 2 "temperature" eval --model "$M" --corpus "$C" \
    --temperature abc
expect "an unknown option" 2 "" eval --model "$M" --corpus "$C" --bogus
expect "a stray argument" 2 "unexpected" eval --model "$M" --corpus "$C" extra
expect "prompt + continuation longer than the context" 2 "context" eval \
    --model "$M" --corpus "$C" --prompt-tokens 60 --max-tokens 16

# File errors: exit 1.
set -- --prompt-tokens 8 --max-tokens 16
expect "a missing corpus" 1 "none" eval --model "$M" --corpus "$tmp/none" "$@"
expect "a missing model" 1 "none.bin" eval --model "$tmp/none.bin" --corpus "$C" "$@"
expect "a missing featurizer" 1 "featurizer" eval --model "$M" --corpus "$C" "$@" \
    --featurizer "$tmp/none.bin"
printf 'short one\n\nshort two\n' >"$tmp/short"
expect "no document long enough" 1 "no document" eval --model "$M" --corpus "$tmp/short" "$@"

expect "eval --help" 0 "" eval --help
if grep -q -- '--mauve-seeds' "$tmp/out" && grep -q -- '--temperature' "$tmp/out"; then
	pass "eval --help lists its options and the decoding table"
else
	fail "eval --help lists its options and the decoding table" "$(head -c 200 "$tmp/out")"
fi

printf '1..%d\n' "$n"
[ "$failed" -eq 0 ]
