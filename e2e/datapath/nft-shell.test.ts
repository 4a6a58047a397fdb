import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Datapath } from "../../agent/apply/datapath";
import { NftShell } from "../../agent/apply/nft-shell";
import { execSpawner } from "../../agent/health/spawner";
import { renderNft } from "../../core/render/nft";
import type { FailoverState } from "../../core/spec/decide";
import type { GatewaySpec } from "../../core/spec/schema";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { connect, startListener } from "../../testkit/lab/traffic";
import { applyOk, entry, labSpec, poolOf, requireRoot } from "../../testkit/datapath";
import { listOwnedObjects } from "../../agent/apply/nft";

/**
 * The failover path's loads through one long-lived `nft -i`: the kernel ends up exactly where a
 * full `nft -f` of the same ruleset puts it, traffic follows, a ruleset nft refuses changes
 * nothing, and a shell that died is replaced at the next load.
 */

const TCP = 5000;
let lab: Lab;
let spec: GatewaySpec;
let shell: NftShell;
let datapath: Datapath;
const failedOver: FailoverState = new Map([["a", "b"]]);
const none: FailoverState = new Map();

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 1 });
  await startListener(lab, lab.ns.server, { addresses: lab.servers, tcp: [TCP] });
  spec = labSpec(lab, [entry("100.64.0.0/10", { snat: "pa", algorithm: "sh" }, { fallback: "pbf" })]);
  shell = new NftShell({ spawner: execSpawner({ prefix: ["ip", "netns", "exec", lab.ns.gateway] }) });
  datapath = new Datapath({ runner: lab.runner(lab.ns.gateway), shell });
});

afterAll(async () => {
  datapath?.close();
  await lab?.destroy();
});

const ruleset = () => lab.must(lab.ns.gateway, ["nft", "-s", "list", "ruleset"]);
/**
 * The ruleset without the applied set's fingerprint: that is of the text of the last load, whose
 * housekeeping lines (which chains to delete) depend on what the load before it left.
 */
const kernelState = async () =>
  (await ruleset()).replace(/(set applied \{[^}]*?elements = \{ )0x[0-9a-f]+( \})/, "$1FP$2");

async function poolsSeen(): Promise<Array<string | null>> {
  const attempts = await connect(lab, lab.clients[0]?.ns as string, {
    proto: "tcp",
    dst: lab.servers[0] as string,
    port: TCP,
    count: 2,
  });
  expect(attempts.every((a) => a.ok)).toBe(true);
  return attempts.map((a) => poolOf(a.seen));
}

describe("loads through a long-lived nft -i", () => {
  it("switches the failover state to exactly what a full load makes of it, and traffic follows", async () => {
    await applyOk(lab, spec);
    await datapath.apply(spec, none);
    expect(await poolsSeen()).toEqual(["pa", "pa"]);
    for (const state of [failedOver, none, failedOver]) {
      const r = await datapath.switchFailover(spec, state);
      expect(r.error).toBeNull();
      // the quick path took it: no full apply ran
      expect(r.full).toBeNull();
      const quick = await kernelState();
      expect(quick).toContain("elements = { FP }");
      await applyOk(lab, spec, state);
      expect(quick).toBe(await kernelState());
      expect(await poolsSeen()).toEqual(state === none ? ["pa", "pa"] : ["pbf", "pbf"]);
    }
  });

  it("a ruleset nft refuses changes nothing, and nft's words name the line", async () => {
    const before = await ruleset();
    const good = renderNft(spec, none, await listOwnedObjects(lab.runner(lab.ns.gateway)));
    const bad = good.text.replace("ip saddr vmap", "ip saddr frobnicate");
    expect(bad).not.toBe(good.text);
    const r = await shell.load(bad, good.fingerprint);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/ruleset\.nft:\d+:\d+-\d+: Error: /);
    expect(await ruleset()).toBe(before);
  });

  it("starts a new shell when the last one died", async () => {
    const pids = (await lab.must(lab.ns.gateway, ["ip", "netns", "pids", lab.ns.gateway])).split("\n").filter(Boolean);
    const nft = pids.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "nft";
      } catch {
        return false;
      }
    });
    expect(nft).toHaveLength(1);
    process.kill(Number(nft[0]), "SIGKILL");
    await new Promise((r) => setTimeout(r, 100));
    const r = await datapath.switchFailover(spec, failedOver);
    expect(r.error).toBeNull();
    expect(r.full).toBeNull();
    expect(await poolsSeen()).toEqual(["pbf", "pbf"]);
  });
});
