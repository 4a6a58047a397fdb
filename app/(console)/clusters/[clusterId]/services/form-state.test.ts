import { describe, expect, it } from "vitest";
import { zVirtualService, zVirtualServiceFields } from "@/core/policy/virtual-service";
import { fieldKeysFor, initialState, placeIssues, toFields } from "./form-state";

describe("the virtual service form's state", () => {
  it("round-trips a stored service through the form unchanged", () => {
    const stored = zVirtualService.parse({
      id: "vs-1",
      name: "web",
      address: "203.0.113.80",
      port: null,
      scheduler: "mh",
      persistenceSeconds: 300,
      sorryServer: { address: "100.64.10.9" },
      realServers: [{ address: "100.64.10.2", weight: 2, state: "draining" }],
      healthCheck: { kind: "tcp", intervalMs: 500, timeoutMs: 200 },
      comment: "front",
    });
    const { id: _id, ...fields } = stored;
    expect(zVirtualServiceFields.parse(toFields(initialState(stored)))).toEqual(fields);
  });

  it("round-trips a service chosen by fwmark, and makes one from the mark typed", () => {
    const stored = zVirtualService.parse({
      id: "vs-2",
      name: "marked",
      address: null,
      fwmark: { value: 0x10000000, mask: 0x30000000 },
      protocol: "any",
      port: null,
      scheduler: "sh",
      realServers: [{ address: "100.64.10.2", port: 8080 }],
    });
    const { id: _id, ...fields } = stored;
    const state = initialState(stored);
    expect([state.chosenBy, state.markValue, state.markMask, state.protocol]).toEqual([
      "fwmark",
      "0x10000000",
      "0x30000000",
      "tcp",
    ]);
    expect(zVirtualServiceFields.parse(toFields(state))).toEqual(fields);
    // an address left in the form is not sent; an empty mask is the operator's bits
    const typed = { ...initialState(null), name: "m", address: "203.0.113.80", chosenBy: "fwmark" as const };
    expect(toFields({ ...typed, markValue: "536870912" })).toMatchObject({
      address: null,
      fwmark: { value: 0x20000000, mask: 0xf0000000 },
      protocol: "any",
      port: null,
    });
    const r = zVirtualServiceFields.safeParse(toFields({ ...typed, markValue: "web" }));
    expect(r.success).toBe(false);
    if (r.success) return;
    expect(Object.keys(placeIssues(r.error.issues, fieldKeysFor(1), false))).toContain("fwmark.value");
  });

  it("reads empty text as the field's meaning and keeps non-numbers for the schema to name", () => {
    const s = { ...initialState(null), name: "x", address: "203.0.113.80", port: "", persistence: "" };
    s.realServers = [
      { ...(s.realServers[0] as (typeof s.realServers)[number]), address: "100.64.10.2", weight: "ten" },
    ];
    const fields = toFields(s);
    expect(fields.port).toBeNull();
    expect(fields.persistenceSeconds).toBeUndefined();
    const r = zVirtualServiceFields.safeParse(fields);
    expect(r.success).toBe(false);
    if (r.success) return;
    expect(placeIssues(r.error.issues, fieldKeysFor(1), false)).toEqual({
      "realServers.0.weight": ["Real server 1 weight must be a number"],
    });
  });

  it("puts the server's messages under their field as they are, and the rest aside", () => {
    const placed = placeIssues(
      [
        { path: ["address"], message: 'virtual address is an address of pool "a"' },
        { path: ["realServers", 1, "port"], message: "real server 2 port cannot map ports" },
        { path: ["elsewhere"], message: "something else" },
      ],
      fieldKeysFor(2),
      true,
    );
    expect(placed).toEqual({
      address: ['Virtual address is an address of pool "a"'],
      "realServers.1.port": ["Real server 2 port cannot map ports"],
      "": ["Something else"],
    });
  });
});
