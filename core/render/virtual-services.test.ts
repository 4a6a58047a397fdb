import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { officeSpec, servicesSpec } from "../../testkit/spec-fixtures";
import { renderRuleset } from "./nft";
import { renderServiceUpdate, virtualServiceObjects } from "./virtual-services";
import { realServerKey } from "./vs-schedule";

const GOLDEN = fileURLToPath(new URL("./__golden__/services.nft", import.meta.url));

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
