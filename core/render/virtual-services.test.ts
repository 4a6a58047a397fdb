import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fwmarkServicesSpec, officeSpec, servicesSpec } from "../../testkit/spec-fixtures";
import { renderRuleset } from "./nft";
import { renderServiceUpdate, virtualServiceObjects } from "./virtual-services";
import { realServerKey } from "./vs-schedule";

const GOLDEN = fileURLToPath(new URL("./__golden__/services.nft", import.meta.url));
const GOLDEN_FWMARK = fileURLToPath(new URL("./__golden__/services-fwmark.nft", import.meta.url));

function golden(path: string, text: string) {
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(path)) {
    writeFileSync(path, text);
    if (process.env.UPDATE_GOLDEN !== "1") throw new Error(`golden file ${path} was missing and has been written`);
    return;
  }
  expect(text).toBe(readFileSync(path, "utf8"));
}

/** The virtual services' part of a ruleset: every line naming a vs_ object, and the vs_ chains' bodies. */
function servicesPart(text: string): string {
  const out: string[] = [];
  let inChain = false;
  for (const line of text.split("\n")) {
    if (/^\tchain vs_/.test(line)) inChain = true;
    if (inChain || line.includes("vs_")) out.push(line);
    if (inChain && line === "\t}") inChain = false;
  }
  return `${out.join("\n")}\n`;
}

describe("virtual services in the ruleset", () => {
  it("golden: one lookup, a chain and bucket map per service, persistence, FULLNAT and counters", () => {
    const text = servicesPart(renderRuleset(servicesSpec(), new Map()));
    if (process.env.UPDATE_GOLDEN === "1" || !existsSync(GOLDEN)) {
      writeFileSync(GOLDEN, text);
      if (process.env.UPDATE_GOLDEN !== "1")
        throw new Error("golden file services.nft was missing and has been written");
      return;
    }
    expect(text).toBe(readFileSync(GOLDEN, "utf8"));
  });

  it("golden: services chosen by the operator's fwmark come first in the lookup chain", () => {
    golden(GOLDEN_FWMARK, servicesPart(renderRuleset(fwmarkServicesSpec(), new Map())));
  });

  it("fwmark services: mark match first, both protocols, ports kept or mapped, persistence by mark", () => {
    const objects = virtualServiceObjects(fwmarkServicesSpec(), new Set());
    const chain = (name: string) => objects.chains.find((c) => c.name === name);
    expect(chain("vs_dnat")?.rules).toEqual([
      "meta mark & 0xf0000000 == 0x10000000 meta l4proto { tcp, udp } goto vs_7",
      "meta mark & 0xf0000000 == 0x20000000 meta l4proto { tcp, udp } goto vs_8",
      "ip daddr . meta l4proto . th dport vmap @vs_services",
      "ip daddr . meta l4proto vmap @vs_services_any",
    ]);
    expect(chain("vs_7")?.rules).toEqual([
      "ip saddr @vs_7_persist_600 meta l4proto { tcp, udp } dnat ip addr . port to ip saddr map @vs_7_persist_600",
      'meta l4proto { tcp, udp } dnat ip addr . port to numgen inc mod 3 map @vs_7_buckets comment "marked-web by wrr"',
    ]);
    expect(objects.maps.find((m) => m.name === "vs_7_buckets")).toMatchObject({
      declaration: "typeof numgen inc mod 65536 : ip daddr . th dport;",
      elements: ["0 : 100.64.10.3 . 8443", "1 : 100.64.10.2 . 8080", "2 : 100.64.10.3 . 8443"],
    });
    // no real server names a port: each connection keeps the port it came to
    expect(chain("vs_8")?.rules).toEqual([
      'dnat ip to jhash ip saddr mod 2 seed 0x00005eed map @vs_8_buckets comment "marked-any by sh"',
    ]);
    expect(chain("vs_persist")?.rules[0]).toBe(
      "ct state new ct status dnat meta mark & 0xf0000000 == 0x10000000 meta l4proto { tcp, udp } update @vs_7_persist_600 { ip saddr : ip daddr . th dport } accept",
    );
    // the real servers' counters, for both protocols
    expect(objects.maps.find((m) => m.name === "vs_rs_new")?.elements).toEqual(
      expect.arrayContaining(["100.64.10.3 . tcp . 8443", "100.64.10.3 . udp . 8443"]),
    );
    // with no real server up, the sorry server, with its own port or the connection's
    const spec = fwmarkServicesSpec();
    const down = new Set(spec.virtualServices.slice(6).flatMap((s) => s.realServers.map((r) => realServerKey(s, r))));
    const sorry = virtualServiceObjects(spec, down);
    expect(sorry.chains.find((c) => c.name === "vs_7")?.rules).toEqual([
      'meta l4proto { tcp, udp } dnat ip addr . port to 100.64.10.9 . 8080 comment "marked-web: no real server is up, sorry server"',
    ]);
    expect(sorry.chains.find((c) => c.name === "vs_8")?.rules).toEqual([
      'dnat ip to 100.64.10.9 comment "marked-any: no real server is up, sorry server"',
    ]);
  });

  it("refuses to render direct routing for a service chosen by fwmark", () => {
    const spec = fwmarkServicesSpec();
    spec.virtualServices = spec.virtualServices.map((s) => (s.id === "marked-any" ? { ...s, mode: "dr" } : s));
    expect(() => virtualServiceObjects(spec, new Set())).toThrow(/direct routing needs a virtual address/);
  });

  it("adds nothing to a spec without virtual services", () => {
    expect(renderRuleset(officeSpec(), new Map())).not.toContain("vs_");
    expect(virtualServiceObjects(officeSpec(), new Set())).toEqual({ chains: [], maps: [] });
  });

  it("sends new connections to the sorry server, or drops them, when no real server is up", () => {
    const spec = servicesSpec();
    const all = spec.virtualServices[4];
    const web = spec.virtualServices[0];
    if (all === undefined || web === undefined) throw new Error("fixture changed");
    const down = new Set(
      [...all.realServers, ...web.realServers].map((r) =>
        realServerKey(r === all.realServers[0] || r === all.realServers[1] ? all : web, r),
      ),
    );
    const objects = virtualServiceObjects(spec, down);
    expect(objects.chains.find((c) => c.name === "vs_5")?.rules).toEqual([
      "ct mark set ct mark | 0x10000000",
      'dnat ip to 100.64.10.9 comment "all: no real server is up, sorry server"',
    ]);
    expect(objects.chains.find((c) => c.name === "vs_1")?.rules).toEqual([
      'counter drop comment "web: no real server is up"',
    ]);
    expect(objects.maps.find((m) => m.name === "vs_1_buckets")?.elements).toEqual([]);
  });

  it("a health change rewrites only the service's chain and bucket map", () => {
    const spec = servicesSpec();
    const web = spec.virtualServices[2];
    if (web === undefined) throw new Error("fixture changed");
    const down = new Set([realServerKey(web, web.realServers[1] as never)]);
    expect(renderServiceUpdate(spec, "web-sh", down, { dropPersistence: true })).toBe(
      [
        "flush chain inet gatehouse vs_3",
        "flush map inet gatehouse vs_3_buckets",
        "add element inet gatehouse vs_3_buckets { 0 : 100.64.10.2 . 8080 }",
        "flush map inet gatehouse vs_3_persist_300",
        "add rule inet gatehouse vs_3 ip saddr @vs_3_persist_300 meta l4proto tcp dnat ip addr . port to ip saddr map @vs_3_persist_300",
        'add rule inet gatehouse vs_3 meta l4proto tcp dnat ip addr . port to jhash ip saddr mod 1 seed 0x00005eed map @vs_3_buckets comment "web-sh by sh"',
        "",
      ].join("\n"),
    );
    expect(() => renderServiceUpdate(spec, "nope", down, { dropPersistence: false })).toThrow(
      /no virtual service nope/,
    );
  });
});
