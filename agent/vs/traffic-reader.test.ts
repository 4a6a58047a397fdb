import { describe, expect, it } from "vitest";
import { drFlowMapOf } from "../../core/render/vs-dr";
import { FakeRunner } from "../../testkit/fakes/runner";
import { gatewaySpec, virtualService } from "../../testkit/spec-fixtures";
import { VirtualServiceTraffic } from "./traffic-reader";

const nat = virtualService("web", "198.51.100.80", 80, [{ address: "100.64.2.2", port: 8080 }]);
const dr = virtualService("dns", "198.51.100.90", 53, [{ address: "100.64.3.2" }], { protocol: "udp", mode: "dr" });
const specOf = (...s: ReturnType<typeof virtualService>[]) =>
  gatewaySpec({ isps: [], pools: [], entries: [], virtualServices: s });

const sets = (packets: number) =>
  JSON.stringify({
    nftables: [
      {
        set: {
          name: "vs_rs_new",
          elem: [{ elem: { val: { concat: ["100.64.2.2", "tcp", 8080] }, counter: { packets, bytes: packets * 60 } } }],
        },
      },
    ],
  });

describe("virtual service traffic reader", () => {
  it("reads every counter in one call, conntrack only for NAT services, rates between samples", async () => {
    let packets = 10;
    let now = 1_000;
    const runner = new FakeRunner()
      .on(["nft", "-j", "list", "sets"], () => ({ stdout: sets(packets) }))
      .on(["conntrack", "-L", "--dst-nat"], {
        stdout:
          "tcp      6 431999 ESTABLISHED src=203.0.113.10 dst=198.51.100.80 sport=40000 dport=80 src=100.64.2.2 dst=203.0.113.10 sport=8080 dport=40000 [ASSURED] mark=0 use=1\n",
      });
    const reader = new VirtualServiceTraffic(runner, () => now);
    const first = await reader.sample(specOf(nat));
    expect(first.get("web|100.64.2.2|8080")).toMatchObject({ connections: 10, active: 1, connectionsPerSecond: 0 });
    packets = 40;
    now = 3_000;
    const second = await reader.sample(specOf(nat));
    expect(second.get("web|100.64.2.2|8080")).toMatchObject({ connections: 40, connectionsPerSecond: 15 });
    expect(runner.calls.map((c) => c.args.slice(0, 3).join(" "))).toEqual([
      "nft -j list",
      "conntrack -L --dst-nat",
      "nft -j list",
      "conntrack -L --dst-nat",
    ]);
  });

  it("DR services: their flow maps instead of conntrack", async () => {
    const runner = new FakeRunner()
      .on(["nft", "-j", "list", "sets"], { stdout: JSON.stringify({ nftables: [] }) })
      .on(["nft", "-j", "list", "map"], {
        stdout: JSON.stringify({ nftables: [{ map: { elem: [[{}, 0x3020ff]] } }] }),
      });
    const out = await new VirtualServiceTraffic(runner).sample(specOf(dr));
    expect(out.get("dns|100.64.3.2|53")).toMatchObject({ active: 1, packetsOut: 0 });
    expect(runner.calls.map((c) => c.args.join(" "))).toEqual([
      "nft -j list sets table inet gatehouse",
      `nft -j list map inet gatehouse ${drFlowMapOf(dr)}`,
    ]);
  });

  it("a failed read throws, naming the command", async () => {
    const runner = new FakeRunner().on(["nft"], { code: 1, stderr: "No such file or directory" });
    await expect(new VirtualServiceTraffic(runner).sample(specOf(nat))).rejects.toThrow(/nft -j list sets/);
  });
});
