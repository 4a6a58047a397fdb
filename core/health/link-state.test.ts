import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type LinkConfig, type LinkState, LinkStateMachine, type Transition, windowRoundsFor } from "./link-state";

const CFG: LinkConfig = {
  intervalMs: 100,
  downAfter: 3,
  upAfter: 5,
  holdDownMs: 2_000,
  lossThresholdPct: 50,
  latencyThresholdMs: 200,
};

/** Feeds rounds at the configured interval; "." answered (1 ms), "x" lost, or a number: answered with that rtt. */
function feed(m: LinkStateMachine, pattern: string | Array<number | null>, start: number, cfg = CFG) {
  const rounds = typeof pattern === "string" ? [...pattern].map((c) => (c === "." ? 1 : null)) : pattern;
  const transitions: Transition[] = [];
  let t = start;
  for (const [i, rtt] of rounds.entries()) {
    t = start + i * cfg.intervalMs;
    const tr = m.observe({ seq: i, ok: rtt !== null, rttMs: rtt }, t);
    if (tr !== null) transitions.push(tr);
  }
  return { transitions, end: t };
}

const states = (ts: Transition[]) => ts.map((t) => t.to);

describe("link state machine: carrier", () => {
  it("goes down at once on carrier loss, without waiting for probes", () => {
    const m = new LinkStateMachine(CFG, 0);
    feed(m, "..........", 0);
    expect(m.status().state).toBe("up");
    const t = m.carrierLost(1_000, "carrier lost on eth1");
    expect(t).toMatchObject({ from: "up", to: "down", at: 1_000, reason: "carrier lost on eth1" });
  });

  it("stays down while the carrier is away, however the probes do, and carrier back alone brings nothing up", () => {
    const m = new LinkStateMachine(CFG, 0);
    feed(m, ".....", 0);
    m.carrierLost(500, "no carrier");
    // answers while the carrier is reported lost (a stale round) do not bring it up
    expect(feed(m, "..........", 600).transitions).toEqual([]);
    m.carrierRestored(2_000);
    expect(m.status().state).toBe("down");
    // then the usual hysteresis: upAfter good rounds and the hold-down counted from the carrier's return
    const back = feed(m, ".".repeat(25), 2_100);
    expect(states(back.transitions)).toEqual(["up"]);
    expect(back.transitions[0]?.at).toBeGreaterThanOrEqual(4_000);
  });
});

describe("link state machine", () => {
  it("starts unknown, comes up on the first answer and goes down after downAfter lost rounds", () => {
    const m = new LinkStateMachine(CFG, 0);
    expect(m.status().state).toBe("unknown");
    const { transitions } = feed(m, "...xx", 0);
    expect(states(transitions)).toEqual(["up", "degraded"]);
    const down = feed(m, "x", 500).transitions[0];
    expect(down).toMatchObject({ from: "degraded", to: "down", at: 500, lastGoodAt: 200 });
    expect(down?.reason).toMatch(/3 probe rounds lost in a row/);
  });

  it("goes down from unknown when nothing ever answers", () => {
    const m = new LinkStateMachine(CFG, 0);
    expect(states(feed(m, "xx", 0).transitions)).toEqual([]);
    expect(states(feed(m, "x", 200).transitions)).toEqual(["down"]);
  });

  it("stays down until upAfter answers in a row AND the hold-down has passed since the last loss", () => {
    const m = new LinkStateMachine(CFG, 0);
    feed(m, "....xxx", 0);
    expect(m.status().state).toBe("down");
    // 5 answers in a row, but the last loss was 500 ms ago: held down
    let r = feed(m, ".....", 700);
    expect(r.transitions).toEqual([]);
    // answering on: up once 2 s have passed without a loss (last loss at t=600)
    r = feed(m, ".".repeat(20), 1200);
    expect(states(r.transitions)).toEqual(["up"]);
    expect(r.transitions[0]?.at).toBe(2600);
    expect(r.transitions[0]?.reason).toMatch(/none lost for 2000 ms/);
  });

  it("a link flapping every 300 ms for 10 s goes down once and comes back once, after the flapping", () => {
    const m = new LinkStateMachine(CFG, 0);
    const pattern: string[] = [];
    for (let i = 0; i < 100; i++) pattern.push(Math.floor(i / 3) % 2 === 0 ? "." : "x");
    const flap = feed(m, `..........${pattern.join("")}${".".repeat(40)}`, 0);
    expect(states(flap.transitions).filter((s) => s === "down")).toHaveLength(1);
    // back in service (degraded while the window still remembers the flapping), once
    const back = flap.transitions.filter((t) => t.from === "down");
    expect(back).toHaveLength(1);
    // the last lost round of the flapping is at index 10 + 98; the link returns a hold-down later
    expect(back[0]?.at).toBeGreaterThanOrEqual((10 + 98) * 100 + CFG.holdDownMs);
    expect(m.status().state).not.toBe("down");
  });

  it("never goes down on fewer than downAfter losses in a row while the window loss stays under the threshold", () => {
    const m = new LinkStateMachine(CFG, 0);
    // two of every five rounds lost: 40% loss, at most 2 in a row
    const r = feed(m, "..xx.".repeat(60), 0);
    expect(states(r.transitions)).not.toContain("down");
    expect(m.status().state).toBe("degraded");
    expect(m.status().lossPct).toBeCloseTo(40, 0);
  });

  it("goes down on loss past the threshold over a full window even without downAfter in a row", () => {
    const m = new LinkStateMachine(CFG, 0);
    // 60% loss in a pattern that never loses 3 in a row
    const r = feed(m, ".xx.x".repeat(40), 0);
    const down = r.transitions.find((t) => t.to === "down");
    expect(down?.reason).toMatch(/loss 60% over the last 100 rounds \(threshold 50%\)/);
    expect(down?.at).toBe((windowRoundsFor(CFG.intervalMs) - 1) * 100);
  });

  it("shows high latency as degraded and clears it after upAfter good rounds", () => {
    const m = new LinkStateMachine(CFG, 0);
    const slow = Array.from({ length: 20 }, () => 150);
    // up on the first answer, degraded once the window holds enough slow rounds to judge
    expect(states(feed(m, slow, 0).transitions)).toEqual(["up", "degraded"]);
    expect(m.status().rttMs).toBeCloseTo(150);
    const fast = Array.from({ length: 200 }, () => 1);
    const r = feed(m, fast, 2000);
    expect(states(r.transitions)).toEqual(["up"]);
  });

  it("reset makes the state unknown and forgets the window", () => {
    const m = new LinkStateMachine(CFG, 0);
    feed(m, "xxx", 0);
    expect(m.reset(400, "fping exited")).toMatchObject({ from: "down", to: "unknown", reason: "fping exited" });
    expect(m.status()).toMatchObject({ state: "unknown", samples: 0, lossPct: null });
  });

  it("property: at most one down per hold-down period, whatever the rounds", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 600 }), (answers) => {
        const m = new LinkStateMachine(CFG, 0);
        const downs: number[] = [];
        let lastState: LinkState = "unknown";
        answers.forEach((ok, i) => {
          const t = m.observe({ seq: i, ok, rttMs: ok ? 1 : null }, i * CFG.intervalMs);
          if (t?.to === "down") downs.push(t.at);
          if (t !== null) {
            expect(t.from).toBe(lastState);
            lastState = t.to;
          }
        });
        for (let i = 1; i < downs.length; i++) {
          expect((downs[i] as number) - (downs[i - 1] as number)).toBeGreaterThanOrEqual(CFG.holdDownMs);
        }
      }),
    );
  });
});
