import { join } from "node:path";
import { expect, type Page, test } from "@playwright/test";
import Database from "better-sqlite3";
import { E2E_DB_FILE } from "../../playwright.config";
import { signIn } from "../../testkit/console/fixtures";

/** Collects the browser's CSP complaints and page errors for the whole test. */
function watchViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to (execute|load|apply|frame)/i.test(m.text())) seen.push(m.text());
  });
  page.on("pageerror", (e) => seen.push(`page error: ${e.message}`));
  return seen;
}

test("pages and API answers carry the security headers", async ({ request }) => {
  for (const path of ["/login", "/", "/audit"]) {
    const res = await request.get(path);
    const h = res.headers();
    expect(h["x-frame-options"], path).toBe("DENY");
    expect(h["x-content-type-options"], path).toBe("nosniff");
    expect(h["referrer-policy"], path).toBe("strict-origin-when-cross-origin");
    expect(h["content-security-policy"], path).toMatch(/frame-ancestors 'none'/);
    expect(h["content-security-policy"], path).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'/);
    // plain http: no HSTS
    expect(h["strict-transport-security"], path).toBeUndefined();
  }
  const api = await request.get("/api/trpc/auth.me");
  expect(api.headers()["cache-control"]).toBe("no-store");
  expect(api.headers()["x-content-type-options"]).toBe("nosniff");
  expect(api.headers()["x-frame-options"]).toBe("DENY");
  // a client claiming https is not a trusted proxy
  const claimed = await request.get("/login", { headers: { "x-forwarded-proto": "https" } });
  expect(claimed.headers()["strict-transport-security"]).toBeUndefined();
});

test("the console's pages work under the CSP, with no violation reported", async ({ page }) => {
  const violations = watchViolations(page);
  await signIn(page);
  await page.getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("button", { name: "Verify integrity" })).toBeVisible();
  await page.getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("button", { name: "Create user" })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("button", { name: "Create user" })).toBeVisible();
  expect(violations).toEqual([]);
});

test("another site cannot frame the console", async ({ page, baseURL }) => {
  const frameLoads: string[] = [];
  page.on("framenavigated", (f) => {
    if (f !== page.mainFrame()) frameLoads.push(f.url());
  });
  // a sibling site on another origin (another port of the same host counts as another origin)
  await page.route("http://sibling.test/", (route) =>
    route.fulfill({ contentType: "text/html", body: `<iframe id="f" src="${baseURL}/login"></iframe>` }),
  );
  await page.goto("http://sibling.test/");
  await page.waitForTimeout(1_500);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  // the frame exists but the console's document never rendered in it
  const rendered = frame ? await frame.locator("form[aria-label='Sign in']").count() : 0;
  expect(rendered).toBe(0);
});

test("a client's own X-Forwarded-For neither moves it past the sign-in lock nor into the audit log", async ({
  request,
}) => {
  const name = `xff-${Date.now().toString(36)}`;
  const codes: number[] = [];
  for (let i = 0; i < 7; i++) {
    const res = await request.post("/api/trpc/auth.login", {
      headers: {
        "content-type": "application/json",
        "x-forwarded-for": `203.0.113.${i + 1}`,
        "x-real-ip": `203.0.113.${i + 100}`,
      },
      data: { json: { username: name, password: "not the password" } },
    });
    codes.push(res.status());
  }
  // five failures from one real address lock the pair, whatever address each request claimed
  expect(codes).toEqual([401, 401, 401, 401, 401, 429, 429]);
  const db = new Database(join(process.cwd(), E2E_DB_FILE), { readonly: true, timeout: 10_000 });
  try {
    const ips = db
      .prepare(`SELECT DISTINCT "ip" FROM "AuditEvent" WHERE "action" = 'auth.login_failed' AND "actorName" = ?`)
      .all(name) as { ip: string }[];
    expect(ips).toEqual([{ ip: "127.0.0.1" }]);
  } finally {
    db.close();
  }
});

test("an anonymous oversized sign-in body is refused with 413 before it is read", async ({ request }) => {
  const res = await request.post("/api/trpc/auth.login", {
    headers: { "content-type": "application/json" },
    data: JSON.stringify({ json: { username: "admin", password: "x".repeat(2 * 1024 * 1024) } }),
  });
  expect(res.status()).toBe(413);
  expect(await res.text()).toContain("The request body is larger than 1048576 bytes (1 MiB); it was not read");
});

test("a batch holding a sign-in is refused", async ({ request }) => {
  const res = await request.post("/api/trpc/auth.login,auth.login?batch=1", {
    headers: { "content-type": "application/json" },
    data: {
      0: { json: { username: "admin", password: "a guess" } },
      1: { json: { username: "admin", password: "b guess" } },
    },
  });
  expect(res.status()).toBe(400);
  expect(await res.text()).toContain("auth.login cannot be batched");
});
