import { describe, expect, it } from "vitest";
import { fwmarkServicesSpec, servicesSpec, virtualService } from "../../testkit/spec-fixtures";
import { serviceRules } from "../render/virtual-services";
import { decideInbound, type InboundPacket } from "./decide-virtual-service";
import type { GatewaySpec } from "./schema";

const tcp = (src: string, dst: string, dstPort: number): InboundPacket => ({ src, dst, dstPort, protocol: "tcp" });

/** The server the rendered bucket map holds at the entry `decideInbound` names: "100.64.10.2 . 8080". */
function renderedTarget(spec: GatewaySpec, serviceIndex: number, bucket: number): string | undefined {
  const service = spec.virtualServices[serviceIndex];
  if (!service) return undefined;
  const { buckets } = serviceRules(service, serviceIndex + 1, new Set(), spec.settings.hashSeed);
  return buckets.find((b) => b.startsWith(`${bucket} : `))?.slice(`${bucket} : `.length);
}

describe("decideInbound", () => {
  const spec = servicesSpec();

  it("takes the service on the exact port, else the one on every port, else none", () => {
    expect(decideInbound(spec, tcp("203.0.113.7", "198.51.100.80", 81)).service?.id).toBe("web-w");
    const every = decideInbound(spec, tcp("203.0.113.7", "198.51.100.82", 2222));
    expect([every.service?.id, every.matchedBy]).toEqual(["all", "every-port"]);
    expect(decideInbound(spec, tcp("203.0.113.7", "198.51.100.80", 8080)).verdict).toEqual({ kind: "no-service" });
    // the dns service is UDP only
    expect(decideInbound(spec, tcp("203.0.113.7", "198.51.100.81", 53)).service).toBeNull();
  });

  it("takes a service chosen by the operator's mark first, whatever the address, for TCP and UDP", () => {
    const marked = fwmarkServicesSpec();
    const withMark = (p: InboundPacket, mark: number): InboundPacket => ({ ...p, mark });
    // the mark wins over the service on the packet's address and port, as IPVS looks fwmark services up first
    const web = decideInbound(marked, withMark(tcp("203.0.113.7", "198.51.100.80", 80), 0x10000005));
    expect([web.service?.id, web.matchedBy]).toEqual(["marked-web", "fwmark"]);
    if (web.verdict.kind !== "real-server") throw new Error("no real server");
    expect(web.verdict.candidates.map((r) => r.port)).toEqual([8443, 8080]);
    // without the mark (or with another operator mark) the address decides
    expect(decideInbound(marked, tcp("203.0.113.7", "198.51.100.80", 80)).service?.id).toBe("web");
    expect(decideInbound(marked, withMark(tcp("203.0.113.7", "198.51.100.80", 80), 0x30000000)).service?.id).toBe(
      "web",
    );
    // any destination, UDP too; the connection keeps its port when the real servers name none
    const dns = decideInbound(marked, {
      src: "203.0.113.9",
      dst: "192.0.2.53",
      dstPort: 53,
      protocol: "udp",
      mark: 0x20000000,
    });
    expect([dns.service?.id, dns.dnat?.port]).toEqual(["marked-any", 53]);
    if (dns.verdict.kind !== "real-server" || dns.verdict.bucket === null) throw new Error("no hash pick");
    expect(dns.dnat?.address).toBe(renderedTarget(marked, 7, dns.verdict.bucket));
  });

  it("names the server the rendered table holds at the entry the seeded hash of the client picks (sh, mh)", () => {
    for (const [index, vip, port] of [
      [2, "198.51.100.80", 82],
      [5, "198.51.100.83", 443],
    ] as const) {
      const seen = new Set<string>();
      for (let i = 1; i <= 40; i++) {
        const dd = decideInbound(spec, tcp(`203.0.113.${i}`, vip, port));
        if (dd.verdict.kind !== "real-server" || dd.verdict.bucket === null || dd.verdict.server === null) {
          throw new Error(`no hash pick for service ${index}`);
        }
        const expected = renderedTarget(spec, index, dd.verdict.bucket);
        const got = `${dd.verdict.server.address} . ${dd.verdict.server.port ?? spec.virtualServices[index]?.port}`;
        expect(got).toBe(expected);
        seen.add(dd.verdict.server.address);
      }
      // forty clients spread over more than one server, and never the draining one
      expect(seen.size).toBeGreaterThan(1);
      expect(seen.has("100.64.10.4")).toBe(false);
    }
  });

  it("hashes the destination for dh: every client of one address gets the same server", () => {
    const picks = new Set(
      Array.from({ length: 20 }, (_, i) => {
        const d = decideInbound(spec, {
          src: `203.0.113.${i + 1}`,
          dst: "198.51.100.81",
          dstPort: 53,
          protocol: "udp",
        });
        return d.verdict.kind === "real-server" ? d.verdict.server?.address : "none";
      }),
    );
    expect(picks.size).toBe(1);
  });

  it("says rr, wrr and random pick per connection among the usable servers, with the DNAT target unknown", () => {
    const d = decideInbound(spec, tcp("203.0.113.7", "198.51.100.80", 80));
    expect(d.verdict).toMatchObject({ kind: "real-server", server: null, bucket: null });
    if (d.verdict.kind !== "real-server") throw new Error("no server");
    expect(d.verdict.candidates.map((r) => r.address)).toEqual(["100.64.10.2", "100.64.10.3"]);
    expect(d.dnat).toBeNull();
  });

  it("DNATs to the server's own port, or the client's port for a server without one", () => {
    const one = {
      ...spec,
      virtualServices: [virtualService("x", "198.51.100.90", null, [{ address: "100.64.10.7" }], { scheduler: "sh" })],
    };
    expect(decideInbound(one, tcp("203.0.113.7", "198.51.100.90", 2222)).dnat).toEqual({
      address: "100.64.10.7",
      port: 2222,
    });
    const mapped = {
      ...spec,
      virtualServices: [
        virtualService("y", "198.51.100.90", 80, [{ address: "100.64.10.7", port: 8080 }], { scheduler: "sh" }),
      ],
    };
    expect(decideInbound(mapped, tcp("203.0.113.7", "198.51.100.90", 80)).dnat).toEqual({
      address: "100.64.10.7",
      port: 8080,
    });
  });

  it("forwards unchanged in DR mode", () => {
    const dr = {
      ...spec,
      virtualServices: [
        virtualService("d", "198.51.100.90", 80, [{ address: "100.64.10.7" }], { scheduler: "sh", mode: "dr" }),
      ],
    };
    const d = decideInbound(dr, tcp("203.0.113.7", "198.51.100.90", 80));
    expect([d.directRouting, d.dnat, d.verdict.kind]).toEqual([true, null, "real-server"]);
  });

  it("sends to the sorry server when no server can take new connections, else drops", () => {
    const draining = [
      { address: "100.64.10.7", state: "draining" as const },
      { address: "100.64.10.8", weight: 0 },
    ];
    const sorry = {
      ...spec,
      virtualServices: [
        virtualService("s", "198.51.100.90", 80, draining, { sorryServer: { address: "100.64.10.9", port: 8081 } }),
      ],
    };
    expect(decideInbound(sorry, tcp("203.0.113.7", "198.51.100.90", 80))).toMatchObject({
      verdict: { kind: "sorry" },
      dnat: { address: "100.64.10.9", port: 8081 },
    });
    const none = { ...spec, virtualServices: [virtualService("n", "198.51.100.90", 80, draining)] };
    expect(decideInbound(none, tcp("203.0.113.7", "198.51.100.90", 80)).verdict).toEqual({ kind: "drop" });
    // a server the health check took out counts as unusable too
    const up = { ...spec, virtualServices: [virtualService("u", "198.51.100.90", 80, [{ address: "100.64.10.7" }])] };
    expect(decideInbound(up, tcp("203.0.113.7", "198.51.100.90", 80), new Set(["u|100.64.10.7|80"])).verdict).toEqual({
      kind: "drop",
    });
  });
});
