import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/**
 * Bundles the console's worker threads, which Next.js does not build: dist/ruleset-worker.mjs
 * (server/services/revisions/ruleset-render.worker.ts). Usage: npm run build:workers
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export async function buildWorkers(): Promise<void> {
  await build({
    entryPoints: [join(root, "server/services/revisions/ruleset-render.worker.ts")],
    outfile: join(root, "dist/ruleset-worker.mjs"),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    logLevel: "warning",
    // bundled CommonJS dependencies call require() for Node built-ins, which an ES module lacks
    banner: {
      js: [
        'import { createRequire as __ghCreateRequire } from "node:module";',
        "const require = __ghCreateRequire(import.meta.url);",
      ].join("\n"),
    },
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildWorkers();
}
