#!/usr/bin/env bash
# Runs every fuzz target under fuzz/ for SECONDS each (default 60) with cargo-fuzz on the
# nightly toolchain, installing cargo-fuzz when it is missing. Findings land in
# fuzz/artifacts/<target>/; the corpus grows in fuzz/corpus/<target>/ (both ignored by git).
# CI does not run this: it runs the property tests (proptest) of the same entry points.
#   scripts/fuzz.sh 600            # ten minutes per target
#   scripts/fuzz.sh 60 token badge # only these targets
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(badge token record batch export)
fi
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz.sh: the nightly toolchain is missing: rustup toolchain install nightly" >&2
  exit 1
fi
if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --locked
fi
# Its own target directory: the sanitizer build never invalidates the main one.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-/var/cache/promo-kiosk/fuzz-target}"
mkdir -p "$CARGO_TARGET_DIR" 2>/dev/null || export CARGO_TARGET_DIR="$PWD/fuzz/target"
cd fuzz
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "== $t: ${seconds} s"
  cargo +nightly fuzz run "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=5 -max_len=16384 \
    -artifact_prefix="artifacts/$t/" 2>&1 | grep -E '^(#[0-9]+ *(DONE|INITED)|==|SUMMARY|Done|artifact_prefix|Test unit written)' || true
  found=$(find "artifacts/$t" -type f | wc -l)
  echo "== $t: $found findings in fuzz/artifacts/$t/"
done
