#!/usr/bin/env bash
# Installs what the browser tests need, on Debian 12, idempotently:
#   - Debian's chromium (/usr/bin/chromium); never Playwright's own browser
#     download (`npx playwright install`), which a closed network blocks;
#   - the pinned npm devDependencies (playwright-core, axe-core) via `npm ci`.
# Runs as root (CI) or as a user with sudo. Exits non-zero on any failure.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- Node: playwright-core needs Node >= 20 (Debian 12's own nodejs is 18).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup.sh: node and npm are required (Node >= 20)" >&2
  exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  echo "setup.sh: Node >= 20 required, found $(node --version)" >&2
  exit 1
fi

# --- Chromium from Debian.
if [ ! -x /usr/bin/chromium ]; then
  echo "setup.sh: installing chromium (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium
fi
# The Debian wrapper script prints shell noise on stderr; the version line is what matters.
chromium_version="$(/usr/bin/chromium --version 2>/dev/null)" || {
  echo "setup.sh: /usr/bin/chromium does not run" >&2
  exit 1
}
echo "setup.sh: $chromium_version"

# --- npm packages, reinstalled when missing or when package-lock.json changed.
# The stamp records the hash of the lockfile that node_modules was built from.
stamp="node_modules/.amenda-browser-lock.sha256"
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/axe-core ] \
   || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "setup.sh: npm ci"
  # --prefer-offline: use the npm cache when it has the pinned tarballs.
  npm ci --prefer-offline --no-audit --no-fund
  echo "$lock_hash" > "$stamp"
fi
echo "setup.sh: playwright-core $(node -p 'require("./node_modules/playwright-core/package.json").version')," \
     "axe-core $(node -p 'require("./node_modules/axe-core/package.json").version')"
