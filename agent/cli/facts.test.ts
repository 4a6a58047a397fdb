import { describe, expect, it } from "vitest";
import { FakeRunner } from "../../testkit/fakes/runner";
import { zFacts } from "../../core/protocol/agent-api";
import { factsGatherer, INTERFACES_MAX_AGE_MS, parseIpAddr, parseNftVersion } from "./facts";

const IP_J_ADDR = JSON.stringify([
  {
    ifindex: 1,
    ifname: "lo",
    flags: ["LOOPBACK", "UP"],
    mtu: 65536,
    operstate: "UNKNOWN",
    address: "00:00:00:00:00:00",
    addr_info: [{ family: "inet", local: "127.0.0.1", prefixlen: 8 }],
  },
  {
    ifindex: 2,
    ifname: "eth1",
    mtu: 1500,
    operstate: "UP",
    address: "02:00:00:00:00:01",
    addr_info: [
      { family: "inet", local: "198.51.100.2", prefixlen: 24 },
      { family: "inet6", local: "fe80::1", prefixlen: 64 },
    ],
  },
  { ifindex: 3, ifname: "wg0", operstate: "DOWN" },
]);

describe("facts", () => {
  it("reads interfaces and addresses from ip -j addr", () => {
    expect(parseIpAddr(IP_J_ADDR)).toEqual([
      { name: "lo", state: "UNKNOWN", mac: "00:00:00:00:00:00", mtu: 65536, addresses: ["127.0.0.1/8"] },
      { name: "eth1", state: "UP", mac: "02:00:00:00:00:01", mtu: 1500, addresses: ["198.51.100.2/24", "fe80::1/64"] },
      { name: "wg0", state: "DOWN", mac: "", mtu: null, addresses: [] },
    ]);
    expect(() => parseIpAddr("not json")).toThrow();
  });

  it("reads the nft version", () => {
    expect(parseNftVersion("nftables v1.0.6 (Lester Gooch #5)\n")).toBe("1.0.6 (Lester Gooch #5)");
  });

  it("gathers what it can, warns about the rest, and reads the nft version once", async () => {
    const runner = new FakeRunner()
      .on(["nft", "--version"], { stdout: "nftables v1.0.6 (Lester Gooch #5)\n" })
      .on(["ip", "-j", "addr"], { stdout: IP_J_ADDR });
    const warnings: string[] = [];
    const gather = factsGatherer({ runner, warn: (m) => warnings.push(m) });
    const facts = await gather();
    await gather();
    expect(zFacts.parse(facts)).toEqual(facts);
    expect(facts.nftVersion).toBe("1.0.6 (Lester Gooch #5)");
    expect(facts.kernel.length).toBeGreaterThan(0);
    expect(runner.commands().filter((c) => c === "nft --version")).toHaveLength(1);
    expect(runner.commands().filter((c) => c === "ip -j addr")).toHaveLength(1);
    expect(warnings).toEqual([]);

    const broken = new FakeRunner()
      .on(["nft"], { code: 1, stderr: "nft: command not found" })
      .on(["ip"], { stdout: "garbage" });
    const gatherBroken = factsGatherer({ runner: broken, warn: (m) => warnings.push(m) });
    expect(await gatherBroken()).toMatchObject({ nftVersion: "", interfaces: [] });
    expect(warnings.join("\n")).toMatch(/nft version[\s\S]*cannot parse/);
  });

  it("reads interfaces again when told they changed, when too old, and after a failed read", async () => {
    let clock = 0;
    let answer = { stdout: IP_J_ADDR, code: 0 };
    const runner = new FakeRunner()
      .on(["nft", "--version"], { stdout: "nftables v1.0.6\n" })
      .on(["ip", "-j", "addr"], () => answer);
    const gather = factsGatherer({ runner, warn: () => {} }, () => clock);
    const reads = () => runner.commands().filter((c) => c === "ip -j addr").length;
    await gather();
    await gather();
    expect(reads()).toBe(1);
    gather.changed();
    expect((await gather()).interfaces).toHaveLength(3);
    expect(reads()).toBe(2);
    clock += INTERFACES_MAX_AGE_MS + 1;
    await gather();
    expect(reads()).toBe(3);
    answer = { stdout: "", code: 1 };
    gather.changed();
    expect((await gather()).interfaces).toEqual([]);
    answer = { stdout: IP_J_ADDR, code: 0 };
    expect((await gather()).interfaces).toHaveLength(3);
    expect(reads()).toBe(5);
    // nothing watching: every call reads
    let watching = false;
    const unwatched = factsGatherer({ runner, warn: () => {}, watched: () => watching }, () => clock);
    await unwatched();
    await unwatched();
    expect(reads()).toBe(7);
    watching = true;
    await unwatched();
    expect(reads()).toBe(7);
  });
});
