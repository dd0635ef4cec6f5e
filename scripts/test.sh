#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this):
#   1. install dependencies, build with warnings as errors;
#   2. check formatting (clang-format);
#   3. run every meson test suite (unit, fuzz corpora, guest, kvm);
#   4. build the libFuzzer targets with clang and fuzz each for
#      FUZZ_SECONDS (default 60) seconds.
# Ends with one line "tests: N passed, N failed, N skipped" counting
# individual test cases (GoogleTest cases plus script tests).
set -uo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds="${FUZZ_SECONDS:-60}"
status=0
step() { printf '\n== %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh || exit 1

step "build (warnings are errors)"
if [ ! -f build/build.ninja ]; then
  meson setup build -Dwerror=true >/dev/null || exit 1
else
  meson configure build -Dwerror=true >/dev/null || exit 1
fi
ninja -C build || exit 1

step "format (clang-format --dry-run)"
mapfile -t sources < <(git ls-files '*.cc' '*.h' '*.c' 2>/dev/null)
if [ ${#sources[@]} -gt 0 ] && ! clang-format --dry-run --Werror "${sources[@]}"; then
  echo "format: run 'clang-format -i' on the files above" >&2
  status=1
fi

step "tests"
xml_dir=$(mktemp -d)
trap 'rm -rf "$xml_dir"' EXIT
# GoogleTest binaries write one XML report each, counted below.
GTEST_OUTPUT="xml:$xml_dir/" meson test -C build --print-errorlogs || status=1

step "fuzzing (${fuzz_seconds}s per target)"
fuzz_failed=0
fuzz_ran=0
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true >/dev/null || exit 1
fi
ninja -C build-fuzz || exit 1
for fuzzer in build-fuzz/tests/fuzz/*_fuzz; do
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer" _fuzz)
  work=$(mktemp -d)
  echo "fuzz: $name"
  if "$fuzzer" "$work" "tests/fuzz/corpus/$name" -max_total_time="$fuzz_seconds" \
       -print_final_stats=1 -artifact_prefix="$work/" >"$work.log" 2>&1; then
    grep -E 'stat::number_of_executed_units|cov:' "$work.log" | tail -2
  else
    echo "fuzz: $name FAILED; crashing input and log:" >&2
    ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null >&2
    tail -50 "$work.log" >&2
    fuzz_failed=$((fuzz_failed + 1))
    status=1
  fi
  fuzz_ran=$((fuzz_ran + 1))
  rm -rf "$work" "$work.log"
done

step "summary"
python3 - "$xml_dir" build/meson-logs/testlog.json "$fuzz_ran" "$fuzz_failed" <<'PY'
import glob, json, sys, xml.etree.ElementTree as ET
xml_dir, log, fuzz_ran, fuzz_failed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
passed = failed = skipped = 0
gtest_failures = {}  # binary name -> failed cases in its report
for f in glob.glob(xml_dir + "/*.xml"):
    root = ET.parse(f).getroot()
    name = f.rsplit("/", 1)[1][:-4]
    gtest_failures[name] = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None:
            failed += 1
            gtest_failures[name] += 1
        elif case.get("result") == "skipped" or case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
# Tests that are not GoogleTest binaries count once each, by meson's verdict.
for line in open(log):
    t = json.loads(line)
    cmd = t.get("command") or [""]
    binary = cmd[0].rsplit("/", 1)[-1]
    if binary in gtest_failures:
        if t["result"] not in ("OK", "SKIP") and gtest_failures[binary] == 0:
            failed += 1  # crashed or timed out with no failed case reported
        continue
    r = t["result"]
    if r == "OK": passed += 1
    elif r == "SKIP": skipped += 1
    else: failed += 1
passed += fuzz_ran - fuzz_failed
failed += fuzz_failed
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
