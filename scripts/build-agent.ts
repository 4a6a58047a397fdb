import { execFileSync } from "node:child_process";
import { chmodSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { AGENT_NODE_FLAGS, agentEnvAssignments } from "../core/protocol/agent-runtime";

/**
 * Bundles the agent into one file, dist/gatehouse-agent.mjs, that runs with `node` alone (no
 * node_modules on the gateway). Usage: npm run build:agent [-- --outfile PATH]
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function agentVersion(): string {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  try {
    const commit = execFileSync("git", ["rev-parse", "--short=10", "HEAD"], {
      cwd: root,
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
    return commit ? `${pkg.version}+${commit}` : pkg.version;
  } catch {
    return pkg.version;
  }
}

export async function buildAgent(
  outfile = join(root, "dist/gatehouse-agent.mjs"),
): Promise<{ outfile: string; bytes: number; version: string }> {
  const version = agentVersion();
  const result = await build({
    entryPoints: [join(root, "agent/main.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    // whitespace and syntax only: function names stay for stack traces in the agent's log, and the
    // program's text (which V8 keeps in memory all the agent's life) is a third of the size
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: false,
    // non-ASCII in the text would make V8 keep all of it as two-byte characters
    charset: "ascii",
    sourcemap: false,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    define: { __GATEHOUSE_AGENT_VERSION__: JSON.stringify(version) },
    // bundled CommonJS dependencies call require() for Node built-ins, which an ES module lacks
    banner: {
      js: [
        `#!/usr/bin/env -S ${agentEnvAssignments().join(" ")} node ${AGENT_NODE_FLAGS.join(" ")}`,
        'import { createRequire as __ghCreateRequire } from "node:module";',
        "const require = __ghCreateRequire(import.meta.url);",
      ].join("\n"),
    },
  });
  chmodSync(outfile, 0o755);
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { outfile, bytes, version };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--outfile");
  const out = i > 0 ? process.argv[i + 1] : undefined;
  buildAgent(out === undefined ? undefined : resolve(out)).then(
    (r) => console.log(`built ${r.outfile} (${(r.bytes / 1024).toFixed(0)} KiB, version ${r.version})`),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
