#!/usr/bin/env bash
# Installs the Debian packages the demo or the tests need, when they are missing.
#   scripts/install-deps.sh demo   # a virtual display, software Vulkan, CJK fonts
#   scripts/install-deps.sh test   # the same, plus Chromium and its WebDriver, and PostgreSQL
#                                  # (the tests make a throw-away cluster with pg_virtualenv)
set -euo pipefail
want=(xvfb xauth mesa-vulkan-drivers libvulkan1 fonts-noto-cjk zbar-tools)
if [ "${1:-test}" = test ]; then
  want+=(chromium chromium-driver postgresql postgresql-common cage xwayland)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
