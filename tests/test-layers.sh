#!/bin/sh
# test-layers.sh: no source file of engine/ or app/ depends on itself through
# others (tests/layers.py on the built libraries; TAP).
echo "1..1"
if out=$(python3 "$SRCDIR/tests/layers.py" "$BUILDDIR" 2>&1); then
	echo "ok 1 - layers: $out"
else
	echo "not ok 1 - layers: a dependency cycle among the built source files"
	echo "$out" | sed 's/^/# /'
fi
