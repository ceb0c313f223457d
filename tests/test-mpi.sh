#!/bin/sh
# test-mpi.sh: data-parallel runs under Open MPI's mpirun (TAP; run by
# `make check` only in a build configured --with-mpi).
#
# Two processes on this machine (--oversubscribe, one thread each) must take
# the same steps as one process with the same global batch: the loss of every
# step and the weights at the end agree within float32 summation-order
# tolerance (TOL below, relative: the two runs add the same terms in another
# order, a few ulps per step, which AdamW's normalised update carries into
# the weights; 6 steps measured 6e-6 here, while a step that missed a rank's
# share would move weights by about the learning rate, 1e-3). Checked for
# `train` with a batch that splits evenly and one that does not (5 = 2 + 3), for a SequenceMatch `finetune` whose steps
# use the replay buffer (generated in parallel, the same samples as one
# process draws) and an MLE one, and for `eval` (the same report). A rank
# given a corpus that does not exist ends the whole job with its message and
# exit 1, within a deadline (no hang).
#
# Every mpirun runs under `timeout`, so a hang fails instead of hanging.

: "${SEQMATCH:?set SEQMATCH to the seqmatch binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"

n=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seqmatch-mpi.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
unset SEQMATCH_MODEL SEQMATCH_REEXEC SEQMATCH_GENERIC_CORE
HOME=$tmp/home
XDG_DATA_HOME=$tmp/home/.local/share
XDG_STATE_HOME=$tmp/home/.local/state
export HOME XDG_DATA_HOME XDG_STATE_HOME
mkdir -p "$HOME"
# Open MPI refuses to start as root (CI runs as root) without these; one BLAS
# thread per process; no single-copy shared-memory transfers (containers often
# forbid the ptrace-based one).
OMPI_ALLOW_RUN_AS_ROOT=1
OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
OMPI_MCA_btl_vader_single_copy_mechanism=none
OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM \
    OMPI_MCA_btl_vader_single_copy_mechanism OPENBLAS_NUM_THREADS
DEADLINE=300
TOL=5e-5

. "${SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
STDERR_LINES=12

if ! command -v mpirun >/dev/null 2>&1 || ! command -v timeout >/dev/null 2>&1 ||
    ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP mpirun, timeout and python3 are needed"
	exit 0
fi
if "$SEQMATCH" --version | grep -q '^MPI: no'; then
	echo "1..0 # SKIP seqmatch was built without MPI"
	exit 0
fi

# One process: seqmatch ARGS; status in $status, stdout in $tmp/out.
run1() {
	timeout "$DEADLINE" "$SEQMATCH" --threads 1 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
}

# Two processes under mpirun.
run2() {
	timeout "$DEADLINE" mpirun -np 2 --oversubscribe "$SEQMATCH" --threads 1 "$@" \
	    >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
}

# Compare the "loss" (and "val_loss") fields of two JSON-lines files and the
# float32 weights of two models (exported to llm.c's format); prints the
# largest differences, exits 1 beyond TOL (relative to max(1, |value|)).
compare() {
	"$SEQMATCH" -q export --model "$3" --llmc "$tmp/w1.bin" --llmc-tokenizer "$tmp/t1.bin" &&
	"$SEQMATCH" -q export --model "$4" --llmc "$tmp/w2.bin" --llmc-tokenizer "$tmp/t2.bin" &&
	python3 - "$1" "$2" "$tmp/w1.bin" "$tmp/w2.bin" "$TOL" <<'PY'
import array, json, sys
a, b, wa, wb, tol = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
def rows(p):
    return [json.loads(l) for l in open(p) if l.startswith('{')]
ra, rb = rows(a), rows(b)
if len(ra) != len(rb) or not ra:
    print('# %d and %d JSON lines' % (len(ra), len(rb))); sys.exit(1)
worst = 0.0
for x, y in zip(ra, rb):
    for k in ('loss', 'val_loss'):
        if k in x or k in y:
            d = abs(x[k] - y[k]) / max(1.0, abs(x[k]))
            worst = max(worst, d)
def floats(p):
    w = array.array('f'); w.frombytes(open(p, 'rb').read()[1024:]); return w
fa, fb = floats(wa), floats(wb)
if len(fa) != len(fb):
    print('# weights of different sizes'); sys.exit(1)
wd = max(abs(x - y) / max(1.0, abs(x)) for x, y in zip(fa, fb))
moved = max(abs(x) for x in fa)
print('# %d steps: largest loss difference %.3g, weight difference %.3g (tolerance %g)'
      % (len(ra), worst, wd, tol))
sys.exit(0 if worst <= tol and wd <= tol and moved > 0 else 1)
PY
}

head -c 400000 "$SRCDIR/data/corpus.txt" >"$tmp/corpus.txt"
train_args="--corpus $tmp/corpus.txt --preset tiny --vocab-size 300 --seq-len 32 \
    --steps 6 --warmup 2 --eval-every 3 --eval-batches 4 --json --seed 5"

for B in 4 5; do
	what="train -np 2, batch $B: the losses and weights of one process"
	run1 train $train_args --batch-size "$B" --out "$tmp/one$B.bin"
	cp "$tmp/out" "$tmp/one$B.json"
	if [ "$status" -ne 0 ]; then
		fail "$what" "one process: exit $status"
		continue
	fi
	run2 train $train_args --batch-size "$B" --out "$tmp/two$B.bin"
	cp "$tmp/out" "$tmp/two$B.json"
	if [ "$status" -ne 0 ]; then
		fail "$what" "mpirun: exit $status"
	elif [ ! -f "$tmp/two$B.bin.opt" ] || [ ! -f "$tmp/two$B-best.bin" ]; then
		fail "$what" "rank 0 did not write the checkpoint, its .opt and the best one"
	elif ! grep -q '"processes": 2' "$tmp/two$B.json"; then
		fail "$what" "the JSON lines do not say 2 processes"
	elif [ "$(grep -c '^{' "$tmp/two$B.json")" -ne 6 ]; then
		fail "$what" "not one JSON line per step (rank 0 alone reports)"
	elif compare "$tmp/one$B.json" "$tmp/two$B.json" "$tmp/one$B.bin" "$tmp/two$B.bin" \
	    >"$tmp/cmp" 2>&1; then
		pass "$what ($(tail -n 1 "$tmp/cmp" | sed 's/^# //'))"
	else
		fail "$what" "$(cat "$tmp/cmp")"
	fi
done

# A resumed run continues the same way under mpirun (the moments from .opt).
run2 train $train_args --batch-size 4 --steps 8 --resume --out "$tmp/two4.bin"
if [ "$status" -eq 0 ] && [ "$(grep -c '^{' "$tmp/out")" -eq 2 ]; then
	pass "train --resume under mpirun goes on from step 6"
else
	fail "train --resume under mpirun goes on from step 6" "exit $status"
fi

# SequenceMatch: BC for one step, then three steps whose batch adds three
# replay samples to five data trajectories (8 = 4 + 4 over the ranks: rank 1
# holds data and model trajectories); the one sampling round (at step 2,
# before any weights differ) is shared out and gathered, so the replay
# samples are the single process's. And plain MLE fine-tuning, 5 = 2 + 3.
ft_args="--model $tmp/one4.bin --corpus $tmp/corpus.txt --prompt-tokens 4 --window 12 \
    --steps 4 --warmup 1 --eval-every 2 --eval-batches 3 --json --seed 3"
for method in sm mle; do
	what="finetune --method $method -np 2: the losses and weights of one process"
	extra=
	[ "$method" = sm ] && extra="--bc-warmup 1 --model-batch 3 --sample-every 100 \
	    --samples-per-round 5 --p-noise 0.2"
	run1 finetune $ft_args --method "$method" --batch-size 5 $extra --out "$tmp/ft1.bin"
	cp "$tmp/out" "$tmp/ft1.json"
	if [ "$status" -ne 0 ]; then
		fail "$what" "one process: exit $status"
		continue
	fi
	run2 finetune $ft_args --method "$method" --batch-size 5 $extra --out "$tmp/ft2.bin"
	cp "$tmp/out" "$tmp/ft2.json"
	if [ "$status" -ne 0 ]; then
		fail "$what" "mpirun: exit $status"
	elif [ "$method" = sm ] && ! grep -q '"sampled": true' "$tmp/ft2.json"; then
		fail "$what" "no sampling round"
	elif compare "$tmp/ft1.json" "$tmp/ft2.json" "$tmp/ft1.bin" "$tmp/ft2.bin" \
	    >"$tmp/cmp" 2>&1; then
		pass "$what ($(tail -n 1 "$tmp/cmp" | sed 's/^# //'))"
	else
		fail "$what" "$(cat "$tmp/cmp")"
	fi
done

# eval: each rank generates and featurizes its share of the prompts, rank 0
# gathers the features for MAUVE: the same report as one process (times
# aside; the summed log-probabilities within 1e-9).
what="eval -np 2: the report of one process"
eval_args="eval --model $SRCDIR/data/model.bin --corpus $SRCDIR/data/heldout.txt \
    --samples 15 --gen-seeds 2 --mauve-seeds 2 --max-tokens 24 --seed 4 --json"
run1 $eval_args
cp "$tmp/out" "$tmp/e1.json"
run2 $eval_args
cp "$tmp/out" "$tmp/e2.json"
if [ "$status" -ne 0 ]; then
	fail "$what" "mpirun: exit $status"
elif python3 - "$tmp/e1.json" "$tmp/e2.json" >"$tmp/cmp" 2>&1 <<'PY'; then
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad, n = [], [0]
def walk(x, y, path):
    if isinstance(x, dict):
        if set(x) != set(y):
            bad.append(path + ': other keys')
        for k in x:
            if k in y:
                walk(x[k], y[k], path + '.' + k)
    elif isinstance(x, list):
        if len(x) != len(y):
            bad.append(path + ': other length')
        for i, (p, q) in enumerate(zip(x, y)):
            walk(p, q, '%s[%d]' % (path, i))
    elif any(w in path for w in ('second', 'per_s', 'time')):
        pass
    elif 'logprob' in path and isinstance(x, float):
        n[0] += 1
        if abs(x - y) > 1e-9:
            bad.append('%s: %r != %r' % (path, x, y))
    else:
        n[0] += 1
        if x != y:
            bad.append('%s: %r != %r' % (path, x, y))
walk(a, b, '')
print('# %d values compared%s' % (n[0], ''.join('\n# ' + m for m in bad[:5])))
sys.exit(1 if bad or 'mauve' not in json.dumps(b) else 0)
PY
	pass "$what ($(head -n 1 "$tmp/cmp" | sed 's/^# //'))"
else
	fail "$what" "$(cat "$tmp/cmp")"
fi

# A bad corpus on rank 1 only: the job ends with rank 1's message and exit 1.
what="a rank that fails ends the job: exit 1 with its message, no hang"
timeout "$DEADLINE" mpirun --oversubscribe -np 1 "$SEQMATCH" --threads 1 train $train_args \
    --batch-size 4 --out "$tmp/bad.bin" : -np 1 "$SEQMATCH" --threads 1 train \
    $train_args --batch-size 4 --out "$tmp/bad.bin" --corpus "$tmp/missing.txt" \
    >"$tmp/out" 2>"$tmp/err" </dev/null
status=$?
if [ "$status" -eq 124 ]; then
	fail "$what" "still running after ${DEADLINE}s"
elif [ "$status" -ne 1 ]; then
	fail "$what" "exit $status, expected 1"
elif ! grep -q "rank 1: .*missing.txt: No such file" "$tmp/err"; then
	fail "$what" "stderr does not give rank 1's message"
else
	pass "$what: $(grep "rank 1:" "$tmp/err" | head -n 1)"
fi

printf '1..%d\n' "$n"
[ "$failed" -eq 0 ]
