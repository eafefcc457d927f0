#!/usr/bin/env bash
# timed.sh NAME CMD... — run CMD, print and record how long it took (build/phase-times.txt).
name=$1; shift
mkdir -p build
t0=$(date +%s)
"$@"; rc=$?
dt=$(( $(date +%s) - t0 ))
printf '%-22s %5d s  (exit %d)\n' "$name" "$dt" "$rc" | tee -a build/phase-times.txt
exit $rc
