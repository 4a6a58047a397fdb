import { describe, expect, it } from "vitest";
import { APP_ERROR_TRANSPORT, AppError, type AppErrorCode } from "../errors";
import { guarded } from "./agent-api";

const request = () => new Request("http://127.0.0.1/api/agent/v1/status", { method: "POST" });

describe("service errors over plain HTTP", () => {
  it("travel with the same table the tRPC layer uses", async () => {
    const expected: Record<AppErrorCode, number> = {
      NOT_FOUND: 404,
      CONFLICT: 409,
      INVALID: 400,
      FORBIDDEN: 403,
      UNAUTHORIZED: 401,
      RATE_LIMITED: 429,
    };
    for (const code of Object.keys(expected) as AppErrorCode[]) {
      const res = await guarded(request(), "test", async () => {
        throw new AppError(code, `refused: ${code}`, [{ path: ["field"], message: "is wrong" }]);
      });
      expect(res.status).toBe(expected[code]);
      expect(APP_ERROR_TRANSPORT[code].http).toBe(expected[code]);
      expect(await res.json()).toEqual({
        error: `refused: ${code}`,
        issues: [{ path: ["field"], message: "is wrong" }],
      });
    }
  });

  it("hide unexpected failures behind a generic 500", async () => {
    const res = await guarded(request(), "test", async () => {
      throw new Error("database password is hunter2");
    });
    expect(res.status).toBe(500);
    expect(JSON.stringify(await res.json())).not.toContain("hunter2");
  });
});
