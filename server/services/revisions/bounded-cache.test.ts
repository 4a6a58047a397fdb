import { describe, expect, it } from "vitest";
import { BoundedCache } from "./bounded-cache";

describe("BoundedCache", () => {
  it("drops the least recently used entries past its weight or entry budget", () => {
    const c = new BoundedCache<string>(10, 3, (v) => v.length);
    c.set("a", "aaaa");
    c.set("b", "bbbb");
    expect(c.get("a")).toBe("aaaa");
    c.set("c", "cccc"); // 12 > 10: b, the least recently used, goes
    expect(c.get("b")).toBeUndefined();
    expect(c.get("a")).toBe("aaaa");
    expect(c.weight).toBe(8);
    c.set("d", "d");
    c.set("e", "e"); // 4 entries > 3: c goes (a was read after it)
    expect(c.get("c")).toBeUndefined();
    expect(c.size).toBe(3);
  });

  it("keeps nothing bigger than the whole budget, and replaces a key's value", () => {
    const c = new BoundedCache<string>(5, 10, (v) => v.length);
    c.set("big", "x".repeat(6));
    expect(c.get("big")).toBeUndefined();
    c.set("k", "abc");
    c.set("k", "de");
    expect(c.get("k")).toBe("de");
    expect(c.weight).toBe(2);
  });
});
