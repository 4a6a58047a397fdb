import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POLICY_TABLE, SET_APPLIED } from "../../core/render/names";
import type { ProcessSpawner, SpawnedProcess } from "../health/spawner";

/**
 * One long-lived `nft -j -i` for the loads on the failover path. Measured here (nft 1.0.6, the
 * office spec): loading a whole ruleset through a new `nft -f -` takes ~24 ms, most of it starting
 * and ending the process; the same file through a running `nft -i` takes ~4 ms. That is the
 * difference between a carrier-loss failover inside and outside its 50 ms.
 *
 * A load is `include "FILE"`: nft parses an included file into the same batch as the command
 * that includes it, so a load is still one transaction, all or nothing, as with `nft -f`. Whether
 * it took is read from the kernel, not from nft's words: the load is followed by
 * `list set <policy table> applied` (the ruleset's fingerprint, which every rendered ruleset
 * stores there) and `list tables` (which always prints a line, so the answer is complete when
 * it comes). nft's error text on stderr is kept for the caller.
 */

export interface ShellLoad {
  ok: boolean;
  /** nft's own words when the load did not take (or what went wrong with the shell) */
  error: string | null;
}

interface Pending {
  /** the shell the request went to */
  proc: SpawnedProcess;
  fingerprint: number;
  resolve: (r: ShellLoad) => void;
  timer: NodeJS.Timeout;
  /** fingerprints the applied set held in this answer; null: no such line yet */
  applied: number[] | null;
}

interface NftJsonLine {
  nftables?: Array<Record<string, { name?: unknown; table?: unknown; elem?: unknown } | undefined>>;
}

const [TABLE_FAMILY, TABLE_NAME] = POLICY_TABLE.split(" ") as [string, string];

/**
 * What one line of `nft -j` output says: the applied set's fingerprints, the end of an answer
 * (the `list tables` line, which holds no set), or nothing this shell asked for.
 */
export function readShellLine(line: string): { kind: "applied"; elems: number[] } | { kind: "end" } | null {
  let doc: NftJsonLine;
  try {
    doc = JSON.parse(line) as NftJsonLine;
  } catch {
    return null;
  }
  if (!Array.isArray(doc.nftables)) return null;
  const set = doc.nftables.find((x) => x.set !== undefined)?.set;
  if (set === undefined) return { kind: "end" };
  if (set.name !== SET_APPLIED || set.table !== TABLE_NAME) return null;
  const elems = Array.isArray(set.elem) ? set.elem.filter((e): e is number => typeof e === "number") : [];
  return { kind: "applied", elems };
}

export interface NftShellDeps {
  spawner: ProcessSpawner;
  /** directory for the shell's private folder; the OS temp dir by default */
  tmpDir?: string;
  timeoutMs?: number;
}

export class NftShell {
  private process: SpawnedProcess | null = null;
  private folder: string | null = null;
  private stdout = "";
  private stderr = "";
  private pending: Pending | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: NftShellDeps) {}

  /** Loads ruleset text as one transaction; ok when the applied set then holds `fingerprint`. */
  load(text: string, fingerprint: number): Promise<ShellLoad> {
    const run = this.queue.then(() => this.loadNow(text, fingerprint));
    this.queue = run.catch(() => {});
    return run;
  }

  /** Ends the shell and removes its folder. */
  stop(): void {
    this.process?.stop();
    this.process = null;
    if (this.folder !== null) rmSync(this.folder, { recursive: true, force: true });
    this.folder = null;
  }

  private start(): SpawnedProcess {
    if (this.folder === null) {
      // 0700: nobody else can swap the file between writing and including it
      this.folder = mkdtempSync(join(this.deps.tmpDir ?? tmpdir(), "gatehouse-nft-shell-"));
    }
    this.stdout = "";
    this.stderr = "";
    const proc = this.deps.spawner.spawn(["nft", "-j", "-i"], {
      stdin: true,
      stdout: (chunk) => this.onStdout(chunk),
      stderr: (chunk) => {
        this.stderr += chunk;
      },
    });
    this.process = proc;
    void proc.exited.then((exit) => {
      if (this.process === proc) this.process = null;
      if (this.pending?.proc !== proc) return;
      this.finish({
        ok: false,
        error: `nft -i ended (${exit.error ?? `exit ${exit.code ?? exit.signal ?? "?"}`})${this.errorText()}`,
      });
    });
    return proc;
  }

  private errorText(): string {
    const text = this.stderr.trim();
    return text === "" ? "" : `: ${text.split("\n").slice(0, 20).join("\n")}`;
  }

  private async loadNow(text: string, fingerprint: number): Promise<ShellLoad> {
    const proc = this.process ?? this.start();
    const folder = this.folder as string;
    const path = join(folder, "ruleset.nft");
    if (/["\n\\]/.test(path)) return { ok: false, error: `cannot include ${path}: the path needs quoting` };
    writeFileSync(path, text, { mode: 0o600 });
    this.stdout = "";
    this.stderr = "";
    const result = new Promise<ShellLoad>((resolve) => {
      const timer = setTimeout(() => {
        // a shell that does not answer is not trusted again: the next load starts a new one
        this.process?.stop();
        this.process = null;
        this.finish({ ok: false, error: `nft -i did not answer within ${this.deps.timeoutMs ?? 10_000} ms` });
      }, this.deps.timeoutMs ?? 10_000);
      this.pending = { proc, fingerprint, resolve, timer, applied: null };
    });
    const sent = proc.write?.(
      `include "${path}"\nlist set ${POLICY_TABLE} ${SET_APPLIED}\nlist tables ${TABLE_FAMILY}\n`,
    );
    if (sent !== true) this.finish({ ok: false, error: "nft -i is not running" });
    return result;
  }

  private onStdout(chunk: string): void {
    this.stdout += chunk;
    let nl = this.stdout.indexOf("\n");
    while (nl >= 0) {
      const line = this.stdout.slice(0, nl);
      this.stdout = this.stdout.slice(nl + 1);
      this.onLine(line);
      nl = this.stdout.indexOf("\n");
    }
  }

  private onLine(line: string): void {
    const p = this.pending;
    if (p === null) return;
    const read = readShellLine(line);
    if (read === null) return;
    if (read.kind === "applied") {
      p.applied = read.elems;
      return;
    }
    // nft wrote the load's errors to stderr before it read the next command; they reach us in
    // the same turn of the event loop as this line at the latest
    setImmediate(() => {
      if (this.pending !== p) return;
      const took = p.applied?.includes(p.fingerprint) ?? false;
      this.finish(
        took
          ? { ok: true, error: null }
          : { ok: false, error: `the load did not take${this.errorText() || ": nft said nothing"}` },
      );
    });
  }

  private finish(r: ShellLoad): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    clearTimeout(p.timer);
    p.resolve(r);
  }
}
