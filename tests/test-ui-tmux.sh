#!/bin/sh
# test-ui-tmux.sh: end-to-end tests of `seqmatch ui` (TAP). The refusals
# (TERM=dumb, no terminal) run directly; the rest runs the UI in a private
# tmux server and drives it with send-keys, waiting on screen conditions
# (capture-pane polled every 0.1 s, generous timeouts: CI runs this on two
# busy cores), never on fixed sleeps. tmux is required: without it the test
# fails rather than skips.
#
# Run by `make check` with SEQMATCH (the binary) and SRCDIR set.

: "${SEQMATCH:?set SEQMATCH to the seqmatch binary}"
: "${SRCDIR:?set SRCDIR to the source tree}"

MODEL=$SRCDIR/data/model.bin
WAIT=${SEQMATCH_UI_WAIT:-150} # tenths of a second per screen condition
# The notices that end a run whose seed the test does not fix: 'done (...)' (a loop's
# warning follows it), or, when the run erases all it wrote, the warning that replaces it.
ENDED='done \(|erased all it wrote'

n=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/seqmatch-ui.XXXXXX") || exit 1
# Sockets in our directory, so nothing is left behind; one tmux server per UI run (a new server on a socket still shutting down fails).
TMUX_TMPDIR=$tmp
export TMUX_TMPDIR
unset TMUX
runs=0
T="tmux -L seqmatch-test-$$-0 -f /dev/null"
cleanup() {
	r=0
	while [ "$r" -le "$runs" ]; do
		tmux -L "seqmatch-test-$$-$r" -f /dev/null kill-server >/dev/null 2>&1
		r=$((r + 1))
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

unset SEQMATCH_MODEL SEQMATCH_REEXEC SEQMATCH_GENERIC_CORE XDG_CONFIG_HOME XDG_STATE_HOME NO_COLOR
HOME=$tmp/home
export HOME
mkdir -p "$HOME"

. "${SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# Report a failing test with the reason and the last screen (instead of
# lib.sh's fail).
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	printf 'not ok %d - %s\n# %s\n' "$n" "$1" "$2"
	if [ -s "$tmp/screen" ]; then
		sed 's/^/#   screen: /' "$tmp/screen"
	fi
	if [ -s "$tmp/err" ]; then
		sed -n '1,8s/^/#   stderr: /p' "$tmp/err"
	fi
}

# Finish: the plan, and the status.
finish() {
	printf '1..%d\n' "$n"
	[ "$failed" -eq 0 ]
	exit $?
}

# ---------------------------------------------------------------------------
# Without tmux.

: >"$tmp/screen"
env TERM=dumb "$SEQMATCH" ui --model "$MODEL" >"$tmp/out" 2>"$tmp/err" </dev/null
status=$?
if [ "$status" -eq 1 ] && grep -q 'TERM=dumb' "$tmp/err"; then
	pass "TERM=dumb: a clear message and exit 1"
else
	fail "TERM=dumb: a clear message and exit 1" "exit status $status"
fi

env TERM=xterm-256color "$SEQMATCH" ui --model "$MODEL" >"$tmp/out" 2>"$tmp/err" </dev/null
status=$?
if [ "$status" -eq 1 ] && grep -q 'terminal' "$tmp/err"; then
	pass "stdin not a terminal: a message and exit 1"
else
	fail "stdin not a terminal: a message and exit 1" "exit status $status"
fi
: >"$tmp/err"

if ! command -v tmux >/dev/null 2>&1; then
	fail "tmux is installed" "tmux is required for the UI tests (CI installs it)"
	finish
fi
pass "tmux is installed"

# ---------------------------------------------------------------------------
# With tmux.

# Capture the pane into $tmp/screen.
capture() {
	$T capture-pane -p -t ui >"$tmp/screen" 2>/dev/null
}

# wait_for REGEX: poll the screen until it matches (extended regex); 1 on timeout.
wait_for() {
	i=0
	while [ "$i" -lt "$WAIT" ]; do
		capture
		if grep -Eq -- "$1" "$tmp/screen"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# wait_gone REGEX: poll the screen until it no longer matches.
wait_gone() {
	i=0
	while [ "$i" -lt "$WAIT" ]; do
		capture
		if ! grep -Eq -- "$1" "$tmp/screen"; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# check DESC REGEX: a test that waits for REGEX on the screen.
check() {
	if wait_for "$2"; then
		pass "$1"
	else
		fail "$1" "no /$2/ on the screen"
	fi
}

# wait_width W: poll until the first line (the top borders, ending in the last column)
# is W columns wide. Deleting UTF-8 continuation bytes leaves one byte a character.
wait_width() {
	i=0
	while [ "$i" -lt "$WAIT" ]; do
		capture
		w=$(head -n 1 "$tmp/screen" | LC_ALL=C tr -d '\200-\277' | LC_ALL=C awk '{ print length($0) }')
		if [ "$w" = "$1" ]; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# keys KEY...: send tmux key names to the UI.
keys() {
	$T send-keys -t ui "$@"
}

# start ENV...: start the UI at 100x30 in a new server with NAME=VALUE settings; after
# the UI ends the pane prints "UI-EXITED status" and the terminal modes, then waits.
# Each run gets its own UI state directory (ui.yaml) unless ENV sets XDG_STATE_HOME.
start() {
	$T kill-server >/dev/null 2>&1
	runs=$((runs + 1))
	T="tmux -L seqmatch-test-$$-$runs -f /dev/null"
	rm -f "$tmp/stty"
	: >"$tmp/screen"
	$T new-session -d -x 100 -y 30 -s ui -c "${START_DIR:-$PWD}" \
	    "env -u LC_ALL -u LC_CTYPE XDG_STATE_HOME='$tmp/state-$runs' $* '$SEQMATCH' ui \
	    --model '$MODEL' ${UI_ARGS:-} 2>'$tmp/err'; \
	    st=\$?; stty -a >'$tmp/stty' 2>&1; echo UI-EXITED \$st; exec sleep 600"
}

# quit_ok DESC KEY: quit with KEY and check the exit status and the terminal modes.
quit_ok() {
	keys "$2"
	if wait_for '^UI-EXITED [0-9]+'; then
		if grep -q '^UI-EXITED 0$' "$tmp/screen"; then
			pass "$1: $2 exits with status 0"
		else
			fail "$1: $2 exits with status 0" "$(grep '^UI-EXITED' "$tmp/screen")"
		fi
		if grep -Eq '(^| )icanon( |$)' "$tmp/stty" && grep -Eq '(^| )echo( |$)' "$tmp/stty" &&
		    ! grep -q 'theme .* colours' "$tmp/screen"; then
			pass "$1: the terminal is restored (icanon, echo, screen)"
		else
			fail "$1: the terminal is restored (icanon, echo, screen)" \
			    "stty: $(tr '\n' ' ' <"$tmp/stty")"
		fi
	else
		fail "$1: $2 exits with status 0" "the UI did not exit"
		fail "$1: the terminal is restored (icanon, echo, screen)" "the UI did not exit"
	fi
}

# The main run: UTF-8, 256 colours.
start TERM=xterm-256color LANG=C.UTF-8
check "the UI starts (status line)" 'model\.bin.*seed - .*theme .* colours 256'
check "the decoding pane lists the parameters" 'temperature +0\.8'
check "UTF-8 box drawing in a UTF-8 locale" '┏━ Text'

# The decoding pane: a fixed seed (typed), then temperature adjusted.
keys Tab
check "Tab focuses the decoding pane (its key hints)" 'presets'
check "the decoding pane has column headers" 'knob +value +default'
check "the backtracking knobs come first, under a heading" 'backtracking \(<bksp>\)'
check "the selected knob's meaning is shown" '(erases more|Added to the <bksp> logit)'
check "a note says the list scrolls" 'list scrolls: [0-9]+ more below'
keys G Enter C-u 7 Enter
check "a typed value is set (seed 7)" 'seed +7 '
keys Enter C-u 5 x Enter
check "a bad value is refused with its message" "seed: '5x' is not (a|an) [a-z ]*(number|integer)"
if grep -q 'seed: seed:' "$tmp/screen"; then
	fail "the bad value's message names the knob once" "$(grep 'seed:' "$tmp/screen")"
else
	pass "the bad value's message names the knob once"
fi
check "the typed text stays in the field to be corrected" 'seed +\[5x\]'
keys Escape
check "Esc drops it; a bad value changes nothing" 'seed +7 '
keys g j j j j l
check "l raises the temperature to 0.85" 'temperature +0\.85'
keys h h
check "h lowers it to 0.75" 'temperature +0\.75'

# Back to the prompt: type, generate, see text.
keys BTab
check "Shift-Tab returns to the prompt editor" 'Enter generate'
keys -l 'Ada had a'
check "the prompt editor shows what was typed" '> Ada had a'
keys Enter
check "the generation ends (done in the status line)" 'done \((eot|max_tokens|max_actions|context)\)'
check "the playback reaches the end of the log" 'Text - clean - ([0-9]+)/\1 '
check "generated text follows the prompt" 'Ada had a.{8,}'
check "the seed used is shown" 'seed used: 7 '

# Views.
keys v
check "v: trail view" 'Text - trail'
keys v
check "v: timeline view lists events" 'Text - timeline'
check "the timeline is the branch view (its summary row)" \
    '(no position rewritten yet|[0-9]+ positions? rewritten|LOOP: )'
keys v
check "v: back to the clean view" 'Text - clean'

# Help.
keys '?'
# The title says how to close it; a help taller than the screen scrolls ("Help 1-25/37 - ...").
check "? opens the help" 'Help( [0-9]+-[0-9]+/[0-9]+ - j k scroll,| -) q'
# The help is as wide as its lines need (it was a fixed 70 columns that cut them).
check "the help's longest line is whole at 100 columns" \
    'Tab S-Tab +move between panes \(text A and B, decoding, fine-tune, stats\.\.\.\) '
check "the help's last line is whole at 100 columns" \
    'g: glossary\. The UI starts in the prompt editor; F-keys have the aliases above\.'
keys g
check "g in the help shows the glossary" 'Glossary: what the numbers mean'
check "the glossary explains the sampled p" 'sampled p +inspector'
keys q
if wait_gone 'Help( [0-9]+-[0-9]+/[0-9]+)? - '; then
	pass "q closes the help"
else
	fail "q closes the help" "the help is still shown"
fi

# Resize.
$T resize-window -t ui -x 80 -y 24
check "80x24: the layout adapts (status line, decoding pane)" 'Decoding'
keys Tab g
check "80x24: the decoding pane shows the backtracking knobs (g: the top)" \
    'knob +value default'
check "80x24: bksp_bias and its group in view" 'bksp_bias +[-0-9.inf]+ +0'
keys BTab
if grep -q 'repeat_…' "$tmp/screen"; then
	fail "80x24: no two knobs read repeat_…" "$(grep -c 'repeat_…' "$tmp/screen") rows"
else
	pass "80x24: no two knobs read repeat_…"
fi
if wait_width 80; then
	pass "80x24: drawn at the new width"
else
	fail "80x24: drawn at the new width" "the top line is not 80 columns"
fi
keys '?'
check "80x24: a long help line wraps onto the next row instead of being cut" \
    ' {10,}stats\.\.\.\) +.'
keys q
if wait_gone 'Help( [0-9]+-[0-9]+/[0-9]+)? - '; then
	pass "80x24: q closes the help"
else
	fail "80x24: q closes the help" "the help is still shown"
fi
$T resize-window -t ui -x 40 -y 12
if wait_gone 'Decoding' && wait_for 'Text - clean'; then
	pass "40x12: the side panes collapse, the text pane stays"
else
	fail "40x12: the side panes collapse, the text pane stays" "screen not as expected"
fi
$T resize-window -t ui -x 30 -y 8
check "30x8: terminal too small, with the sizes" 'terminal too small: have 30x8'
$T resize-window -t ui -x 39 -y 12
check "39x12: the too-small message follows the size" 'terminal too small: have 39x12'
if grep -q 'need 40x10' "$tmp/screen" && grep -q 'have 39x12' "$tmp/screen"; then
	pass "39x12: 'need 40x10' is not cut in two"
else
	fail "39x12: 'need 40x10' is not cut in two" "a size is split over two rows"
fi
$T resize-window -t ui -x 100 -y 30
check "back to 100x30" 'Inspector'
if wait_width 100; then
	pass "100x30: drawn at the new width"
else
	fail "100x30: drawn at the new width" "the top line is not 100 columns"
fi

# R replays with the same seed: the same text.
capture
grep 'Ada had a' "$tmp/screen" >"$tmp/first"
keys C-l # clears the notice, so that "done" below is the new run's
if wait_gone 'done \('; then
	pass "Ctrl-L redraws and clears the notice"
else
	fail "Ctrl-L redraws and clears the notice" "the notice stayed"
fi
keys R
check "R regenerates and ends" 'done \('
check "R: the playback reaches the end of the log" 'Text - clean - ([0-9]+)/\1 '
capture
grep 'Ada had a' "$tmp/screen" >"$tmp/second"
if [ -s "$tmp/first" ] && cmp -s "$tmp/first" "$tmp/second"; then
	pass "R with the same seed gives the same text"
else
	fail "R with the same seed gives the same text" "$(cat "$tmp/first") / $(cat "$tmp/second")"
fi

# S: the same prompt with a new seed, even though the decoding pane fixes seed 7.
keys C-l
wait_gone 'done \('
keys S
check "S regenerates with a new seed and ends" "$ENDED"
if grep -Eq 'seed [0-9]+ ' "$tmp/screen" && ! grep -q ' seed 7 ' "$tmp/screen"; then
	pass "S: the status line shows a seed other than 7"
else
	fail "S: the status line shows a seed other than 7" "$(grep -o 'seed [0-9-]*' "$tmp/screen" | head -2)"
fi

# A model that backspaces: raise backspace_bias, generate, see the erased tokens.
keys Tab
check "Tab focuses the decoding pane again" 'presets'
keys g Enter C-u 4 Enter
check "backspace_bias typed as 4" '(backspace_bias|bksp_bias) +4 '
# b: the last run's knobs (bias 0) against the current ones (bias 4), same prompt and seeds.
keys b
check "b: the before/after table names the change" 'backspace_bias 0 -> 4'
check "b: the table has before and after columns" 'before +after'
if wait_for 'before/after, (seeds [0-9]+\+2|3 seeds)'; then
	pass "b: the comparison finishes"
else
	fail "b: the comparison finishes" "still running"
fi
check "b: erases per 100 tokens, before and after" '(erases/100|erases per 100 tokens) +[0-9.]+ +[0-9.]+'
check "b: corrections/retypes and loops" '(fix/retype|corrections/retypes) +[0-9]+/[0-9]+ +[0-9]+/[0-9]+'
keys BTab i C-u
check "i edits the prompt" 'Enter generate'
keys -l 'Ben had a'
keys Enter
check "with a +4 bias the generation erases tokens" 'done \([a-z_]+\): [0-9]+ tokens, [1-9][0-9]* erased'
check "the playback of the erasing run reaches its end" 'Text - clean - ([0-9]+)/\1 '
grep -A3 '^┃Ben had a' "$tmp/screen" >"$tmp/clean-text"
# Marks of rewritten text: m selects one, the inspector shows its <bksp>.
keys m
check "m: a mark selected, the inspector on its <bksp>" 'mark 1/[0-9]+: the inspector'
check "m: the inspector title says selected" 'Inspector - selected [0-9]+/'
keys Escape
if wait_gone 'Inspector - selected'; then
	pass "Esc after m: the inspector follows the playback again"
else
	fail "Esc after m: the inspector follows the playback again" "still selected"
fi
# Auto-pause: r replays and stops at the first <bksp>, with P(<bksp>) against the best token.
keys a
check "a: auto-pause on (the status line says so)" 'clean [0-9]+/s auto-pause'
keys r
check "auto-pause: the replay stops at a <bksp> and shows P(<bksp>) vs the best token" \
    '<bksp> here: P\(<bksp>\) [0-9.]+ vs best token'
check "auto-pause: paused there" 'Text - clean \(paused\)'
keys a
if wait_gone 'clean [0-9]+/s auto-pause'; then
	pass "a again: auto-pause off"
else
	fail "a again: auto-pause off" "still on"
fi
keys Space
check "Space: the replay goes on to the end" 'Text - clean - ([0-9]+)/\1 '
keys v
check "trail view after erasures" 'Text - trail - ([0-9]+)/\1 '
grep -A3 '^┃Ben had a' "$tmp/screen" >"$tmp/trail-text"
if [ -s "$tmp/trail-text" ] && ! cmp -s "$tmp/clean-text" "$tmp/trail-text"; then
	pass "the trail view keeps the erased tokens (its text differs from the clean view)"
else
	fail "the trail view keeps the erased tokens (its text differs from the clean view)" \
	    "same text in both views"
fi
keys v
check "the timeline lists the rewritten positions with their erased attempts" \
    "slot [0-9]+: '[^']*' x"
# A click (an SGR mouse report) on the first position's row (under the summary row)
# selects its last attempt.
$T send-keys -t ui -l "$(printf '\033[<0;10;3M\033[<0;10;3m')"
check "a click on a timeline row: the inspector shows it" 'Inspector - selected [0-9]+/'
keys Escape
if wait_gone 'Inspector - selected'; then
	pass "Esc: the inspector follows the playback again"
else
	fail "Esc: the inspector follows the playback again" "still the clicked token"
fi
keys v
check "back to the clean view after erasures" 'Text - clean'

# A loop (issue 11): at temperature 0 with backspace_bias 4 the model types and erases the
# same token until the action cap (the model of data/README round 7 needs 4; earlier ones
# looped at 3); the status line and the stats pane name the knob.
keys Tab
check "Tab focuses the decoding pane for the loop" 'presets'
keys g j j j j Enter C-u 0 Enter
check "temperature typed as 0" 'temperature +0 '
keys g Enter C-u 4 Enter
check "backspace_bias typed as 4" '(backspace_bias|bksp_bias) +4 '
keys BTab i C-u
keys -l 'Ada had a'
keys Enter
check "a looping run: the status line says done, then names forbid_retype" \
    'done \([a-z_]+\), loop: set forbid_retype 1 \(now 0\)'
check "a looping run: the stats pane flags the loop" 'LOOP: set forbid_retype'
keys v v
check "a looping run: the branch view flags the looping position" \
    "slot [0-9]+: '[^']*' x[0-9]+ erased/retyped.*loop: forbid_retype"
keys v

quit_ok "UTF-8 run" q

# The fine-tune pane, on a copy of the model in $tmp (it saves next to the model),
# run from the source tree so that the model's corpus (data/corpus.txt) is found.
cp "$MODEL" "$tmp/ftmodel.bin"
saved_model=$MODEL
MODEL=$tmp/ftmodel.bin
START_DIR=$SRCDIR start TERM=xterm-256color LANG=C.UTF-8
check "fine-tune: the UI starts" 'ftmodel\.bin'
keys Tab Tab
check "fine-tune: Tab Tab focuses the fine-tune pane (its key hints)" \
    'Enter start +j k h l e options +p pause +x stop +s save'
check "fine-tune: its rows before a start" 'objective +SequenceMatch \(sm\)'
keys j e C-u 2 5 0 Enter
check "fine-tune: a typed value sets a row (steps 250)" 'steps +250 '
keys e C-u x 1 Enter
check "fine-tune: a bad value is refused with its message" 'steps: .x1. is not a whole number'
check "fine-tune: a bad value changes nothing" 'steps +250'
keys j l
check "fine-tune: l raises the learning rate to 0.0005" 'lr +0\.0005'
keys j j l
check "fine-tune: the weights row toggles to the next token" 'weights +next token'
keys Enter
check "fine-tune: Enter asks first, naming the objective, steps, base model and file" \
    'Start fine-tune sm, 250 steps on ftmodel\.bin, saving ftmodel-ft\.bin\? y/n'
capture
if grep -q 'state running' "$tmp/screen"; then
	fail "fine-tune: nothing runs while it asks" "it started"
else
	pass "fine-tune: nothing runs while it asks"
fi
keys y
check "fine-tune: y starts it with the rows' options and steps move" \
    'state running +step [1-9][0-9]*/250'
check "fine-tune: the run's options are shown while it runs" 'sm, 250 steps, lr 0\.0005'
keys p
check "fine-tune: p pauses" 'state paused'
check "fine-tune: once paused the note says so (not 'pausing after this step')" \
    'paused at step [0-9]+: p resumes'
if wait_gone 'pausing after this step'; then
	pass "fine-tune: 'pausing after this step' is gone once paused"
else
	fail "fine-tune: 'pausing after this step' is gone once paused" "still shown"
fi
keys p
check "fine-tune: p resumes" 'state running'
keys s
check "fine-tune: s asks first" 'Save the fine-tune \(step [0-9]+\) to ftmodel-ft\.bin\? y/n'
keys y
check "fine-tune: s saves (between two steps)" 'saved .*ftmodel-ft\.bin at step [0-9]+'
if [ -s "$tmp/ftmodel-ft.bin" ]; then
	pass "fine-tune: s wrote ftmodel-ft.bin next to the model"
else
	fail "fine-tune: s wrote ftmodel-ft.bin next to the model" "no file"
fi
rm -f "$tmp/ftmodel-ft.bin"
keys x
check "fine-tune: x asks first" 'Stop the fine-tune at step [0-9]+ and save it to ftmodel-ft\.bin\? y/n'
keys y
check "fine-tune: x stops it (state stopped, not done)" 'state stopped'
check "fine-tune: x says stopped at step N and where it saved" \
    'stopped at step [0-9]+; saved to ftmodel-ft\.bin'
capture
if grep -Eq 'finished (all|at)' "$tmp/screen"; then
	fail "fine-tune: x does not say finished" "$(grep -E 'finished (all|at)' "$tmp/screen")"
else
	pass "fine-tune: x does not say finished"
fi
i=0
while [ ! -s "$tmp/ftmodel-ft.bin" ] && [ "$i" -lt "$WAIT" ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -s "$tmp/ftmodel-ft.bin" ]; then
	pass "fine-tune: stopping saved ftmodel-ft.bin next to the model"
else
	fail "fine-tune: stopping saved ftmodel-ft.bin next to the model" "no file"
fi
if [ -s "$tmp/ftmodel.bin" ] && cmp -s "$tmp/ftmodel.bin" "$saved_model"; then
	pass "fine-tune: the loaded model file is left as it was"
else
	fail "fine-tune: the loaded model file is left as it was" "it changed"
fi
# A second run never replaces the first one's file: it takes ftmodel-ft-2.bin.
cp "$tmp/ftmodel-ft.bin" "$tmp/ft-first.bin"
keys Enter
check "fine-tune: a second start names the next free file" \
    'Start fine-tune sm, 250 steps on ftmodel\.bin, saving ftmodel-ft-2\.bin\? y/n'
keys y
check "fine-tune: the second run runs" 'state running +step [1-9][0-9]*/250'
keys x y
check "fine-tune: the second run stops into ftmodel-ft-2.bin" \
    'stopped at step [0-9]+; saved to ftmodel-ft-2\.bin'
i=0
while [ ! -s "$tmp/ftmodel-ft-2.bin" ] && [ "$i" -lt "$WAIT" ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -s "$tmp/ftmodel-ft-2.bin" ] && cmp -s "$tmp/ftmodel-ft.bin" "$tmp/ft-first.bin"; then
	pass "fine-tune: the second result is ftmodel-ft-2.bin; the first is left as it was"
else
	fail "fine-tune: the second result is ftmodel-ft-2.bin; the first is left as it was" \
	    "$(ls "$tmp")"
fi
rm -f "$tmp/ft-first.bin" "$tmp"/ftmodel-ft*
# A start answered with anything but y does not start.
keys g
check "fine-tune: g asks too" 'Start fine-tune .*\? y/n'
keys n
check "fine-tune: n does not start it" 'not started'
# Typing a prompt into the fine-tune pane starts, stops and saves nothing.
keys -l 'a big dog'
check "fine-tune: a typed prompt says where the focus is and how back" \
    'typing\? focus is on the Fine-tune pane, not the prompt: Esc goes back'
capture
if grep -Eq 'Start fine-tune|state running' "$tmp/screen"; then
	fail "fine-tune: a typed prompt starts nothing" "a start or a question"
else
	pass "fine-tune: a typed prompt starts nothing"
fi
keys Escape
check "fine-tune: Esc goes back to the prompt editor" 'Enter generate'
quit_ok "fine-tune run (stopped: no question)" F10

# Quitting while a fine-tune runs asks; n goes back, y stops, saves and quits.
rm -f "$tmp/ftmodel-ft.bin"
START_DIR=$SRCDIR start TERM=xterm-256color LANG=C.UTF-8
check "fine-tune (quit): the UI starts" 'ftmodel\.bin'
# Many steps, so that it still runs when y answers.
keys Tab Tab j e C-u 1 0 0 0 0 0 Enter g y
check "fine-tune (quit): g y starts it" 'state running +step [1-9][0-9]*/100000'
keys q
check "fine-tune (quit): q asks: save, discard or cancel" \
    'Quit\? fine-tune at step [0-9]+/100000: s save, d discard, c cancel'
step1=$(grep -o 'Quit? fine-tune at step [0-9]*' "$tmp/screen" | grep -o '[0-9]*$')
i=0
step2=$step1
while [ "$step2" = "$step1" ] && [ "$i" -lt "$WAIT" ]; do
	sleep 0.1
	capture
	step2=$(grep -o 'Quit? fine-tune at step [0-9]*' "$tmp/screen" | grep -o '[0-9]*$')
	i=$((i + 1))
done
if [ -n "$step2" ] && [ "$step2" != "$step1" ]; then
	pass "fine-tune (quit): the question's step count is live ($step1, then $step2)"
else
	fail "fine-tune (quit): the question's step count is live" "step $step1, then '$step2'"
fi
$T resize-window -t ui -x 80 -y 24
check "fine-tune (quit): at 80 columns the whole question shows" \
    'Quit\? fine-tune at step [0-9]+/100000: s save, d discard, c cancel'
$T resize-window -t ui -x 100 -y 30
keys c
check "fine-tune (quit): c goes back" 'not quitting; the fine-tune goes on'
check "fine-tune (quit): still running after c" 'state running'
keys F10
check "fine-tune (quit): F10 asks too" 'Quit\? fine-tune .*s save, d discard, c cancel'
quit_ok "fine-tune (quit): s" s
if [ -s "$tmp/ftmodel-ft.bin" ] && grep -q 'fine-tune stopped at step [0-9]*; saved' "$tmp/err"; then
	pass "fine-tune (quit): s saved what it learned (file and notice)"
else
	fail "fine-tune (quit): s saved what it learned (file and notice)" \
	    "$(cat "$tmp/err" 2>/dev/null)"
fi
# d discards: nothing is written.
rm -f "$tmp"/ftmodel-ft*
START_DIR=$SRCDIR start TERM=xterm-256color LANG=C.UTF-8
check "fine-tune (discard): the UI starts" 'ftmodel\.bin'
keys Tab Tab j e C-u 1 0 0 0 0 0 Enter g y
check "fine-tune (discard): g y starts it" 'state running +step [1-9][0-9]*/100000'
keys q
check "fine-tune (discard): q asks" 's save, d discard, c cancel'
quit_ok "fine-tune (discard): d" d
if ! ls "$tmp"/ftmodel-ft* >/dev/null 2>&1 && grep -q 'discarded' "$tmp/err"; then
	pass "fine-tune (discard): d wrote no file (and said so)"
else
	fail "fine-tune (discard): d wrote no file (and said so)" \
	    "$(ls "$tmp"; cat "$tmp/err" 2>/dev/null)"
fi
MODEL=$saved_model

# NO_COLOR: attributes only, still starts and quits.
start TERM=xterm-256color LANG=C.UTF-8 NO_COLOR=1
check "NO_COLOR=1: starts with colours none" 'theme .* colours none'
$T capture-pane -p -e -t ui >"$tmp/escapes" 2>/dev/null
if grep -Eq '\[(3[0-7]|4[0-7]|38;|48;)' "$tmp/escapes"; then
	fail "NO_COLOR=1: no colour escapes on the screen" "colour SGR found"
else
	pass "NO_COLOR=1: no colour escapes on the screen"
fi
# Marks without colour: an erasing run (seed 7, backspace_bias 4) shows struck text and
# underlined marks; attributes and glyphs carry them.
keys Tab G Enter C-u 7 Enter g Enter C-u 4 Enter
check "NO_COLOR=1: seed 7 and backspace_bias 4 typed" '(backspace_bias|bksp_bias) +4 '
keys BTab
keys -l 'Ben had a'
keys Enter
check "NO_COLOR=1: the erasing run plays to its end" 'Text - clean - ([1-9][0-9]*)/\1 '
wait_gone ' - generating' || true
$T capture-pane -p -e -t ui >"$tmp/escapes"
if grep -q "$(printf '\314\266')" "$tmp/escapes" &&
    grep -Eq "$(printf '\033')\[([0-9]+;)*4(;[0-9]+)*m" "$tmp/escapes"; then
	pass "NO_COLOR=1: marks are struck text and underline"
else
	fail "NO_COLOR=1: marks are struck text and underline" "no U+0336 or no underline SGR"
fi
if grep -Eq "$(printf '\033')\[(3[0-7]|4[0-7]|38;|48;)" "$tmp/escapes"; then
	fail "NO_COLOR=1: still no colour escapes with marks" "colour SGR found"
else
	pass "NO_COLOR=1: still no colour escapes with marks"
fi
quit_ok "NO_COLOR run" F10

# LANG=C: ASCII glyphs, never a refusal.
start TERM=xterm-256color LANG=C
check "LANG=C: starts" 'theme .* colours'
check "LANG=C: ASCII boxes" '^\+[-=]+ Text'
if grep -q '━\|─' "$tmp/screen"; then
	fail "LANG=C: no UTF-8 box drawing" "found UTF-8 lines"
else
	pass "LANG=C: no UTF-8 box drawing"
fi
quit_ok "LANG=C run" C-q

# Other terminals: vt100 (no colour) and xterm-direct (24-bit colour, from
# Debian's ncurses-term).
start TERM=vt100 LANG=C.UTF-8
check "TERM=vt100: starts without colours" 'theme .* colours none'
keys Tab
check "TERM=vt100: Tab focuses the decoding pane" 'presets'
# Ctrl-Q reaches the UI here too: raw() clears IXON. Only a ^Q sent before the first
# frame is lost (the tty is still cooked, with IXON, and its line discipline eats it).
keys C-q
if wait_for 'UI-EXITED 0' && grep -Eq '(^| )icanon( |$)' "$tmp/stty"; then
	pass "vt100 run: C-q exits with status 0 and restores the terminal modes"
else
	fail "vt100 run: C-q exits with status 0 and restores the terminal modes" \
	    "$(grep 'UI-EXITED' "$tmp/screen")"
fi
# vt100 has no alternate screen: the UI blanks the screen as it quits and leaves the
# cursor on the bottom line, so the exit line is the only text, at the bottom.
if [ "$(grep -c . "$tmp/screen")" -eq 1 ] &&
    grep -n 'UI-EXITED' "$tmp/screen" | grep -Eq '^(29|30):'; then
	pass "vt100 run: quitting clears the screen and leaves the cursor at the bottom"
else
	fail "vt100 run: quitting clears the screen and leaves the cursor at the bottom" \
	    "$(grep -c . "$tmp/screen") non-blank lines; exit line at $(grep -n 'UI-EXITED' \
	    "$tmp/screen" | cut -d: -f1)"
fi
start TERM=xterm-direct LANG=C.UTF-8
check "TERM=xterm-direct: starts with direct colour" 'theme .* colours direct'
quit_ok "xterm-direct run" C-q

# Ctrl-C never quits: at rest it says so, during the replay it pauses it; SIGTERM
# restores the terminal.
start TERM=xterm-256color LANG=C.UTF-8
check "started again" 'theme .* colours'
keys C-c
check "Ctrl-C at the prompt does not quit; it says what quits" \
    'nothing to stop \(\^C never quits: q, F10 or \^Q quits\)'
keys -l 'Ada had a'
keys Enter
check "Ctrl-C test: a generation ends" "$ENDED"
keys - - - - -
keys r
check "Ctrl-C test: r replays (slowly)" ' 1/s( |$)'
keys C-c
check "Ctrl-C during the replay animation pauses it" 'playback paused: Space resumes'
capture
if grep -q '^UI-EXITED' "$tmp/screen"; then
	fail "Ctrl-C during the replay animation does not quit" "it quit"
else
	pass "Ctrl-C during the replay animation does not quit"
fi
quit_ok "Ctrl-C run" C-q
start TERM=xterm-256color LANG=C.UTF-8
check "started again" 'theme .* colours'
pid=$($T display -p -t ui '#{pane_pid}')
pkill -TERM -P "$pid"
if wait_for '^UI-EXITED 143$' && grep -Eq '(^| )icanon( |$)' "$tmp/stty"; then
	pass "SIGTERM: exits 143 with the terminal restored"
else
	fail "SIGTERM: exits 143 with the terminal restored" "$(tr '\n' ' ' <"$tmp/stty")"
fi

# Compare mode: the SequenceMatch model beside its MLE base, one prompt, one seed.
UI_ARGS="--compare '$SRCDIR/data/base.bin'" start TERM=xterm-256color LANG=C.UTF-8 \
    XDG_STATE_HOME="$tmp/state-compare"
check "compare: the status line names both models" ' A model\.bin \(bksp\) \| B base\.bin '
check "compare: two text panes and two stats panes" 'Stats.*Stats'
keys -l 'Lena'
keys Enter
check "compare: both models write after the same prompt" '^.Lena.*.Lena'
if wait_gone ' - generating'; then
	pass "compare: both generations end"
else
	fail "compare: both generations end" "still generating"
fi
# Lockstep: A's playback keys drive B's pane too (wide enough for the positions in the titles).
$T resize-window -t ui -x 200 -y 30
keys Space
check "compare: Space pauses side A" 'Text A [^ ]+ - [a-z]+ \(paused\)'
check "compare: ... and side B with it" 'Text B [^ ]+ - [a-z]+ \(paused\)'
keys Home
check "compare: Home rewinds side B too" 'Text B [^ ]+ - [a-z]+ \(paused\) - 0/'
keys r
if wait_gone 'Text B [^ ]+ - [a-z]+ \(paused\)'; then
	pass "compare: r replays side B too"
else
	fail "compare: r replays side B too" "B stays paused"
fi
keys End
check "compare: End ends both" 'Text A [^ ]+ - [a-z]+ \(paused\) - ([0-9]+)/\1 '
check "compare: ... side B too" 'Text B [^ ]+ - [a-z]+ \(paused\) - ([0-9]+)/\1 '
i=0
while [ "$i" -lt "$WAIT" ] && [ "$(ls "$tmp/state-compare/seqmatch/sessions" 2>/dev/null | wc -l)" -lt 2 ]; do
	sleep 0.1
	i=$((i + 1))
done
seeds=$(cat "$tmp/state-compare/seqmatch/sessions/"*.jsonl 2>/dev/null | head -c 100000 |
    grep -o '"type": "header".*' | sed 's/.*"seed": \([0-9]*\)}$/\1/' | sort -u)
models=$(cat "$tmp/state-compare/seqmatch/sessions/"*.jsonl 2>/dev/null |
    grep -o '"type": "header", [^{]*"model": "[^"]*"' | sed 's/.*"model": "//; s/"$//' | sort | tr '\n' ' ')
if [ "$(printf '%s\n' "$seeds" | grep -c .)" -eq 1 ] && echo "$models" | grep -q 'base\.bin.*model\.bin'; then
	pass "compare: both runs saved, one seed ($seeds)"
else
	fail "compare: both runs saved, one seed" "seeds: $seeds; models: $models"
fi
keys Escape Tab
check "compare: Tab moves to model B's text pane (playback keys)" 'Spc pause'
keys Home
check "compare: B's Home drives side A too" 'Text A [^ ]+ - [a-z]+ \(paused\) - 0/'
$T resize-window -t ui -x 100 -y 30
quit_ok "compare run" q
UI_ARGS=

# Compare mode on `seqmatch quantize` files of two formats: A q8, B bf16. Each
# side decodes with its own file's matrices, mapped from the file; the notice
# of the two formats says so (wide enough to show it whole).
if "$SEQMATCH" quantize --model "$MODEL" --out "$tmp/model-q8.bin" --weights q8 \
    2>"$tmp/err" </dev/null &&
    "$SEQMATCH" quantize --model "$SRCDIR/data/base.bin" --out "$tmp/base-bf16.bin" \
    --weights bf16 2>"$tmp/err" </dev/null; then
	pass "compare q8 | bf16: both files quantized"
else
	fail "compare q8 | bf16: both files quantized" "quantize failed"
fi
fp32_model=$MODEL
MODEL=$tmp/model-q8.bin
UI_ARGS="--compare '$tmp/base-bf16.bin'" start TERM=xterm-256color LANG=C.UTF-8
$T resize-window -t ui -x 400 -y 30
check "compare q8 | bf16: the status line names both models and the format" \
    ' A model-q8\.bin \(bksp\) q8 \| B base-bf16\.bin '
check "compare q8 | bf16: each side's matrices are mapped from its file" \
    'A decodes with q8, stored in the file \(matrices mapped from it.* B with bf16, stored in the file \(matrices mapped from it'
keys -l 'Lena'
keys Enter
check "compare q8 | bf16: both models write after the same prompt" '^.Lena.*.Lena'
if wait_gone ' - generating'; then
	pass "compare q8 | bf16: both generations end"
else
	fail "compare q8 | bf16: both generations end" "still generating"
fi
$T resize-window -t ui -x 100 -y 30
quit_ok "compare q8 | bf16 run" q
UI_ARGS=
MODEL=$fp32_model

# ---------------------------------------------------------------------------
# The prompt editor: bracketed paste, Alt-Enter, $EDITOR, the history file,
# clicking a token. The editor is a script: it writes a known prompt, or fails
# when the draft says "fail".
printf '%s\n' '#!/bin/sh' 'for f; do :; done' 'if grep -q fail "$f"; then exit 3; fi' \
    "printf 'from the editor\\n' >\"\$f\"" >"$tmp/editor.sh"
chmod +x "$tmp/editor.sh"
start TERM=xterm-256color LANG=C.UTF-8 "VISUAL='$tmp/editor.sh'" "XDG_STATE_HOME='$tmp/state'"
check "editor: the UI starts" 'theme .* colours'
# paste-buffer -p brackets the text only if the UI turned bracketed paste on.
printf 'pasted one\nsecond q line' >"$tmp/paste"
$T load-buffer -b p "$tmp/paste"
$T paste-buffer -p -b p -t ui
check "a bracketed paste keeps its newline (two prompt rows)" '^.> pasted one +.'
check "... and its second line; a pasted q does not quit" '^.: second q line'
capture
if grep -q 'generating' "$tmp/screen"; then
	fail "a newline inside a paste does not generate" "a generation started"
else
	pass "a newline inside a paste does not generate"
fi
keys M-Enter
keys -l 'third'
check "Alt-Enter adds a line" '^.: third '
keys C-u
keys -l 'please fail'
keys C-g
check "a failing \$EDITOR: a notice" 'editor editor\.sh failed \(exit status 3\): the draft is kept'
check "... and the draft is kept" '^.: please fail'
keys C-a C-k BSpace C-a C-k BSpace C-a C-k
keys C-g
check "Ctrl-G: the prompt comes back from \$EDITOR" '^.> from the editor +.'
keys Enter
check "the edited prompt generates (and ends)" "$ENDED"
i=0
while ! grep -q '^from the editor$' "$tmp/state/seqmatch/history" 2>/dev/null &&
    [ "$i" -lt "$WAIT" ]; do
	sleep 0.1
	i=$((i + 1))
done
if grep -q '^from the editor$' "$tmp/state/seqmatch/history" 2>/dev/null; then
	pass "the history file holds the sent prompt"
else
	fail "the history file holds the sent prompt" "$(cat "$tmp/state/seqmatch/history" 2>&1)"
fi
quit_ok "editor run" C-q
start TERM=xterm-256color LANG=C.UTF-8 "XDG_STATE_HOME='$tmp/state'"
check "editor: started again" 'theme .* colours'
keys Up
check "the history survives a restart (Up recalls the prompt)" '^.> from the editor'
quit_ok "history run" C-q

# A prompt too long for the model's context is refused: it comes back to the editor,
# and the notice says so (read at 200 columns: the notice is long).
start TERM=xterm-256color LANG=C.UTF-8 "XDG_STATE_HOME='$tmp/state-long'"
check "long prompt: the UI starts" 'theme .* colours'
awk 'BEGIN { for (i = 0; i < 400; i++) printf "word "; }' >"$tmp/long"
$T load-buffer -b p "$tmp/long"
$T paste-buffer -p -b p -t ui
keys Enter
$T resize-window -t ui -x 200 -y 30
check "a too long prompt is refused, and the notice says Up recalls it" \
    "do not fit the model's context of [0-9]+; it is back in the editor \\(and Up recalls it\\)"
check "... and the prompt is back in the editor" '^.[>:^] +(word )+'
quit_ok "long prompt run" C-q

# ---------------------------------------------------------------------------
# The theme picker (F2, T) and the UI state file (ui.yaml).

# theme list: one line per name, sorted, a user theme shadowing a shipped one.
mkdir -p "$tmp/cfg2/seqmatch/themes"
printf 'name: my-light\n' >"$tmp/cfg2/seqmatch/themes/light.yaml"
XDG_CONFIG_HOME=$tmp/cfg2 "$SEQMATCH" theme list >"$tmp/list" 2>"$tmp/err"
if [ "$(cut -f1 "$tmp/list" | tr '\n' ' ')" = "default gruvbox-dark high-contrast light monochrome " ] &&
    grep -q "^light	$tmp/cfg2/seqmatch/themes/light.yaml\$" "$tmp/list"; then
	pass "theme list: sorted, one line a name, the user's light.yaml wins"
else
	fail "theme list: sorted, one line a name, the user's light.yaml wins" "$(cat "$tmp/list")"
fi

# A broken user theme, and the state in $HOME/.local/state (XDG_STATE_HOME empty).
cfg=$tmp/cfg
mkdir -p "$cfg/seqmatch/themes"
printf 'name: broken\nslots:\n  txet: red\n' >"$cfg/seqmatch/themes/broken.yaml"
uistate=$HOME/.local/state/seqmatch/ui.yaml
rm -f "$uistate" "$uistate.bad"
start TERM=xterm-256color LANG=C.UTF-8 XDG_CONFIG_HOME="$cfg" XDG_STATE_HOME=
check "picker run: starts in the default theme" 'theme default \| colours 256'
$T capture-pane -p -e -t ui | grep 'theme default' >"$tmp/status0"
keys F2
check "F2 opens the theme picker with the current theme marked" '>\* default  '
check "the picker lists a user theme with where it comes from" 'broken +.*seqmatch/themes'
keys Down
check "Down previews gruvbox-dark: the status line names it" 'theme gruvbox-dark \| colours'
$T capture-pane -p -e -t ui | grep 'theme gruvbox-dark' >"$tmp/status1"
if [ -s "$tmp/status1" ] && ! cmp -s "$tmp/status0" "$tmp/status1"; then
	pass "the preview recolours the screen (the status line's escapes change)"
else
	fail "the preview recolours the screen (the status line's escapes change)" "same escapes"
fi
keys Escape
check "Esc restores the previous theme" 'theme default \| colours 256'
if wait_gone '┏━ Theme'; then
	pass "Esc closes the picker"
else
	fail "Esc closes the picker" "the picker is still shown"
fi
$T capture-pane -p -e -t ui | grep 'theme default' >"$tmp/status2"
if cmp -s "$tmp/status0" "$tmp/status2"; then
	pass "Esc restores the previous colours exactly"
else
	fail "Esc restores the previous colours exactly" "the status line's escapes differ"
fi
keys Tab
check "Tab focuses the decoding pane, where letters are keys" 'presets'
keys T
check "T opens the picker outside the prompt editor" '>\* default  '
keys k
check "a broken theme shows its first error (file:line:col) in the picker" \
    'broken\.yaml:3:3: unknown'
check "and the colours stay (status still default)" 'theme default \| colours 256'
keys Enter j j j j
check "Enter does not keep a broken theme; j moves on to light" '> +light  '
keys Enter
check "Enter keeps light" 'theme light kept'
if grep -q '^theme: "light"$' "$uistate" 2>/dev/null; then
	pass "the pick is saved in ~/.local/state/seqmatch/ui.yaml at once"
else
	fail "the pick is saved in ~/.local/state/seqmatch/ui.yaml at once" "$(cat "$uistate" 2>&1)"
fi
$T resize-window -t ui -x 80 -y 24
keys F2
check "80x24: the picker fits, every theme listed" 'monochrome +.*themes'
keys Escape
$T resize-window -t ui -x 40 -y 12
keys F2
check "40x12: the picker still shows the selection" '>\* light'
keys Escape
$T resize-window -t ui -x 100 -y 30
# A key sent before the UI has read the resize goes by the old layout (at 40x12
# the focus is the prompt editor, and z would be typed there): wait for it.
wait_width 100
keys z
# Only a pane as wide as the screen has room for the ranges column.
check "z zooms the decoding pane" '^.{1,3}temperature +0\.8 +0\.8 +0\.\.100'
if wait_gone 'Text - '; then
	pass "zoomed: the other panes are gone"
else
	fail "zoomed: the other panes are gone" "the text pane is still shown"
fi
quit_ok "picker run" q
if grep -q '^zoom: decode$' "$uistate" && grep -q '^focus: decode$' "$uistate" &&
    grep -q '^panes: \[text, decode, inspect, stats, finetune\]$' "$uistate"; then
	pass "quit saves the panes, zoom and focus"
else
	fail "quit saves the panes, zoom and focus" "$(cat "$uistate")"
fi

# The last pick beats config.yaml's theme; zoom comes back.
printf 'theme: monochrome\n' >"$cfg/seqmatch/config.yaml"
start TERM=xterm-256color LANG=C.UTF-8 XDG_CONFIG_HOME="$cfg" XDG_STATE_HOME=
check "the UI state's pick beats config.yaml's theme" 'theme light \| colours'
if wait_for 'Decoding' && wait_for 'Text - ' && wait_for 'Enter generate'; then
	pass "the prompt has the focus at start (not the saved decode focus and zoom)"
else
	fail "the prompt has the focus at start (not the saved decode focus and zoom)" \
	    "not the prompt editor"
fi
# Typing into the decoding pane changes nothing (h lowered the temperature: undone).
keys Tab
check "Tab focuses the decoding pane" 'presets'
keys -l 'hello'
check "a prompt typed into the decoding pane: where the focus is, undone" \
    'typing\? focus is on the Decoding pane, not the prompt: Esc goes back \(changes undone\)'
check "... and the temperature is as it was" 'temperature +0\.8 '
keys Escape
check "Esc goes back to the prompt editor" 'Enter generate'
# Escape and z in one write, as a slow UI reads them: Esc closes the picker and z
# unzooms (not one Alt-z; the Alt-Enter lookahead gives back any other key).
keys Tab
check "Tab focuses the decoding pane again" 'presets'
keys z
if wait_gone 'Text - '; then
	pass "z zooms the decoding pane (for the Escape-z check)"
else
	fail "z zooms the decoding pane (for the Escape-z check)" "the text pane is still shown"
fi
keys F2
if ! wait_for '>\* light'; then
	fail "Escape and z read together: Esc closes the picker, then z unzooms" \
	    "F2 did not open the picker"
else
	$T send-keys -t ui -l "$(printf '\033z')"
	if wait_for 'Text - ' && wait_gone '>\* light'; then
		pass "Escape and z read together: Esc closes the picker, then z unzooms"
	else
		fail "Escape and z read together: Esc closes the picker, then z unzooms" \
		    "$(head -n 3 "$tmp/screen")"
	fi
fi
quit_ok "restored run" F10

# focus: finetune in ui.yaml: the prompt still has the focus, a text zoom comes back,
# and a typed prompt goes into the prompt, starting nothing.
printf 'version: 1\ntheme: light\npanes: [text, decode, inspect, stats, finetune]\nzoom: text\nfocus: finetune\n' >"$uistate"
start TERM=xterm-256color LANG=C.UTF-8 XDG_CONFIG_HOME="$cfg" XDG_STATE_HOME=
check "focus: finetune in ui.yaml: the prompt editor has the focus" 'Enter generate'
if wait_gone 'Decoding'; then
	pass "a zoom of the text pane comes back"
else
	fail "a zoom of the text pane comes back" "the decoding pane is shown"
fi
keys -l 'a big dog'
check "the typed text goes into the prompt" '> a big dog'
capture
if grep -Eq 'Start fine-tune|state running|Theme' "$tmp/screen"; then
	fail "the typed text starts nothing" "a fine-tune or the picker"
else
	pass "the typed text starts nothing"
fi
quit_ok "focus run" F10

# A bad ui.yaml: a notice with file:line:col, the defaults (config.yaml's theme),
# and on quit the file is kept as ui.yaml.bad.
printf 'theme: light\npanes: text\n' >"$uistate"
start TERM=xterm-256color LANG=C.UTF-8 XDG_CONFIG_HOME="$cfg" XDG_STATE_HOME=
check "a bad ui.yaml: a notice with file:line:col" \
    'UI state: ~/\.local/state/seqmatch/ui\.yaml:2:8: panes'
keys Escape
check "a bad ui.yaml: the defaults, so config.yaml's theme" 'theme monochrome \| colours'
quit_ok "bad ui.yaml run" F10
if [ "$(cat "$uistate.bad" 2>/dev/null)" = "$(printf 'theme: light\npanes: text')" ] &&
    grep -q '^version: 1$' "$uistate" && grep -q 'ui\.yaml\.bad' "$tmp/err"; then
	pass "the bad ui.yaml is kept as ui.yaml.bad (and said on stderr), a good one written"
else
	fail "the bad ui.yaml is kept as ui.yaml.bad (and said on stderr), a good one written" \
	    "$(ls "$(dirname "$uistate")")"
fi

# --theme beats the last pick, and is not remembered.
printf 'theme: light\n' >"$uistate"
$T kill-server >/dev/null 2>&1
runs=$((runs + 1))
T="tmux -L seqmatch-test-$$-$runs -f /dev/null"
rm -f "$tmp/stty"
: >"$tmp/screen"
$T new-session -d -x 100 -y 30 -s ui -c "$PWD" \
    "env -u LC_ALL -u LC_CTYPE TERM=xterm-256color LANG=C.UTF-8 XDG_CONFIG_HOME='$cfg' \
    XDG_STATE_HOME= '$SEQMATCH' ui --model '$MODEL' --theme high-contrast 2>'$tmp/err'; \
    st=\$?; stty -a >'$tmp/stty' 2>&1; echo UI-EXITED \$st; exec sleep 600"
check "--theme beats the UI state's pick" 'theme high-contrast \| colours'
quit_ok "--theme run" F10
if grep -q '^theme: "light"$' "$uistate"; then
	pass "--theme is not saved as the pick"
else
	fail "--theme is not saved as the pick" "$(cat "$uistate")"
fi

# Sessions: a finished generation is saved; F3 lists it, Enter opens it (the
# text pane replays it), R regenerates it; --session ID opens one at start-up.
start_session() { # start_session ARGS...: the UI with a private XDG_STATE_HOME and ARGS
	$T kill-server >/dev/null 2>&1
	runs=$((runs + 1))
	T="tmux -L seqmatch-test-$$-$runs -f /dev/null"
	rm -f "$tmp/stty"
	: >"$tmp/screen"
	$T new-session -d -x 100 -y 30 -s ui \
	    "env -u LC_ALL -u LC_CTYPE TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME='$tmp/state-sessions' \
	    '$SEQMATCH' ui --model '$MODEL' $* 2>'$tmp/err'; st=\$?; stty -a >'$tmp/stty' 2>&1; \
	    echo UI-EXITED \$st; exec sleep 600"
}
start_session
check "sessions: the UI starts" 'theme .* colours'
keys -l 'Ada had a'
keys Enter
check "sessions: a generation ends" "$ENDED"
keys F3
check "sessions: F3 lists the saved session" 'Sessions \(1\) - Enter opens'
check "sessions: the row has the model, the prompt" 'model\.bin .* Ada had a'
keys Escape
if wait_gone 'Sessions \(1\)'; then pass "sessions: Esc closes the browser"; else fail "sessions: Esc closes the browser" "still shown"; fi
keys O
check "sessions: O (outside the prompt editor) opens the browser" 'Sessions \(1\)'
keys Enter
check "sessions: Enter opens it (the notice says which)" 'opened [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}; R gen'
# The replay holds each erase for 0.35 s at the default speed, and this run's seed is not
# fixed: one with 42 erases of 129 events took about 18 s, past the usual wait.
wait_was=$WAIT
[ "$WAIT" -ge 900 ] || WAIT=900
check "sessions: the text pane replays it to the end" 'Text - clean - ([0-9]+)/\1 '
WAIT=$wait_was
keys C-l R
check "sessions: R regenerates it" "$ENDED"
# The browser shows the decoding settings; opening one says what it changed.
keys Tab
check "sessions: Tab focuses the decoding pane" 'presets'
keys g j j j j l
check "sessions: temperature raised to 0.85" 'temperature +0\.85'
keys F3
check "sessions: the browser shows the selected session's settings" \
    'settings: seed used [0-9]+; temperature 0\.8 top_k 40 top_p 0\.95'
keys Enter
check "sessions: opening one says which settings it changed" \
    'opened: temperature 0\.8 \(was 0\.85\)'
check "sessions: ... and it changed them" 'temperature +0\.8 '
# A tab in a prompt: \t in the browser, not a replacement character.
keys BTab i
check "sessions: Shift-Tab and i: the prompt editor" 'Enter generate'
keys C-u
printf 'Tab\there' >"$tmp/paste"
$T load-buffer -b p "$tmp/paste"
$T paste-buffer -p -b p -t ui
keys C-l Enter
check "sessions: the prompt with a tab generates" "$ENDED"
keys F3
# (Not necessarily the selected row: sessions saved in one second sort by their seed.)
check "sessions: a tab in a prompt is shown as \\t in the browser" 'model\.bin .*Tab\\there'
if grep -q "$(printf '\357\277\275')" "$tmp/screen"; then
	fail "sessions: no replacement character in the browser" "U+FFFD on the screen"
else
	pass "sessions: no replacement character in the browser"
fi
keys Escape
quit_ok "sessions run" F10
XDG_STATE_HOME=$tmp/state-sessions "$SEQMATCH" session list >"$tmp/list" 2>&1
id=$(head -n 1 "$tmp/list" | cut -f1)
start_session --session "$id"
# On failure, say which id was opened, what the list held and what the UI said.
if wait_for "seed ${id##*-} \\| .*opened [0-9]{4}-[0-9]{2}-[0-9]{2} "; then
	pass "sessions: --session ID opens it at start-up (its seed in the status line)"
else
	fail "sessions: --session ID opens it at start-up (its seed in the status line)" \
	    "id '$id'; session list: $(cat "$tmp/list"); stderr: $(cat "$tmp/err")"
fi
# The same replay as above, so the same longer wait (it ran past 15 s once under ASan).
wait_was=$WAIT
[ "$WAIT" -ge 900 ] || WAIT=900
check "sessions: --session replays it" 'Text - clean - ([0-9]+)/\1 '
WAIT=$wait_was
quit_ok "--session run" F10
start_session --session 20990101-000000-1
if wait_for '^UI-EXITED 1$' && grep -q "no session '20990101-000000-1'" "$tmp/err"; then
	pass "sessions: an unknown --session is an error before the screen is taken"
else
	fail "sessions: an unknown --session is an error before the screen is taken" "$(cat "$tmp/err")"
fi

# A story checker in config.yaml (check:): the before/after table counts the runs it
# flags (this one flags every text).
mkdir -p "$tmp/cfg-check/seqmatch"
printf '%s\n' 'cat >/dev/null' 'echo "{\"id\": 0, \"violations\": [{\"kind\": \"always\"}]}"' \
    >"$tmp/check.sh"
printf 'check: sh %s/check.sh\n' "$tmp" >"$tmp/cfg-check/seqmatch/config.yaml"
start TERM=xterm-256color LANG=C.UTF-8 XDG_CONFIG_HOME="$tmp/cfg-check"
check "check: the UI starts with a checker configured" 'Enter generate'
keys -l 'Ben had a'
keys Enter
check "check: a run to compare with" "$ENDED"
keys Tab b
if wait_for 'before/after, (seeds [0-9]+\+2|3 seeds)'; then
	pass "check: the comparison finishes"
else
	fail "check: the comparison finishes" "$(grep -m1 'before/after' "$tmp/screen")"
fi
check "check: the table counts the runs the checker flags" \
    '(runs breaking a rule|violations) +3/3 +3/3'
quit_ok "checker run" F10

finish
