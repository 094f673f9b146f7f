#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every test suite and ends with one line "N passed, N failed":
#   1. unit tests (cmocka) in the normal build
#   2. the same unit tests under ASan+UBSan
#   3. libFuzzer targets for a bounded time each (FUZZ_SECONDS, default 15)
#   4. integration tests tests/integration/NNNN-*.sh against the built binaries
# An integration test exits 0 (pass), 77 (skip: not counted) or else (fail).
# KC_TESTS=GLOB limits step 4 to matching scripts; KC_SLOW=1 also runs slow ones.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out="$top/tests/out"
rm -rf "$out"
mkdir -p "$out"
passed=0
failed=0
failures=""

record() { # name status
	if [ "$2" = 0 ]; then
		passed=$((passed + 1))
		echo "PASS: $1"
	else
		failed=$((failed + 1))
		failures="$failures $1"
		echo "FAIL: $1"
	fi
}

count_meson() { # builddir label
	log="$1/meson-logs/testlog.json"
	[ -f "$log" ] || { record "$2: no test log" 1; return; }
	# one JSON object per line; a test passed if its result is OK
	while IFS= read -r line; do
		name=$(printf '%s\n' "$line" | sed -n 's/.*"name": "\([^"]*\)".*/\1/p')
		case "$line" in
		*'"result": "OK"'*) record "$2 $name" 0 ;;
		*'"result": "SKIP"'*) ;;
		*) record "$2 $name" 1 ;;
		esac
	done < "$log"
}

if [ ! -f build/build.ninja ]; then
	meson setup build >"$out/setup.log" 2>&1 || { cat "$out/setup.log"; record "configure" 1; }
fi
if ninja -C build >"$out/build.log" 2>&1; then
	meson test -C build --suite unit --print-errorlogs >"$out/unit.log" 2>&1
	count_meson build unit
else
	cat "$out/build.log"
	record "build" 1
fi

if [ ! -f build-asan/build.ninja ]; then
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug >"$out/setup-asan.log" 2>&1 || record "configure asan" 1
fi
if ninja -C build-asan >"$out/build-asan.log" 2>&1; then
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --suite unit --print-errorlogs >"$out/unit-asan.log" 2>&1
	count_meson build-asan unit-asan
else
	tail -50 "$out/build-asan.log"
	record "build asan" 1
fi

if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false >"$out/setup-fuzz.log" 2>&1 || record "configure fuzz" 1
fi
if ninja -C build-fuzz >"$out/build-fuzz.log" 2>&1; then
	for f in build-fuzz/tests/fuzz/fuzz-*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		name=$(basename "$f")
		corpus="$out/corpus-$name"
		mkdir -p "$corpus"
		seeds="$top/tests/fuzz/corpus/$name"
		[ -d "$seeds" ] || seeds=""
		"$f" -max_total_time="${FUZZ_SECONDS:-15}" -max_len=65536 -timeout=10 \
			-artifact_prefix="$out/$name-" \
			"$corpus" $seeds >"$out/$name.log" 2>&1
		st=$?
		[ $st = 0 ] || tail -30 "$out/$name.log"
		record "fuzz $name" $st
	done
else
	tail -50 "$out/build-fuzz.log"
	record "build fuzz" 1
fi

sh scripts/check-format.sh >"$out/format.log" 2>&1
st=$?
if [ $st != 77 ]; then
	[ $st = 0 ] || head -20 "$out/format.log"
	record "clang-format" $st
fi

export KC_TOP="$top" KC_BUILD="$top/build"
for t in tests/integration/[0-9]*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	case "$name" in ${KC_TESTS:-*}) ;; *) continue ;; esac
	log="$out/$name.log"
	t0=$(date +%s)
	timeout "${KC_TEST_TIMEOUT:-600}" sh "$t" >"$log" 2>&1
	st=$?
	echo "# $name took $(($(date +%s) - t0)) s"
	if [ $st = 77 ]; then
		echo "SKIP: $name ($(tail -1 "$log"))"
		continue
	fi
	[ $st = 0 ] || { echo "--- $name (exit $st), last lines:"; tail -25 "$log"; }
	record "$name" $st
done

[ -z "$failures" ] || echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
