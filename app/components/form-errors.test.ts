import { describe, expect, it } from "vitest";
import { zIspFields, zPoolFields, zZoneFields } from "@/core/policy/model";
import { plainMessage } from "@/core/policy/wording";
import { groupIssues, issueText, mergeErrors } from "./form-errors";
import { joinList, numberField, splitList } from "./list-text";

describe("form messages from the API's own schemas", () => {
  it("names the field and keeps the schema's words", () => {
    const r = zZoneFields.safeParse({ name: "", networks: ["100.64.0.0/16", "10.0.0.1/8"] });
    expect(r.success).toBe(false);
    const grouped = groupIssues("zone", r.error?.issues ?? [], ["name", "networks", "comment"]);
    expect(grouped.byField.name).toEqual(["Name is required"]);
    expect(grouped.byField.networks).toEqual(['Network 2: "10.0.0.1/8" has host bits set; did you mean 10.0.0.0/8?']);
    expect(grouped.other).toEqual([]);
  });

  it("puts nested fields under the longest matching key and the rest aside", () => {
    const r = zIspFields.safeParse({
      name: "a",
      interface: "eth0",
      nextHop: "198.51.100.1",
      monitor: { intervalMs: 5, downAfter: "x" },
      backupIspIds: ["not an id!"],
    });
    const grouped = groupIssues("isp", r.error?.issues ?? [], ["name", "monitor.intervalMs", "monitor.downAfter"]);
    expect(grouped.byField["monitor.intervalMs"]).toEqual(["Probe interval (ms) must be at least 20 ms"]);
    expect(grouped.byField["monitor.downAfter"]).toEqual(["Lost probes before down must be a number"]);
    expect(grouped.other).toEqual(["Backup ISP 1 must be an identifier"]);
  });

  it("shows whole-policy messages from the server as they are", () => {
    expect(issueText("isp", { path: ["nextHop"], message: "next hop 127.0.0.1 is a loopback address" }, true)).toBe(
      "Next hop 127.0.0.1 is a loopback address",
    );
    expect(issueText("pool", { path: ["addresses", 0], message: "is required" }, true)).toBe(
      "Address item 1 is required",
    );
    const r = zPoolFields.safeParse({ name: "p", ispId: "isp", addresses: [] });
    expect(groupIssues("pool", r.error?.issues ?? [], ["addresses"]).byField.addresses).toEqual([
      "Addresses needs at least one address",
    ]);
  });

  it("merges client and server messages without repeating one", () => {
    const a = { byField: { name: ["Name is required"] }, other: ["x"] };
    const b = { byField: { name: ["Name is required", "Name is taken"], comment: ["c"] }, other: ["x", "y"] };
    expect(mergeErrors(a, b)).toEqual({
      byField: { name: ["Name is required", "Name is taken"], comment: ["c"] },
      other: ["x", "y"],
    });
    expect(plainMessage("Invalid input: expected number, received string")).toBe("must be a number");
  });
});

describe("list and number fields", () => {
  it("splits on commas, spaces and new lines", () => {
    expect(splitList(" 100.64.0.0/24,100.64.1.0/24\n100.64.2.0/24 ;  ")).toEqual([
      "100.64.0.0/24",
      "100.64.1.0/24",
      "100.64.2.0/24",
    ]);
    expect(splitList("   ")).toEqual([]);
    expect(joinList(["a", "b"])).toBe("a, b");
  });

  it("keeps non-numbers as text for the schema to refuse", () => {
    expect(numberField("", null)).toBeNull();
    expect(numberField(" 42 ", null)).toBe(42);
    expect(numberField("4x", undefined)).toBe("4x");
    expect(numberField("", undefined)).toBeUndefined();
  });
});
