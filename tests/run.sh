#!/usr/bin/env bash
# The test command: installs missing Debian packages, builds everything (build/), runs all tests.
# Usage: tests/run.sh [ctest args...]     e.g. tests/run.sh -R Router
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
cmake -S . -B build -G Ninja
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)" "$@"
