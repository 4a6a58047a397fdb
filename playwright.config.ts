import { defineConfig } from "@playwright/test";

/** The console under test: a fresh SQLite database and a known first-admin password per run. */
export const E2E_PORT = Number(process.env.E2E_PORT ?? 3100);
export const E2E_ADMIN = { username: "admin", password: "e2e-admin-password-123" };
// one data folder per port: two runs on different ports never delete each other's database
const dataDir = `.e2e-data/${E2E_PORT}`;
/** The SQLite file of the console under test, for specs that tamper with it directly. */
export const E2E_DB_FILE = `${dataDir}/console.db`;

export default defineConfig({
  testDir: "e2e",
  testMatch: /.*\.spec\.ts$/,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  outputDir: "test-results/playwright",
  reporter: [["list"], ["json", { outputFile: "test-results/playwright.json" }]],
  use: {
    baseURL: `http://127.0.0.1:${E2E_PORT}`,
    screenshot: "on",
    trace: "retain-on-failure",
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: {
    command: `rm -rf ${dataDir} && exec node node_modules/next/dist/bin/next start -H 127.0.0.1 -p ${E2E_PORT}`,
    url: `http://127.0.0.1:${E2E_PORT}/login`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      DATABASE_URL: `file:./${E2E_DB_FILE}`,
      GATEHOUSE_ADMIN_USER: E2E_ADMIN.username,
      GATEHOUSE_ADMIN_PASSWORD: E2E_ADMIN.password,
      // seals alert channel secrets (and kept SSH credentials); a fixed test key
      GATEHOUSE_SECRET_KEY: "e2".repeat(32),
      NEXT_TELEMETRY_DISABLED: "1",
      LOG_LEVEL: "warn",
    },
  },
});
