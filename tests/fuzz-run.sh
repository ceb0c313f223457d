#!/bin/sh
# fuzz-run.sh SECONDS ENGINE_LIB: build the two fuzz targets (tests/fuzz-theme.c,
# tests/fuzz-config.c) with clang's libFuzzer, AddressSanitizer and UBSan, and
# run each for SECONDS from a small seed corpus (the shipped themes; a config
# and a transcript). A crash, a leak or a broken promise fails; the input that
# did it is left in the work directory, which is printed. ENGINE_LIB is a
# built engine/libseqmatch.a (the config target links the engine). Run from the
# source tree's top directory with a configured build's config.h on the
# include path (-I of the build directory, BUILD_DIR, default .).
set -eu
seconds=${1:?usage: tests/fuzz-run.sh SECONDS ENGINE_LIB}
engine=${2:?usage: tests/fuzz-run.sh SECONDS ENGINE_LIB}
build=${BUILD_DIR:-.}
CC=${FUZZ_CC:-clang}
work=$(mktemp -d "${TMPDIR:-/tmp}/seqmatch-fuzz.XXXXXX")
# paths.c names the installed data directory; the fuzzers never look there.
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -DPKGDATADIR=\"/nonexistent/seqmatch\""

$CC $flags -DFUZZ_THEME_NO_MAIN -I"$build" -Iapp -Iengine tests/fuzz-theme.c app/theme.c app/yml.c \
    "$engine" -lyaml -lopenblas -lm -lpthread -o "$work/fuzz-theme"
$CC $flags -DFUZZ_CONFIG_NO_MAIN -I"$build" -Iapp -Iengine tests/fuzz-config.c \
    app/log.c app/xmalloc.c app/conf.c app/transcript.c app/yml.c app/json.c app/paths.c "$engine" \
    -lyaml -lopenblas -lm -lpthread \
    -o "$work/fuzz-config"

mkdir "$work/corpus-theme" "$work/corpus-config"
cp themes/*.yaml "$work/corpus-theme/"
printf 'theme: gruvbox-dark\ncolors: 256\nmouse: false\nplot: block\ndecoding:\n  temperature: 0.7\n  top_k: 20\n' \
    >"$work/corpus-config/config.yaml"
printf '%s\n' '{"type": "header", "format": 2, "version": "0.1.0", "model": "m.bin", "model_hash": "0000000000000001", "weights_version": 0, "time": "2026-01-01T00:00:00+0000", "prompt": "ab", "n_prompt": 2, "params": {"temperature": 0.8, "seed": 7}, "seed": 7}' \
    '{"type": "append", "id": 99, "text": "c", "slot": 2, "prob": 0.5}' \
    '{"type": "erase", "id": 99, "text": "c", "slot": 2, "prob": 0.9}' \
    '{"type": "stop", "reason": "eot", "tokens": 1, "erased": 1, "length": 2, "seconds": 0.1}' \
    >"$work/corpus-config/session.jsonl"

status=0
for t in theme config; do
	echo "fuzz-run: fuzz-$t for $seconds s (work directory $work)"
	if ! (cd "$work" && ASAN_OPTIONS=detect_leaks=1 "./fuzz-$t" -max_total_time="$seconds" \
	    -max_len=4096 -print_final_stats=1 "corpus-$t" >"fuzz-$t.log" 2>&1); then
		tail -n 40 "$work/fuzz-$t.log"
		status=1
	else
		grep -E 'stat::number_of_executed_units|Done' "$work/fuzz-$t.log" || true
	fi
done
[ "$status" -eq 0 ] && rm -rf "$work"
exit "$status"
