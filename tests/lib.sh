# tests/lib.sh: TAP reporting shared by the shell tests (sourced, not run).
# A test script sets n=0 and failed=0, keeps the last command's standard
# error in $tmp/err, and ends with `exit $((failed > 0))` or the like.

# Report a passing test.
pass() {
	n=$((n + 1))
	printf 'ok %d - %s\n' "$n" "$1"
}

# Report a failing test with the reason and the first lines of the command's
# stderr ($STDERR_LINES of them, 8 unless the script sets another number).
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	printf 'not ok %d - %s\n# %s\n' "$n" "$1" "$2"
	if [ -s "$tmp/err" ]; then
		sed -n "1,${STDERR_LINES:-8}s/^/#   stderr: /p" "$tmp/err"
	fi
}
