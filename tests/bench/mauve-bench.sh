#!/bin/sh
# mauve-bench.sh: time `seqmatch mauve --json` on two random 5000 x 768 float32
# feature matrices (the size of a full MAUVE run: 5000 texts a side, GPT-2
# small's width) and print the time of each stage (PCA, k-means, scores).
#
# usage: tests/bench/mauve-bench.sh [N] [D] [MODE]
#   N, D   rows per side and width (default 5000 and 768)
#   MODE   gauss: isotropic Gaussian rows (no structure at all: PCA keeps most
#          dimensions and k-means converges slowly, the worst case);
#          clusters: rows around 50 random centres with Gaussian noise, closer
#          to real text features (default gauss)
# Environment: SEQMATCH (default ./seqmatch), SEQMATCH_BENCH_ARGS (extra
# options for `seqmatch mauve`, after it; the thread count is the global
# option, e.g. SEQMATCH="./seqmatch --threads 1"), KEEP=1 (keep the temporary
# directory with the .npy files).
# Only python3's standard library is needed to write the .npy files. Not run
# by `make check`.

set -eu
N=${1:-5000}
D=${2:-768}
MODE=${3:-gauss}
SEQMATCH=${SEQMATCH:-./seqmatch}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mauve-bench.XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT INT TERM

# Write P and Q (float32, C order, version 1.0 header), different seeds.
python3 - "$tmp" "$N" "$D" "$MODE" <<'PY'
import array, random, struct, sys
out, n, d, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]

def write(path, rows):
    head = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }" % (n, d)
    pad = 64 - (10 + len(head) + 1) % 64
    head = head + " " * (pad % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head.encode())
        if sys.byteorder != "little":
            rows.byteswap()
        rows.tofile(f)

centres_rng = random.Random(1)
centres = [[centres_rng.gauss(0, 1) for _ in range(d)] for _ in range(50)]
for name, seed in (("p", 2), ("q", 3)):
    rng = random.Random(seed)
    g = rng.gauss
    rows = array.array("f")
    for i in range(n):
        if mode == "clusters":
            c = centres[rng.randrange(50)]
            rows.extend([c[j] + 0.7 * g(0, 1) for j in range(d)])
        else:
            rows.extend([g(0, 1) for _ in range(d)])
    write("%s/%s.npy" % (out, name), rows)
PY

echo "mauve-bench: $N x $N rows of width $D ($MODE), $SEQMATCH"
start=$(date +%s.%N)
# shellcheck disable=SC2086
$SEQMATCH mauve "$tmp/p.npy" "$tmp/q.npy" --json ${SEQMATCH_BENCH_ARGS:-} >"$tmp/out.json"
end=$(date +%s.%N)
python3 - "$tmp/out.json" "$start" "$end" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["timings"]
print("mauve %.6f  num_buckets %d  pca_dims %d" % (r["mauve"], r["num_buckets"], r["pca_dims"]))
print("stage seconds: pca %.3f  kmeans %.3f  scores %.4f  (sum %.3f)" %
      (t["pca"], t["kmeans"], t["scores"], t["pca"] + t["kmeans"] + t["scores"]))
print("wall clock with .npy reading: %.3f s" % (float(sys.argv[3]) - float(sys.argv[2])))
PY
