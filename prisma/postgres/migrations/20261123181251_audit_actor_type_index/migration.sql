-- CreateIndex
CREATE INDEX "AuditEvent_actorType_seq_idx" ON "AuditEvent"("actorType", "seq");
