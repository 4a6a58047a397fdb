#!/usr/bin/env bash
# Sets up and runs the console: installs dependencies when needed, generates the database clients,
# builds when the sources are newer than the last build, then starts it. Migrations and the first
# admin account are handled by the console itself at start (instrumentation.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
echo "==> generating database clients"
npm run --silent db:generate >/dev/null
if [ ! -f .next/BUILD_ID ] || [ -n "$(find app core server agent cli prisma next.config.ts proxy.ts instrumentation.ts package.json -newer .next/BUILD_ID -type f -not -path 'prisma/generated/*' 2>/dev/null | head -n 1)" ]; then
  echo "==> building the console"
  npm run --silent build:workers
  npx next build
fi
echo "==> starting on http://${HOST:-0.0.0.0}:${PORT:-3000} (database: ${DATABASE_URL:-file:./data/gatehouse.db})"
exec node node_modules/next/dist/bin/next start -H "${HOST:-0.0.0.0}" -p "${PORT:-3000}"
