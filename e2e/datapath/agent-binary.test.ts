import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide } from "../../core/spec/decide";
import { buildAgent } from "../../scripts/build-agent";
import { type Policy, zMonitor } from "../../core/policy/model";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { connect, type Listener, startListener } from "../../testkit/lab/traffic";
import { compileLabSpec, packet, requireRoot, runAgentOnce } from "../../testkit/datapath";
import { standaloneHa } from "../../core/policy/ha";

/**
 * The whole pipeline with the shipped program: an editable policy is compiled by the console's
 * compiler, and the built agent bundle applies it inside the gateway namespace (`apply --spec`),
 * exactly as an operator would run it; real traffic then shows the result.
 */

const PORT = 5100;
let lab: Lab;
let listener: Listener;
let work: string;
let agentFile: string;

function policyFor(lab: Lab, algorithm: "sh" | "sdh", extraDrop: string | null): Policy {
  return {
    settings: {
      unmatched: "drop",
      hashSeed: 0x1234abcd,
      lanInterfaces: [],
      internalInterfaces: [],
      ha: standaloneHa(),
      gateways: [],
    },
    isps: [
      {
        id: "isp-a",
        index: 1,
        name: "isp-a",
        interface: lab.ispA.gatewayInterface,
        addressing: "static" as const,
        nextHop: lab.ispA.nextHop,
        localAddress: null,
        probeTargets: [],
        monitor: zMonitor.parse({}),
        failoverMode: "manual",
        failbackMode: "manual",
        flushOnFailback: false,
        backupIspIds: [],
        defaultPoolId: null,
        comment: "",
      },
    ],
    pools: [
      {
        id: "pool-a",
        name: "a-main",
        ispId: "isp-a",
        mode: "routed",
        addresses: ["198.51.100.10-198.51.100.13"],
        portRange: null,
        comment: "",
      },
    ],
    zones: [{ id: "lan", name: "lan", networks: ["100.64.0.0/16"], comment: "" }],
    rules: [
      {
        id: "r-lan",
        seq: 1,
        priority: null,
        source: { kind: "zone", zoneId: "lan" },
        destinations: [],
        protocol: "any",
        egressIspId: null,
        action: { type: "snat", poolId: "pool-a", algorithm },
        redirectIspId: null,
        fallbackPoolId: null,
        onFailover: "follow",
        failoverIspId: null,
        enabled: true,
        comment: "LAN out via A",
      },
      ...(extraDrop
        ? [
            {
              id: "r-drop",
              seq: 2,
              priority: null,
              source: { kind: "cidrs" as const, cidrs: [extraDrop] },
              destinations: [],
              protocol: "any" as const,
              egressIspId: null,
              action: { type: "drop" as const },
              redirectIspId: null,
              fallbackPoolId: null,
              onFailover: "follow" as const,
              failoverIspId: null,
              enabled: true,
              comment: "blocked host",
            },
          ]
        : []),
    ],
  };
}

const compile = compileLabSpec;

const runAgent = (args: string[]) => runAgentOnce(lab, agentFile, args);

function writeSpec(name: string, spec: unknown): string {
  const file = join(work, name);
  writeFileSync(file, JSON.stringify(spec));
  return file;
}

beforeAll(async () => {
  requireRoot();
  work = mkdtempSync(join(tmpdir(), "gatehouse-agent-bin-"));
  agentFile = (await buildAgent(join(work, "gatehouse-agent.mjs"))).outfile;
  lab = await buildLab({ clients: 3 });
  listener = await startListener(lab, lab.ns.server, { addresses: lab.servers, tcp: [PORT], udp: [] });
}, 120_000);

afterAll(async () => {
  await lab?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the built agent applies a compiled policy", () => {
  it("renders, applies, and the traffic leaves with the addresses the compiled policy predicts", async () => {
    const spec = compile(policyFor(lab, "sh", null), 1);
    const file = writeSpec("r1.json", spec);

    const rendered = await runAgent(["render", "--spec", file]);
    expect(rendered.code).toBe(0);
    expect(rendered.stdout).toMatch(/table inet gatehouse/);

    const applied = await runAgent(["apply", "--spec", file]);
    expect(applied.stderr).not.toMatch(/"level":50/);
    expect(applied.code).toBe(0);

    for (const c of lab.clients) {
      const v = decide(spec, new Map(), packet(c.address, lab.servers[0] as string, "tcp", "isp-a")).verdict;
      const expected = v.kind === "snat" ? v.address : "no snat";
      const attempts = await connect(lab, c.ns, { proto: "tcp", dst: lab.servers[0] as string, port: PORT, count: 2 });
      expect(attempts.map((a) => a.seen)).toEqual([expected, expected]);
    }
  });

  it("refuses a spec it cannot apply, exits non-zero with the reason, and keeps the running ruleset", async () => {
    const good = compile(policyFor(lab, "sh", null), 1);
    const unknownVersion = writeSpec("future.json", { ...good, specVersion: 99 });
    const refused = await runAgent(["apply", "--spec", unknownVersion]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/specVersion|version/i);

    // an interface that does not exist on this gateway: the spec is valid, nft or ip refuse it
    const wrongIface = writeSpec("bad-iface.json", {
      ...good,
      revision: 2,
      isps: good.isps.map((i) => ({ ...i, interface: "nosuch0" })),
    });
    const failed = await runAgent(["apply", "--spec", wrongIface]);
    expect(failed.code).not.toBe(0);

    // the revision 1 ruleset still NATs every client
    const c = lab.clients[0];
    if (!c) throw new Error("lab without clients");
    const attempts = await connect(lab, c.ns, { proto: "tcp", dst: lab.servers[0] as string, port: PORT, count: 2 });
    expect(
      attempts.map((a) => a.seen),
      failed.stderr,
    ).toEqual(attempts.map(() => expect.stringMatching(/^198\.51\.100\.1[0-3]$/)));
  });

  it("applies a new revision over the old one: a drop rule for one client takes effect, others keep their addresses", async () => {
    const blocked = lab.clients[1];
    const open = lab.clients[2];
    if (!blocked || !open) throw new Error("lab without clients");
    const spec = compile(policyFor(lab, "sh", `${blocked.address}/32`), 3);
    const applied = await runAgent(["apply", "--spec", writeSpec("r3.json", spec)]);
    expect(applied.code).toBe(0);
    const dropped = await connect(lab, blocked.ns, {
      proto: "tcp",
      dst: lab.servers[0] as string,
      port: PORT,
      count: 1,
      timeoutMs: 800,
    });
    expect(dropped[0]?.seen ?? null).toBeNull();
    const v = decide(spec, new Map(), packet(open.address, lab.servers[0] as string, "tcp", "isp-a")).verdict;
    const kept = await connect(lab, open.ns, { proto: "tcp", dst: lab.servers[0] as string, port: PORT, count: 1 });
    expect(kept[0]?.seen).toBe(v.kind === "snat" ? v.address : "no snat");
    expect(listener.records().every((r) => r.peer.startsWith("198.51.100."))).toBe(true);
  });
});
