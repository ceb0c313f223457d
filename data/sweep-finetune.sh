#!/bin/sh
# sweep-finetune.sh [SEQMATCH] [OUTDIR]: fine-tune data/base.bin with the
# shipped recipe and three variations (c 0.05; bc_mix 0.5; behaviour cloning
# only), then for each: the last validation line, MAUVE against the held-out
# continuations (200 samples, base.bin as featurizer, as in data/README), the
# erase-all count of data/check-prompts.sh, and typed/erased tokens over six
# hot unfiltered generations (temperature 1.5) after "Lena had a".
# About a minute a variant on two cores. Run from the source tree.
S=${1:-./seqmatch}
out=${2:-${TMPDIR:-/tmp}/seqmatch-sweep}
mkdir -p "$out" || exit 1
for cfg in "shipped --sm-c 0.0025 --bc-mix 0.001" "c0.05 --sm-c 0.05 --bc-mix 0.001" \
    "bc_mix0.5 --sm-c 0.0025 --bc-mix 0.5" "bc_only --method bc"; do
	set -- $cfg
	name=$1
	shift
	"$S" finetune --model data/base.bin --corpus data/corpus.txt --out "$out/$name.bin" \
	    --steps 600 --bc-warmup 300 --prompt-tokens 16 --window 48 --batch-size 16 \
	    --eval-every 100 --seed 1 "$@" >"$out/$name.log" 2>&1 || exit 1
	grep "step 600: val" "$out/$name.log" | sed "s|^|$name: |"
	"$S" eval --model "$out/$name.bin" --corpus data/heldout.txt --samples 200 \
	    --prompt-tokens 16 --max-tokens 48 --seed 1 --featurizer data/base.bin 2>/dev/null |
	    grep -E "^  mauve |backspace_rate" | sed "s|^|$name: |"
	data/check-prompts.sh "$S" "$out/$name.bin" |
	    awk -v n="$name" '$NF >= 100 { bad++ } END { print n ": erase-all runs " bad + 0 " of 22" }'
	typed=0
	erased=0
	for seed in 1 2 3 4 5 6; do
		r=$("$S" generate --model "$out/$name.bin" --seed "$seed" --temperature 1.5 \
		    --top-k 0 --top-p 1 --min-p 0 --json --prompt "Lena had a" 2>/dev/null |
		    tail -n 1 | sed -n 's/.*"tokens": \([0-9]*\), "erased": \([0-9]*\).*/\1 \2/p')
		set -- $r
		typed=$((typed + $1))
		erased=$((erased + $2))
	done
	echo "$name: temperature 1.5 after 'Lena had a', seeds 1-6: typed $typed, erased $erased"
done
