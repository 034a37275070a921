#!/usr/bin/env bash
# Builds BPF objects, the native addon and the TypeScript. Incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s all
if [ ! -f dist/.stamp ] || [ -n "$(find src test bench tsconfig.json -newer dist/.stamp \( -name '*.ts' -o -name '*.json' \) -print -quit)" ]; then
  npx tsc -p tsconfig.json
  touch dist/.stamp
fi
