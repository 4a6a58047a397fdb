-- CreateTable
CREATE TABLE "UsageSample" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "clusterId" TEXT NOT NULL,
    "gatewayId" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    "data" TEXT NOT NULL,
    CONSTRAINT "UsageSample_gatewayId_fkey" FOREIGN KEY ("gatewayId") REFERENCES "Gateway" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Gateway" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "clusterId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "address" TEXT NOT NULL DEFAULT '',
    "tokenHash" TEXT,
    "enrollTokenHash" TEXT,
    "enrollExpiresAt" DATETIME,
    "lastSeenAt" DATETIME,
    "agentVersion" TEXT NOT NULL DEFAULT '',
    "appliedRevision" INTEGER,
    "appliedEpoch" INTEGER,
    "lastApplyOk" BOOLEAN,
    "lastApplyError" TEXT NOT NULL DEFAULT '',
    "lastApplyAt" DATETIME,
    "facts" TEXT NOT NULL DEFAULT '{}',
    "health" TEXT NOT NULL DEFAULT '{}',
    "haStatus" TEXT,
    "drained" BOOLEAN NOT NULL DEFAULT false,
    "poolUsage" TEXT NOT NULL DEFAULT '{}',
    "usageIncidents" TEXT NOT NULL DEFAULT '[]',
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Gateway_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Gateway" ("address", "agentVersion", "appliedEpoch", "appliedRevision", "clusterId", "createdAt", "drained", "enrollExpiresAt", "enrollTokenHash", "facts", "haStatus", "health", "id", "lastApplyAt", "lastApplyError", "lastApplyOk", "lastSeenAt", "name", "tokenHash", "updatedAt", "version") SELECT "address", "agentVersion", "appliedEpoch", "appliedRevision", "clusterId", "createdAt", "drained", "enrollExpiresAt", "enrollTokenHash", "facts", "haStatus", "health", "id", "lastApplyAt", "lastApplyError", "lastApplyOk", "lastSeenAt", "name", "tokenHash", "updatedAt", "version" FROM "Gateway";
DROP TABLE "Gateway";
ALTER TABLE "new_Gateway" RENAME TO "Gateway";
CREATE UNIQUE INDEX "Gateway_tokenHash_key" ON "Gateway"("tokenHash");
CREATE UNIQUE INDEX "Gateway_enrollTokenHash_key" ON "Gateway"("enrollTokenHash");
CREATE UNIQUE INDEX "Gateway_clusterId_name_key" ON "Gateway"("clusterId", "name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "UsageSample_clusterId_at_idx" ON "UsageSample"("clusterId", "at");

-- CreateIndex
CREATE INDEX "UsageSample_gatewayId_at_idx" ON "UsageSample"("gatewayId", "at");
