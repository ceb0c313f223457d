#!/bin/sh
# test-eval-cli.sh: `seqmatch eval` end to end (TAP): tiny models trained on
# a small corpus (and a third one as featurizer), then eval with --json: valid
# JSON, every field present, per-generation-seed values with their means and
# sds, the human row's MAUVE in (0, 1], identical output on a second run
# (timing fields aside), two --model values on identical prompts and seeds
# with paired differences and verdicts recomputed here, --check counts
# recomputed from the texts the checker saw, references and human texts cut
# at --max-tokens or the document's end on a corpus of mixed lengths, the
# too-few-documents error, failing checkers, the default featurizer, the
# plain table, --save-features, and usage (exit 2) and file (exit 1) errors
# that print nothing on stdout. The Python checks are skipped without python3.
#
# Run by `make check` with SEQMATCH (the binary), SRCDIR and BUILDDIR set.

: "${SEQMATCH:?set SEQMATCH to the seqmatch binary}"

n=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seqmatch-eval.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

if command -v timeout >/dev/null 2>&1; then
	TIMEOUT="timeout 300"
else
	TIMEOUT=
fi

unset SEQMATCH_MODEL SEQMATCH_REEXEC SEQMATCH_GENERIC_CORE
HOME=$tmp/home
XDG_DATA_HOME=$tmp/home/.local/share
OPENBLAS_NUM_THREADS=1
export HOME XDG_DATA_HOME OPENBLAS_NUM_THREADS
mkdir -p "$HOME"

. "${SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# Run seqmatch quietly; sets $status, output in $tmp/out and $tmp/err.
run() {
	$TIMEOUT "$SEQMATCH" -q "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
}

# expect DESC STATUS PATTERN ARGS...: exit status, stderr matching PATTERN,
# and for a failure an empty stdout.
expect() {
	desc=$1
	want=$2
	pattern=$3
	shift 3
	run "$@"
	if [ "$status" -ge 128 ] || grep -Eq 'Sanitizer|runtime error:' "$tmp/err"; then
		fail "$desc" "crashed or sanitizer error (status $status)"
	elif [ "$status" -ne "$want" ]; then
		fail "$desc" "exit status $status, expected $want"
	elif [ -n "$pattern" ] && ! grep -Eqi -- "$pattern" "$tmp/err"; then
		fail "$desc" "stderr does not match /$pattern/"
	elif [ "$want" -ne 0 ] && [ -s "$tmp/out" ]; then
		fail "$desc" "an error printed on stdout: $(head -c 200 "$tmp/out")"
	else
		pass "$desc"
	fi
}

# Whether file $1 is valid JSON (Perl's core JSON::PP, else Python); 2 if
# neither is available.
valid_json() {
	if command -v perl >/dev/null 2>&1 && perl -MJSON::PP -e 1 2>/dev/null; then
		perl -MJSON::PP -e 'local $/; open my $f, "<", $ARGV[0] or die;
			JSON::PP->new->decode(<$f>)' "$1" 2>"$tmp/json-err"
	elif command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" \
		    2>"$tmp/json-err"
	else
		return 2
	fi
}

# The output without timing fields (they differ from run to run).
untimed() {
	grep -Ev '"[a-z_]*(seconds|per_s)"' "$1"
}

# The fields of model block $1 of JSON file $2, timing aside.
model_block() {
	sed -n "/\"index\": $1,/,/^    }/p" "$2" | grep -v '^    }' | untimed /dev/stdin
}

# pycheck DESC SCRIPT ARGS...: a Python check that prints nothing when it
# holds, else what is wrong (skipped without python3).
pycheck() {
	desc=$1
	script=$2
	shift 2
	if ! command -v python3 >/dev/null 2>&1; then
		pass "$desc # SKIP no python3"
		return
	fi
	out=$(python3 -c "$script" "$@" 2>&1)
	if [ -z "$out" ]; then
		pass "$desc"
	else
		fail "$desc" "$(echo "$out" | head -6 | tr '\n' ';')"
	fi
}

# A corpus of 60 short documents separated by blank lines.
i=0
: >"$tmp/corpus"
for a in quiet brave small old bright; do
	for b in fox river garden lamp tower engine; do
		for c in sings waits runs; do
			i=$((i + 1))
			[ $i -gt 60 ] && break 3
			printf 'The %s %s %s near the hill while the wind moves over the %s fields, and %d birds watch it from the %s roof.\n\n' \
			    "$a" "$b" "$c" "$b" "$i" "$a" >>"$tmp/corpus"
		done
	done
done
C=$tmp/corpus
M=$tmp/m.bin
M2=$tmp/m2.bin
F=$tmp/feat.bin

expect "train a tiny model" 0 "" train --corpus "$C" --out "$M" --preset tiny \
    --steps 30 --vocab-size 300 --seq-len 32 --batch-size 4
expect "train a second one" 0 "" train --corpus "$C" --out "$M2" --preset tiny \
    --steps 10 --vocab-size 300 --seq-len 32 --batch-size 4 --seed 7
expect "train a featurizer that is neither" 0 "" train --corpus "$C" --out "$F" \
    --preset tiny --steps 20 --vocab-size 300 --seq-len 32 --batch-size 4 --seed 11

# The statistics of a JSON report: means of the per-seed values, sds, ranges.
STRUCTURE='
import json, math, statistics, sys
d = json.load(open(sys.argv[1])); G = int(sys.argv[2]); n = int(sys.argv[3])
feat = sys.argv[4]; bad = []
def num(x): return isinstance(x, (int, float)) and not isinstance(x, bool)
if d["gen_seeds"] != G or d["samples"] != n: bad.append("gen_seeds/samples")
if d["featurizer"] != feat or d["featurizer_is_compared_model"] is not False:
    bad.append("featurizer %r" % d["featurizer"])
h = d["human"]
if h is None or not num(h["mauve"]) or not 0 < h["mauve"] <= 1:
    bad.append("human mauve not in (0, 1]: %r" % (h and h["mauve"]))
unit = ["mauve", "frontier_integral", "mauve_star", "frontier_integral_star",
    "distinct_1", "distinct_2", "distinct_3", "repetition_rate"]
for name, r in [("human", h)] + [("model %d" % m["index"], m) for m in d["models"]]:
    for k in unit + (["backspace_rate"] if name != "human" else []):
        per = r[k + "_per_gen_seed"]
        if len(per) != G or not all(num(x) and 0 <= x <= 1 for x in per):
            bad.append("%s %s per seed %r" % (name, k, per)); continue
        if abs(r[k] - sum(per) / G) > 1e-12: bad.append("%s %s is not the mean" % (name, k))
        sd = r[k + "_gen_sd"]
        if G > 1 and (not num(sd) or abs(sd - statistics.stdev(per)) > 1e-12):
            bad.append("%s %s_gen_sd %r" % (name, k, sd))
        if G == 1 and sd is not None: bad.append("%s %s_gen_sd with one seed" % (name, k))
    for k in unit[:4]:
        if not num(r[k + "_kmeans_sd"]) or r[k + "_kmeans_sd"] < 0: bad.append(k + "_kmeans_sd")
    if r["violations_per_100"] is not None: bad.append("violations without --check")
    ends = [a + b for a, b in zip(r["stopped_at_end_per_gen_seed"],
        r["stopped_at_max_tokens_per_gen_seed"])]
    if any(x > n for x in ends) or (name == "human" and ends != [n] * G):
        bad.append("%s stops %r" % (name, ends))
    if name != "human":
        if not r["mean_logprob"] < 0: bad.append("mean_logprob")
        for g in range(G):
            c, t, u, e = (r[k + "_per_gen_seed"][g] for k in
                ("corrections", "retypes", "erases_not_followed", "erases"))
            if c + t + u != e: bad.append("erase outcomes do not add up")
        if r["num_buckets"] != max(2, round(n / 10)): bad.append("num_buckets")
ref = d["reference"]
if [a + b for a, b in zip(ref["stopped_at_end_per_gen_seed"],
        ref["stopped_at_max_tokens_per_gen_seed"])] != [n] * G: bad.append("reference stops")
print("\n".join(bad))
'

set -- --corpus "$C" --samples 20 --prompt-tokens 8 --max-tokens 16 --seed 1 \
    --featurizer "$F"
expect "eval --json --gen-seeds 2" 0 "" eval --model "$M" "$@" --gen-seeds 2 --json
cp "$tmp/out" "$tmp/j1"

valid_json "$tmp/j1"
case $? in
0) pass "the output is one valid JSON object" ;;
2) pass "the output is one valid JSON object # SKIP no perl JSON::PP or python3" ;;
*) fail "the output is one valid JSON object" "$(head -c 300 "$tmp/json-err")" ;;
esac

missing=
for f in command version corpus corpus_hash separator documents candidates samples \
    gen_seeds check prompt_tokens max_tokens seed decoding temperature top_k top_p \
    min_p featurizer featurizer_is_compared_model features_of max_text_tokens \
    feature_dim num_buckets_option scaling explained_variance kmeans_restarts \
    kmeans_max_iter divergence_points mauve_seeds reference human models index \
    model params_hash estimator mauve mauve_gen_sd mauve_per_gen_seed mauve_kmeans_sd \
    frontier_integral frontier_integral_gen_sd mauve_star frontier_integral_star \
    violations_per_100 violations_by_kind erases corrections retypes \
    erases_not_followed correction_share backspace_rate distinct_1 distinct_2 \
    distinct_3 repetition_rate stopped_at_end stopped_at_max_tokens empty_texts \
    mean_logprob num_buckets pca_dims gross_tokens net_tokens re_emissions \
    longest_backspace_run stops generate_tokens_per_s prefill_tokens_per_s seconds; do
	grep -q "\"$f\": " "$tmp/j1" || missing="$missing $f"
done
if [ -z "$missing" ]; then
	pass "every field is present"
else
	fail "every field is present" "missing:$missing"
fi
pycheck "per-seed values, their means and sds; human MAUVE in (0, 1]" \
    "$STRUCTURE" "$tmp/j1" 2 20 "$F"

expect "eval --json again" 0 "" eval --model "$M" "$@" --gen-seeds 2 --json
cp "$tmp/out" "$tmp/j2"
if untimed "$tmp/j1" >"$tmp/u1" && untimed "$tmp/j2" >"$tmp/u2" &&
    cmp -s "$tmp/u1" "$tmp/u2"; then
	pass "the same seed gives the same output (timing aside)"
else
	fail "the same seed gives the same output (timing aside)" \
	    "$(diff "$tmp/u1" "$tmp/u2" | head -5 | tr '\n' ';')"
fi

expect "another seed" 0 "" eval --model "$M" --corpus "$C" --samples 20 \
    --prompt-tokens 8 --max-tokens 16 --seed 2 --featurizer "$F" --gen-seeds 2 --json
untimed "$tmp/out" >"$tmp/u3"
if cmp -s "$tmp/u1" "$tmp/u3"; then
	fail "another seed gives other results" "identical output"
else
	pass "another seed gives other results"
fi

expect "--gen-seeds 1" 0 "" eval --model "$M" "$@" --gen-seeds 1 --json
cp "$tmp/out" "$tmp/j1g"
pycheck "--gen-seeds 1: one value per statistic, no sd" "$STRUCTURE" "$tmp/j1g" 1 20 "$F"
pycheck "generation seed 1 is the same with --gen-seeds 1 and 2" '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
for r1, r2 in [(a["human"], b["human"]), (a["models"][0], b["models"][0])]:
    for k in ("mauve", "distinct_2", "stopped_at_end") + (("erases",) if "erases" in r1 else ()):
        if r1[k + "_per_gen_seed"][0] != r2[k + "_per_gen_seed"][0]:
            print(k, r1[k + "_per_gen_seed"], r2[k + "_per_gen_seed"])
if a["models"][0]["mauve_per_gen_seed"] == a["models"][0]["mauve_per_gen_seed"][::-1]:
    print("the two generation seeds give the same MAUVE")
' "$tmp/j1" "$tmp/j1g"

# Paired comparisons: the first model against another, and against itself.
VS='
import json, math, statistics, sys
d = json.load(open(sys.argv[1])); G = d["gen_seeds"]; bad = []
first, m2 = d["models"]
if "vs_first" in first: bad.append("the first model has vs_first")
for k, v in m2["vs_first"].items():
    if k == "violations_by_kind": continue
    a, b = first[k + "_per_gen_seed"], m2[k + "_per_gen_seed"]
    if any(x is None for x in a + b):
        if v["verdict"] != "undefined": bad.append(k + " should be undefined")
        continue
    diff = [y - x for x, y in zip(a, b)]
    mean = sum(diff) / G
    sd = statistics.stdev(diff) if G > 1 else None
    beyond = G > 1 and (all(x > 0 for x in diff) or all(x < 0 for x in diff)) and \
        abs(mean) > 2 * sd / math.sqrt(G)
    if abs(v["mean"] - mean) > 1e-12 or v["per_gen_seed"] != diff or \
        (sd is not None and abs(v["sd"] - sd) > 1e-12):
        bad.append("%s: %r, expected mean %r sd %r" % (k, v, mean, sd))
    if v["verdict"] != ("beyond" if beyond else "inside"):
        bad.append("%s verdict %s" % (k, v["verdict"]))
for k in ("mauve", "frontier_integral", "backspace_rate", "violations_per_100",
        "correction_share", "erases", "distinct_1"):
    if k not in m2["vs_first"]: bad.append("vs_first has no " + k)
print("\n".join(bad))
'

expect "two --model values" 0 "" eval --model "$M" --model "$M2" "$@" --gen-seeds 2 --json
cp "$tmp/out" "$tmp/j3"
if [ "$(grep -c '"index": ' "$tmp/j3")" -eq 2 ] && grep -q "\"model\": \"$M2\"" "$tmp/j3"; then
	pass "two --model values give two result blocks"
else
	fail "two --model values give two result blocks" "$(grep '"index"\|"model"' "$tmp/j3")"
fi
# The first model sees the same prompts and seeds with or without a second one.
model_block 1 "$tmp/j1" >"$tmp/b1"
model_block 1 "$tmp/j3" >"$tmp/b3"
if [ -s "$tmp/b1" ] && cmp -s "$tmp/b1" "$tmp/b3"; then
	pass "model 1's results do not depend on the other model"
else
	fail "model 1's results do not depend on the other model" \
	    "$(diff "$tmp/b1" "$tmp/b3" | head -5 | tr '\n' ';')"
fi
model_block 2 "$tmp/j3" >"$tmp/b4"
if ! cmp -s "$tmp/b3" "$tmp/b4"; then
	pass "the two models get their own results"
else
	fail "the two models get their own results" "identical blocks"
fi
pycheck "vs_first: paired differences, their mean and sd, and the verdict" "$VS" "$tmp/j3"

expect "a model against itself" 0 "" eval --model "$M" --model "$M" "$@" --gen-seeds 2 --json
pycheck "a model against itself: every difference 0, inside the spread" '
import json, sys
d = json.load(open(sys.argv[1])); m2 = d["models"][1]
for k, v in m2["vs_first"].items():
    if k == "violations_by_kind" or v["verdict"] == "undefined" and k in (
            "correction_share", "violations_per_100"): continue
    if v["mean"] != 0 or v["verdict"] != "inside": print(k, v)
' "$tmp/out"

# A checker that flags every text of model 2 and none of the others: the
# difference is +100 at every generation seed, beyond the spread with two
# seeds and inside with one (no spread to compare with).
cat >"$tmp/flag-2" <<'EOF'
#!/bin/sh
awk -v row="$SEQMATCH_CHECK_ROW" '{
	v = row == "2" ? "{\"kind\": \"all\", \"where\": \"everywhere\"}" : ""
	printf "{\"id\": %d, \"violations\": [%s]}\n", NR - 1, v
}'
EOF
chmod +x "$tmp/flag-2"
expect "--check flagging model 2" 0 "" eval --model "$M" --model "$M2" "$@" \
    --gen-seeds 2 --check "$tmp/flag-2" --json
cp "$tmp/out" "$tmp/j5"
pycheck "--check: 100 for model 2, 0 for model 1 and the human row; beyond the spread" '
import json, sys
d = json.load(open(sys.argv[1])); G = int(sys.argv[2]); verdict = sys.argv[3]
h, m1, m2 = d["human"], d["models"][0], d["models"][1]
want = [(h, 0), (m1, 0), (m2, 100)]
for r, v in want:
    if r["violations_per_100_per_gen_seed"] != [v] * G: print(r["model"], "violations", r["violations_per_100_per_gen_seed"])
    if r["violations_by_kind"]["all"]["per_gen_seed"] != [v] * G: print(r["model"], "by kind")
vs = m2["vs_first"]["violations_per_100"]
if vs["mean"] != 100 or vs["verdict"] != verdict: print("vs_first", vs)
if m2["vs_first"]["violations_by_kind"]["all"]["verdict"] != verdict: print("by kind verdict")
' "$tmp/j5" 2 beyond
expect "--check flagging model 2, one generation seed" 0 "" eval --model "$M" \
    --model "$M2" "$@" --gen-seeds 1 --check "$tmp/flag-2" --json
pycheck "--check with one generation seed: inside the spread" '
import json, sys
d = json.load(open(sys.argv[1])); G = int(sys.argv[2]); verdict = sys.argv[3]
vs = d["models"][1]["vs_first"]["violations_per_100"]
if vs["mean"] != 100 or vs["verdict"] != verdict: print("vs_first", vs)
' "$tmp/out" 1 inside

# The verdict's threshold: model 2 flagged in every text at generation seed 1
# and in the first CUT of 20 at seed 2, model 1 never: differences [100, 5 CUT]
# share a sign; CUT 4: mean 60 <= 2 sd / sqrt(2) = 80, inside; CUT 10: mean 75
# > 50, beyond.
cat >"$tmp/flag-cut" <<'EOF'
#!/bin/sh
awk -v row="$SEQMATCH_CHECK_ROW" -v g="$SEQMATCH_CHECK_GEN_SEED" -v cut="$CUT" '{
	v = row == "2" && (g == 1 || NR <= cut) ? "{\"kind\": \"some\"}" : ""
	printf "{\"id\": %d, \"violations\": [%s]}\n", NR - 1, v
}'
EOF
chmod +x "$tmp/flag-cut"
for cut in 4:60:inside 10:75:beyond; do
	IFS=: read -r c mean verdict <<EOF
$cut
EOF
	expect "--check with differences [100, $((5 * c))]" 0 "" eval --model "$M" --model "$M2" \
	    "$@" --gen-seeds 2 --mauve-seeds 1 --check "CUT=$c $tmp/flag-cut" --json
	pycheck "differences [100, $((5 * c))]: mean $mean, $verdict the spread" '
import json, sys
d = json.load(open(sys.argv[1]))
vs = d["models"][1]["vs_first"]["violations_per_100"]
if vs["per_gen_seed"] != [100, 5 * int(sys.argv[2])] or vs["mean"] != float(sys.argv[3]) or \
    vs["verdict"] != sys.argv[4]: print(vs)
' "$tmp/out" "$c" "$mean" "$verdict"
done

expect "plain table" 0 "" eval --model "$M" --model "$M2" "$@" --gen-seeds 2 \
    --mauve-seeds 2 --check "$tmp/flag-2"
if grep -q '^  mauve  ' "$tmp/out" && grep -q '^ *human *model 1 *model 2' "$tmp/out" &&
    grep -q '^settings: n 20 per side, 2 generation seeds' "$tmp/out" &&
    grep -q "featurizer $F" "$tmp/out" && grep -q 'k-means sd' "$tmp/out" &&
    grep -q '^  all  *0.0 +/- 0.0  *0.0 +/- 0.0  *100.0 +/- 0.0' "$tmp/out" &&
    grep -q 'beyond the spread' "$tmp/out" && ! grep -q '^{' "$tmp/out"; then
	pass "the table: settings, human and model columns, spreads, violations, verdicts"
else
	fail "the table: settings, human and model columns, spreads, violations, verdicts" \
	    "$(head -c 400 "$tmp/out")"
fi

expect "--save-features, two generation seeds" 0 "" eval --model "$M" --model "$M2" "$@" \
    --gen-seeds 2 --save-features "$tmp/feat"
ok=1
for g in 1 2; do
	for w in p h q-1 q-2; do
		f=$tmp/feat-g$g-$w.npy
		if [ ! -s "$f" ] || [ "$(head -c 6 "$f" | tail -c 5)" != "NUMPY" ]; then
			ok=0
		fi
	done
done
if [ $ok -eq 1 ] && ! cmp -s "$tmp/feat-g1-p.npy" "$tmp/feat-g2-p.npy"; then
	pass "--save-features writes PREFIX-g<g>-{p,h,q-<i>}.npy per generation seed"
else
	fail "--save-features writes PREFIX-g<g>-{p,h,q-<i>}.npy per generation seed" "$(ls "$tmp")"
fi
expect "--save-features, one generation seed" 0 "" eval --model "$M" "$@" \
    --gen-seeds 1 --save-features "$tmp/one"
if [ -s "$tmp/one-p.npy" ] && [ -s "$tmp/one-h.npy" ] && [ -s "$tmp/one-q.npy" ]; then
	pass "--save-features with one generation seed keeps PREFIX-p.npy, PREFIX-q.npy"
else
	fail "--save-features with one generation seed keeps PREFIX-p.npy, PREFIX-q.npy" \
	    "$(ls "$tmp")"
fi

# References cut by the generations' rule, on documents of mixed lengths:
# very short ones (not candidates), short ones (the continuation ends at the
# document's end) and long ones (cut at --max-tokens). Each starts with its
# own two-digit key, so a prompt tells its document.
: >"$tmp/mixed"
for i in $(seq 10 45); do
	case $((i % 3)) in
	0) printf '%d: Hi.\n\n' "$i" ;;
	1) printf '%d: The quiet fox sings.\n\n' "$i" ;;
	2) printf '%d: The old lamp waits near the hill while the wind moves over the lamp fields, and %d birds watch it from the old roof. The brave river runs near the hill while the wind moves over the river fields. The small tower sings near the hill.\n\n' "$i" "$i" ;;
	esac
done >>"$tmp/mixed"
: >"$tmp/counts"
for i in $(seq 10 45); do
	doc=$(awk -v k="$i:" 'index($0, k) == 1 { print; exit }' "$tmp/mixed")
	"$SEQMATCH" -q tokenize --model "$M" --json "$doc" |
	    sed 's/.*"ids": \[\([^]]*\)\].*/\1/' | awk -F, -v k="$i" '{ print k, NF }' \
	    >>"$tmp/counts"
done
# A checker that keeps its input and flags texts with a "w" or "river"
# (letters that no JSON escape holds).
mkdir -p "$tmp/seen"
cat >"$tmp/keep-check" <<EOF
#!/bin/sh
f=$tmp/seen/in-\$SEQMATCH_CHECK_ROW-\$SEQMATCH_CHECK_GEN_SEED
cat >"\$f"
awk '{
	t = \$0
	sub(/.*"text": "/, "", t)
	sub(/", "stop": "[a-z_]*"}\$/, "", t)
	v = ""
	if (t ~ /w/)
		v = "{\"kind\": \"w\", \"where\": \"x\"}"
	if (t ~ /river/)
		v = v (v == "" ? "" : ", ") "{\"kind\": \"river\"}"
	printf "{\"id\": %d, \"violations\": [%s]}\n", NR - 1, v
}' "\$f"
EOF
chmod +x "$tmp/keep-check"
expect "eval on documents of mixed lengths with --check" 0 "" eval --model "$M" \
    --corpus "$tmp/mixed" --samples 10 --prompt-tokens 7 --max-tokens 24 --seed 3 \
    --featurizer "$F" --gen-seeds 2 --check "$tmp/keep-check" --json
cp "$tmp/out" "$tmp/j6"
MIXED='
import json, os, re, sys
jf, seen, corpus, counts = sys.argv[1:5]; P, T, n, G = (int(x) for x in sys.argv[5:9])
d = json.load(open(jf)); bad = []
docs = [x.strip() for x in open(corpus).read().split("\n\n") if x.strip()]
bykey = {doc[:2]: doc for doc in docs}
cnt = {k: int(v) for k, v in (l.split() for l in open(counts))}
cands = [k for k in bykey if cnt[k] >= P + 1]
if d["candidates"] != len(cands): bad.append("candidates %d, expected %d" % (d["candidates"], len(cands)))
if not 0 < sum(cnt[k] <= P + T for k in cands) < len(cands) or len(cands) == len(docs):
    bad.append("the corpus does not mix lengths (%r): fix the test" % cnt)
ends = {"eot": 0, "max_tokens": 0}; flagged = total = 0
for g in range(1, G + 1):
    rows = {}
    for row in ("1", "human"):
        rows[row] = [json.loads(l) for l in open(os.path.join(seen, "in-%s-%d" % (row, g)))]
        if [l["id"] for l in rows[row]] != list(range(n)): bad.append("ids of %s %d" % (row, g))
    pk = [l["prompt"][:2] for l in rows["1"]]; hk = [l["prompt"][:2] for l in rows["human"]]
    if len(set(pk)) != n or len(set(hk)) != n or set(pk) & set(hk) or not set(pk + hk) <= set(cands):
        bad.append("seed %d: prompts %r, human documents %r" % (g, pk, hk))
    want = sum(cnt[k] <= P + T for k in pk)
    got = (d["reference"]["stopped_at_end_per_gen_seed"][g - 1],
        d["reference"]["stopped_at_max_tokens_per_gen_seed"][g - 1])
    if got != (want, n - want): bad.append("seed %d: references %r, expected %r" % (g, got, (want, n - want)))
    for l in rows["human"]:
        k = l["prompt"][:2]; full = bykey[k]; whole = l["prompt"] + l["text"]
        short = cnt[k] <= P + T
        ends[l["stop"]] = ends.get(l["stop"], 0) + 1
        if short and (l["stop"] != "eot" or whole != full):
            bad.append("short document %s: %r, %r" % (k, l["stop"], l["text"]))
        if not short and (l["stop"] != "max_tokens" or whole == full or not full.startswith(whole)):
            bad.append("long document %s: %r, %r" % (k, l["stop"], l["text"]))
    h = sum(cnt[k] <= P + T for k in hk)
    if d["human"]["stopped_at_end_per_gen_seed"][g - 1] != h: bad.append("human stops")
    for row, r in (("1", d["models"][0]), ("human", d["human"])):
        texts = [l["text"] for l in rows[row]]
        dig = sum("w" in t for t in texts)
        riv = sum("river" in t for t in texts)
        anyv = sum("w" in t or "river" in t for t in texts)
        flagged += anyv; total += n
        if r["violations_per_100_per_gen_seed"][g - 1] != 100.0 * anyv / n:
            bad.append("%s seed %d: violations %r, expected %r" % (row, g, r["violations_per_100_per_gen_seed"], 100.0 * anyv / n))
        for kind, c in (("w", dig), ("river", riv)):
            v = r["violations_by_kind"].get(kind, {"per_gen_seed": [0] * G})["per_gen_seed"][g - 1]
            if v != 100.0 * c / n: bad.append("%s seed %d: %s %r, expected %r" % (row, g, kind, v, 100.0 * c / n))
if not ends["eot"] or not ends["max_tokens"]: bad.append("human texts ended only one way: %r" % ends)
if not 0 < flagged < total: bad.append("the checker flagged %d of %d texts: fix the test" % (flagged, total))
print("\n".join(bad))
'
pycheck "references and human texts end at the document's end or at --max-tokens" \
    "$MIXED" "$tmp/j6" "$tmp/seen" "$tmp/mixed" "$tmp/counts" 7 24 10 2

# Too few documents: an error with the number of samples that is possible.
ncand=$(awk '$2 >= 8 { n++ } END { print n + 0 }' "$tmp/counts")
set -- --corpus "$tmp/mixed" --prompt-tokens 7 --max-tokens 24 --seed 3 --featurizer "$F"
expect "--samples too many for the human row" 1 \
    "$ncand documents have at least 8 tokens.*2\*$((ncand / 2 + 1)).*--samples $((ncand / 2)) or fewer" \
    eval --model "$M" "$@" --samples $((ncand / 2 + 1))
expect "--samples too many without the human row" 1 \
    "$ncand documents have at least 8 tokens.*--samples $ncand or fewer" \
    eval --model "$M" "$@" --samples $((ncand + 1)) --no-human
expect "--no-human needs half the documents" 0 "" eval --model "$M" "$@" \
    --samples $((ncand / 2 + 1)) --no-human --gen-seeds 1 --mauve-seeds 1 --json
if grep -q '"human": null' "$tmp/out" && ! grep -q '"model": "human"' "$tmp/out"; then
	pass "--no-human: the human row is null"
else
	fail "--no-human: the human row is null" "$(grep '"human"' "$tmp/out")"
fi

# Checkers that fail: exit 1 and a message naming the command.
set -- --corpus "$C" --samples 20 --prompt-tokens 8 --max-tokens 16 --seed 1 \
    --featurizer "$F" --gen-seeds 1 --mauve-seeds 1
expect "a checker that exits 3" 1 "cat >/dev/null; exit 3.*status 3" eval --model "$M" \
    "$@" --check 'cat >/dev/null; exit 3'
expect "a checker that prints too few lines" 1 "head -n 2.*printed 2 lines for 20 texts" \
    eval --model "$M" "$@" --check "$tmp/flag-2 | head -n 2"
expect "a checker that prints too many lines" 1 "printed more than 20 lines" \
    eval --model "$M" "$@" --check "$tmp/flag-2; echo '{}'"
expect "a checker that prints bad JSON" 1 "output line 1, column [0-9]+: expected" \
    eval --model "$M" "$@" --check "awk '{ print \"{\\\"id\\\": \" NR - 1 \", \\\"violations\\\": [}\" }'"
expect "a checker with ids out of order" 1 "output line 1.*id" \
    eval --model "$M" "$@" --check "awk '{ print \"{\\\"id\\\": \" NR \", \\\"violations\\\": []}\" }'"
expect "a violation without a kind" 1 "kind" \
    eval --model "$M" "$@" --check "awk '{ print \"{\\\"id\\\": \" NR - 1 \", \\\"violations\\\": [{\\\"where\\\": 1}]}\" }'"
cat >"$tmp/fancy-check" <<'EOF'
#!/bin/sh
awk '{ printf "{\"x\": [1.5e3, {\"y\": null}], \"id\": %d, \"violations\": [{\"kind\": \"a\\u00e9\\\"b\", \"n\": true}]}\n", NR - 1 }'
EOF
chmod +x "$tmp/fancy-check"
expect "extra keys and escapes in the checker's output are fine" 0 "" eval --model "$M" \
    "$@" --json --check "$tmp/fancy-check"
if grep -q '"aé\\"b": {"per_100": 100,' "$tmp/out"; then
	pass "a kind with escapes is decoded and written back"
else
	fail "a kind with escapes is decoded and written back" "$(grep -A1 violations_by_kind "$tmp/out" | head -4)"
fi

# The default featurizer: featurizer.bin in the program's data directory
# (a copy of the program has its own directory, with no data/ of the tree).
mkdir -p "$tmp/bin"
cp "$SEQMATCH" "$tmp/bin/seqmatch"
if [ -n "${PKGDATADIR:-}" ] && [ -e "$PKGDATADIR/featurizer.bin" ]; then
	pass "no default featurizer # SKIP $PKGDATADIR/featurizer.bin is installed"
else
	SEQMATCH_SAVED=$SEQMATCH
	SEQMATCH=$tmp/bin/seqmatch
	set -- --corpus "$C" --samples 20 --prompt-tokens 8 --max-tokens 16 --seed 1 \
	    --gen-seeds 1 --mauve-seeds 1
	expect "no default featurizer" 1 "$tmp/bin/data/featurizer.bin does not exist.*--featurizer MODEL" \
	    eval --model "$M" "$@"
	mkdir -p "$tmp/bin/data"
	cp "$F" "$tmp/bin/data/featurizer.bin"
	expect "the default featurizer" 0 "" eval --model "$M" "$@" --json
	if grep -q "\"featurizer\": \"$tmp/bin/data/featurizer.bin\"" "$tmp/out"; then
		pass "the default featurizer is data/featurizer.bin beside the program"
	else
		fail "the default featurizer is data/featurizer.bin beside the program" \
		    "$(grep '"featurizer' "$tmp/out")"
	fi
	SEQMATCH=$SEQMATCH_SAVED
fi
$TIMEOUT "$SEQMATCH" eval --model "$M" --model "$M2" --corpus "$C" --samples 20 \
    --prompt-tokens 8 --max-tokens 16 --seed 1 --featurizer "$M2" --gen-seeds 1 \
    --mauve-seeds 1 --json >"$tmp/out" 2>"$tmp/err" </dev/null
if grep -q "warning: the featurizer $M2 has the weights of compared model $M2" "$tmp/err" &&
    grep -q '"featurizer_is_compared_model": true' "$tmp/out"; then
	pass "a featurizer that is a compared model: a warning and a flag"
else
	fail "a featurizer that is a compared model: a warning and a flag" "$(head -c 300 "$tmp/err")"
fi

# Usage errors: exit 2, a message, nothing on stdout.
set -- --featurizer "$F"
expect "no --corpus" 2 "corpus" eval --model "$M"
expect "--samples 0" 2 "samples" eval --model "$M" --corpus "$C" --samples 0
expect "--samples abc" 2 "samples" eval --model "$M" --corpus "$C" --samples abc
expect "--gen-seeds 0" 2 "gen-seeds" eval --model "$M" --corpus "$C" --gen-seeds 0
expect "--check ''" 2 "check" eval --model "$M" --corpus "$C" --check ''
expect "--prompt-tokens 0" 2 "prompt-tokens" eval --model "$M" --corpus "$C" \
    --prompt-tokens 0
expect "--max-tokens 0" 2 "max-tokens" eval --model "$M" --corpus "$C" --max-tokens 0
expect "--max-tokens -1" 2 "max-tokens" eval --model "$M" --corpus "$C" --max-tokens -1
expect "--separator foo" 2 "separator" eval --model "$M" --corpus "$C" --separator foo
expect "--num-buckets 1" 2 "num-buckets" eval --model "$M" --corpus "$C" --num-buckets 1
expect "--mauve-seeds 0" 2 "mauve-seeds" eval --model "$M" --corpus "$C" --mauve-seeds 0
expect "--temperature abc" 2 "temperature" eval --model "$M" --corpus "$C" \
    --temperature abc
expect "an unknown option" 2 "" eval --model "$M" --corpus "$C" --bogus
expect "a stray argument" 2 "unexpected" eval --model "$M" --corpus "$C" extra
expect "prompt + continuation longer than the context" 2 "context" eval \
    --model "$M" --corpus "$C" --prompt-tokens 60 --max-tokens 16 "$@"

# File errors: exit 1.
set -- --prompt-tokens 8 --max-tokens 16 --featurizer "$F"
expect "a missing corpus" 1 "none" eval --model "$M" --corpus "$tmp/none" "$@"
expect "a missing model" 1 "none.bin" eval --model "$tmp/none.bin" --corpus "$C" "$@"
expect "a missing featurizer" 1 "featurizer" eval --model "$M" --corpus "$C" \
    --prompt-tokens 8 --max-tokens 16 --featurizer "$tmp/none.bin"
printf 'short one\n\nshort two\n' >"$tmp/short"
expect "no document long enough" 1 "no document has at least 9 tokens" eval --model "$M" \
    --corpus "$tmp/short" "$@"

expect "eval --help" 0 "" eval --help
if grep -q -- '--mauve-seeds' "$tmp/out" && grep -q -- '--temperature' "$tmp/out" &&
    grep -q -- '--gen-seeds' "$tmp/out" && grep -q -- '--check CMD' "$tmp/out" &&
    grep -q 'vs_first' "$tmp/out"; then
	pass "eval --help lists its options, the JSON fields and the decoding table"
else
	fail "eval --help lists its options, the JSON fields and the decoding table" \
	    "$(head -c 200 "$tmp/out")"
fi

printf '1..%d\n' "$n"
[ "$failed" -eq 0 ]
