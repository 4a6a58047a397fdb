import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideInbound } from "../../core/spec/decide-virtual-service";
import type { GatewaySpec } from "../../core/spec/schema";
import type { SpecVirtualService } from "../../core/spec/virtual-services";
import { applyOk, labSpec, requireRoot } from "../../testkit/datapath";
import { buildLab, type Lab } from "../../testkit/lab/lab";
import { type Listener, startListener } from "../../testkit/lab/traffic";
import { servedBy } from "../../testkit/lab/vs-traffic";
import { fwmarkService, virtualService } from "../../testkit/spec-fixtures";

/**
 * Virtual services chosen by the operator's fwmark, on real traffic. The operator's own rules on
 * the gateway mark what they want balanced: an iptables mangle PREROUTING rule marks TCP 80 and
 * 443 to 198.51.100.80 from one internet client, an nft chain hooked before mangle marks UDP 5353
 * to 198.51.100.81. The lab's internet server is the client (ISP A routes 198.51.100.0/25 to the
 * gateway); LAN clients 2 and 3 are the real servers, LAN client 1 the real server of an ordinary
 * service on 198.51.100.80:80 that unmarked connections still reach.
 */

const VIP = "198.51.100.80";
const VIP_UDP = "198.51.100.81";
const WEB_MARK = 0x10000000;
const DNS_MARK = 0x20000000;
const RS_PORT = 8080;
const UDP_PORT = 5353;
const RS1 = "100.64.2.2";
const RS2 = "100.64.3.2";
const PLAIN = "100.64.1.2";

let lab: Lab;
let rs1: Listener;
let rs2: Listener;
let plain: Listener;
let spec: GatewaySpec;

type Served = "rs1" | "rs2" | "plain";
const listeners = (): Array<[Served, Listener]> => [
  ["rs1", rs1],
  ["rs2", rs2],
  ["plain", plain],
];
const nameOf = (address: string | undefined): Served | undefined =>
  address === RS1 ? "rs1" : address === RS2 ? "rs2" : address === PLAIN ? "plain" : undefined;

/** The services: two chosen by marks (ports mapped to 8080, rr; ports kept, sh), one on VIP:80. */
function services(): SpecVirtualService[] {
  return [
    fwmarkService("web-marked", WEB_MARK, [
      { address: RS1, port: RS_PORT },
      { address: RS2, port: RS_PORT },
    ]),
    fwmarkService("dns-marked", DNS_MARK, [{ address: RS1 }, { address: RS2 }], { scheduler: "sh" }),
    virtualService("web-plain", VIP, 80, [{ address: PLAIN, port: RS_PORT }]),
  ];
}

beforeAll(async () => {
  requireRoot();
  lab = await buildLab({ clients: 3, prefix: "ghfw" });
  rs1 = await startListener(lab, lab.clients[1]?.ns as string, { addresses: [RS1], tcp: [RS_PORT], udp: [UDP_PORT] });
  rs2 = await startListener(lab, lab.clients[2]?.ns as string, { addresses: [RS2], tcp: [RS_PORT], udp: [UDP_PORT] });
  plain = await startListener(lab, lab.clients[0]?.ns as string, { addresses: [PLAIN], tcp: [RS_PORT] });
  const marked = lab.servers[0] as string;
  // the operator's rules: iptables mangle (the table LVS setups mark -f services in) ...
  await lab.must(lab.ns.gateway, [
    "iptables",
    "-t",
    "mangle",
    "-A",
    "PREROUTING",
    "-s",
    marked,
    "-d",
    VIP,
    "-p",
    "tcp",
    "-m",
    "multiport",
    "--dports",
    "80,443",
    "-j",
    "MARK",
    "--set-xmark",
    `0x${WEB_MARK.toString(16)}/0xf0000000`,
  ]);
  // ... and an nft table of their own, hooked before mangle
  await lab.must(lab.ns.gateway, ["nft", "-f", "-"], {
    input: [
      "table ip operator {",
      "  chain pre { type filter hook prerouting priority -160; policy accept;",
      `    ip daddr ${VIP_UDP} udp dport ${UDP_PORT} meta mark set meta mark & 0x0fffffff | 0x${DNS_MARK.toString(16)}`,
      "  }",
      "}",
    ].join("\n"),
  });
  spec = { ...labSpec(lab, []), virtualServices: services() };
  await applyOk(lab, spec);
});

afterAll(async () => {
  await lab?.destroy();
});

describe("virtual services chosen by the operator's fwmark", () => {
  it("marked TCP to ports 80 and 443 goes to the real servers' port 8080 in turn; unmarked to VIP:80 to its own service", async () => {
    await lab.must(lab.ns.gateway, ["conntrack", "-F"]);
    const src = lab.servers[0] as string;
    for (const port of [80, 443]) {
      const before = [rs1.records().length, rs2.records().length];
      const { attempts, served } = await servedBy(lab, lab.ns.server, listeners(), {
        proto: "tcp",
        dst: VIP,
        port,
        count: 10,
        parallel: 1,
        sources: [src],
      });
      expect(attempts.every((a) => a.ok)).toBe(true);
      expect(new Set(served)).toEqual(new Set(["rs1", "rs2"]));
      for (let i = 1; i < served.length; i++) expect(served[i]).not.toBe(served[i - 1]);
      // both ports were sent to the real servers' 8080, with the client's own address
      const seen = [...rs1.records().slice(before[0]), ...rs2.records().slice(before[1])];
      expect(new Set(seen.map((r) => [r.localPort, r.peer].join(" ")))).toEqual(new Set([`${RS_PORT} ${src}`]));
      // decide names the same service for a packet with the mark
      expect(decideInbound(spec, { src, dst: VIP, dstPort: port, protocol: "tcp", mark: WEB_MARK }).service?.id).toBe(
        "web-marked",
      );
    }
    // another client is not marked: its connections to VIP:80 meet the service on that address
    const other = lab.servers[1] as string;
    const { served } = await servedBy(lab, lab.ns.server, listeners(), {
      proto: "tcp",
      dst: VIP,
      port: 80,
      count: 4,
      sources: [other],
    });
    expect(served).toEqual(Array(4).fill("plain"));
    expect(decideInbound(spec, { src: other, dst: VIP, dstPort: 80, protocol: "tcp" }).service?.id).toBe("web-plain");
  });

  it("marked UDP keeps its port and reaches the server the seeded hash names, as decide says", async () => {
    await lab.must(lab.ns.gateway, ["conntrack", "-F"]);
    const seen = new Set<Served>();
    for (const src of lab.servers) {
      const predicted = decideInbound(spec, {
        src,
        dst: VIP_UDP,
        dstPort: UDP_PORT,
        protocol: "udp",
        mark: DNS_MARK,
      });
      expect(predicted.service?.id).toBe("dns-marked");
      const expected = nameOf(predicted.dnat?.address);
      const { served } = await servedBy(lab, lab.ns.server, listeners(), {
        proto: "udp",
        dst: VIP_UDP,
        port: UDP_PORT,
        count: 3,
        sources: [src],
      });
      expect(served).toEqual(Array(3).fill(expected));
      if (expected) seen.add(expected);
    }
    expect(seen.size).toBeGreaterThan(0);
    // the port the client sent to is kept: the servers listen on 5353 only
    const udp = [...rs1.records(), ...rs2.records()].filter((r) => r.proto === "udp");
    expect(new Set(udp.map((r) => r.localPort))).toEqual(new Set([UDP_PORT]));
  });

  it("without the operator's mark, nothing is balanced to the fwmark services' servers", async () => {
    await lab.must(lab.ns.gateway, ["conntrack", "-F"]);
    const before = [rs1.records().length, rs2.records().length];
    // port 8443 is marked by no rule and has no service
    const { served } = await servedBy(lab, lab.ns.server, listeners(), {
      proto: "tcp",
      dst: VIP,
      port: 8443,
      count: 2,
      sources: [lab.servers[0] as string],
      timeoutMs: 500,
    });
    expect(served).toEqual(["failed", "failed"]);
    expect([rs1.records().length, rs2.records().length]).toEqual(before);
  });

  it("counts the marked service's new connections per real server", async () => {
    const out = await lab.must(lab.ns.gateway, ["nft", "-j", "list", "set", "inet", "gatehouse", "vs_rs_new"]);
    const doc = JSON.parse(out) as {
      nftables: Array<{
        set?: { elem?: Array<{ elem: { val: { concat: unknown[] }; counter: { packets: number } } }> };
      }>;
    };
    const elems = doc.nftables.find((x) => x.set !== undefined)?.set?.elem ?? [];
    const counted = (address: string) =>
      elems
        .filter((e) => e.elem.val.concat[0] === address && e.elem.val.concat[2] === RS_PORT)
        .reduce((n, e) => n + e.elem.counter.packets, 0);
    // 20 marked connections in turn; the unmarked service's real server counts its own 4
    expect([counted(RS1), counted(RS2)]).toEqual([10, 10]);
    expect(counted(PLAIN)).toBe(4);
  });
});
