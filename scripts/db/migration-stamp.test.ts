import { describe, expect, it } from "vitest";
import { migrationStamp, nextStamp } from "./migration-stamp";

describe("migration stamps", () => {
  it("are UTC yyyymmddHHMMSS like prisma migrate dev's", () => {
    expect(migrationStamp(new Date("2026-03-04T05:06:07.890Z"))).toBe("20260304050607");
  });

  it("sort after every existing migration even when the clock is behind", () => {
    const now = new Date("2026-03-04T05:06:07Z");
    expect(nextStamp(now, ["20260101000000_init"])).toBe("20260304050607");
    expect(nextStamp(now, ["20260101000000_init", "20270101000000_future"])).toBe("20270101000001");
    expect(nextStamp(now, ["20260304050607_same_second"])).toBe("20260304050608");
  });
});
