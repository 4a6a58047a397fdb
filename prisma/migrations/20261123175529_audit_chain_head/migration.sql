-- CreateTable
CREATE TABLE "AuditChainHead" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "lastSeq" INTEGER NOT NULL DEFAULT 0,
    "lastHash" TEXT NOT NULL
);

-- The chain head starts at the newest existing event, or at the genesis hash on an empty log.
INSERT INTO "AuditChainHead" ("id", "lastSeq", "lastHash")
SELECT 1, COALESCE(MAX("seq"), 0), COALESCE((SELECT "hash" FROM "AuditEvent" ORDER BY "seq" DESC LIMIT 1), '0000000000000000000000000000000000000000000000000000000000000000')
FROM "AuditEvent";
