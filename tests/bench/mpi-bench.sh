#!/bin/sh
# mpi-bench.sh: data-parallel scaling on this machine (a build configured
# --with-mpi). Prints JSON lines and a summary:
#   1. the step time of `train` (preset small, global batch 16 x 128 tokens)
#      with 1 and with 2 processes of one thread each, and their ratio, from
#      the same run of this script (median over steps 4..N);
#   2. the time of one in-place MPI_Allreduce of GPT-2 124M's gradient block
#      (124,439,808 float32) between 2 processes (tests/bench/allreduce-bench);
#   3. with --124m, the step time of GPT-2 124M itself (a zero-weight model in
#      llm.c's format with GPT-2's tokenizer, `finetune --method mle`, global
#      batch 2 x 64 tokens, one process, one thread) and the projected
#      step time and speed-up at 2, 8 and 64 ranks for a global batch of
#      64 x 64 tokens (32 times the measured step's compute):
#         step(N) = compute / N + allreduce(N),
#         allreduce(N) = 2 (N-1)/N * bytes / busbw + 2 (N-1) * latency
#      (a ring allreduce: each rank sends and receives 2 (N-1)/N of the
#      block in 2 (N-1) steps), with busbw and latency measured in (2) and,
#      for several machines, an assumed network's.
#
# usage: tests/bench/mpi-bench.sh [--124m] [BUILD_DIR]   (default build)
set -eu
big=0
if [ "${1:-}" = --124m ]; then
	big=1
	shift
fi
build=${1:-build}
src=$(cd "$(dirname "$0")/../.." && pwd)
S=$(cd "$build" && pwd)/seqmatch
make -C "$build" tests/bench/allreduce-bench >/dev/null
AR=$(cd "$build" && pwd)/tests/bench/allreduce-bench
if "$S" --version | grep -q '^MPI: no'; then
	echo "mpi-bench.sh: $S was built without MPI (configure --with-mpi)" >&2
	exit 1
fi
OMPI_ALLOW_RUN_AS_ROOT=1
OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM OPENBLAS_NUM_THREADS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mpi-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average:$(uptime | sed 's/.*average://')"
"$S" --version | sed 's/^/# /'

head -c 2000000 "$src/data/corpus.txt" >"$tmp/corpus.txt"
args="train --corpus $tmp/corpus.txt --preset small --vocab-size 1024 --batch-size 16 \
    --seq-len 128 --steps 14 --eval-every 0 --eval-batches 1 --json --seed 1"
"$S" --threads 1 $args --out "$tmp/one.bin" >"$tmp/one.json" 2>/dev/null
mpirun -np 2 --oversubscribe "$S" --threads 1 $args --out "$tmp/two.bin" \
    >"$tmp/two.json" 2>/dev/null
mpirun -np 2 --oversubscribe "$AR" 124439808 3 >"$tmp/ar.json"
cat "$tmp/ar.json"

if [ "$big" = 1 ]; then
	# GPT-2 124M's shapes (T=1024, V=50257, L=12, NH=12, C=768, Vp=50304), zero weights.
	python3 - "$tmp/gpt2.bin" <<'PY'
import struct, sys
T, V, L, NH, C, Vp = 1024, 50257, 12, 12, 768, 50304
n = Vp*C + T*C + L*(2*C + 3*C*C + 3*C + C*C + C + 2*C + 4*C*C + 4*C + 4*C*C + C) + 2*C
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<8i', 20240326, 3, T, V, L, NH, C, Vp) + bytes(4 * 248))
    f.write(bytes(4 * n))
PY
	"$S" import --llmc "$tmp/gpt2.bin" --llmc-tokenizer "$src/tests/data/gpt2-tokenizer.bin" \
	    --out "$tmp/gpt2m.bin" 2>/dev/null
	head -c 200000 "$src/data/corpus.txt" >"$tmp/small.txt"
	"$S" --threads 1 finetune --model "$tmp/gpt2m.bin" --corpus "$tmp/small.txt" \
	    --method mle --batch-size 2 --prompt-tokens 1 --window 63 --steps 4 \
	    --eval-every 0 --eval-batches 1 --json --out "$tmp/ft.bin" >"$tmp/big.json" 2>/dev/null
fi

python3 - "$tmp/one.json" "$tmp/two.json" "$tmp/ar.json" "$tmp/big.json" "$big" <<'PY'
import json, os, statistics, sys
one, two, ar, big, has_big = sys.argv[1:6]
def steps(p, key):
    rows = [json.loads(l) for l in open(p) if l.startswith('{')]
    return [r for r in rows if r['step'] >= 4]
BT = 16 * 128
t1 = statistics.median(BT / r['tokens_per_s'] for r in steps(one, 0))
r2 = steps(two, 0)
t2 = statistics.median(BT / r['tokens_per_s'] for r in r2)
c2 = statistics.median(r['comm_s'] for r in r2)
a = json.loads(open(ar).read())
print(json.dumps({"bench": "train_small_step", "step_s_1proc": round(t1, 4),
                  "step_s_2proc": round(t2, 4), "speedup": round(t1 / t2, 3),
                  "comm_s_2proc": round(c2, 4)}))
print('# small model (B=16, T=128): step %.3f s on 1 process, %.3f s on 2 '
      '(speed-up %.2fx; %.3f s of it in the allreduce)' % (t1, t2, t1 / t2, c2))
print('# 124M gradient block (%.0f MB) allreduce between 2 processes: %.3f s '
      '(busbw %.3f GB/s), latency %.1f us'
      % (a['bytes'] / 1e6, a['seconds_median'], a['busbw_GBps'], a['latency_us']))
if has_big == '1':
    rows = [json.loads(l) for l in open(big) if l.startswith('{')]
    comp = statistics.median(r['step_seconds'] for r in rows[1:])
    print(json.dumps({"bench": "gpt2_124m_step", "batch": "2x64", "step_s_1proc": round(comp, 3)}))
    lat = a['latency_us'] * 1e-6
    # A global batch of 64 sequences of 64 tokens: 32 times the measured step's
    # (the replicated AdamW update is counted in it as if it shrank too).
    comp64 = 32 * comp
    for name, bw in (('measured here (shared memory)', a['busbw_GBps']),
                     ('10 Gb/s Ethernet (assumed 1.1 GB/s)', 1.1),
                     ('100 Gb/s InfiniBand (assumed 11 GB/s)', 11.0)):
        for N in (2, 8, 64):
            comm = 2 * (N - 1) / N * a['bytes'] / (bw * 1e9) + 2 * (N - 1) * lat
            step = comp64 / N + comm
            print('# %s, N=%d: allreduce %.3f s, step (64x64 tokens) %.2f s, '
                  'speed-up %.1fx over one process (%.1f s)'
                  % (name, N, comm, step, comp64 / step, comp64))
PY
