#!/usr/bin/env python3
"""load-bench.py: start-up time and peak memory of `seqmatch generate` on a
GPT-2 124M-shaped model, the mapping loader against the copying one, side by
side in one run.

usage: python3 tests/bench/load-bench.py [--old OLD_SEQMATCH] [--runs N] [--dir DIR]

Writes DIR/bench-124m-v2.bin (format version 2: no ALGN, the parameters are
copied at load) and DIR/bench-124m-v3.bin (version 3: used in place from the
mapping): the tokenizer and record of data/model.bin, the GPT-2 124M shape
(L=12, NH=12, C=768, T=1024, 50304 rows of wte; the vocabulary is the small
tokenizer's, the rest of the rows padding) and random N(0, 0.02) weights. The
format is the one engine/checkpoint.h describes. Then, after one untimed run
of each to warm the page cache, runs each case N times (interleaved):

  copy    $SEQMATCH generate on the version 2 file (copied at load)
  map     $SEQMATCH generate on the version 3 file (mapped, CRCs checked at load)
  lazy    the same with --load lazy (the weights not read before the first token)
  old     OLD_SEQMATCH (a build of the loader before the mapping) on the
          version 2 file, if --old is given

and reports, per case, the median time from the start of the process to its
first generated token (the first "append" event of --json), the median wall
time of the whole run, and the peak resident memory (ru_maxrss of the child)
as a multiple of the parameter bytes.
"""
import argparse
import array
import fcntl
import os
import pty
import select
import signal
import random
import resource
import statistics
import struct
import subprocess
import sys
import termios
import time
import zlib

CFG = (1024, None, 50304, 12, 12, 768)  # T, V (from the tokenizer), Vp, L, NH, C


def read_sections(path):
    """The header fields and the sections of a seqmatch model file."""
    with open(path, "rb") as f:
        data = f.read()
    magic, version, nfields = struct.unpack_from("<8sII", data, 0)
    assert magic == b"SEQMATCH", path
    fields = struct.unpack_from("<6I", data, 16)
    off = 48
    secs = {}
    while True:
        tag = data[off:off + 4]
        (plen,) = struct.unpack_from("<Q", data, off + 4)
        secs[tag] = data[off + 12:off + 12 + plen]
        off += 12 + plen + 4
        if tag == b"END.":
            break
    return version, fields, secs


def num_params(T, Vp, L, C):
    return Vp * C + T * C + L * (2 * C + 3 * C * C + 3 * C + C * C + C + 2 * C
                                 + 4 * C * C + 4 * C + 4 * C * C + C) + 2 * C


def write_model(path, version, tokn, recd, cfg, block):
    """A version 2 or 3 file with parameters from repeating block (bytes)."""
    T, V, Vp, L, NH, C = cfg
    n = num_params(T, Vp, L, C)
    pbytes = 4 * n
    out = open(path + ".tmp", "wb")
    crc_file = 0

    def put(b):
        nonlocal crc_file
        out.write(b)
        crc_file = zlib.crc32(b, crc_file)

    def section(tag, payload_chunks, plen):
        put(tag + struct.pack("<Q", plen))
        crc = 0
        for chunk in payload_chunks:
            crc = zlib.crc32(chunk, crc)
            put(chunk)
        put(struct.pack("<I", crc))

    put(b"SEQMATCH" + struct.pack("<II6IQ", version, 6, T, V, Vp, L, NH, C, n))
    section(b"TOKN", [tokn], len(tokn))
    section(b"RECD", [recd], len(recd))
    if version >= 3:
        pos = out.tell() + 16 + 12
        alen = (4096 - pos % 4096) % 4096
        section(b"ALGN", [bytes(alen)], alen)
        assert (out.tell() + 12) % 4096 == 0

    def parm():
        left = pbytes
        while left > 0:
            chunk = block[:left]
            left -= len(chunk)
            yield chunk
    section(b"PARM", parm(), pbytes)
    end_crc = crc_file
    out.write(b"END." + struct.pack("<Q", 4))
    out.write(struct.pack("<I", end_crc))
    out.write(struct.pack("<I", zlib.crc32(struct.pack("<I", end_crc))))
    out.close()
    os.rename(path + ".tmp", path)
    return n


def run_once(argv):
    """(seconds to the first append event, wall seconds, peak RSS bytes)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = None
    for line in p.stdout:
        if first is None and b'"event": "append"' in line:
            first = time.monotonic() - t0
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = status
    if status != 0 or first is None:
        sys.exit("failed: %s\n%s" % (" ".join(argv), err.decode(errors="replace")))
    return first, wall, ru.ru_maxrss * 1024


def run_ui(argv, prompt, seconds):
    """`seqmatch ui` on a 120x40 pseudo-terminal: (seconds to the first frame
    with the status line, peak RSS bytes) after typing prompt, Enter, and
    letting it generate for `seconds`, then quitting with Ctrl-Q."""
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.execvp(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    os.kill(pid, signal.SIGWINCH)
    seen, first, typed, quit_at = b"", None, None, None
    while True:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            if first is None:
                seen = (seen + chunk)[-4096:]
                if b"seed " in seen:
                    first = time.monotonic() - t0
        now = time.monotonic()
        if first is not None and typed is None:
            os.write(fd, prompt.encode() + b"\r")
            typed = now
        if typed is not None and quit_at is None and now - typed > seconds:
            os.write(fd, b"\x11")
            quit_at = now
        if quit_at is not None and now - quit_at > 10:
            os.kill(pid, signal.SIGTERM)
        if now - t0 > seconds + 120:
            os.kill(pid, signal.SIGKILL)
    _, status, ru = os.wait4(pid, 0)
    os.close(fd)
    return first, ru.ru_maxrss * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", help="a seqmatch built without the mapping loader")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default=os.environ.get("TMPDIR", "/tmp"))
    ap.add_argument("--tokens", type=int, default=4)
    ap.add_argument("--ui", type=float, default=0,
                    help="also run the UI in compare mode for this many seconds")
    a = ap.parse_args()
    srcdir = os.environ.get("SRCDIR", ".")
    seqmatch = os.environ.get("SEQMATCH", "build/seqmatch")
    _, fields, secs = read_sections(os.path.join(srcdir, "data/model.bin"))
    cfg = list(CFG)
    cfg[1] = fields[1]
    cfg = tuple(cfg)
    rnd = random.Random(5)
    block = array.array("f", (rnd.gauss(0, 0.02) for _ in range(1 << 18))).tobytes()
    os.makedirs(a.dir, exist_ok=True)
    v2 = os.path.join(a.dir, "bench-124m-v2.bin")
    v3 = os.path.join(a.dir, "bench-124m-v3.bin")
    n = 0
    for path, version in ((v2, 2), (v3, 3)):
        if not os.path.exists(path):
            n = write_model(path, version, secs[b"TOKN"], secs.get(b"RECD", b""), cfg, block)
    n = num_params(cfg[0], cfg[2], cfg[3], cfg[5])
    pbytes = 4 * n
    gen = ["generate", "--prompt", "Once upon a time", "--max-tokens", str(a.tokens),
           "--seed", "1", "--json"]
    cases = [("copy", [seqmatch] + gen + ["--model", v2]),
             ("map", [seqmatch] + gen + ["--model", v3]),
             ("lazy", [seqmatch] + gen + ["--load", "lazy", "--model", v3])]
    if a.old:
        cases.append(("old", [a.old] + gen + ["--model", v2]))
    for _, argv in cases:  # warm the page cache
        run_once(argv)
    res = {name: [] for name, _ in cases}
    for _ in range(a.runs):
        for name, argv in cases:
            res[name].append(run_once(argv))
    print("parameters: %d (%d bytes); load average: %s" %
          (n, pbytes, " ".join("%.2f" % x for x in os.getloadavg())))
    print("%-5s %22s %12s %14s" % ("case", "start to first token", "wall", "peak RSS"))
    for name, _ in cases:
        r = res[name]
        first = statistics.median(x[0] for x in r)
        wall = statistics.median(x[1] for x in r)
        rss = max(x[2] for x in r)
        print("%-5s %20.3f s %10.3f s %8.0f MiB = %.2fx parameters" %
              (name, first, wall, rss / 2**20, rss / pbytes))
    if a.ui > 0:
        # Compare mode: model B is a second file (a copy: its own pages).
        v3b = os.path.join(a.dir, "bench-124m-v3b.bin")
        if not os.path.exists(v3b):
            write_model(v3b, 3, secs[b"TOKN"], secs.get(b"RECD", b""), cfg, block[4:] + block[:4])
        uis = [("ui compare, 2 x 124M", [seqmatch, "ui", "--model", v3, "--compare", v3b], 2)]
        if a.old:
            uis.append(("old ui compare, 2 x 124M", [a.old, "ui", "--model", v2, "--compare", v2], 2))
        small = os.path.join(srcdir, "data/model.bin")
        uis.append(("ui, data/model.bin", [seqmatch, "ui", "--model", small], 0))
        if a.old:
            uis.append(("old ui, data/model.bin", [a.old, "ui", "--model", small], 0))
        for name, argv, nmodels in uis:
            firsts, rss = [], 0
            for _ in range(a.runs if nmodels == 0 else 1):
                f, r = run_ui(argv, "Once upon a time", a.ui)
                firsts.append(f if f is not None else float("nan"))
                rss = max(rss, r)
            line = "%-26s first frame %.3f s, peak RSS %.0f MiB" % (
                name, statistics.median(firsts), rss / 2**20)
            if nmodels:
                line += " = %.2fx one model's parameters" % (rss / pbytes)
            print(line)


if __name__ == "__main__":
    main()
