#!/usr/bin/env bash
# Rebuilds the Unikraft fixtures the tests use (test/support/unikraft.ts) where they are missing:
# runs fixtures/unikraft/build.sh (the recipe and app sources, kept in this repository; see its
# README) and writes the images and their .dbg files into $DUSTER_UNIKRAFT_FIXTURES, default
# ../shared/fixtures/unikraft beside the repository. The clones need Unikraft's and catalog-core's
# public repositories: set UK_GIT and CATALOG_GIT to local mirrors to build offline.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${DUSTER_UNIKRAFT_FIXTURES:-$repo/../shared/fixtures/unikraft}
mkdir -p "$out"
# The sources and the recipe beside the images, as the fixtures ship them.
cp -rn "$repo/fixtures/unikraft/"{README.md,build.sh,apps,defconfig} "$out/"
OUT=$(cd "$out" && pwd) exec "$repo/fixtures/unikraft/build.sh"
