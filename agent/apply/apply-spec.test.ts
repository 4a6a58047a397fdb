import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderNft } from "../../core/render/nft";
import { officeSpec } from "../../testkit/spec-fixtures";
import { applySpec } from "./apply-spec";
import { FakeRunner } from "../../testkit/fakes/runner";

const nftJson = (items: object[]) => JSON.stringify({ nftables: items });

/** A gateway where nothing is configured yet and every command works unless told otherwise. */
function gateway(opts: { checkError?: string } = {}) {
  const fake = new FakeRunner();
  let stamp = 0;
  fake
    .on(["nft", "-j", "list", "tables"], { stdout: nftJson([]) })
    .on(["nft", "-c", "-f"], opts.checkError === undefined ? {} : { code: 1, stderr: opts.checkError })
    .on(["nft", "-f"], (args) => {
      // the last line of the file stamps the applied set
      const m = /applied \{ (0x[0-9a-f]+) \}\s*$/.exec(readFileSync(args[2] as string, "utf8"));
      stamp = Number(m?.[1]);
      return {};
    })
    .on(["nft", "-j", "list", "set"], () => ({
      stdout: nftJson([{ set: { table: "gatehouse", name: "applied", elem: [stamp] } }]),
    }))
    .on(["nft", "-j", "list", "chains"], () => ({
      stdout: nftJson(
        renderNft(officeSpec(), new Map()).chains.map((name) => ({ chain: { table: "gatehouse", name } })),
      ),
    }))
    .on(["sysctl", "-n"], { stdout: "2\n" })
    .on(["ip", "-4", "-j", "rule", "show"], { stdout: "[]" })
    .on(["ip", "-4", "-j", "route", "show"], { stdout: "[]" })
    .on(["ip", "-4", "-j", "addr", "show"], { stdout: "[]" })
    .on(["ip", "-4", "rule", "add"], {})
    .on(["ip", "-4", "route", "replace"], {});
  return fake;
}

describe("applySpec", () => {
  it("validates, checks, adds routing, loads, verifies and prunes, in that order", async () => {
    const fake = gateway();
    const r = await applySpec(officeSpec(), new Map(), { runner: fake });
    expect(r.error).toBeNull();
    expect(r.ok).toBe(true);
    expect(r.revision).toBe(1);
    expect(r.fingerprint).toBe(renderNft(officeSpec(), new Map()).fingerprint);
    const cmds = fake.commands();
    const at = (prefix: string) => cmds.findIndex((c) => c.startsWith(prefix));
    expect(at("nft -j list tables")).toBe(0);
    expect(at("nft -c -f")).toBeLessThan(at("ip -4 rule add"));
    expect(at("ip -4 route replace")).toBeLessThan(at("ip -4 rule add"));
    expect(at("ip -4 rule add")).toBeLessThan(at("nft -f"));
    expect(at("nft -f")).toBeLessThan(at("nft -j list set"));
    expect(cmds.filter((c) => c.startsWith("nft -f"))).toHaveLength(1);
    expect(r.durations.totalMs).toBeGreaterThan(0);
  });

  it("does not load a ruleset whose routing cannot be added (an ISP interface missing here)", async () => {
    const fake = gateway().on(["ip", "-4", "route", "replace"], { code: 2, stderr: 'Cannot find device "eth9"' });
    const r = await applySpec(officeSpec(), new Map(), { runner: fake });
    expect(r.ok).toBe(false);
    expect(r.stage).toBe("routes");
    expect(r.error).toMatch(/Cannot find device "eth9"/);
    expect(fake.commands().filter((c) => c.startsWith("nft -f"))).toHaveLength(0);
  });

  it("rejects an invalid spec before running anything", async () => {
    const fake = gateway();
    const bad = { ...officeSpec(), specVersion: 2 };
    const r = await applySpec(bad, new Map(), { runner: fake });
    expect(r).toMatchObject({ ok: false, stage: "validate" });
    expect(r.error).toMatch(/specVersion/);
    expect(fake.calls).toHaveLength(0);
  });

  it("changes nothing when nft -c fails, and returns nft's words", async () => {
    const fake = gateway({
      checkError: "gatehouse.nft:40:1-3: Error: Could not process rule: No such file or directory",
    });
    const r = await applySpec(officeSpec(), new Map(), { runner: fake });
    expect(r).toMatchObject({
      ok: false,
      stage: "check",
      error: "gatehouse.nft:40:1-3: Error: Could not process rule: No such file or directory",
    });
    expect(fake.commands().filter((c) => /^(nft -f|ip -4 (rule|route) (add|replace|del)|sysctl -q)/.test(c))).toEqual(
      [],
    );
  });

  it("reports a spec the renderer refuses", async () => {
    const spec = officeSpec();
    Object.assign(spec.isps[1] as object, { interface: "ispa", nextHop: spec.isps[0]?.nextHop });
    const r = await applySpec(spec, new Map(), { runner: gateway() });
    expect(r).toMatchObject({ ok: false, stage: "render" });
    expect(r.error).toMatch(/interface ispa with next hop \S+ is used by two ISPs/);
  });
});
