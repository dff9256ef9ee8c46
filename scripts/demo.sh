#!/usr/bin/env bash
# The demo: the sync server on localhost with its embedded SQLite database, the demo pack
# published, a kiosk enrolled to it, and the kiosk window on the demo content.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh demo
. scripts/env.sh
cargo build --release --workspace --bins
bin="${CARGO_TARGET_DIR:-target}/release"
data="${PROMO_DEMO_DIR:-demo-data}"
port="${PROMO_DEMO_PORT:-8080}"
url="http://127.0.0.1:$port"
# Phones on the fair's network reach the server at this address (printed in the QR codes).
listen="${PROMO_DEMO_LISTEN:-127.0.0.1}"
public_url="${PROMO_DEMO_PUBLIC_URL:-$url}"
mkdir -p "$data"
"$bin/sync-server" --data-dir "$data/server" content import assets/demo-pack
"$bin/sync-server" --data-dir "$data/server" serve --listen "$listen:$port" --public-url "$public_url" \
  >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
if [ ! -f "$data/kiosk/kiosk.sqlite" ] || ! "$bin/sync-server" --data-dir "$data/server" kiosk list | grep -q "demo kiosk"; then
  rm -rf "$data/kiosk"
  code=$("$bin/sync-server" --data-dir "$data/server" kiosk add --name "demo kiosk" --event korea-investment-2026 --quiet)
  "$bin/kiosk" --data-dir "$data/kiosk" enrol --server "$url" --code "$code"
fi
# The staff overlay (five quick taps in the top-left corner) asks for this PIN.
demo_pin="${PROMO_DEMO_PIN:-2026}"
echo "$demo_pin" | "$bin/kiosk" --data-dir "$data/kiosk" set-pin >/dev/null
demo_email="demo@dongnai.example"
demo_password="dong-nai-demo-2026"
echo "$demo_password" | "$bin/sync-server" --data-dir "$data/server" user add --email "$demo_email" \
  --role admin --org "Investment, Trade and Tourism Promotion Centre" --if-missing >/dev/null
echo
echo "staff page:  $url/staff   login: $demo_email / $demo_password"
echo "kiosk staff overlay: tap the top-left corner 5 times, PIN $demo_pin"
echo "sync server: $url   (log: $data/server.log)"
echo "kiosks:      $bin/sync-server --data-dir $data/server kiosk list"
echo
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display: running the kiosk under a virtual display (xvfb-run). Screenshots: kiosk --script, see docs/testing.md"
  exec_kiosk=(xvfb-run -a -s "-screen 0 1920x1080x24" "$bin/kiosk")
else
  exec_kiosk=("$bin/kiosk")
fi
"${exec_kiosk[@]}" --data-dir "$data/kiosk" "$@"
