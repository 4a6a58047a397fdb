import { chmodSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** Bundles the gatehouse command line into one file, dist/gatehouse.mjs, that runs with `node` alone. */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outfile = join(root, "dist/gatehouse.mjs");
await build({
  entryPoints: [join(root, "cli/main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  // commander is CommonJS and requires node built-ins: give the ESM bundle a require
  banner: {
    js: '#!/usr/bin/env node\nimport { createRequire as __gatehouseRequire } from "node:module";\nconst require = __gatehouseRequire(import.meta.url);',
  },
  logLevel: "warning",
});
chmodSync(outfile, 0o755);
console.log(`wrote ${outfile}`);
