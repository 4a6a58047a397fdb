import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../server/db/client";
import { migrate } from "../server/db/migrate";
import { type FreshStore, freshStore } from "../testkit/server/databases";
import { login } from "../server/services/auth/login";
import { hashPassword } from "../server/services/auth/password";
import { LOGIN_LIMITS } from "../server/services/auth/throttle";
import { TEST_META } from "../testkit/server/api";

const run = promisify(execFile);

describe("npm run admin -- reset-password", () => {
  let store: FreshStore;
  let db: Db;
  beforeAll(async () => {
    store = await freshStore("sqlite");
    await migrate(store.url);
    db = createDb(store.url);
    await db.user.create({
      data: {
        username: "Admin",
        usernameKey: "admin",
        passwordHash: await hashPassword("forgotten password"),
        role: "admin",
      },
    });
  });
  afterAll(async () => {
    await db?.$disconnect();
    await store?.drop();
  });

  const admin = (args: string[], input?: string) => {
    const child = run("npx", ["tsx", "scripts/admin.ts", ...args], {
      env: { ...process.env, DATABASE_URL: store.url, LOG_LEVEL: "silent" },
    });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    } else {
      child.child.stdin?.end();
    }
    return child;
  };

  const attempt = (password: string, ip = "203.0.113.10") =>
    login(db, { username: "admin", password }, { ...TEST_META, ip }, 1).then(
      () => "OK",
      (e: { code?: string }) => e.code ?? "ERROR",
    );

  it("unlocks a locked, disabled admin with a printed new password", async () => {
    for (let i = 0; i < LOGIN_LIMITS.pair.points; i++) await attempt("guess");
    expect(await attempt("forgotten password")).toBe("RATE_LIMITED");
    await db.user.update({ where: { usernameKey: "admin" }, data: { disabled: true } });

    const { stdout } = await admin(["reset-password", "ADMIN", "--enable"]);
    expect(stdout).toContain('Password of "Admin" reset; sign-in lockout cleared; sessions ended; account enabled.');
    const password = /New password \(shown only now\): (\S+)/.exec(stdout)?.[1] ?? "";
    expect(password.length).toBeGreaterThanOrEqual(12);
    // the lock is gone and the new password works, from the very address that was locked
    expect(await attempt(password)).toBe("OK");
    expect(await attempt("forgotten password")).toBe("UNAUTHORIZED");
    expect(await db.auditEvent.count({ where: { action: "user.password_reset" } })).toBe(1);
  }, 60_000);

  it("takes the new password from stdin, and keeps a disabled account disabled without --enable", async () => {
    await db.user.update({ where: { usernameKey: "admin" }, data: { disabled: true } });
    const { stdout } = await admin(["reset-password", "admin", "--password-stdin"], "chosen password 123\n");
    expect(stdout).toContain("account still disabled (add --enable to enable it)");
    expect(stdout).not.toContain("New password");
    const user = await db.user.findUniqueOrThrow({ where: { usernameKey: "admin" }, select: { disabled: true } });
    expect(user.disabled).toBe(true);
    await db.user.update({ where: { usernameKey: "admin" }, data: { disabled: false } });
    expect(await attempt("chosen password 123", "203.0.113.11")).toBe("OK");
  }, 60_000);

  it("refuses an unknown name, a short password and wrong usage with a clear message and exit code 1", async () => {
    await expect(admin(["reset-password", "nobody"])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('A user named "nobody" was not found'),
    });
    await expect(admin(["reset-password", "admin", "--password-stdin"], "short\n")).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("The new password must be at least 12 characters"),
    });
    await expect(admin(["reset-pasword", "admin"])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("usage: npm run admin -- reset-password NAME"),
    });
  }, 60_000);
});
