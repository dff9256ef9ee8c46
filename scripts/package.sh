#!/usr/bin/env bash
# Builds the two Debian packages, promo-kiosk and promo-sync-server, into $PACKAGE_OUT
# (default target/debian), and checks them with lintian (any error fails).
# Installs what it needs first: cargo-deb (from crates.io), lintian and dpkg-dev (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out=${PACKAGE_OUT:-$repo/target/debian}
mkdir -p "$out"
out=$(cd "$out" && pwd)

missing=()
for p in lintian dpkg-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
CARGO_DEB_VERSION=3.8.0
if ! cargo deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
  echo "installing cargo-deb $CARGO_DEB_VERSION" >&2
  cargo install --quiet --locked cargo-deb --version "$CARGO_DEB_VERSION"
fi

# PACKAGE_NO_BUILD=1: package the binaries already built (the packages test does, from
# inside `cargo test`, which holds the build directory).
if [ -z "${PACKAGE_NO_BUILD:-}" ]; then
  # The whole workspace, as the tests build it: building two packages alone unifies other
  # features and builds Bevy a second time.
  cargo build --release --workspace --bins
fi
for package in kiosk sync-server; do
  cargo deb --no-build -p "$package" --output "$out"
done
debs=("$out"/promo-kiosk_*.deb "$out"/promo-sync-server_*.deb)
# Errors fail; warnings are printed (a man page per binary is still to be written).
lintian --fail-on error --suppress-tags no-manual-page "${debs[@]}"
ls -l "${debs[@]}"
