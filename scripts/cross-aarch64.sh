#!/usr/bin/env bash
# Builds kiosk and sync-server for aarch64-unknown-linux-gnu (Raspberry Pi 5) on an x86_64
# Debian 12 machine, from Debian's packages alone: rustc-web/cargo-web (Rust 1.96, from the
# bookworm-security archive), the aarch64 standard library (libstd-rust-web-dev:arm64) and
# crossbuild-essential-arm64 (the C cross compiler for SQLite, ring and zstd). No rustup
# target is needed. Not part of CI; docs/deployment.md records its last outcome.
#   scripts/cross-aarch64.sh       # → $CROSS_TARGET_DIR/aarch64-unknown-linux-gnu/release/
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
if ! grep -rqs "bookworm-security" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "error: rustc-web comes from Debian 12's security archive (bookworm-security): add it to apt's sources" >&2
  exit 1
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  $sudo dpkg --add-architecture arm64
fi
want=(rustc-web cargo-web libstd-rust-web-dev:arm64 crossbuild-essential-arm64 file)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's cargo and rustc, not rustup's proxies (which may come first in PATH).
export RUSTC=/usr/bin/rustc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
export CARGO_TARGET_DIR=${CROSS_TARGET_DIR:-$(pwd)/target/cross}
/usr/bin/cargo --version
start=$(date +%s)
/usr/bin/cargo build --release --locked --target aarch64-unknown-linux-gnu -p kiosk -p sync-server
echo "built in $(( $(date +%s) - start )) s:"
for bin in kiosk sync-server; do
  file "$CARGO_TARGET_DIR/aarch64-unknown-linux-gnu/release/$bin"
done
