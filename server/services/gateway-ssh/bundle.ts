import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * The agent build the console pushes to gateways: dist/gatehouse-agent.mjs, which `npm run build`
 * produces. Its version is what the bundle itself prints, so the console compares exactly what
 * the agent will report.
 */

const run = promisify(execFile);

export interface AgentBundle {
  path: string;
  bytes: Buffer;
  version: string;
  sha256: string;
}

export class BundleError extends Error {
  override name = "BundleError";
}

export const bundlePath = (projectRoot: string) => join(projectRoot, "dist", "gatehouse-agent.mjs");

let cached: { path: string; mtimeMs: number; size: number; bundle: AgentBundle } | null = null;

export async function readAgentBundle(path: string): Promise<AgentBundle> {
  const info = await stat(path).catch(() => null);
  if (info === null) throw new BundleError(`The agent bundle ${path} does not exist`);
  if (cached && cached.path === path && cached.mtimeMs === info.mtimeMs && cached.size === info.size) {
    return cached.bundle;
  }
  const bytes = await readFile(path);
  let version: string;
  try {
    const { stdout } = await run(process.execPath, [path, "version"], { timeout: 20_000 });
    version = stdout.trim();
  } catch (e) {
    throw new BundleError(`The agent bundle ${path} does not run: ${(e as Error).message.slice(0, 300)}`);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/.test(version)) {
    throw new BundleError(`The agent bundle ${path} printed no version`);
  }
  const bundle: AgentBundle = { path, bytes, version, sha256: createHash("sha256").update(bytes).digest("hex") };
  cached = { path, mtimeMs: info.mtimeMs, size: info.size, bundle };
  return bundle;
}

let building: Promise<void> | null = null;

/** The console's own agent build; built first (npm run build:agent) when a checkout has none yet. */
export async function ensureAgentBundle(projectRoot: string): Promise<AgentBundle> {
  const path = bundlePath(projectRoot);
  if (!existsSync(path)) {
    // pages and jobs asking at once share one build
    building ??= build(projectRoot).finally(() => {
      building = null;
    });
    await building;
  }
  return readAgentBundle(path);
}

async function build(projectRoot: string): Promise<void> {
  const tsx = join(projectRoot, "node_modules", "tsx", "dist", "cli.mjs");
  if (!existsSync(tsx)) {
    throw new BundleError(
      `The agent bundle ${bundlePath(projectRoot)} is missing; build it with \`npm run build:agent\``,
    );
  }
  try {
    await run(process.execPath, [tsx, join(projectRoot, "scripts", "build-agent.ts")], {
      cwd: projectRoot,
      timeout: 120_000,
    });
  } catch (e) {
    throw new BundleError(`Building the agent bundle failed: ${(e as Error).message.slice(0, 500)}`);
  }
}
