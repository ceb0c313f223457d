#!/bin/sh
# eval-table.sh [SEQMATCH] [OUTDIR]: the comparison table of data/README and
# the README: the matched MLE fine-tune (mle.bin, first, so that every paired
# difference and verdict is against it), base.bin, behaviour cloning
# with the SequenceMatch recipe's noise (fine-tuned into OUTDIR/bc.bin if it
# is not there) and the SequenceMatch fine-tune (model.bin), on 1000 prompts
# of data/test.txt per side and 3 generation seeds, full stories (16 prompt +
# up to 96 tokens), story-rule violations by data/check-story.py, at eval's
# default decoding and at temperature 1 without filters. One BLAS thread, so
# the numbers repeat exactly (tests/test-eval-table.sh checks them). Writes
# OUTDIR/table-default.txt and OUTDIR/table-t1.txt.
# About 15 minutes on two cores. Run from the source tree.
S=${1:-./seqmatch}
out=${2:-${TMPDIR:-/tmp}/seqmatch-table}
mkdir -p "$out" || exit 1
if [ ! -f "$out/bc.bin" ]; then
	"$S" --threads 1 finetune --model data/base.bin --corpus data/corpus.txt \
	    --out "$out/bc.bin" --method bc --ctx-noise 0.5 --ctx-noise-insert \
	    --noise model+uniform --noise-confidence 0.5 --doc-start --prompt-tokens 16 \
	    --window 96 --batch-size 16 --steps 1500 --eval-every 250 --seed 1 \
	    >"$out/bc.log" 2>&1 || exit 1
fi
models="--model data/mle.bin --model data/base.bin --model $out/bc.bin --model data/model.bin"
common="--corpus data/test.txt --samples 1000 --gen-seeds 3 --prompt-tokens 16 --max-tokens 96 --seed 1"
# shellcheck disable=SC2086
"$S" --threads 1 -q eval $models $common --check "python3 data/check-story.py" \
    >"$out/table-default.txt" || exit 1
# shellcheck disable=SC2086
"$S" --threads 1 -q eval $models $common --check "python3 data/check-story.py" \
    --temperature 1 --top-k 0 --top-p 1 --min-p 0 >"$out/table-t1.txt" || exit 1
cat "$out/table-default.txt" "$out/table-t1.txt"
