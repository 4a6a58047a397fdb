import { describe, expect, it } from "vitest";
import { expandShortRange, intervalSize, parseAddressRange } from "./address";
import { zPoolFields } from "./policy/model";

describe("expandShortRange", () => {
  it("reads the end's missing leading octets from the start, as operators write ranges", () => {
    expect(expandShortRange("198.51.100.71-73")).toBe("198.51.100.71-198.51.100.73");
    expect(expandShortRange(" 198.51.100.250-101.3 ")).toBe("198.51.100.250-198.51.101.3");
    expect(expandShortRange("100.64.0.9-1.0.1")).toBe("100.64.0.9-100.1.0.1");
  });

  it("leaves everything else as it was, for the parser to accept or refuse", () => {
    for (const t of ["198.51.100.7", "198.51.100.1-198.51.100.9", "198.51.100.0/24", "198.51.100.71-300", "x-1", ""]) {
      expect(expandShortRange(t)).toBe(t);
    }
  });
});

describe("parseAddressRange", () => {
  it("takes an address, a range and a network", () => {
    const size = (t: string) => {
      const r = parseAddressRange(t);
      return r.ok ? intervalSize(r.value) : r.error;
    };
    expect(size("198.51.100.7")).toBe(1n);
    expect(size("198.51.100.1-198.51.100.9")).toBe(9n);
    expect(size("198.51.100.0/25")).toBe(128n);
  });

  it("refuses a range that ends before it starts, and text that is no address, naming it", () => {
    expect(parseAddressRange("198.51.100.9-198.51.100.1")).toEqual({
      ok: false,
      error: '"198.51.100.9-198.51.100.1" ends before it starts',
    });
    expect(parseAddressRange("198.51.100.71-73")).toMatchObject({ ok: false });
    expect(parseAddressRange("pool")).toMatchObject({ ok: false, error: expect.stringContaining('"pool"') });
  });
});

describe("pool addresses", () => {
  const pool = (addresses: string[]) =>
    zPoolFields.safeParse({ name: "p", ispId: "isp-a", addresses, mode: "routed", portRange: null, comment: "" });

  it("store a short range in full", () => {
    const r = pool(["198.51.100.71-73", "203.0.113.5"]);
    expect(r.success && r.data.addresses).toEqual(["198.51.100.71-198.51.100.73", "203.0.113.5"]);
  });

  it("refuse a short range that ends before it starts, at the item", () => {
    const r = pool(["198.51.100.71-70"]);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({
      path: ["addresses", 0],
      message: expect.stringContaining("ends before"),
    });
  });
});
