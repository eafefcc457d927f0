#!/usr/bin/env bash
# Compiler wrapper for building mmcv 2.1.0 against torch >= 2.10:
# torch's headers need C++20 but mmcv's setup.py hard-codes -std=c++14/17 (last flag wins),
# so rewrite those flags before calling the real compiler.
args=()
for a in "$@"; do
  case "$a" in
    -std=c++14|-std=c++17|-std=gnu++14|-std=gnu++17) args+=("-std=c++20") ;;
    *) args+=("$a") ;;
  esac
done
exec "${AUXDET_REAL_CXX:-g++}" "${args[@]}"
