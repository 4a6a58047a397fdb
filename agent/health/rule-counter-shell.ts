import { closeSync, ftruncateSync } from "node:fs";
import { POLICY_TABLE, SET_RULE_HITS } from "../../core/render/names";
import { type RuleCounterReading, readRuleCounters, tableExists } from "./rule-counter-reader";
import { RuleCounterParser } from "./rule-counters";
import type { NftShellDeps } from "../apply/nft-shell";
import { anonymousFile, readChunks, type SpawnedProcess } from "./spawner";

/**
 * The rules' counters read through one long-lived `nft -i` instead of a `nft list set` process
 * per reading (rule-counter-reader.ts for what a reading is). Measured here on the 10000-rule
 * benchmark ruleset: a `nft list set` process costs ~11 ms of CPU and the agent ~5 ms more to
 * start it; the same listing through a running `nft -i` ~0.2 ms. A shell of its own, not the
 * load shell (agent/apply/nft-shell.ts): a load on the failover path never waits behind a reading.
 *
 * nft writes a listing a word at a time, so its stdout is an unlinked file opened for appending
 * (no wake-up of the agent per word): the agent reads the file once the answer is complete and
 * empties it. Complete is told on stderr: each listing is followed by a `list set` of a set that
 * never exists (END_SET and a number), whose error nft writes, repeating that command, only after
 * the listing. What stderr holds before that error is the listing's own.
 *
 * Where the shell cannot run (no temporary file, an nft without -i, a shell that keeps dying),
 * readings go by `nft list set` processes as before.
 */

const TIMEOUT_MS = 10_000;
/** the shell is given up for per-reading processes after this many failures in a row */
const MAX_FAILURES = 3;
/** a set name no ruleset has: asking for it ends every request with a known error */
const END_SET = "gatehouse_reading_end_";

interface Pending {
  end: string;
  resolve: (stderr: string) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** as the load shell's: the spawner, the directory for the output file, the time limit of an answer */
export type RuleCounterShellDeps = NftShellDeps;

export class RuleCounterShell {
  private process: SpawnedProcess | null = null;
  /** the file the shell writes its stdout to; null before the shell starts */
  private fd: number | null = null;
  private stderr = "";
  private pending: Pending | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private requests = 0;
  private failures = 0;

  constructor(private readonly deps: RuleCounterShellDeps) {}

  /** One reading of the counters (serialised: one request to the shell at a time). */
  read(rules: ReadonlyMap<number, string>): Promise<RuleCounterReading> {
    const run = this.queue.then(() => this.readNow(rules));
    this.queue = run.catch(() => {});
    return run;
  }

  /** whether readings still go through the shell (false once it was given up) */
  usable(): boolean {
    return this.failures < MAX_FAILURES;
  }

  /** Ends the shell and closes its file. */
  stop(): void {
    this.process?.stop();
    this.process = null;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.fail(new Error("the counter shell was stopped"));
  }

  private async readNow(rules: ReadonlyMap<number, string>): Promise<RuleCounterReading> {
    if (!this.usable()) return readRuleCounters(this.deps.spawner, rules);
    const started = performance.now();
    let stderr: string;
    try {
      stderr = await this.request(`list set ${POLICY_TABLE} ${SET_RULE_HITS}`);
    } catch {
      // this reading by a process of its own; the next tries the shell again (a new one)
      this.failures++;
      return readRuleCounters(this.deps.spawner, rules);
    }
    this.failures = 0;
    const parser = new RuleCounterParser(rules);
    await this.drain((chunk) => parser.push(chunk));
    const what = `nft -i: list set ${POLICY_TABLE} ${SET_RULE_HITS}`;
    const errors = stderr.trim();
    if (/No such file or directory/.test(errors) && (await tableExists(this.deps.spawner))) {
      return { counters: new Map(), durationMs: performance.now() - started, noSet: true };
    }
    if (errors !== "") throw new Error(`${what}: ${errors.split("\n").slice(0, 20).join("\n")}`);
    return { counters: parser.end(), durationMs: performance.now() - started, noSet: false };
  }

  /** Sends one command; resolves with what the shell wrote to stderr about it. */
  private request(command: string): Promise<string> {
    const proc = this.process ?? this.start();
    const end = `list set ${POLICY_TABLE} ${END_SET}${++this.requests}`;
    this.stderr = "";
    return new Promise<string>((resolve, reject) => {
      const timeoutMs = this.deps.timeoutMs ?? TIMEOUT_MS;
      const timer = setTimeout(() => {
        // a shell that does not answer is not trusted again: the next reading starts a new one
        this.process?.stop();
        this.process = null;
        this.fail(new Error(`nft -i did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = { end, resolve, reject, timer };
      if (proc.write?.(`${command}\n${end}\n`) !== true) this.fail(new Error("nft -i is not running"));
    });
  }

  private start(): SpawnedProcess {
    if (this.fd === null) this.fd = anonymousFile({ dir: this.deps.tmpDir, append: true });
    if (this.fd === null) throw new Error("no temporary file for nft's output");
    ftruncateSync(this.fd, 0);
    this.stderr = "";
    const proc = this.deps.spawner.spawn(["nft", "-i"], {
      stdin: true,
      stdoutFd: this.fd,
      stderr: (chunk) => this.onStderr(chunk),
    });
    this.process = proc;
    void proc.exited.then((exit) => {
      if (this.process !== proc) return;
      this.process = null;
      const said = this.stderr.trim().split("\n").slice(0, 5).join("\n");
      this.fail(
        new Error(
          `nft -i ended (${exit.error ?? `exit ${exit.code ?? exit.signal ?? "?"}`})${said ? `: ${said}` : ""}`,
        ),
      );
    });
    return proc;
  }

  private onStderr(chunk: string): void {
    this.stderr += chunk;
    const p = this.pending;
    if (p === null) {
      // what nft says between requests (the rest of the last end marker's error) is nobody's
      if (this.stderr.length > 64 * 1024) this.stderr = "";
      return;
    }
    // the end marker's error: `Error: ...`, the command, then a line of carets under it
    const at = this.stderr.indexOf(`\n${p.end}\n`);
    if (at < 0 || this.stderr.indexOf("^", at) < 0 || !this.stderr.endsWith("\n")) return;
    const errorStart = this.stderr.lastIndexOf("Error:", at);
    const own = this.stderr.slice(0, errorStart < 0 ? at : errorStart);
    this.stderr = "";
    this.pending = null;
    clearTimeout(p.timer);
    // the carets under an earlier command's text are not an error of this one
    p.resolve(own.includes("Error:") ? own : "");
  }

  private fail(e: Error): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    clearTimeout(p.timer);
    p.reject(e);
  }

  /** Hands the answer nft wrote to `deliver`, then empties the file for the next one. */
  private async drain(deliver: (chunk: string) => void): Promise<void> {
    const fd = this.fd;
    if (fd === null) return;
    await readChunks(fd, deliver);
    // opened for appending: nft's next write lands at the start again
    ftruncateSync(fd, 0);
  }
}
