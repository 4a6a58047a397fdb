/**
 * npm run admin -- reset-password NAME [--password-stdin] [--enable]
 *
 * Works on the console's database (DATABASE_URL) directly, for an admin who is locked out or forgot the password:
 * sets a new password (generated and printed once, or read from the first line of stdin with --password-stdin),
 * ends the account's sessions, clears its sign-in lockout from every address, and with --enable enables a disabled
 * account again.
 */
import { parseArgs } from "node:util";
import { AppError } from "../server/errors";

const USAGE = "usage: npm run admin -- reset-password NAME [--password-stdin] [--enable]";

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return (Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "").trimEnd();
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { "password-stdin": { type: "boolean" }, enable: { type: "boolean" } },
  });
  const [command, name, ...rest] = positionals;
  if (command !== "reset-password" || !name || rest.length > 0) throw new Error(USAGE);
  const password = values["password-stdin"] ? await readStdinLine() : undefined;
  const { getDb } = await import("../server/db");
  const { resetPassword } = await import("../server/services/auth/reset");
  const db = getDb();
  try {
    const result = await resetPassword(db, name, { password, enable: values.enable ?? false });
    const state = result.enabled ? "enabled" : "still disabled (add --enable to enable it)";
    console.log(`Password of "${result.username}" reset; sign-in lockout cleared; sessions ended; account ${state}.`);
    if (result.generatedPassword) console.log(`New password (shown only now): ${result.generatedPassword}`);
  } finally {
    await db.$disconnect();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof AppError || e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
