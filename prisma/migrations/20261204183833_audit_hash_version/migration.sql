-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_AuditEvent" (
    "seq" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorType" TEXT NOT NULL,
    "actorId" TEXT NOT NULL DEFAULT '',
    "actorName" TEXT NOT NULL DEFAULT '',
    "action" TEXT NOT NULL,
    "clusterId" TEXT,
    "targetType" TEXT NOT NULL DEFAULT '',
    "targetId" TEXT NOT NULL DEFAULT '',
    "before" TEXT,
    "after" TEXT,
    "ip" TEXT NOT NULL DEFAULT '',
    "userAgent" TEXT NOT NULL DEFAULT '',
    "requestId" TEXT NOT NULL DEFAULT '',
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "hashVersion" INTEGER NOT NULL DEFAULT 1
);
INSERT INTO "new_AuditEvent" ("action", "actorId", "actorName", "actorType", "after", "at", "before", "clusterId", "hash", "ip", "prevHash", "requestId", "seq", "targetId", "targetType", "userAgent") SELECT "action", "actorId", "actorName", "actorType", "after", "at", "before", "clusterId", "hash", "ip", "prevHash", "requestId", "seq", "targetId", "targetType", "userAgent" FROM "AuditEvent";
DROP TABLE "AuditEvent";
ALTER TABLE "new_AuditEvent" RENAME TO "AuditEvent";
CREATE UNIQUE INDEX "AuditEvent_hash_key" ON "AuditEvent"("hash");
CREATE INDEX "AuditEvent_clusterId_seq_idx" ON "AuditEvent"("clusterId", "seq");
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");
CREATE INDEX "AuditEvent_action_seq_idx" ON "AuditEvent"("action", "seq");
CREATE INDEX "AuditEvent_actorName_seq_idx" ON "AuditEvent"("actorName", "seq");
CREATE INDEX "AuditEvent_targetType_targetId_seq_idx" ON "AuditEvent"("targetType", "targetId", "seq");
CREATE INDEX "AuditEvent_actorType_seq_idx" ON "AuditEvent"("actorType", "seq");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
