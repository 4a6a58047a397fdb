import { describe, expect, it } from "vitest";
import { safeNextPath } from "./next-path";

const ORIGIN = "http://console.test:3000";

describe("safeNextPath", () => {
  it.each([
    ["/\\evil.example"],
    ["/\\/evil.example"],
    ["\\\\evil.example"],
    ["/\t/evil.example"],
    ["/\n/evil.example"],
    ["/\r\n/evil.example"],
    ["//evil.example"],
    ["///evil.example"],
    ["https://evil.example"],
    ["https://evil.example/clusters"],
    ["javascript:alert(1)"],
    ["data:text/html,<script>alert(1)</script>"],
    ["http://console.test:3001/"],
    ["https://console.test:3000/"],
    ["http://user@evil.example"],
  ])("sends %j home", (next) => {
    expect(safeNextPath(next, ORIGIN)).toBe("/");
  });

  it("decodes nothing itself: the percent-decoded forms from URLSearchParams are what it sees", () => {
    const get = (q: string) => new URLSearchParams(q).get("next");
    for (const q of [
      "next=/%5Cevil.example",
      "next=/%09/evil.example",
      "next=/%0A/evil.example",
      "next=%2F%2Fevil.example",
    ]) {
      expect(safeNextPath(get(q), ORIGIN), q).toBe("/");
    }
  });

  it("keeps the console's own pages with their query and fragment", () => {
    expect(safeNextPath("/", ORIGIN)).toBe("/");
    expect(safeNextPath("/clusters/abc/rules?q=1#r2", ORIGIN)).toBe("/clusters/abc/rules?q=1#r2");
    expect(safeNextPath("/audit", ORIGIN)).toBe("/audit");
    expect(safeNextPath(`${ORIGIN}/audit`, ORIGIN)).toBe("/audit");
  });

  it("keeps what a browser also resolves to a page of the console", () => {
    // a tab is dropped and a same-scheme URL without "//" is relative: both stay here
    expect(safeNextPath("/\tevil.example", ORIGIN)).toBe("/evil.example");
    expect(safeNextPath("http:evil.example", ORIGIN)).toBe("/evil.example");
  });

  it("never returns a path a browser would read as another host", () => {
    expect(safeNextPath("/.//evil.example", ORIGIN)).toBe("/evil.example");
    expect(safeNextPath("/a/..//evil.example", ORIGIN)).toBe("/evil.example");
  });

  it("treats nothing or junk as home", () => {
    expect(safeNextPath(null, ORIGIN)).toBe("/");
    expect(safeNextPath("", ORIGIN)).toBe("/");
    expect(safeNextPath("http://[::1", ORIGIN)).toBe("/");
  });
});
