#!/bin/sh
# ui-bench.sh: measure the curses path of `seqmatch ui` against its performance
# targets: a full redraw of a 200x60 screen under 2 ms, 0% CPU
# while idle, keystroke to screen within one frame (16.7 ms) while a fine-tune
# runs. The UI runs in a private tmux server with SEQMATCH_UI_TRACE set, which
# makes it append one line a frame (app/ui.c, ui_trace_frame):
#   t=SECONDS size=WxH full=0|1 draw_ms=... blit_ms=... update_ms=... [key_ms=...]
# draw: panes into the grid; blit: grid to curses; update: doupdate; key: from
# wget_wch returning a key to doupdate returning on the frame after it.
#
# For each size (default 200x60 and 80x24):
#   idle     wait for the live MAUVE worker to finish (the stats pane shows its
#            estimate), then utime+stime from /proc/PID/stat over IDLE seconds
#            with no input, the frames drawn and the context switches of all
#            threads in that window;
#   redraw   N x Ctrl-L (a full terminal repaint of an unchanged grid) and N x z
#            on the decoding pane (zoom: every pane moves, every cell changes),
#            one frame waited for after each key; p50/p99/max of draw+blit+update;
#   finetune start the fine-tune (Tab to its pane, FT_START), then K keys (z,
#            toggling its zoom) at random intervals of 50-300 ms, each sent only
#            while the pane says "state running" (a finished fine-tune is started
#            again); p50/p99/max of key_ms, the CPU of the process and of the UI
#            thread in that window.
#
# usage: tests/bench/ui-bench.sh [N] [K]
#   N  redraws of each kind (default 200)      K  keys during the fine-tune (default 100)
# Environment: SEQMATCH (default ./seqmatch), MODEL (default SRCDIR/data/model.bin;
# the fine-tune runs on a copy), SRCDIR (default .), SIZES (default "200x60 80x24"),
# IDLE (seconds, default 10), UI_TERM (default xterm-256color), FT_START (the key
# that starts a fine-tune in its pane, default g) and FT_CONFIRM (the answer to the
# start question, default y), KEEP=1 (keep the traces).
# The machine should be quiet: other processes show up as noise in every number.
# Needs tmux. Not run by `make check`.

set -u
N=${1:-200}
K=${2:-100}
SRCDIR=${SRCDIR:-.}
SEQMATCH=${SEQMATCH:-./seqmatch}
MODEL=${MODEL:-$SRCDIR/data/model.bin}
SIZES=${SIZES:-200x60 80x24}
IDLE=${IDLE:-10}
UI_TERM=${UI_TERM:-xterm-256color}
FT_START=${FT_START:-g}
FT_CONFIRM=${FT_CONFIRM:-y}
WAIT=600 # tenths of a second per screen condition

# Print a message and fail.
die() {
	echo "ui-bench: $*" >&2
	exit 1
}

command -v tmux >/dev/null 2>&1 || die "tmux is not installed (apt-get install tmux)"
[ -x "$SEQMATCH" ] || die "no program at $SEQMATCH (build it, or set SEQMATCH)"
[ -r "$MODEL" ] || die "no model at $MODEL (set MODEL, or build data/model.bin: make models)"
case $SEQMATCH in /*) ;; *) SEQMATCH=$PWD/$SEQMATCH ;; esac
SRCDIR=$(cd "$SRCDIR" && pwd) || die "no directory $SRCDIR"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ui-bench.XXXXXX") || die "cannot make a temporary directory"
TMUX_TMPDIR=$tmp
export TMUX_TMPDIR
unset TMUX
T="tmux -L ui-bench-$$ -f /dev/null"
# Stop the server; remove the directory unless KEEP is set.
cleanup() {
	$T kill-server >/dev/null 2>&1
	if [ -n "${KEEP:-}" ]; then
		echo "traces kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp "$MODEL" "$tmp/model.bin" || die "cannot copy $MODEL"
# The UI gets HOME and XDG directories in $tmp: the user's config and UI state stay untouched.
mkdir -p "$tmp/home"
CLK_TCK=$(getconf CLK_TCK)

# Wall-clock seconds with nanoseconds.
now() {
	date +%s.%N
}

# focus NAME: Tab until the pane titled NAME has the focus (the heavy box).
focus() {
	_t=0
	while ! $T capture-pane -p -t ui | grep -q "┏━ $1"; do
		_t=$((_t + 1))
		[ "$_t" -le 10 ] || die "Tab does not reach the $1 pane"
		_n=$(frames)
		$T send-keys -t ui Tab
		wait_frame "$_n"
	done
}

# Shell functions share variables: the helpers count with _-prefixed ones.

# wait_for REGEX: poll the screen (0.1 s) until it matches; die on timeout.
wait_for() {
	_w=0
	while [ "$_w" -lt "$WAIT" ]; do
		if $T capture-pane -p -t ui 2>/dev/null | grep -Eq -- "$1"; then
			return 0
		fi
		sleep 0.1
		_w=$((_w + 1))
	done
	$T capture-pane -p -t ui 2>/dev/null | sed 's/^/  screen: /' >&2
	die "timed out waiting for /$1/ on the screen"
}

# frames: the number of frames in the trace so far.
frames() {
	if [ -f "$tmp/trace" ]; then
		wc -l <"$tmp/trace" | tr -d ' '
	else
		echo 0
	fi
}

# wait_frame N: poll the trace (10 ms) until it has more than N frames; die on timeout.
wait_frame() {
	_f=0
	while [ "$(frames)" -le "$1" ]; do
		_f=$((_f + 1))
		[ "$_f" -lt 3000 ] || die "no frame drawn after a key (30 s)"
		sleep 0.01
	done
}

# cpu_ticks FILE: utime+stime of a /proc stat file (the fields after the command).
cpu_ticks() {
	sed 's/^.*) //' "$1" | awk '{ print $12 + $13 }'
}

# switches PID: context switches of all the process's threads so far.
switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
	    awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { n += $2 } END { print n + 0 }'
}

# settle PID: after the screen shows the MAUVE estimate the fit's threads still run
# briefly (OpenBLAS workers spin before they sleep): poll until a whole second passes
# without a CPU tick; print how long that took.
settle() {
	_t0=$(now)
	_c=$(cpu_ticks /proc/"$1"/stat)
	_s=0
	while :; do
		sleep 1
		_n=$(cpu_ticks /proc/"$1"/stat)
		[ "$_n" != "$_c" ] || break
		_c=$_n
		_s=$((_s + 1))
		[ "$_s" -lt 60 ] || die "the UI never went quiet after the MAUVE fit (60 s)"
	done
	awk -v t0="$_t0" -v t1="$(now)" 'BEGIN { printf "  quiet %.1f s after the MAUVE " \
	    "estimate appeared\n", t1 - t0 - 1 }'
}

# stats LABEL TARGET: p50, p99, max of the numbers on stdin (nearest rank), and how many exceed TARGET.
stats() {
	sort -n | awk -v label="$1" -v target="$2" '
	    { v[NR] = $1; if ($1 > target) over++ }
	    END {
		if (NR == 0) { printf "  %-34s no samples\n", label; exit }
		p50 = v[int((NR * 50 + 99) / 100)]; p99 = v[int((NR * 99 + 99) / 100)]
		verdict = p99 <= target ? "p99 meets the target" : "p99 MISSES the target"
		printf "  %-34s n=%d p50 %.3f p99 %.3f max %.3f ms; over %.1f ms: %d (%s)\n",
		    label, NR, p50, p99, v[NR], target, over + 0, verdict
	    }'
}

# field NAME: the values of NAME= in trace lines on stdin.
field() {
	awk -v name="$1" '{ for (i = 1; i <= NF; i++) if (index($i, name "=") == 1)
	    print substr($i, length(name) + 2) }'
}

# frame_ms: draw+blit+update of trace lines on stdin.
frame_ms() {
	awk '{ s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^(draw|blit|update)_ms=/) {
	    split($i, kv, "="); s += kv[2] } print s }'
}

# breakdown: p50 of draw, blit, update of trace lines on stdin.
breakdown() {
	cat >"$tmp/lines"
	for f in draw_ms blit_ms update_ms; do
		printf '%s p50 %s  ' "${f%_ms}" "$(field "$f" <"$tmp/lines" | sort -n |
		    awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", v[int((NR * 50 + 99) / 100)] }')"
	done
	echo "(ms)"
}

echo "ui-bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$SEQMATCH" --version | sed 's/^/  /'
echo "  TERM=$UI_TERM inside tmux $(tmux -V | cut -d' ' -f2), model $MODEL"

for size in $SIZES; do
	cols=${size%x*}
	rows=${size#*x}
	rm -f "$tmp/trace"
	$T kill-server >/dev/null 2>&1
	$T new-session -d -x "$cols" -y "$rows" -s ui -c "$SRCDIR" \
	    "exec env TERM=$UI_TERM LANG=C.UTF-8 HOME='$tmp/home' XDG_CONFIG_HOME='$tmp/config' \
	    XDG_DATA_HOME='$tmp/data' XDG_STATE_HOME='$tmp/state' SEQMATCH_UI_TRACE='$tmp/trace' \
	    '$SEQMATCH' ui \
	    --model '$tmp/model.bin' 2>'$tmp/err'" || die "tmux cannot start a session"
	$T set-option -t ui remain-on-exit on >/dev/null 2>&1
	pid=$($T display -p -t ui '#{pane_pid}')
	wait_for ' seed [-0-9]'
	echo
	echo "terminal ${cols}x${rows} ($(tput -T "$UI_TERM" colors) colours), pid $pid"

	# Idle: the live MAUVE worker fits once at start; wait for its estimate.
	wait_for 'MAUVE \(live estimate\)'
	settle "$pid"
	f0=$(frames)
	c0=$(cpu_ticks /proc/"$pid"/stat)
	s0=$(switches "$pid")
	t0=$(now)
	sleep "$IDLE"
	t1=$(now)
	c1=$(cpu_ticks /proc/"$pid"/stat)
	s1=$(switches "$pid")
	f1=$(frames)
	awk -v c="$((c1 - c0))" -v hz="$CLK_TCK" -v t0="$t0" -v t1="$t1" -v f="$((f1 - f0))" \
	    -v sw="$((s1 - s0))" 'BEGIN { printf "  idle %.1f s: CPU %.2f%% (%d ticks of 1/%d s), " \
	    "%d frames, %d context switches (target 0%%)\n", t1 - t0, 100 * c / hz / (t1 - t0), c,
	    hz, f, sw }'

	# Full redraws: Ctrl-L, then z on the decoding pane (zoom toggles).
	start=$(frames)
	i=0
	while [ "$i" -lt "$N" ]; do
		f=$(frames)
		$T send-keys -t ui C-l
		wait_frame "$f"
		i=$((i + 1))
	done
	tail -n +"$((start + 1))" "$tmp/trace" | grep ' full=1 ' >"$tmp/ctrl-l"
	frame_ms <"$tmp/ctrl-l" | stats "Ctrl-L redraw (draw+blit+update)" 2
	printf '  %-34s %s\n' "" "$(breakdown <"$tmp/ctrl-l")"
	focus Decoding
	start=$(frames)
	i=0
	while [ "$i" -lt "$N" ]; do
		f=$(frames)
		$T send-keys -t ui z
		wait_frame "$f"
		i=$((i + 1))
	done
	tail -n +"$((start + 1))" "$tmp/trace" | grep 'key_ms=' >"$tmp/zoom"
	frame_ms <"$tmp/zoom" | stats "z relayout (draw+blit+update)" 2
	printf '  %-34s %s\n' "" "$(breakdown <"$tmp/zoom")"
	[ $((N % 2)) -eq 0 ] || { f=$(frames); $T send-keys -t ui z; wait_frame "$f"; }

	# Keys while a fine-tune runs.
	focus Fine-tune
	fs=$(frames)
	$T send-keys -t ui "$FT_START" "$FT_CONFIRM"
	wait_for 'state running +step [1-9]'
	tail -n +"$((fs + 1))" "$tmp/trace" | field key_ms | head -n 1 >"$tmp/start-key"
	awk -v k="$K" -v seed="$$" 'BEGIN { srand(seed); for (i = 0; i < k; i++)
	    printf "%.3f\n", 0.05 + 0.25 * rand() }' >"$tmp/intervals"
	start=$(frames)
	c0=$(cpu_ticks /proc/"$pid"/stat)
	u0=$(cpu_ticks /proc/"$pid"/task/"$pid"/stat)
	t0=$(now)
	restarts=0
	: >"$tmp/restart-at"
	while read -r gap; do
		sleep "$gap"
		if ! $T capture-pane -p -t ui | grep -q 'state running'; then
			# The fine-tune ended (it has a fixed number of steps): start another.
			frames >>"$tmp/restart-at"
			$T send-keys -t ui "$FT_START" "$FT_CONFIRM"
			wait_for 'state running +step [1-9]'
			restarts=$((restarts + 1))
		fi
		$T send-keys -t ui z
	done <"$tmp/intervals"
	sleep 0.1
	t1=$(now)
	c1=$(cpu_ticks /proc/"$pid"/stat)
	u1=$(cpu_ticks /proc/"$pid"/task/"$pid"/stat)
	f1=$(frames)
	# Leave out the frame after each restart key (it starts a fine-tune, timed below).
	awk -v start="$start" 'FILENAME == ARGV[1] { skip[$1] = 1; next }
	    FNR > start { for (f in skip) if (f + 0 < FNR && !(f in done) && /key_ms=/) {
		done[f] = 1; next } print }' "$tmp/restart-at" "$tmp/trace" >"$tmp/ft"
	field key_ms <"$tmp/ft" | stats "key to screen during the fine-tune" 16.7
	frame_ms <"$tmp/ft" | stats "frames during the fine-tune" 2
	awk -v c="$((c1 - c0))" -v u="$((u1 - u0))" -v hz="$CLK_TCK" -v t0="$t0" -v t1="$t1" \
	    -v f="$((f1 - start))" -v k="$K" 'BEGIN { printf "  %.1f s, %d keys: CPU %.0f%% (all " \
	    "threads), UI thread %.1f%%, %.1f frames/s\n", t1 - t0, k, 100 * c / hz / (t1 - t0),
	    100 * u / hz / (t1 - t0), f / (t1 - t0) }'
	echo "  the fine-tune ran under every key (restarted $restarts times when it ended)"
	echo "  starting the fine-tune ($FT_START): key to screen $(cat "$tmp/start-key") ms (not a target)"
	[ $((K % 2)) -eq 0 ] || $T send-keys -t ui z
	# Quit; quitting while a fine-tune runs asks first (y saves it).
	$T send-keys -t ui F10
	i=0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt "$WAIT" ]; do
		if $T capture-pane -p -t ui 2>/dev/null | grep -q 'y/n'; then
			$T send-keys -t ui y
		fi
		sleep 0.1
		i=$((i + 1))
	done
done
