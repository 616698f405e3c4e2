#!/usr/bin/env bash
# The README's demo: set up (idempotent), then debug the reference unikernel with duster: a live
# session on the demo app, the crash app stopped at its fault, and the crash report of its dump.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
kernel=fixtures/unikernel/build/gcc-O0/kernel.elf
out=$(mktemp -d "${TMPDIR:-/tmp}/duster-demo.XXXXXX")
trap 'rm -rf "$out"' EXIT
duster() { node bin/duster.js "$@"; }

echo "== 1. Live: break in a worker thread, inspect, step, watch a global =="
duster run "$kernel" --smp 2 --append app=demo --batch \
  -ex 'break worker_step' -ex 'continue' -ex 'bt' -ex 'info args' -ex 'info locals' -ex 'print *w' \
  -ex 'delete' -ex 'next' -ex 'next' -ex 'next' -ex 'step' -ex 'bt' -ex 'finish' \
  -ex 'watch demo_counter' -ex 'continue' -ex 'info threads'

echo
echo "== 2. The crash app: run to its fault, backtrace through the exception, write a dump =="
duster run "$kernel" --smp 2 --append app=crash --batch -ex 'continue' -ex 'bt' -ex "dump $out/crash.core"

echo
echo "== 3. Post-mortem: the crash report from that dump =="
duster core "$out/crash.core" --symbols "$kernel" --report
