#!/usr/bin/env bash
# Installs what the VS Code end-to-end test (test/vscode/) needs, outside the repository:
# Debian's chromium (driven headless by playwright-core) and VS Code itself as code-server from
# the npm registry, pinned by test/vscode/code-server/package-lock.json, into
# ${DUSTER_VSCODE_CACHE:-~/.cache/duster-vscode}/code-server-LOCKHASH. Idempotent: quick once done.
# Prints the code-server executable's path on stdout; progress goes to stderr.
#
# code-server's install scripts build native modules (node-gyp, with Node's own headers and
# Debian's Kerberos headers) and would download ripgrep: its download cache is seeded with
# Debian's ripgrep instead, so nothing is fetched but npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in chromium ripgrep libkrb5-dev pkg-config g++ make python3; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if ((${#need[@]})); then
  echo "vscode-setup: installing ${need[*]} with apt-get" >&2
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

spec=test/vscode/code-server
cache="${DUSTER_VSCODE_CACHE:-$HOME/.cache/duster-vscode}"
dest="$cache/code-server-$(cat "$spec/package.json" "$spec/package-lock.json" | sha256sum | cut -c1-12)"
bin="$dest/node_modules/.bin/code-server"
if [ ! -f "$dest/.complete" ]; then
  echo "vscode-setup: installing code-server into $dest (native builds: a few minutes)" >&2
  work="$dest.partial-$$"
  rm -rf "$work"
  mkdir -p "$work/tmp"
  trap 'rm -rf "$work"' EXIT
  cp "$spec/package.json" "$spec/package-lock.json" "$work/"
  # @vscode/ripgrep 1.15.11 (in code-server 4.100.3) looks in TMPDIR for its release archive
  # before downloading it; Debian's rg, packed under that name, is what it unpacks.
  rgcache="$work/tmp/vscode-ripgrep-cache-1.15.11"
  mkdir -p "$rgcache"
  tar -czf "$rgcache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg
  # As root, code-server's postinstall insists on npm's old unsafe-perm setting.
  (cd "$work" && TMPDIR="$work/tmp" npm_config_unsafe_perm=true npm ci --no-audit --no-fund --loglevel=error >&2)
  vscode="$work/node_modules/code-server/lib/vscode"
  cmp -s "$vscode/node_modules/@vscode/ripgrep/bin/rg" "$(command -v rg)" || {
    echo "vscode-setup: code-server's ripgrep is not Debian's: its install changed, see $0" >&2
    exit 1
  }
  rm -rf "$work/tmp" "$dest"
  mv "$work" "$dest"
  trap - EXIT
  touch "$dest/.complete"
fi
echo "$bin"
