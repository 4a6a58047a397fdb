#!/usr/bin/env bash
# The whole test suite, as README's quick start runs it and CI runs it on a clean checkout:
# system packages, dependencies, lint and types, unit and API tests on SQLite and a private
# PostgreSQL, datapath tests with real nftables traffic in network namespaces, and the UI in Chromium.
set -uo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 CI="${CI:-}"
mkdir -p test-results
rm -f test-results/*.json

bash scripts/ensure-system-packages.sh || { echo "system packages could not be installed"; exit 1; }
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund || exit 1
fi
npm run --silent db:generate >/dev/null || exit 1

failed=()
stage() {
  local name=$1; shift
  echo
  echo "==> $name"
  local start=$SECONDS
  if "$@"; then echo "<== $name passed ($((SECONDS - start)) s)"; else echo "<== $name FAILED ($((SECONDS - start)) s)"; failed+=("$name"); fi
}

stage "lint" npx biome check .
stage "layer boundaries" npx tsx scripts/check-boundaries.ts
stage "typecheck" npx tsc --noEmit -p tsconfig.json
stage "typecheck core/ (no DOM, no node)" npx tsc --noEmit -p tsconfig.core.json
stage "typecheck agent/ (no DOM)" npx tsc --noEmit -p tsconfig.agent.json
stage "unit and API tests (SQLite, PostgreSQL)" npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest-unit.json
stage "datapath tests (nftables in network namespaces)" npx vitest run -c vitest.integration.config.ts --reporter=default --reporter=json --outputFile.json=test-results/vitest-datapath.json
stage "build" npm run --silent build
stage "UI tests (Chromium)" npx playwright test

echo
node scripts/test-summary.mjs
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed stages: ${failed[*]}"
  exit 1
fi
