#!/bin/bash
# Runs one libFuzzer harness for a while and prints its figures on one line:
#
#   bash tests/fuzz/run.sh build/fuzz/fuzz_NAME SECONDS MAX_LEN
#
# It reads tests/fuzz/corpus/NAME/ (the seeds, never written) and
# build/fuzz/corpus-NAME/ (what earlier runs found, where new finds go), with
# tests/fuzz/NAME.dict if there is one. A crash, a leak or a slow input
# (over 10 s) fails it: the input is kept in build/fuzz/artifacts-NAME/ and
# the end of libFuzzer's log (build/fuzz/NAME.log) is printed.
set -u

bin=$1 seconds=$2 max_len=$3
name=$(basename "$bin")
name=${name#fuzz_}
dir=$(dirname "$bin")
here=$(dirname "${BASH_SOURCE[0]}")
seeds=$here/corpus/$name
log=$dir/$name.log

# a crash's stack with file and line: llvm-16's symbolizer if it is
# installed, else binutils' addr2line
sym=/usr/lib/llvm-16/bin/llvm-symbolizer
[ -x "$sym" ] || sym=$(command -v addr2line)
opts="external_symbolizer_path=$sym:allow_addr2line=1"
export ASAN_OPTIONS="$opts${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="$opts:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

mkdir -p "$dir/corpus-$name" "$dir/artifacts-$name"
args=(-max_total_time="$seconds" -max_len="$max_len" -timeout=10
      -print_final_stats=1 -artifact_prefix="$dir/artifacts-$name/")
[ -f "$here/$name.dict" ] && args+=(-dict="$here/$name.dict")

"$bin" "${args[@]}" "$dir/corpus-$name" "$seeds" >"$log" 2>&1
rc=$?

# libFuzzer's last status line ("#N DONE cov: E ft: F corp: U/Bb ...") and
# its final stats
status=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
field() { sed -n "s/.* $1: \\([^ ]*\\).*/\\1/p" <<<"$status"; }
stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }

line='%-12s %5ss %10s execs %7s exec/s  cov %4s  ft %5s  corpus %s  new %s\n'
printf "$line" \
    "$name" "$seconds" "$(stat number_of_executed_units)" \
    "$(stat average_exec_per_sec)" "$(field cov)" "$(field ft)" \
    "$(field corp)" "$(stat new_units_added)"

if [ $rc -ne 0 ] || [ -z "$status" ]; then
    echo "fuzz: $name FAILED (exit $rc); its input is in $dir/artifacts-$name/:"
    tail -n 60 "$log"
    exit 1
fi
