import { describe, expect, it } from "vitest";
import { filterFromParams, filterToParams } from "./filter-params";

describe("audit filter URL parameters", () => {
  it("round-trips a filter through the query string", () => {
    const filter = {
      clusterId: "c1",
      actor: "alice & bob",
      action: "rule.",
      targetType: "rule",
      q: '"office 2" 100%',
      from: new Date("2026-01-02T03:04:05.678Z"),
      to: new Date("2026-02-01T00:00:00.000Z"),
    };
    const params = new URLSearchParams(filterToParams(filter).toString());
    expect(filterFromParams(params)).toEqual({ filter, invalid: [] });
  });

  it("drops blank values and reports dates it cannot read", () => {
    const { filter, invalid } = filterFromParams(new URLSearchParams("actor=%20&q=&from=yesterday&to=2026-01-01"));
    expect(filter).toEqual({ to: new Date("2026-01-01") });
    expect(invalid).toEqual(["from"]);
    expect(filterToParams({ actor: " ", q: "" }).toString()).toBe("");
  });
});
