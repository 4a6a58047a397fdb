import { describe, expect, it } from "vitest";
import {
  endTally,
  newTally,
  parseConntrackStatFile,
  parseConntrackStats,
  tallyChunk,
  usageOf,
} from "./conntrack-usage";

const LISTING = [
  "tcp      6 431999 ESTABLISHED src=100.64.1.2 dst=203.0.113.10 sport=40000 dport=80 src=203.0.113.10 dst=198.51.100.10 sport=80 dport=20001 [ASSURED] mark=0 use=1",
  "tcp      6 431999 ESTABLISHED src=100.64.1.2 dst=203.0.113.10 sport=40001 dport=80 src=203.0.113.10 dst=198.51.100.10 sport=80 dport=20002 [ASSURED] mark=0 use=1",
  "tcp      6 431999 ESTABLISHED src=100.64.1.3 dst=203.0.113.11 sport=40001 dport=443 src=203.0.113.11 dst=198.51.100.10 sport=443 dport=20003 [ASSURED] mark=0 use=1",
  "udp      17 29 src=100.64.1.2 dst=203.0.113.53 sport=5353 dport=53 [UNREPLIED] src=203.0.113.53 dst=198.51.100.11 sport=53 dport=20000 mark=0 use=1",
  "icmp     1 29 src=100.64.1.2 dst=203.0.113.10 type=8 code=0 id=7 src=203.0.113.10 dst=198.51.100.10 type=0 code=0 id=7 mark=0 use=1",
  // not one of the pool's addresses
  "tcp      6 10 TIME_WAIT src=100.64.1.2 dst=203.0.113.10 sport=1 dport=80 src=203.0.113.10 dst=198.51.100.99 sport=80 dport=1 mark=0 use=1",
].join("\n");

describe("the conntrack tally", () => {
  it("reads /proc/net/nf_conntrack's lines as conntrack's (two columns of address family first)", () => {
    const tallied = (text: string) => {
      const t = newTally(["198.51.100.10", "198.51.100.11"], [0]);
      tallyChunk(t, text);
      endTally(t);
      return { usage: usageOf(t, [{ poolId: "p1", address: "198.51.100.10", ports: 100 }]), isps: t.isps };
    };
    const v6 =
      "udp      17 29 src=fd00::1 dst=fd00::2 sport=1 dport=53 [UNREPLIED] src=fd00::2 dst=fd00::1 sport=53 dport=1 mark=0 use=1";
    const proc = LISTING.split("\n")
      .map((l) => `ipv4     2 ${l.replace(" use=1", " zone=0 use=2")}`)
      .concat(`ipv6     10 ${v6.replace(" use=1", " zone=0 use=2")}`)
      .join("\n");
    expect(tallied(proc)).toEqual(tallied(`${LISTING}\n${v6}`));
    expect(tallied(proc).isps.get(0)).toBe(7);
    expect(tallied(proc).usage[0]?.tcp).toBe(3);
  });

  it("counts per pool address and protocol, toward the busiest destination, across chunk borders", () => {
    const t = newTally(["198.51.100.10", "198.51.100.11", "198.51.100.12"]);
    for (let i = 0; i < LISTING.length; i += 37) tallyChunk(t, LISTING.slice(i, i + 37));
    endTally(t);
    const pools = ["198.51.100.10", "198.51.100.11", "198.51.100.12"].map((address) => ({
      poolId: "p1",
      address,
      ports: 100,
    }));
    expect(usageOf(t, pools)).toEqual([
      {
        poolId: "p1",
        address: "198.51.100.10",
        ports: 100,
        tcp: 3,
        udp: 0,
        other: 1,
        busiest: { protocol: "tcp", destination: "203.0.113.10", port: 80, connections: 2 },
      },
      {
        poolId: "p1",
        address: "198.51.100.11",
        ports: 100,
        tcp: 0,
        udp: 1,
        other: 0,
        busiest: { protocol: "udp", destination: "203.0.113.53", port: 53, connections: 1 },
      },
      { poolId: "p1", address: "198.51.100.12", ports: 100, tcp: 0, udp: 0, other: 0, busiest: null },
    ]);
    expect(t.lines).toBe(6);
    expect(t.partial).toBe(false);
  });
  it("counts connections per ISP by the ISP number in the low byte of the mark, SNATed or not", () => {
    const marked = (mark: number, snat: boolean) =>
      `tcp      6 431999 ESTABLISHED src=100.64.1.2 dst=203.0.113.10 sport=40000 dport=80 src=203.0.113.10 dst=${snat ? "198.51.100.10" : "100.64.1.2"} sport=80 dport=40000 [ASSURED] mark=${mark} use=1`;
    const t = newTally(["198.51.100.10"], [1, 2, 3]);
    const lines = [
      marked(1, true),
      marked(0x8001 | 0x01000000, true), // rule slot and action bits above the ISP's byte
      marked(2, false), // routed without NAT: still leaves by ISP 2
      marked(0, true),
      marked(7, true), // an ISP that is not in the spec
      "garbage mark=zz",
    ];
    tallyChunk(t, `${lines.join("\n")}\n`);
    endTally(t);
    expect([...t.isps]).toEqual([
      [1, 2],
      [2, 1],
      [3, 0],
    ]);
    expect(t.addresses.get("198.51.100.10")?.tcp).toBe(4);
  });

  it("ignores garbage lines", () => {
    const t = newTally(["198.51.100.10"]);
    tallyChunk(t, "conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown.\n\nnonsense dst=\n");
    endTally(t);
    expect(usageOf(t, [{ poolId: "p", address: "198.51.100.10", ports: 1 }])[0]?.tcp).toBe(0);
  });
});

describe("parseConntrackStats", () => {
  it("sums the per-CPU counters", () => {
    const text =
      "cpu=0   \tfound=0 invalid=3 insert=0 insert_failed=2 drop=5 early_drop=1 error=0 search_restart=0\n" +
      "cpu=1   \tfound=0 invalid=0 insert=0 insert_failed=1 drop=0 early_drop=0 error=0 search_restart=0\n";
    expect(parseConntrackStats(text)).toEqual({ insertFailed: 3, drop: 5, earlyDrop: 1 });
    expect(parseConntrackStats("")).toBeNull();
  });
});

describe("parseConntrackStatFile", () => {
  const header =
    "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart";
  const row = (insertFailed: string, drop: string, earlyDrop: string) =>
    `00000010  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 ${insertFailed} ${drop} ${earlyDrop} 00000000  00000000 00000000 00000000 00000000`;

  it("sums the per-CPU rows, which are hexadecimal, by the header's column names", () => {
    const text = [header, row("0000000a", "00000001", "00000000"), row("00000002", "00000000", "000000ff"), ""].join(
      "\n",
    );
    expect(parseConntrackStatFile(text)).toEqual({ insertFailed: 12, drop: 1, earlyDrop: 255 });
  });

  it("refuses what it cannot read whole: no rows, a missing column, a short or non-hex row", () => {
    expect(parseConntrackStatFile("")).toBeNull();
    expect(parseConntrackStatFile(`${header}\n`)).toBeNull();
    expect(parseConntrackStatFile(`${header.replace(" drop ", " dropped ")}\n${row("0", "0", "0")}`)).toBeNull();
    expect(parseConntrackStatFile(`${header}\n00000001 00000002`)).toBeNull();
    expect(parseConntrackStatFile(`${header}\n${row("0000000g", "0", "0")}`)).toBeNull();
  });
});
