#!/bin/sh
# weights-greedy.sh: do greedy generations change with the weight format?
# For the first N documents of a held-out corpus, the prompt is the document's
# first sentence; each is continued greedily (--top-k 1) with --weights fp32,
# bf16 and q8, and the script counts the prompts whose text (erases applied)
# differs from fp32's, and prints the first one that does.
#
# usage: tests/bench/weights-greedy.sh [N] [MODEL] [HELDOUT]
#   N        prompts (default 20)
#   MODEL    default data/model.bin
#   HELDOUT  default heldout.txt beside MODEL
# Environment: SEQMATCH (default ./seqmatch), MAX_TOKENS (default 100).
# Not run by `make check`.

set -eu
N=${1:-20}
MODEL=${2:-data/model.bin}
HELDOUT=${3:-$(dirname "$MODEL")/heldout.txt}
SEQMATCH=${SEQMATCH:-./seqmatch}
MAX_TOKENS=${MAX_TOKENS:-100}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weights-greedy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# One prompt per line: the first sentence of each of the first N documents.
awk -v n="$N" 'BEGIN { RS = ""; } NR <= n { sub(/\. .*/, "."); gsub(/\n/, " "); print }' \
    "$HELDOUT" > "$tmp/prompts"
total=0
for w in bf16 q8; do
	eval "diff_$w=0"
done
while IFS= read -r prompt; do
	total=$((total + 1))
	for w in fp32 bf16 q8; do
		"$SEQMATCH" generate --model "$MODEL" --prompt "$prompt" --top-k 1 --seed 1 \
		    --max-tokens "$MAX_TOKENS" --weights "$w" > "$tmp/$w" 2>/dev/null
	done
	for w in bf16 q8; do
		if ! cmp -s "$tmp/fp32" "$tmp/$w"; then
			eval "diff_$w=\$((diff_$w + 1))"
			if [ ! -e "$tmp/shown-$w" ]; then
				: > "$tmp/shown-$w"
				echo "first difference, $w, prompt $total:"
				echo "  fp32: $(cat "$tmp/fp32")"
				echo "  $w: $(cat "$tmp/$w")"
			fi
		fi
	done
done < "$tmp/prompts"
echo "greedy generations differing from fp32 over $total prompts ($MODEL, $MAX_TOKENS tokens):" \
    "bf16 $diff_bf16, q8 $diff_q8"
