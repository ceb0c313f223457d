#!/bin/sh
# check-prompts.sh [SEQMATCH] [MODEL]: how a model's <bksp> behaves after
# prompts in and out of its corpus's style: for each prompt and seeds 1 and 2,
# why generation stopped and how many tokens were typed and erased. A model
# that learned "strange context -> erase" types and erases until max_actions.
seqmatch=${1:-./seqmatch}
model=${2:-data/model.bin}
for p in "Lena" "Pia" "Eva had a" "Once upon a time" "The cat" "Hello world" \
    "Tom went to the" "The goat ran after" "Bob had a dog." "Lena said hello" \
    "Max had a cat. The cat"; do
	for seed in 1 2; do
		"$seqmatch" generate --model "$model" --seed "$seed" --json --prompt "$p" \
		    2>/dev/null | tail -n 1 |
		    sed -n 's/.*"reason": "\([a-z_]*\)", "tokens": \([0-9]*\), "erased": \([0-9]*\).*/\1 \2 \3/p' |
		    { read -r reason typed erased
		      printf '%-24s seed %d  %-11s typed %3d  erased %3d\n' "$p" "$seed" \
		          "$reason" "$typed" "$erased"; }
	done
done
