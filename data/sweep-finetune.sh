#!/bin/sh
# sweep-finetune.sh [SEQMATCH] [OUTDIR] [NAME...]: the fine-tune ablation of
# data/README. Each variant fine-tunes data/base.bin (the common options below
# plus its own), then is scored on the validation split: 3000 fresh documents
# (make-corpus.py --fresh 3000 --seed 3; never the prompts of the final table,
# which come from data/test.txt), 300 prompts x 2 generation seeds, full
# stories (16 prompt + up to 96 tokens), story-rule violations counted by
# data/check-story.py, at temperature 1 without filters and at eval's default
# decoding. Prints one line per variant and decoding; the eval JSON stays in
# OUTDIR. With NAME arguments only those variants run. Run from the source
# tree; about 4 minutes a variant on two cores.
S=${1:-./seqmatch}
out=${2:-${TMPDIR:-/tmp}/seqmatch-sweep}
[ $# -ge 2 ] && shift 2 || shift $#
mkdir -p "$out" || exit 1
[ -f "$out/valid.txt" ] ||
	python3 data/make-corpus.py --fresh 3000 --seed 3 --out "$out/valid.txt" || exit 1

common="--steps 1500 --bc-warmup 750 --prompt-tokens 16 --eval-every 250 --batch-size 16 --seed 1"
# name|options: round 2 of data/README's ablation (the first rows use the old
# windows: anywhere in the corpus, 48 tokens).
variants='old-mle|--method mle --window 48
old-bc-no-noise|--method bc --window 48 --ctx-noise 0 --p-noise 0
old-sm-uniform-p0.02|--method sm --window 48 --ctx-noise 0 --p-noise 0.02
old-bc-model-conf0.5|--method bc --window 48 --ctx-noise 0 --noise model --noise-confidence 0.5
old-sm-model-conf0.5|--method sm --window 48 --ctx-noise 0 --noise model --noise-confidence 0.5
mle|--method mle --doc-start --window 96
bc-uniform|--method bc --doc-start --window 96 --ctx-noise 0
bc-uniform-ctx-insert|--method bc --doc-start --window 96 --ctx-noise 0.5 --ctx-noise-insert
sm-uniform|--method sm --doc-start --window 96 --ctx-noise 0
sm-uniform-p0.1|--method sm --doc-start --window 96 --ctx-noise 0 --p-noise 0.1
sm-model-conf0.5|--method sm --doc-start --window 96 --ctx-noise 0 --noise model --noise-confidence 0.5
sm-mix0.5|--method sm --doc-start --window 96 --ctx-noise 0 --bc-mix 0.5
sm-mix0.9|--method sm --doc-start --window 96 --ctx-noise 0 --bc-mix 0.9
sm-warmup1200-mix0.5|--method sm --doc-start --window 96 --ctx-noise 0 --bc-warmup 1200 --bc-mix 0.5
sm-mix0.5-ctx-insert|--method sm --doc-start --window 96 --ctx-noise 0.5 --ctx-noise-insert --bc-mix 0.5
sm-mix0.9-ctx-insert|--method sm --doc-start --window 96 --ctx-noise 0.5 --ctx-noise-insert --bc-mix 0.9
sm-mix0.9-ctx-insert-c0|--method sm --doc-start --window 96 --ctx-noise 0.5 --ctx-noise-insert --bc-mix 0.9 --sm-c 0'

# Score models on the validation split at one decoding; one line per model.
score() {
	dec=$1
	shift
	if [ "$dec" = T1 ]; then
		set -- "$@" --temperature 1 --top-k 0 --top-p 1 --min-p 0
	fi
	"$S" -q eval "$@" --featurizer data/featurizer.bin --corpus "$out/valid.txt" \
	    --samples 300 --gen-seeds 2 --prompt-tokens 16 --max-tokens 96 --seed 11 \
	    --check "python3 data/check-story.py" --json >"$out/$name-$dec.json" || return 1
	python3 - "$out/$name-$dec.json" "$name" "$dec" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
m = d["models"][0]
kinds = " ".join("%s %.1f" % (k, v["per_100"]) for k, v in m["violations_by_kind"].items() if v["per_100"])
cs = m["correction_share"]
print("%-22s %-3s violations %5.1f +/- %4.1f  mauve %.3f +/- %.3f  backspace %.3f  corrections %s  (%s)" % (
    sys.argv[2], sys.argv[3], m["violations_per_100"], m["violations_per_100_gen_sd"], m["mauve"],
    m["mauve_gen_sd"], m["backspace_rate"], "-" if cs is None else "%.2f" % cs, kinds))
EOF
}

echo "$variants" | while IFS='|' read -r name opts; do
	if [ $# -gt 0 ]; then
		want=0
		for n in "$@"; do [ "$n" = "$name" ] && want=1; done
		[ $want = 1 ] || continue
	fi
	if [ ! -f "$out/$name.bin" ]; then
		# shellcheck disable=SC2086
		"$S" finetune --model data/base.bin --corpus data/corpus.txt \
		    --out "$out/$name.bin" $common $opts >"$out/$name.log" 2>&1 || {
			echo "$name: fine-tune failed (see $out/$name.log)" >&2
			exit 1
		}
	fi
	grep "step 1500: val" "$out/$name.log" | sed "s|^|$name: |"
	score T1 --model "$out/$name.bin" || exit 1
	score def --model "$out/$name.bin" || exit 1
done
