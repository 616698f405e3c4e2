#!/usr/bin/env bash
# The README's demo: set up (idempotent), then debug the reference unikernel with duster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/duster.js run fixtures/unikernel/build/gcc-O0/kernel.elf --smp 2 --append app=demo --seconds 3
