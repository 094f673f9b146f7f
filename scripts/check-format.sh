#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fails if a C source file does not follow .clang-format (run by make check).
set -eu
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "clang-format missing"; exit 77; }
files=$(git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'tests/unit/*.c' 'tests/unit/*.h' 'tests/fuzz/*.c' 2>/dev/null)
[ -n "$files" ] || exit 0
clang-format --dry-run --Werror $files
