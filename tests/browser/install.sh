#!/usr/bin/env bash
# Installs what tests/browser/pages.mjs needs, when missing: Debian's Chromium (and a font
# with Cyrillic and Kazakh letters for the screenshots), and the npm packages playwright-core
# and axe-core at pinned versions. Fast when all is there. The last line printed is the
# node_modules directory to pass to pages.mjs as KVOTA_NODE_MODULES.
#
# The npm packages go to a prefix of their own: `npm install --no-save` removes from a
# prefix whatever its package.json does not name, so sharing the prefix of .ci/run (which
# holds @bufbuild/buf, also installed with --no-save) would remove buf, and buf's next
# install would remove these.
set -euo pipefail

PLAYWRIGHT_CORE_VERSION=1.65.1
AXE_CORE_VERSION=4.14.1
CHROMIUM="${KVOTA_CHROMIUM:-/usr/bin/chromium}"
prefix="${KVOTA_BROWSER_NPM_PREFIX:-$HOME/.cache/kvota/npm-browser}"

if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi

need_apt=()
[ -x "$CHROMIUM" ] || need_apt+=(chromium fonts-dejavu-core)
command -v node >/dev/null || need_apt+=(nodejs)
command -v npm >/dev/null || need_apt+=(npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
[ -x "$CHROMIUM" ] || { echo "no Chromium at $CHROMIUM" >&2; exit 1; }

# The version of an installed npm package, or nothing.
installed_version() {
  local manifest="$prefix/node_modules/$1/package.json"
  [ -f "$manifest" ] || return 0
  node -e 'process.stdout.write(String(require(process.argv[1]).version || ""))' "$manifest"
}

if [ "$(installed_version playwright-core)" != "$PLAYWRIGHT_CORE_VERSION" ] \
  || [ "$(installed_version axe-core)" != "$AXE_CORE_VERSION" ]; then
  mkdir -p "$prefix"
  # Both in one command: a --no-save install keeps only what it is given.
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error \
    "playwright-core@$PLAYWRIGHT_CORE_VERSION" "axe-core@$AXE_CORE_VERSION" >&2
fi

echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")" >&2
echo "playwright-core $(installed_version playwright-core), axe-core $(installed_version axe-core)" >&2
echo "$prefix/node_modules"
