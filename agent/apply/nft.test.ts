import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { renderNft } from "../../core/render/nft";
import { officeSpec } from "../../testkit/spec-fixtures";
import { FakeRunner } from "../../testkit/fakes/runner";
import { checkRuleset, listOwnedObjects, loadRuleset } from "./nft";

const rendered = renderNft(officeSpec(), new Map());
const nftJson = (items: object[]) => JSON.stringify({ nftables: [{ metainfo: { version: "1.0.6" } }, ...items] });
const appliedSet = (elem: number[]) =>
  nftJson([{ set: { family: "inet", table: "gatehouse", name: "applied", elem } }]);
const allChains = nftJson(rendered.chains.map((name) => ({ chain: { family: "inet", table: "gatehouse", name } })));

function kernel(opts: { checkError?: string; loadError?: string; stamp?: number } = {}) {
  const fake = new FakeRunner();
  const files: string[] = [];
  fake.on(["nft", "-c", "-f"], (args) => {
    files.push(readFileSync(args[3] as string, "utf8"));
    return opts.checkError === undefined ? {} : { code: 1, stderr: opts.checkError };
  });
  fake.on(["nft", "-f"], (args) => {
    const path = args[2] as string;
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    files.push(readFileSync(path, "utf8"));
    return opts.loadError === undefined ? {} : { code: 1, stderr: opts.loadError };
  });
  fake.on(["nft", "-j", "list", "set"], { stdout: appliedSet([opts.stamp ?? rendered.fingerprint]) });
  fake.on(["nft", "-j", "list", "chains"], { stdout: allChains });
  return { fake, files };
}

describe("loadRuleset", () => {
  it("checks, loads the same file in one nft call, and verifies the stamp", async () => {
    const { fake, files } = kernel();
    const r = await loadRuleset(fake, rendered);
    expect(r).toMatchObject({ ok: true, stage: null, error: null });
    expect(fake.commands().map((c) => c.replace(/\/\S+gatehouse\.nft/, "FILE"))).toEqual([
      "nft -c -f FILE",
      "nft -f FILE",
      "nft -j list set inet gatehouse applied",
      "nft -j list chains inet",
    ]);
    expect(files).toEqual([rendered.text, rendered.text]);
    // the private directory is gone afterwards
    expect(existsSync(dirname(fake.calls[1]?.args[2] as string))).toBe(false);
  });

  it("stops at a failed check with nft's own error text and never loads", async () => {
    const error = "/tmp/x/gatehouse.nft:12:3-7: Error: syntax error, unexpected junk\n\t\tjunk\n\t\t^^^^";
    const { fake } = kernel({ checkError: error });
    const r = await loadRuleset(fake, rendered);
    expect(r).toMatchObject({ ok: false, stage: "check", error });
    expect(fake.commands().some((c) => c.startsWith("nft -f"))).toBe(false);
  });

  it("reports a failed load", async () => {
    const { fake } = kernel({ loadError: "Error: Could not process rule: Device or resource busy" });
    const r = await loadRuleset(fake, rendered);
    expect(r).toMatchObject({
      ok: false,
      stage: "apply",
      error: "Error: Could not process rule: Device or resource busy",
    });
  });

  it("notices when the kernel holds another ruleset than the one rendered", async () => {
    const { fake } = kernel({ stamp: 42 });
    const r = await loadRuleset(fake, rendered);
    expect(r.stage).toBe("verify");
    expect(r.error).toMatch(/not the one rendered/);
  });

  it("checkRuleset returns null or the error text", async () => {
    expect(await checkRuleset(kernel().fake, "x")).toBeNull();
    expect(await checkRuleset(kernel({ checkError: "bad" }).fake, "x")).toBe("bad");
  });
});

describe("listOwnedObjects", () => {
  it("is undefined when the table does not exist", async () => {
    const fake = new FakeRunner().on(["nft", "-j", "list", "tables"], {
      stdout: nftJson([{ table: { family: "inet", name: "other" } }]),
    });
    expect(await listOwnedObjects(fake)).toBeUndefined();
  });

  it("lists only the policy table's chains, maps and sets", async () => {
    const fake = new FakeRunner()
      .on(["nft", "-j", "list", "tables"], { stdout: nftJson([{ table: { family: "inet", name: "gatehouse" } }]) })
      .on(["nft", "-j", "list", "chains"], {
        stdout: nftJson([
          { chain: { table: "gatehouse", name: "src_1" } },
          { chain: { table: "gatehouse_guard", name: "postrouting" } },
        ]),
      })
      .on(["nft", "-j", "-t", "list", "sets"], {
        stdout: nftJson([
          { set: { table: "gatehouse", name: "applied" } },
          { set: { table: "gatehouse_guard", name: "isp_ifaces" } },
        ]),
      })
      .on(["nft", "-j", "-t", "list", "maps"], { stdout: nftJson([{ map: { table: "gatehouse", name: "pool_3" } }]) });
    expect(await listOwnedObjects(fake)).toEqual({ chains: ["src_1"], sets: ["applied"], maps: ["pool_3"] });
  });
});
