import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../../testkit/server/databases";
import { AppError } from "../../errors";
import { type ApiHarness, apiHarness, TEST_META, TEST_PASSWORD } from "../../../testkit/server/api";
import { login } from "./login";
import { LOGIN_LIMITS } from "./throttle";
import { createUser, updateUser } from "./users";

const meta = (ip: string) => ({ ...TEST_META, ip });
const noSleep = async () => {};

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "OK";
  } catch (e) {
    if (e instanceof AppError) return `${e.code}: ${e.message}`;
    throw e;
  }
}

describe.each(PROVIDERS)("sign-in protection on %s", (provider) => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await apiHarness(provider);
  });
  afterAll(async () => {
    await h?.close();
  });

  const checks = (name: string) =>
    h.db.auditEvent.count({ where: { action: { in: ["auth.login", "auth.login_failed"] }, actorName: name } });

  it("counts and checks in one step: of 40 parallel attempts at most 5 reach the password check", async () => {
    const name = await createUser(h.db, { type: "system", id: "", name: "t" }, TEST_META, {
      username: "parallel",
      password: TEST_PASSWORD,
      role: "viewer",
    });
    const attempts = Array.from({ length: 40 }, (_, i) =>
      outcome(
        login(
          h.db,
          { username: "parallel", password: i === 39 ? TEST_PASSWORD : `wrong ${i}` },
          meta("203.0.113.40"),
          1,
        ),
      ),
    );
    const results = await Promise.all(attempts);
    expect(await checks(name.username)).toBeLessThanOrEqual(LOGIN_LIMITS.pair.points);
    expect(results.filter((r) => r.startsWith("RATE_LIMITED")).length).toBeGreaterThanOrEqual(
      40 - LOGIN_LIMITS.pair.points,
    );
  });

  it("locks a (name, address) pair, not the name: the owner still signs in from elsewhere", async () => {
    const stranger = meta("203.0.113.9");
    for (let i = 0; i < LOGIN_LIMITS.pair.points; i++) {
      expect(await outcome(login(h.db, { username: "admin", password: "guess" }, stranger, 1))).toMatch(
        /^UNAUTHORIZED/,
      );
    }
    // the stranger is locked out, even with the right password
    expect(await outcome(login(h.db, { username: "admin", password: TEST_PASSWORD }, stranger, 1))).toMatch(
      /^RATE_LIMITED: Too many failed sign-in attempts\. Try again in 15 minutes\./,
    );
    // the owner is not
    expect(await outcome(login(h.db, { username: "admin", password: TEST_PASSWORD }, meta("198.51.100.7"), 1))).toBe(
      "OK",
    );
  });

  it("starts the pair's count over after a successful sign-in", async () => {
    const here = meta("198.51.100.8");
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < LOGIN_LIMITS.pair.points - 1; i++) {
        await outcome(login(h.db, { username: "operator", password: "typo" }, here, 1));
      }
      expect(await outcome(login(h.db, { username: "operator", password: TEST_PASSWORD }, here, 1))).toBe("OK");
    }
  });

  it("slows a name down after many failures from anywhere, and the right password still works", async () => {
    await createUser(h.db, { type: "system", id: "", name: "t" }, TEST_META, {
      username: "slowed",
      password: TEST_PASSWORD,
      role: "viewer",
    });
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
    };
    // failures spread over addresses so that no pair is locked
    for (let i = 0; i < LOGIN_LIMITS.name.slowAfter; i++) {
      await outcome(login(h.db, { username: "slowed", password: "guess" }, meta(`192.0.2.${i + 1}`), 1, sleep));
    }
    expect(waits).toEqual([]);
    expect(
      await outcome(login(h.db, { username: "slowed", password: "guess" }, meta("192.0.2.100"), 1, sleep)),
    ).toMatch(/^UNAUTHORIZED/);
    expect(
      await outcome(login(h.db, { username: "slowed", password: TEST_PASSWORD }, meta("192.0.2.101"), 1, sleep)),
    ).toBe("OK");
    expect(waits).toHaveLength(2);
    expect(waits[1]).toBeGreaterThan(waits[0] ?? 0);
    expect(Math.max(...waits)).toBeLessThanOrEqual(LOGIN_LIMITS.name.maxDelayMs);
  });

  it("answers a disabled account with the right password exactly like a wrong password", async () => {
    const actor = { type: "system" as const, id: "", name: "t" };
    const user = await createUser(h.db, actor, TEST_META, {
      username: "retired",
      password: TEST_PASSWORD,
      role: "viewer",
    });
    await updateUser(h.db, actor, TEST_META, { id: user.id, version: user.version, disabled: true });
    const right = await outcome(login(h.db, { username: "retired", password: TEST_PASSWORD }, meta("192.0.2.200"), 1));
    const wrong = await outcome(login(h.db, { username: "retired", password: "wrong pass" }, meta("192.0.2.201"), 1));
    const unknown = await outcome(login(h.db, { username: "nobody", password: "wrong pass" }, meta("192.0.2.202"), 1));
    expect(right).toBe("UNAUTHORIZED: Wrong user name or password.");
    expect(wrong).toBe(right);
    expect(unknown).toBe(right);
  });

  it("treats user names without regard to case: one account, found in any case", async () => {
    const actor = { type: "system" as const, id: "", name: "t" };
    await createUser(h.db, actor, TEST_META, { username: "Carol", password: TEST_PASSWORD, role: "viewer" });
    const dup = createUser(h.db, actor, TEST_META, { username: "carol", password: TEST_PASSWORD, role: "admin" });
    await expect(dup).rejects.toMatchObject({
      code: "CONFLICT",
      issues: [{ path: ["username"], message: "is taken (names ignore case)" }],
    });
    expect(await h.db.user.count({ where: { usernameKey: "carol" } })).toBe(1);
    for (const spelling of ["carol", "CAROL", "cArOl"]) {
      const r = await login(h.db, { username: spelling, password: TEST_PASSWORD }, meta("192.0.2.210"), 1, noSleep);
      expect(r.user.username).toBe("Carol");
    }
  });
});
