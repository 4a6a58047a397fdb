import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SET_RULE_COUNTS_LEGACY, SET_RULE_HITS } from "../../core/render/names";
import type { ExistingObjects, RenderedRuleset } from "../../core/render/nft";
import { NFT_TABLE } from "../../core/spec/marks";
import { type CommandRunner, describeFailure, ok } from "./runner";

/**
 * Loads a rendered ruleset: written to a private file, checked against the kernel with
 * `nft -c -f` (changes nothing), then loaded with one `nft -f` (one transaction: all or nothing),
 * then read back. On any failure the previous ruleset stays and the caller gets nft's own words.
 */

const FAMILY = "inet";

interface NftJson {
  nftables?: Array<Record<string, { table?: string; name?: string; elem?: unknown[] } | undefined>>;
}

function parseList(stdout: string, kind: "chain" | "set" | "map" | "counter"): string[] {
  const doc = JSON.parse(stdout) as NftJson;
  const names: string[] = [];
  for (const item of doc.nftables ?? []) {
    const obj = item[kind];
    if (obj?.table === NFT_TABLE && typeof obj.name === "string") names.push(obj.name);
  }
  return names;
}

/** The chains, maps and sets of the policy table, or undefined when the table does not exist. */
export async function listOwnedObjects(runner: CommandRunner): Promise<ExistingObjects | undefined> {
  const table = await runner.run(["nft", "-j", "list", "tables", FAMILY]);
  if (!ok(table)) throw new Error(describeFailure(table));
  const tables = (JSON.parse(table.stdout) as NftJson).nftables ?? [];
  if (!tables.some((t) => t.table?.name === NFT_TABLE)) return undefined;
  // terse (-t): set and map declarations without their elements, which can be many
  const [chains, sets, maps] = await Promise.all([
    runner.run(["nft", "-j", "list", "chains", FAMILY]),
    runner.run(["nft", "-j", "-t", "list", "sets", FAMILY]),
    runner.run(["nft", "-j", "-t", "list", "maps", FAMILY]),
  ]);
  for (const r of [chains, sets, maps]) if (!ok(r)) throw new Error(describeFailure(r));
  const setNames = parseList(sets.stdout, "set");
  return {
    chains: parseList(chains.stdout, "chain"),
    sets: setNames,
    maps: parseList(maps.stdout, "map"),
    // the named counters per rule of an agent from before the counter sets: listed (which makes
    // nft fetch every rule) only while neither set is there yet. What the rules' counter keys stood
    // for is not listed: the agent keeps it from its own loads (ExistingObjects.ruleCounts).
    ...(setNames.includes(SET_RULE_HITS) || setNames.includes(SET_RULE_COUNTS_LEGACY)
      ? {}
      : await listOwnedCounters(runner)),
  };
}

/**
 * The legacy named counters, so the load deletes them. Not knowing them only leaves them in
 * place until a later load: never a reason to fail one.
 */
async function listOwnedCounters(runner: CommandRunner): Promise<{ counters?: string[] }> {
  try {
    const r = await runner.run(["nft", "-j", "list", "counters", "table", FAMILY, NFT_TABLE]);
    return ok(r) ? { counters: parseList(r.stdout, "counter") } : {};
  } catch {
    return {};
  }
}

export type NftStage = "check" | "apply" | "verify";

export interface NftLoadResult {
  ok: boolean;
  stage: NftStage | null;
  /** nft's own error text (or what went wrong reading back) */
  error: string | null;
  checkMs: number;
  applyMs: number;
  verifyMs: number;
}

export interface LoadOptions {
  /** directory for the private temp dir; the OS temp dir by default */
  tmpDir?: string;
  /** skip `nft -c` (the benchmark measures the load alone) */
  skipCheck?: boolean;
  timeoutMs?: number;
}

async function withRulesetFile<T>(
  text: string,
  dir: string | undefined,
  use: (path: string) => Promise<T>,
): Promise<T> {
  // mkdtemp creates the directory 0700: nobody else can swap the file between check and load
  const folder = await mkdtemp(join(dir ?? tmpdir(), "gatehouse-nft-"));
  const path = join(folder, "gatehouse.nft");
  try {
    await writeFile(path, text, { mode: 0o600 });
    return await use(path);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

/**
 * Loads ruleset text from stdin with one `nft -f -`, without a separate check or read-back: for a
 * ruleset whose objects are known from the last full load (a change of failover state). One
 * transaction: all or nothing. Returns nft's error text or null.
 */
export async function loadRulesetText(runner: CommandRunner, text: string, timeoutMs = 30_000): Promise<string | null> {
  const r = await runner.run(["nft", "-f", "-"], { input: text, timeoutMs });
  return ok(r) ? null : describeFailure(r);
}

/** Checks a ruleset against the kernel without changing anything; returns nft's error text or null. */
export async function checkRuleset(
  runner: CommandRunner,
  text: string,
  opts: LoadOptions = {},
): Promise<string | null> {
  return withRulesetFile(text, opts.tmpDir, async (path) => {
    const r = await runner.run(["nft", "-c", "-f", path], { timeoutMs: opts.timeoutMs ?? 60_000 });
    return ok(r) ? null : nftError(r.stderr, r.timedOut);
  });
}

function nftError(stderr: string, timedOut: boolean): string {
  if (timedOut) return "nft timed out";
  return stderr.trim() || "nft failed without a message";
}

async function verify(runner: CommandRunner, rendered: RenderedRuleset): Promise<string | null> {
  const stamp = await runner.run(["nft", "-j", "list", "set", FAMILY, NFT_TABLE, "applied"]);
  if (!ok(stamp)) return describeFailure(stamp);
  const doc = JSON.parse(stamp.stdout) as NftJson;
  const elems = doc.nftables?.find((x) => x.set !== undefined)?.set?.elem ?? [];
  if (!elems.includes(rendered.fingerprint)) {
    return `the loaded ruleset is not the one rendered (applied set holds ${JSON.stringify(elems)}, expected ${rendered.fingerprint})`;
  }
  const chains = await runner.run(["nft", "-j", "list", "chains", FAMILY]);
  if (!ok(chains)) return describeFailure(chains);
  const present = new Set(parseList(chains.stdout, "chain"));
  const missing = rendered.chains.filter((c) => !present.has(c));
  return missing.length === 0 ? null : `chains missing after the load: ${missing.slice(0, 10).join(", ")}`;
}

export async function loadRuleset(
  runner: CommandRunner,
  rendered: RenderedRuleset,
  opts: LoadOptions = {},
): Promise<NftLoadResult> {
  const result: NftLoadResult = { ok: false, stage: null, error: null, checkMs: 0, applyMs: 0, verifyMs: 0 };
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return withRulesetFile(rendered.text, opts.tmpDir, async (path) => {
    if (opts.skipCheck !== true) {
      const check = await runner.run(["nft", "-c", "-f", path], { timeoutMs });
      result.checkMs = check.durationMs;
      if (!ok(check)) return { ...result, stage: "check", error: nftError(check.stderr, check.timedOut) };
    }
    const load = await runner.run(["nft", "-f", path], { timeoutMs });
    result.applyMs = load.durationMs;
    if (!ok(load)) return { ...result, stage: "apply", error: nftError(load.stderr, load.timedOut) };
    const started = performance.now();
    const problem = await verify(runner, rendered).catch(
      (e: unknown) => `reading the ruleset back failed: ${String(e)}`,
    );
    result.verifyMs = performance.now() - started;
    if (problem !== null) return { ...result, stage: "verify", error: problem };
    return { ...result, ok: true };
  });
}
