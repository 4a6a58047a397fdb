import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { execSpawner, streamGatewayFile } from "./spawner";

const dir = mkdtempSync(join(tmpdir(), "gatehouse-spawner-"));
const savedTmp = process.env.TMPDIR;
afterEach(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A shell loop that writes `lines` lines of one word and a two-byte character each, one printf per piece. */
const pieces = (lines: number) => [
  "sh",
  "-c",
  `i=0; while [ $i -lt ${lines} ]; do printf 'élément'; printf ' %s\\n' $i; i=$((i+1)); done; echo done >&2; exit 3`,
];

async function collect(args: string[], viaFile: boolean) {
  const chunks: string[] = [];
  let stderr = "";
  const proc = execSpawner().spawn(args, {
    stdout: (c) => chunks.push(c),
    stderr: (c) => {
      stderr += c;
    },
    stdoutViaFile: viaFile,
  });
  const exit = await proc.exited;
  return { exit, chunks, text: chunks.join(""), stderr };
}

describe("execSpawner with stdoutViaFile", () => {
  it("hands over the whole output in large chunks before the command counts as ended, and leaves no file", async () => {
    process.env.TMPDIR = dir;
    // 9 bytes of 'élément' + ' N\n': over 64 KB, so that chunks split the two-byte characters somewhere
    const lines = 12_000;
    const r = await collect(pieces(lines), true);
    expect(r.exit).toEqual({ code: 3, signal: null, error: null });
    expect(r.stderr).toBe("done\n");
    const got = r.text.split("\n");
    expect(got).toHaveLength(lines + 1);
    expect(got[0]).toBe("élément 0");
    expect(got[lines - 1]).toBe(`élément ${lines - 1}`);
    expect(got.every((l, i) => i === lines || l === `élément ${i}`)).toBe(true);
    // 24000 writes arrive as a handful of 64 KB reads
    expect(r.chunks.length).toBeLessThanOrEqual(Math.ceil(Buffer.byteLength(r.text) / 65_536) + 1);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("gives the same text as a pipe", async () => {
    process.env.TMPDIR = dir;
    const [viaFile, viaPipe] = await Promise.all([collect(pieces(500), true), collect(pieces(500), false)]);
    expect(viaFile.text).toBe(viaPipe.text);
    expect(viaFile.exit).toEqual(viaPipe.exit);
  });

  it("reads an empty output as none", async () => {
    process.env.TMPDIR = dir;
    const r = await collect(["true"], true);
    expect(r.exit.code).toBe(0);
    expect(r.chunks).toEqual([]);
  });

  it("falls back to a pipe when the temporary directory takes no file", async () => {
    process.env.TMPDIR = join(dir, "missing-dir");
    const r = await collect(pieces(10), true);
    expect(r.text.split("\n")).toHaveLength(11);
    expect(r.exit.code).toBe(3);
  });

  it("closes the file of a command that never started", async () => {
    process.env.TMPDIR = dir;
    const open = () => readdirSync("/proc/self/fd").length;
    const before = open();
    const r = await collect(["/nonexistent/command"], true);
    await new Promise((res) => setTimeout(res, 50));
    expect(r.exit.code).toBeNull();
    expect(r.exit.error).toMatch(/ENOENT/);
    expect(readdirSync(dir)).toEqual([]);
    expect(open()).toBe(before);
  });
});

describe("streamGatewayFile", () => {
  const big = Array.from({ length: 40_000 }, (_, i) => `ipv4 2 udp 17 29 src=100.64.0.${i % 250} élément ${i}`).join(
    "\n",
  );

  it("reads a file in place on the gateway itself, in whole characters and without a process", async () => {
    const path = join(dir, "listing");
    writeFileSync(path, big);
    const chunks: string[] = [];
    const spawner = execSpawner();
    const proc = streamGatewayFile(spawner, path, { stdout: (c) => chunks.push(c) });
    expect(proc.pid).toBeUndefined();
    expect(await proc.exited).toEqual({ code: 0, signal: null, error: null });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join("")).toBe(big);
  });

  it("stops early when told, and says why it could not read", async () => {
    const path = join(dir, "listing-stop");
    writeFileSync(path, big);
    const chunks: string[] = [];
    const proc = streamGatewayFile(execSpawner(), path, {
      stdout: (c) => {
        chunks.push(c);
        proc.stop();
      },
    });
    expect(await proc.exited).toEqual({ code: null, signal: "SIGTERM", error: null });
    expect(chunks).toHaveLength(1);
    const missing = await streamGatewayFile(execSpawner(), join(dir, "nothing"), {}).exited;
    expect(missing.code).toBe(1);
    expect(missing.error).toMatch(/ENOENT/);
  });

  it("runs cat where the files are not the gateway's (a namespace prefix)", async () => {
    const path = join(dir, "listing-cat");
    writeFileSync(path, big);
    const chunks: string[] = [];
    // `env` as the prefix: commands run through it, as through `ip netns exec NS`
    const proc = streamGatewayFile(execSpawner({ prefix: ["env"] }), path, { stdout: (c) => chunks.push(c) });
    expect(proc.pid).toBeGreaterThan(0);
    expect((await proc.exited).code).toBe(0);
    expect(chunks.join("")).toBe(big);
  });
});
