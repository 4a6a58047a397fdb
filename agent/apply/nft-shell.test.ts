import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Exit, ProcessSpawner, SpawnHandlers } from "../health/spawner";
import { NftShell, readShellLine } from "./nft-shell";

const META = { metainfo: { version: "1.0.6", release_name: "Lester Gooch #5", json_schema_version: 1 } };
const appliedLine = (elems: number[]) =>
  `${JSON.stringify({ nftables: [META, { set: { family: "inet", name: "applied", table: "gatehouse", type: "mark", elem: elems } }] })}\n`;
const tablesLine = `${JSON.stringify({ nftables: [META, { table: { family: "inet", name: "gatehouse", handle: 1 } }] })}\n`;

/** A fake `nft -j -i`: `answer` says what it prints for each request it reads. */
function fakeNft(answer: (request: string, io: SpawnHandlers) => void) {
  const started: string[][] = [];
  const requests: string[] = [];
  const included: string[] = [];
  let exit: (e: Exit) => void = () => {};
  const spawner: ProcessSpawner = {
    spawn(args, handlers) {
      started.push([...args]);
      let alive = true;
      return {
        stop() {
          alive = false;
          exit({ code: null, signal: "SIGTERM", error: null });
        },
        write(text) {
          if (!alive) return false;
          requests.push(text);
          const path = /include "([^"]+)"/.exec(text)?.[1];
          if (path) included.push(readFileSync(path, "utf8"));
          answer(text, handlers);
          return true;
        },
        exited: new Promise<Exit>((resolve) => {
          exit = resolve;
        }),
      };
    },
  };
  return { spawner, started, requests, included, die: (code: number) => exit({ code, signal: null, error: null }) };
}

let dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "nft-shell-test-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

describe("readShellLine", () => {
  it("reads the applied set's fingerprints and the end of an answer", () => {
    expect(readShellLine(appliedLine([7, 9]).trim())).toEqual({ kind: "applied", elems: [7, 9] });
    expect(readShellLine(tablesLine.trim())).toEqual({ kind: "end" });
    expect(readShellLine("Error: syntax error")).toBeNull();
    const other = JSON.stringify({ nftables: [META, { set: { name: "x", table: "gatehouse", elem: [1] } }] });
    expect(readShellLine(other)).toBeNull();
  });
});

describe("NftShell", () => {
  it("includes the ruleset from a private file and reports it loaded when the applied set holds its fingerprint", async () => {
    const nft = fakeNft((_req, io) => io.stdout?.(appliedLine([0x42]) + tablesLine));
    const shell = new NftShell({ spawner: nft.spawner, tmpDir: tmp() });
    expect(await shell.load("flush table inet gatehouse\n", 0x42)).toEqual({ ok: true, error: null });
    expect(await shell.load("second\n", 0x42)).toEqual({ ok: true, error: null });
    // one process for both loads
    expect(nft.started).toEqual([["nft", "-j", "-i"]]);
    expect(nft.included).toEqual(["flush table inet gatehouse\n", "second\n"]);
    expect(nft.requests[0]).toMatch(
      /^include "[^"]+\/ruleset\.nft"\nlist set inet gatehouse applied\nlist tables inet\n$/,
    );
    shell.stop();
  });

  it("answers only once the whole answer is there, even when it comes in pieces", async () => {
    let io: SpawnHandlers | undefined;
    const nft = fakeNft((_req, h) => {
      io = h;
    });
    const shell = new NftShell({ spawner: nft.spawner, tmpDir: tmp() });
    let settled = false;
    const load = shell.load("x\n", 5).then((r) => {
      settled = true;
      return r;
    });
    const text = appliedLine([5]) + tablesLine;
    // the request goes out once the load's turn in the queue comes
    await new Promise((r) => setTimeout(r, 5));
    io?.stdout?.(text.slice(0, 30));
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    io?.stdout?.(text.slice(30));
    expect(await load).toEqual({ ok: true, error: null });
  });

  it("reports nft's words when the load did not take (the applied set still holds the old fingerprint)", async () => {
    const nft = fakeNft((_req, io) => {
      io.stderr?.(
        "In file included from <cmdline>:1:1-30:\n/x/ruleset.nft:3:9-17: Error: syntax error, unexpected frobnicate\n",
      );
      io.stdout?.(appliedLine([0x41]) + tablesLine);
    });
    const shell = new NftShell({ spawner: nft.spawner, tmpDir: tmp() });
    const r = await shell.load("bad\n", 0x42);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(
      /^the load did not take: In file included from .*\n.*Error: syntax error, unexpected frobnicate$/,
    );
  });

  it("gives up on a shell that does not answer, and starts a new one for the next load", async () => {
    let answer = false;
    const nft = fakeNft((_req, io) => {
      if (answer) io.stdout?.(appliedLine([1]) + tablesLine);
    });
    const shell = new NftShell({ spawner: nft.spawner, tmpDir: tmp(), timeoutMs: 30 });
    expect(await shell.load("a\n", 1)).toEqual({ ok: false, error: "nft -i did not answer within 30 ms" });
    answer = true;
    expect(await shell.load("b\n", 1)).toEqual({ ok: true, error: null });
    expect(nft.started).toHaveLength(2);
  });

  it("reports a shell that ended under a load, and starts a new one for the next", async () => {
    let die = true;
    const nft = fakeNft((_req, io) => {
      if (die) {
        io.stderr?.("nft: out of memory\n");
        queueMicrotask(() => nft.die(1));
      } else io.stdout?.(appliedLine([3]) + tablesLine);
    });
    const shell = new NftShell({ spawner: nft.spawner, tmpDir: tmp() });
    expect(await shell.load("a\n", 3)).toEqual({ ok: false, error: "nft -i ended (exit 1): nft: out of memory" });
    die = false;
    expect(await shell.load("b\n", 3)).toEqual({ ok: true, error: null });
    expect(nft.started).toHaveLength(2);
  });
});
