#!/usr/bin/env bash
# Installs and builds everything duster's demo and tests need. Idempotent: quick when done already.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package that provides it
need=()
for pair in qemu-system-x86_64:qemu-system-x86 gcc:gcc make:make ld:binutils addr2line:binutils \
            gdb:gdb llvm-dwarfdump:llvm clang:clang ld.lld:lld; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if ((${#need[@]})); then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  echo "setup: installing ${need[*]} with apt-get"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm packages: reinstall only when the lockfile changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm install"
  # Not `npm ci`: the lockfile records only the platform packages (rollup, esbuild) our
  # registry serves, and `npm ci` refuses a lockfile without every optional platform entry.
  # --no-save installs exactly the locked versions without rewriting the lockfile.
  npm install --no-save --no-audit --no-fund --loglevel=error
fi

npm run --silent build
make -s -C fixtures/unikernel
