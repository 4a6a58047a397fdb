import { describe, expect, it } from "vitest";
import { flushFailedOverConnections, flushIspConnections } from "./conntrack";
import { FakeRunner } from "../../testkit/fakes/runner";

describe("conntrack flush", () => {
  it("deletes by the ISP bits of the mark and counts what went", async () => {
    const fake = new FakeRunner().on(["conntrack", "-D"], {
      stderr: "conntrack v1.4.7 (conntrack-tools): 17 flow entries have been deleted.\n",
    });
    expect(await flushIspConnections(fake, 3)).toEqual({ ok: true, deleted: 17, error: null });
    expect(fake.commands()).toEqual(["conntrack -D -m 0x3/0xff"]);
  });

  it("treats nothing to delete (exit 1) as success", async () => {
    const fake = new FakeRunner().on(["conntrack", "-D"], {
      code: 1,
      stderr: "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n",
    });
    expect(await flushFailedOverConnections(fake, 2)).toEqual({ ok: true, deleted: 0, error: null });
    expect(fake.commands()).toEqual(["conntrack -D -m 0x802/0x8ff"]);
  });

  it("reports a real failure", async () => {
    const fake = new FakeRunner().on(["conntrack", "-D"], { code: 1, stderr: "conntrack: Operation not permitted" });
    const r = await flushIspConnections(fake, 1);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/Operation not permitted/);
  });
});
