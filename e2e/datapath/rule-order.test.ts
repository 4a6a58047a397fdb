import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emptyPolicy } from "../../core/import";
import { type Policy, zIspFields, zPolicy } from "../../core/policy/model";
import { decide } from "../../core/spec/decide";
import { applyOk, compileLabSpec, packet, POOLS, poolOf, requireRoot } from "../../testkit/datapath";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { connect, type Listener, startListener } from "../../testkit/lab/traffic";

/**
 * The same rules in both ordering modes, on real traffic: a wide rule written first and a rule
 * for one client written after it. Most specific first, the client's own rule decides and it
 * leaves with pool pa2; in the order listed, the wide rule written first decides and it leaves
 * with pool pa. Another client leaves with pa either way. Every answer is also asked of decide()
 * (what the simulator runs) and must agree with what the server saw.
 */

const PORT = 5140;
let lab: Lab;
let listener: Listener;

function policy(ruleOrder: "specificity" | "list"): Policy {
  const base = emptyPolicy();
  const isp = (id: string, index: number, iface: string, nextHop: string) => ({
    ...zIspFields.parse({ name: `isp-${id}`, interface: iface, nextHop }),
    id,
    index,
  });
  const client0 = lab.clients[0]?.address as string;
  return zPolicy.parse({
    ...base,
    settings: { ...base.settings, hashSeed: 7, ...(ruleOrder === "list" ? { ruleOrder } : {}) },
    isps: [
      isp("a", 1, lab.ispA.gatewayInterface, lab.ispA.nextHop),
      isp("b", 2, lab.ispB.gatewayInterface, lab.ispB.nextHop),
    ],
    pools: [
      { id: "pa", name: "pa", ispId: "a", addresses: POOLS.pa },
      { id: "pa2", name: "pa2", ispId: "a", addresses: POOLS.pa2 },
    ],
    rules: [
      {
        id: "wide",
        seq: 1,
        source: { kind: "cidrs", cidrs: ["100.64.0.0/10"] },
        egressIspId: "a",
        action: { type: "snat", poolId: "pa", algorithm: "sh" },
        comment: "written first",
      },
      {
        id: "client0",
        seq: 2,
        source: { kind: "cidrs", cidrs: [`${client0}/32`] },
        egressIspId: "a",
        action: { type: "snat", poolId: "pa2", algorithm: "sh" },
        comment: "one client, written second",
      },
    ],
  });
}

/** The pool each client's connections left with, as the server saw them (all of them must agree). */
async function observe(): Promise<string[]> {
  const out: string[] = [];
  for (const c of lab.clients) {
    const attempts = await connect(lab, c.ns, {
      proto: "tcp",
      dst: lab.servers[0] as string,
      port: PORT,
      count: 4,
      timeoutMs: 1000,
    });
    expect(attempts.every((a) => a.ok)).toBe(true);
    const pools = [...new Set(attempts.map((a) => poolOf(a.seen) ?? `unknown ${a.seen}`))];
    out.push(pools.join(","));
  }
  return out;
}

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 2 });
  listener = await startListener(lab, lab.ns.server, { addresses: lab.servers, tcp: [PORT], udp: [] });
}, 120_000);

afterAll(async () => {
  await listener?.stop?.();
  await lab?.destroy();
});

describe("list order vs most specific first on the same rules", () => {
  it.each([
    { mode: "specificity" as const, revision: 1, expected: ["pa2", "pa"] },
    { mode: "list" as const, revision: 2, expected: ["pa", "pa"] },
  ])(
    "$mode: the clients leave with $expected",
    async ({ mode, revision, expected }) => {
      const spec = compileLabSpec(policy(mode), revision);
      const simulated = lab.clients.map((c) => {
        const v = decide(spec, new Map(), packet(c.address, lab.servers[0] as string, "tcp", "a", 40000, PORT)).verdict;
        return v.kind === "snat" ? v.poolId : v.kind;
      });
      expect(simulated).toEqual(expected);
      await applyOk(lab, spec);
      // connections of the other mode's run must not linger in conntrack
      await lab.must(lab.ns.gateway, ["conntrack", "-F"]).catch(() => "");
      expect(await observe()).toEqual(expected);
    },
    60_000,
  );
});
