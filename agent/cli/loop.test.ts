import pino from "pino";
import { describe, expect, it } from "vitest";
import { ConsoleError, type DesiredResult } from "../client/console";
import type { Facts, SpecKey, StatusReport } from "../../core/protocol/agent-api";
import { entry, gatewaySpec, isp, pool } from "../../testkit/spec-fixtures";
import type { GatewaySpec } from "../../core/spec/schema";
import type { LocalStatus } from "../state/store";
import { type ApplyOutcome, AgentLoop } from "./loop";

const FAST = { console: { baseMs: 10, capMs: 40 }, applyRetry: { baseMs: 30, capMs: 60 } };
const FACTS: Facts = { hostname: "gw", kernel: "6.1", nftVersion: "1.0.6", interfaces: [] };

const specOf = (revision: number, failoverEpoch = 0): GatewaySpec => ({
  ...gatewaySpec({
    isps: [isp("a", 1, "eth1", "198.51.100.1")],
    pools: [pool("p", "a", ["198.51.100.10"])],
    entries: [entry("100.64.0.0/16", { snat: "p" })],
    revision,
  }),
  failoverEpoch,
});

type Answer = DesiredResult | Error;

/** A console that answers polls from a script (then waits for the stop signal) and records reports. */
class FakeConsole {
  readonly polls: Array<SpecKey | null> = [];
  readonly reports: StatusReport[] = [];
  statusFails = false;
  constructor(private readonly script: Answer[]) {}

  async desired(have: SpecKey | null, signal?: AbortSignal): Promise<DesiredResult> {
    this.polls.push(have);
    const next = this.script.shift();
    if (next === undefined) {
      await new Promise((resolve) => signal?.addEventListener("abort", resolve, { once: true }));
      throw new Error("aborted");
    }
    if (next instanceof Error) throw next;
    return next;
  }

  async status(report: StatusReport) {
    if (this.statusFails) throw new ConsoleError("unreachable", "down");
    this.reports.push(structuredClone(report));
    return { ok: true as const, published: { revision: 0, failoverEpoch: 0 }, heartbeatSeconds: 15 };
  }
}

class MemoryStore {
  lastGood: { savedAt: string; spec: unknown } | undefined;
  status: LocalStatus | undefined;
  readLastGood() {
    return this.lastGood;
  }
  writeLastGood(spec: unknown) {
    this.lastGood = { savedAt: "now", spec: structuredClone(spec) };
  }
  writeStatus(s: LocalStatus) {
    this.status = structuredClone(s);
  }
}

function setup(script: Answer[], apply: (spec: GatewaySpec) => ApplyOutcome = () => ok) {
  const console = new FakeConsole(script);
  const store = new MemoryStore();
  const applied: Array<{ revision: number; failoverEpoch: number }> = [];
  const loop = new AgentLoop({
    console,
    store,
    apply: async (spec) => {
      applied.push({ revision: spec.revision, failoverEpoch: spec.failoverEpoch });
      return apply(spec);
    },
    facts: async () => FACTS,
    log: pino({ level: "silent" }),
    agentVersion: "9.9.9",
    heartbeatMs: 60_000,
    backoff: FAST,
    random: () => 0.5,
  });
  return { console, store, applied, loop };
}

const ok: ApplyOutcome = { ok: true, loaded: true, error: "", durationsMs: { totalMs: 5 } };
const spec = (s: unknown): DesiredResult => ({ kind: "spec", spec: s });

async function runFor(loop: AgentLoop, ms: number, until?: () => boolean): Promise<void> {
  const stop = new AbortController();
  const done = loop.run(stop.signal);
  const started = Date.now();
  while (Date.now() - started < ms && !(until?.() ?? false)) await new Promise((r) => setTimeout(r, 5));
  stop.abort();
  await done;
}

describe("the agent loop", () => {
  it("applies each new spec, saves it as last good, reports it and asks for the next one", async () => {
    const { console, store, applied, loop } = setup([spec(specOf(1)), { kind: "unchanged" }, spec(specOf(2, 1))]);
    await runFor(loop, 2000, () => console.polls.length >= 4);
    expect(applied).toEqual([
      { revision: 1, failoverEpoch: 0 },
      { revision: 2, failoverEpoch: 1 },
    ]);
    expect(console.polls).toEqual([
      null,
      { revision: 1, failoverEpoch: 0 },
      { revision: 1, failoverEpoch: 0 },
      { revision: 2, failoverEpoch: 1 },
    ]);
    expect(store.lastGood?.spec).toMatchObject({ revision: 2 });
    const last = console.reports.at(-1);
    expect(last).toMatchObject({
      agentVersion: "9.9.9",
      running: { revision: 2, failoverEpoch: 1 },
      lastApply: { ok: true, revision: 2 },
    });
    expect(store.status?.running).toEqual({ revision: 2, failoverEpoch: 1 });
  });

  it("re-applies the last good spec at start, before the console answers", async () => {
    const { store, applied, loop, console } = setup([new ConsoleError("unreachable", "refused")]);
    store.writeLastGood(specOf(7, 3));
    await runFor(loop, 300, () => console.polls.length >= 2);
    expect(applied[0]).toEqual({ revision: 7, failoverEpoch: 3 });
    expect(console.polls[0]).toBeNull();
    expect(loop.snapshot().running).toEqual({ revision: 7, failoverEpoch: 3 });
  });

  it("keeps the applied state while the console is unreachable and retries with growing waits", async () => {
    const down = () => new ConsoleError("unreachable", "cannot reach the console: ECONNREFUSED");
    const { console, applied, loop, store } = setup([spec(specOf(1)), down(), down(), down(), down(), spec(specOf(2))]);
    const times: number[] = [];
    const originalDesired = console.desired.bind(console);
    console.desired = (have, signal) => {
      times.push(Date.now());
      return originalDesired(have, signal);
    };
    await runFor(loop, 3000, () => applied.length >= 2);
    expect(applied.map((a) => a.revision)).toEqual([1, 2]);
    // no apply happened while the console was down; the waits grew (10, 20, 40, 40 ms nominal, 3/4 of it with random 0.5)
    const gaps = times.slice(2, 6).map((t, i) => t - (times[i + 1] ?? t));
    expect(gaps[0]).toBeGreaterThanOrEqual(7);
    expect(gaps[2]).toBeGreaterThanOrEqual(28);
    expect(store.status?.consoleError).toBe("");
    expect(loop.snapshot().running).toEqual({ revision: 2, failoverEpoch: 0 });
  });

  it("keeps running the old spec when an apply fails, reports nft's error and retries until it works", async () => {
    let calls = 0;
    const { console, applied, loop } = setup([spec(specOf(1)), spec(specOf(2))], (s) => {
      if (s.revision === 2 && calls++ < 2)
        return { ok: false, loaded: false, error: "check: Error: No such file", durationsMs: {} };
      return ok;
    });
    await runFor(loop, 3000, () => applied.filter((a) => a.revision === 2).length >= 3);
    expect(applied.map((a) => a.revision)).toEqual([1, 2, 2, 2]);
    const failed = console.reports.find((r) => r.lastApply?.ok === false);
    expect(failed).toMatchObject({
      running: { revision: 1 },
      lastApply: { revision: 2, error: "check: Error: No such file" },
    });
    // the failed spec is not fetched again: the poll says the agent has it
    expect(console.polls.slice(2).every((p) => p?.revision === 2)).toBe(true);
    expect(loop.snapshot()).toMatchObject({ running: { revision: 2 }, lastApply: { ok: true } });
  });

  it("refuses a spec of an unknown version without applying it, and does not fetch it again", async () => {
    const future = { ...specOf(5), specVersion: 2 };
    const { console, applied, loop } = setup([spec(future)]);
    await runFor(loop, 1000, () => console.polls.length >= 2);
    expect(applied).toEqual([]);
    expect(console.polls[1]).toEqual({ revision: 5, failoverEpoch: 0 });
    const last = console.reports.at(-1);
    expect(last?.lastApply).toMatchObject({ ok: false, revision: 5 });
    expect(last?.lastApply?.error).toMatch(/spec version 2.*understands spec version 1.*upgrade this agent/);
  });

  it("backs off on a spec it cannot even identify instead of asking again at once", async () => {
    const { console, applied, loop } = setup([spec({ hello: "world" }), spec({ nope: 1 })]);
    await runFor(loop, 1000, () => console.polls.length >= 3);
    expect(applied).toEqual([]);
    expect(console.polls.slice(0, 3)).toEqual([null, null, null]);
  });

  it("keeps going when status reports fail", async () => {
    const { console, applied, loop } = setup([spec(specOf(1)), spec(specOf(2))]);
    console.statusFails = true;
    await runFor(loop, 2000, () => applied.length >= 2);
    expect(applied.map((a) => a.revision)).toEqual([1, 2]);
  });
});
