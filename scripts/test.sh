#!/usr/bin/env bash
# Sets up what is missing, then runs every test (unit and real-QEMU integration).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Lint first: ESLint (no unused exports) and Prettier's formatting, in seconds.
npm run -s lint
# VS Code (code-server) and Chromium for test/vscode/, into a cache outside the repository.
bash scripts/vscode-setup.sh >/dev/null
# The Xen rig (hypervisor with gdbsx, dom0 kernel and initramfs) for test/xen/, cached likewise.
bash scripts/xen-rig.sh >/dev/null
exec npx vitest run "$@"
