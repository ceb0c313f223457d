#!/bin/sh
# test-crash.sh: crash safety of the saves (TAP). `seqmatch train` and
# `seqmatch finetune` on a tiny model save every step (--save-every 1); each
# run is killed with SIGKILL at a random moment, CRASH_KILLS times per command
# (default 30), so that kills land in every part of a save: the model written,
# the optimizer file not yet, the kept pair linked, renamed, unlinked. Every
# few kills a fresh run (a new run id) starts over the same files. After every
# kill:
#   - the model file loads (`seqmatch tokenize --model M x` exits 0);
#   - `--resume` loads a pair from the same save (engine/checkpoint.h:
#     checkpoint_save_pair keeps the previous pair as M.prev and M.opt.prev
#     until both new files are written; checkpoint_load_pair refuses a pair
#     whose step or run id disagree and falls back to the kept one): asked
#     for fewer steps than done, it says how many it has done (exit 2), and
#     asked for one more step, it takes it and saves (exit 0).
# The random delays come from a fixed seed (CRASH_SEED), so a failing run can
# be repeated. Bounded: about 20 s on an idle machine; on a slow one (a
# sanitizer build, a loaded machine) each command stops after CRASH_SECONDS
# (25) once it has made 10 kills.
#
# Run by `make check` with SEQMATCH (the binary) set.

: "${SEQMATCH:?set SEQMATCH to the seqmatch binary}"

kills=${CRASH_KILLS:-30}
budget=${CRASH_SECONDS:-25} # per command; at least 10 kills are made whatever it takes
seed=${CRASH_SEED:-12345}
n=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seqmatch-crash.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

if command -v timeout >/dev/null 2>&1; then
	TIMEOUT="timeout 120"
else
	TIMEOUT=
fi

unset SEQMATCH_MODEL SEQMATCH_REEXEC SEQMATCH_GENERIC_CORE
HOME=$tmp/home
XDG_DATA_HOME=$tmp/home/.local/share
export HOME XDG_DATA_HOME
mkdir -p "$HOME"

. "${SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# Run seqmatch to completion; sets $status, output in $tmp/out, $tmp/err.
run() {
	$TIMEOUT "$SEQMATCH" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
}

# The next pseudo-random delay into $ms, 5 to 250 (a linear congruential generator).
delay() {
	seed=$(((seed * 1103515245 + 12345) % 2147483648))
	ms=$((5 + (seed / 65536) % 246))
}

# Start seqmatch in the background, kill it after a random delay, wait for it.
# Sets $status (137 when the kill landed).
kill_run() {
	"$SEQMATCH" "$@" >/dev/null 2>"$tmp/killed-err" </dev/null &
	pid=$!
	delay
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	status=$?
}

# check_pair WHAT OUT ARGS...: after a kill, the model at OUT loads and
# `seqmatch ARGS --resume` continues from a consistent pair.
# Returns 1 (after a failure report) when something is wrong.
check_pair() {
	cwhat=$1
	cout=$2
	shift 2
	run tokenize --model "$cout" x
	if [ "$status" -ne 0 ]; then
		fail "$cwhat: the model loads after the kill" "tokenize exited $status"
		return 1
	fi
	run "$@" --resume --steps 1
	if grep -q 'cut short' "$tmp/err"; then
		cut=$((cut + 1))
	fi
	done=$(sed -n 's/.* has already done \([0-9][0-9]*\) steps.*/\1/p' "$tmp/err")
	if [ "$status" -ne 2 ] || [ -z "$done" ]; then
		fail "$cwhat: --resume loads a pair after the kill" "exited $status"
		return 1
	fi
	run "$@" --resume --steps $((done + 1))
	if [ "$status" -ne 0 ]; then
		fail "$cwhat: --resume takes one more step from step $done" "exited $status"
		return 1
	fi
	if grep -Eq 'Sanitizer|runtime error:' "$tmp/err" "$tmp/killed-err"; then
		fail "$cwhat: no sanitizer report" "see stderr"
		return 1
	fi
	return 0
}

# crash_loop WHAT OUT FRESH_ARGS...: kill a fresh run and then resumed ones
# $kills times, checking the pair after each kill; one TAP line.
crash_loop() {
	what=$1
	out=$2
	shift 2
	i=0
	landed=0
	cut=0
	seen=0
	start=$(date +%s)
	while [ "$i" -lt "$kills" ]; do
		i=$((i + 1))
		# Every sixth run starts a new run (a new run id) over the old files;
		# so do the runs before the first save that got through.
		if [ $((i % 6)) -eq 1 ] || [ "$seen" -eq 0 ]; then
			kill_run "$@" --steps 1000000
		else
			kill_run "$@" --steps 1000000 --resume
		fi
		if [ "$status" -eq 137 ]; then
			landed=$((landed + 1))
		elif [ "$status" -ne 0 ]; then
			cp "$tmp/killed-err" "$tmp/err"
			fail "$what: run $i exited $status before the kill" "status $status"
			return
		fi
		# A kill before the very first save got through leaves nothing to
		# resume (a model without its .opt, or nothing; there is no older
		# pair to keep), though a model there must load; once a pair is
		# there, it must stay.
		if [ "$seen" -eq 0 ] && { [ ! -e "$out" ] || [ ! -e "$out.opt" ]; }; then
			if [ -e "$out" ]; then
				run tokenize --model "$out" x
				if [ "$status" -ne 0 ]; then
					fail "$what: a first model loads after the kill" "tokenize exited $status"
					return
				fi
				if [ ! -e "$out.opt" ]; then
					run "$@" --resume --steps 1
					if [ "$status" -ne 1 ] ||
					    ! grep -q 'start it again without --resume' "$tmp/err"; then
						fail "$what: --resume without a first .opt says to start again" \
						    "exited $status"
						return
					fi
				fi
			fi
			continue
		fi
		seen=1
		if ! check_pair "$what (kill $i after ${ms} ms)" "$out" "$@"; then
			return
		fi
		# The time bound: stop early (after enough kills) on a slow machine.
		if [ $(($(date +%s) - start)) -ge "$budget" ] && [ "$i" -ge 10 ]; then
			break
		fi
	done
	kills_done=$i
	if [ "$landed" -lt $((kills_done / 2)) ]; then
		fail "$what: $kills_done kills during saves" "only $landed of $kills_done kills landed"
		return
	fi
	pass "$what: $landed SIGKILLs in $(($(date +%s) - start)) s ($cut between a model and its optimizer file), the model loaded and --resume went on every time"
}

# A corpus and a tiny base model (a pair to start from).
i=0
while [ $i -lt 60 ]; do
	echo "The quick brown fox number $i jumps over the lazy dog."
	echo
	i=$((i + 1))
done >"$tmp/corpus.txt"
tiny="--layers 1 --heads 2 --channels 8 --context 32 --vocab-size 300"
run train --corpus "$tmp/corpus.txt" --out "$tmp/base.bin" $tiny --steps 2 --batch-size 2 \
    --seq-len 8
if [ "$status" -ne 0 ]; then
	fail "a tiny base model" "train exited $status"
	echo "1..$n"
	exit 1
fi
pass "a tiny base model"

crash_loop "train" "$tmp/t.bin" train --corpus "$tmp/corpus.txt" --out "$tmp/t.bin" $tiny \
    --batch-size 2 --seq-len 8 --save-every 1 --eval-every 7 --eval-batches 1
crash_loop "finetune" "$tmp/f.bin" finetune --model "$tmp/base.bin" --corpus "$tmp/corpus.txt" \
    --out "$tmp/f.bin" --batch-size 2 --window 8 --prompt-tokens 4 --bc-warmup 2 \
    --sample-every 3 --samples-per-round 2 --save-every 1 --eval-every 7

echo "1..$n"
[ "$failed" -eq 0 ]
