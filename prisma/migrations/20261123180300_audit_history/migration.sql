-- DropIndex
DROP INDEX "AuditEvent_actorName_idx";

-- DropIndex
DROP INDEX "AuditEvent_action_idx";

-- CreateTable
CREATE TABLE "AuditRetention" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "keepDays" INTEGER,
    "anchorSeq" INTEGER NOT NULL DEFAULT 0,
    "anchorHash" TEXT NOT NULL,
    "prunedAt" DATETIME,
    "prunedTotal" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "AuditEvent_action_seq_idx" ON "AuditEvent"("action", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_actorName_seq_idx" ON "AuditEvent"("actorName", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_targetType_targetId_seq_idx" ON "AuditEvent"("targetType", "targetId", "seq");
