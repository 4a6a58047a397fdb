-- DropIndex
DROP INDEX "AuditEvent_action_idx";

-- DropIndex
DROP INDEX "AuditEvent_actorName_idx";

-- CreateTable
CREATE TABLE "AuditRetention" (
    "id" INTEGER NOT NULL,
    "keepDays" INTEGER,
    "anchorSeq" INTEGER NOT NULL DEFAULT 0,
    "anchorHash" TEXT NOT NULL,
    "prunedAt" TIMESTAMP(3),
    "prunedTotal" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AuditRetention_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "AuditEvent_action_seq_idx" ON "AuditEvent"("action", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_actorName_seq_idx" ON "AuditEvent"("actorName", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_targetType_targetId_seq_idx" ON "AuditEvent"("targetType", "targetId", "seq");
