import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listOwnedObjects, loadRuleset } from "../../agent/apply/nft";
import { renderNft } from "../../core/render/nft";
import type { GatewaySpec } from "../../core/spec/schema";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { connect, countAtIsp, type LeakCounter, startFlood, startListener } from "../../testkit/lab/traffic";
import { applyOk, entry, labSpec, poolOf, requireRoot } from "../../testkit/datapath";

/**
 * Reloads: a ruleset nft rejects changes nothing, a reload removes what is gone, and reloading
 * under a stream of new connections lets not one un-NATed packet out.
 */

const TCP = 5000;
let lab: Lab;
let atA: LeakCounter;
let atB: LeakCounter;

/** n filler rules for sources no client uses, then the clients' rule at a position that moves. */
function bigSpec(n: number, revision: number, algorithm: "sh" | "sdh"): GatewaySpec {
  const filler = Array.from({ length: n }, (_, i) => {
    const a = 96 + Math.floor(i / 256);
    return entry(
      `100.${a}.${i % 256}.0/24`,
      { snat: i % 2 === 0 ? "pa" : "pb", algorithm: "sh" },
      {
        destination: i % 3 === 0 ? "203.0.113.0/24" : null,
      },
    );
  });
  return labSpec(lab, [...filler, entry("100.64.0.0/16", { snat: "pa", algorithm })], { revision });
}

async function rulesetText(): Promise<string> {
  return lab.must(lab.ns.gateway, ["nft", "-s", "list", "ruleset"]);
}

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 2 });
  await startListener(lab, lab.ns.server, { addresses: lab.servers, tcp: [TCP] });
  atA = await countAtIsp(lab, lab.ns.ispA, lab.ispA.routerInterface);
  atB = await countAtIsp(lab, lab.ns.ispB, lab.ispB.routerInterface);
});

afterAll(async () => {
  await lab?.destroy();
});

describe("reloads", () => {
  it("a ruleset nft -c rejects leaves the previous one in place, with nft's error text", async () => {
    const spec = bigSpec(20, 1, "sh");
    await applyOk(lab, spec);
    const before = await rulesetText();
    const runner = lab.runner(lab.ns.gateway);
    const good = renderNft(spec, new Map(), await listOwnedObjects(runner));
    const broken = { ...good, text: good.text.replace("ip saddr vmap @by_source", "ip saddr frobnicate @by_source") };
    const r = await loadRuleset(runner, broken);
    expect(r.ok).toBe(false);
    expect(r.stage).toBe("check");
    expect(r.error).toMatch(/gatehouse\.nft:\d+:\d+-\d+: Error: /);
    expect(r.error).toContain("frobnicate");
    expect(await rulesetText()).toBe(before);
    const attempts = await connect(lab, lab.clients[0]?.ns as string, {
      proto: "tcp",
      dst: lab.servers[0] as string,
      port: TCP,
      count: 2,
    });
    expect(attempts.map((a) => poolOf(a.seen))).toEqual(["pa", "pa"]);
  });

  it("a reload deletes the chains and maps that are gone", async () => {
    const runner = lab.runner(lab.ns.gateway);
    await applyOk(lab, bigSpec(300, 2, "sh"));
    const small = bigSpec(3, 3, "sdh");
    await applyOk(lab, small);
    const rendered = renderNft(small, new Map(), await listOwnedObjects(runner));
    const now = await listOwnedObjects(runner);
    expect(now?.chains.slice().sort()).toEqual(rendered.chains.slice().sort());
    expect(now?.maps.slice().sort()).toEqual(rendered.maps.slice().sort());
  });

  it("reloading under a stream of new connections lets no un-NATed packet out", async () => {
    const specs = [bigSpec(2000, 10, "sh"), bigSpec(1500, 11, "sdh")];
    await applyOk(lab, specs[0] as GatewaySpec);
    await atA.reset();
    await atB.reset();
    const flood = startFlood(lab, lab.clients[0]?.ns as string, {
      dst: lab.servers[0] as string,
      seconds: 3,
      rate: 20_000,
    });
    const loads: number[] = [];
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 6; i++) {
      const r = await applyOk(lab, specs[(i + 1) % 2] as GatewaySpec);
      loads.push(Math.round(r.durations.applyMs));
      await new Promise((r) => setTimeout(r, 150));
    }
    const sent = await flood.result;
    const a = await atA.read();
    const b = await atB.read();
    const guard = await lab.must(lab.ns.gateway, ["nft", "list", "chain", "inet", "gatehouse_guard", "postrouting"]);
    const guardDrops = [...guard.matchAll(/counter packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    console.log(
      `reload under load: ${sent.sent} packets sent, ${a.pool} NATed at ISP A, ${guardDrops} stopped by the guard, ` +
        `loads ${loads.join(", ")} ms`,
    );
    expect(sent.sent).toBeGreaterThan(20_000);
    // the stream really went through while the ruleset was replaced
    expect(a.pool).toBeGreaterThan(sent.sent * 0.5);
    expect(a.lan).toBe(0);
    expect(b).toEqual({ lan: 0, pool: 0 });
  });

  it("the guard drops LAN traffic that would leave un-NATed when the policy table is missing", async () => {
    await applyOk(lab, bigSpec(10, 13, "sh"));
    await lab.must(lab.ns.gateway, ["nft", "delete", "table", "inet", "gatehouse"]);
    try {
      await atA.reset();
      const attempts = await connect(lab, lab.clients[0]?.ns as string, {
        proto: "tcp",
        dst: lab.servers[0] as string,
        port: TCP,
        count: 2,
        timeoutMs: 300,
      });
      expect(attempts.every((a) => !a.ok)).toBe(true);
      expect(await atA.read()).toEqual({ lan: 0, pool: 0 });
    } finally {
      await applyOk(lab, bigSpec(10, 14, "sh"));
    }
  });

  it("control: the ISP-side counter does see un-NATed packets when the tables are deleted and reloaded", async () => {
    const spec = bigSpec(2000, 12, "sh");
    await applyOk(lab, spec);
    await atA.reset();
    const flood = startFlood(lab, lab.clients[0]?.ns as string, {
      dst: lab.servers[0] as string,
      seconds: 1.5,
      rate: 20_000,
    });
    await new Promise((r) => setTimeout(r, 300));
    // the wrong way: two commands, with no table at all in between
    await lab.must(lab.ns.gateway, ["nft", "delete", "table", "inet", "gatehouse"]);
    await lab.must(lab.ns.gateway, ["nft", "delete", "table", "inet", "gatehouse_guard"]);
    await new Promise((r) => setTimeout(r, 100));
    await applyOk(lab, spec);
    await flood.result;
    expect((await atA.read()).lan).toBeGreaterThan(0);
  });
});
