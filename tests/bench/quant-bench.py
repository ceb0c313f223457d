#!/usr/bin/env python3
"""quant-bench.py: file sizes and start-up of stored weight formats
(`seqmatch quantize`) on a GPT-2 124M-shaped model.

usage: SEQMATCH=build/seqmatch SRCDIR=. python3 tests/bench/quant-bench.py [--runs N] [--dir DIR]

Writes DIR/bench-124m-v3.bin as tests/bench/load-bench.py does (random
N(0, 0.02) weights, data/model.bin's tokenizer), quantizes it to bf16 and q8
with `seqmatch quantize` (timed), prints the three files' sizes, then, after
one untimed run of each to warm the page cache, runs N times interleaved
`generate --max-tokens 4 --json` with each format converted at load from the
fp32 file (--weights) and read as stored, and reports the median time from
the start of the process to the first generated token and the peak resident
memory.
"""
import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default=os.environ.get("TMPDIR", "/tmp"))
    a = ap.parse_args()
    srcdir = os.environ.get("SRCDIR", ".")
    seqmatch = os.environ.get("SEQMATCH", "build/seqmatch")
    spec = importlib.util.spec_from_file_location(
        "load_bench", os.path.join(srcdir, "tests/bench/load-bench.py"))
    lb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lb)

    import array
    import random
    _, fields, secs = lb.read_sections(os.path.join(srcdir, "data/model.bin"))
    cfg = list(lb.CFG)
    cfg[1] = fields[1]
    rnd = random.Random(5)
    block = array.array("f", (rnd.gauss(0, 0.02) for _ in range(1 << 18))).tobytes()
    os.makedirs(a.dir, exist_ok=True)
    fp32 = os.path.join(a.dir, "bench-124m-v3.bin")
    if not os.path.exists(fp32):
        lb.write_model(fp32, 3, secs[b"TOKN"], secs.get(b"RECD", b""), tuple(cfg), block)
    files = {"fp32": fp32}
    for f in ("bf16", "q8"):
        files[f] = os.path.join(a.dir, "bench-124m-%s.bin" % f)
        t0 = time.monotonic()
        subprocess.run([seqmatch, "quantize", "--model", fp32, "--out", files[f],
                        "--weights", f], check=True, stderr=subprocess.DEVNULL)
        print("quantize --weights %-4s %.2f s" % (f, time.monotonic() - t0))
    for f, path in files.items():
        print("%-4s %12d bytes  %5.1f%% of fp32" %
              (f, os.path.getsize(path), 100.0 * os.path.getsize(path) / os.path.getsize(fp32)))
    gen = [seqmatch, "generate", "--prompt", "Once upon a time", "--max-tokens", "4",
           "--seed", "1", "--json"]
    cases = [("fp32", gen + ["--model", fp32])]
    for f in ("bf16", "q8"):
        cases.append(("%s converted at load" % f, gen + ["--model", fp32, "--weights", f]))
        cases.append(("%s stored" % f, gen + ["--model", files[f]]))
    for _, argv in cases:
        lb.run_once(argv)
    res = {name: [] for name, _ in cases}
    for _ in range(a.runs):
        for name, argv in cases:
            res[name].append(lb.run_once(argv))
    print("load average: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    print("%-22s %22s %12s" % ("case", "start to first token", "peak RSS"))
    for name, _ in cases:
        r = res[name]
        print("%-22s %20.3f s %8.0f MiB" % (name, statistics.median(x[0] for x in r),
                                             max(x[2] for x in r) / 2**20))
    return 0


if __name__ == "__main__":
    sys.exit(main())
