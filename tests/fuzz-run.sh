#!/bin/sh
# fuzz-run.sh SECONDS ENGINE_LIB [TARGET...]: build the fuzz targets
# (tests/fuzz-*.c) with clang's libFuzzer, AddressSanitizer and UBSan, and run
# each for SECONDS from its seed corpus: the shipped themes for the theme
# loader, a config and a transcript written here for the config loader, and
# tests/fuzz-seeds/NAME/ for the others (checkpoint, tokenizer, llmc, corpus, npy,
# options, uistate). With TARGET names, only those. A crash, a leak or a
# broken promise fails; the input that did it is left in the work directory,
# which is printed. The engine's sources are compiled here with the same
# instrumentation (ENGINE_LIB, a built engine/libseqmatch.a, is kept in the
# arguments for the callers but no longer linked). Run from the source tree's
# top directory with a configured build's config.h on the include path (-I
# of the build directory, BUILD_DIR, default .).
set -eu
seconds=${1:?usage: tests/fuzz-run.sh SECONDS ENGINE_LIB [TARGET...]}
: "${2:?usage: tests/fuzz-run.sh SECONDS ENGINE_LIB [TARGET...]}"
shift 2
targets=${*:-theme config checkpoint tokenizer llmc corpus npy options uistate}
build=${BUILD_DIR:-.}
CC=${FUZZ_CC:-clang}
work=$(mktemp -d "${TMPDIR:-/tmp}/seqmatch-fuzz.XXXXXX")
# paths.c names the installed data directory; the fuzzers never look there.
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -DPKGDATADIR=\"/nonexistent/seqmatch\" -I$build -Iapp -Iengine -Itests"
libs="-lyaml -lopenblas -llapack -lpcre2-8 -lm -lpthread"

# The engine, instrumented (libFuzzer's coverage and the sanitizers reach
# into the parsers that live there).
mkdir "$work/engine"
for src in engine/*.c; do
	$CC $flags -fsanitize=fuzzer-no-link -c "$src" \
	    -o "$work/engine/$(basename "$src" .c).o"
done
ar rcs "$work/engine.a" "$work"/engine/*.o
engine="$work/engine.a"
app_leaves="app/log.c app/xmalloc.c app/paths.c"

for t in $targets; do
	mkdir "$work/corpus-$t"
	case $t in
	theme)
		$CC $flags -DFUZZ_THEME_NO_MAIN tests/fuzz-theme.c app/theme.c app/yml.c "$engine" \
		    $libs -o "$work/fuzz-theme"
		cp themes/*.yaml "$work/corpus-theme/"
		;;
	config)
		$CC $flags -DFUZZ_CONFIG_NO_MAIN tests/fuzz-config.c $app_leaves \
		    app/conf.c app/transcript.c app/yml.c app/json.c "$engine" $libs \
		    -o "$work/fuzz-config"
		printf 'theme: gruvbox-dark\ncolors: 256\nmouse: false\nplot: block\ndecoding:\n  temperature: 0.7\n  top_k: 20\n' \
		    >"$work/corpus-config/config.yaml"
		printf '%s\n' '{"type": "header", "format": 2, "version": "0.1.0", "model": "m.bin", "model_hash": "0000000000000001", "weights_version": 0, "time": "2026-01-01T00:00:00+0000", "prompt": "ab", "n_prompt": 2, "params": {"temperature": 0.8, "seed": 7}, "seed": 7}' \
		    '{"type": "append", "id": 99, "text": "c", "slot": 2, "prob": 0.5}' \
		    '{"type": "erase", "id": 99, "text": "c", "slot": 2, "prob": 0.9}' \
		    '{"type": "stop", "reason": "eot", "tokens": 1, "erased": 1, "length": 2, "seconds": 0.1}' \
		    >"$work/corpus-config/session.jsonl"
		;;
	checkpoint | tokenizer | llmc | corpus | npy)
		name=$(echo "$t" | tr a-z A-Z)
		$CC $flags -DFUZZ_${name}_NO_MAIN "tests/fuzz-$t.c" "$engine" $libs \
		    -o "$work/fuzz-$t"
		cp tests/fuzz-seeds/"$t"/* "$work/corpus-$t/"
		;;
	options)
		$CC $flags -DFUZZ_OPTIONS_NO_MAIN tests/fuzz-options.c app/options.c $app_leaves \
		    "$engine" $libs -o "$work/fuzz-options"
		cp tests/fuzz-seeds/options/* "$work/corpus-options/"
		;;
	uistate)
		$CC $flags -DFUZZ_UISTATE_NO_MAIN tests/fuzz-uistate.c app/uistate.c app/layout.c app/grid.c \
		    app/yml.c $app_leaves "$engine" $libs -o "$work/fuzz-uistate"
		cp tests/fuzz-seeds/uistate/* "$work/corpus-uistate/"
		;;
	*)
		echo "fuzz-run: unknown target $t" >&2
		exit 2
		;;
	esac
done

status=0
for t in $targets; do
	echo "fuzz-run: fuzz-$t for $seconds s (work directory $work)"
	if ! (cd "$work" && ASAN_OPTIONS=detect_leaks=1 "./fuzz-$t" -max_total_time="$seconds" \
	    -max_len=16384 -rss_limit_mb=1024 -print_final_stats=1 "corpus-$t" \
	    >"fuzz-$t.log" 2>&1); then
		tail -n 40 "$work/fuzz-$t.log"
		status=1
	else
		grep -E 'stat::number_of_executed_units|Done' "$work/fuzz-$t.log" || true
	fi
done
[ "$status" -eq 0 ] && rm -rf "$work"
exit "$status"
