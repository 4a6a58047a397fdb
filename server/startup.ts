import { env } from "./env";
import { getDb } from "./db";
import { migrate } from "./db/migrate";
import { logger } from "./log";
import { auditKeyInfo } from "./services/audit/key";
import { startAuditRetention } from "./services/audit/retention-schedule";
import { ensureFirstAdmin } from "./services/auth/bootstrap";
import { startConsoleAlerts } from "./services/alerts/scheduler";

export async function prepareConsole(): Promise<void> {
  const db = getDb();
  const applied = await migrate(env.DATABASE_URL);
  if (applied.length > 0) logger.info({ applied }, "database migrations applied");
  // at start, not at the first audited change: a missing or unreadable key should stop the console here
  const auditKey = auditKeyInfo();
  if (auditKey.created) {
    logger.info(
      { file: auditKey.source },
      "audit chain key created; keep it with the database backups, apart from the database itself",
    );
  }
  const admin = await ensureFirstAdmin(db, env.GATEHOUSE_ADMIN_USER, env.GATEHOUSE_ADMIN_PASSWORD);
  startAuditRetention(db);
  startConsoleAlerts(db);
  if (admin.created) {
    if (admin.generatedPassword) {
      // printed once, to the console's own terminal: it is stored only as a hash
      process.stdout.write(
        `\n  First admin account created.\n  user:     ${admin.username}\n  password: ${admin.generatedPassword}\n  (shown only now; change it after signing in, or set GATEHOUSE_ADMIN_PASSWORD before the first start)\n\n`,
      );
    } else {
      logger.info(
        { username: admin.username },
        "first admin account created with the password from GATEHOUSE_ADMIN_PASSWORD",
      );
    }
  }
}
