-- CreateTable
CREATE TABLE "FailoverOperation" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "clusterId" TEXT NOT NULL,
    "ispId" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "backupIspId" TEXT,
    "actorName" TEXT NOT NULL,
    "requestId" TEXT NOT NULL DEFAULT '',
    "requestedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deadlineAt" DATETIME NOT NULL,
    "gateways" TEXT NOT NULL,
    "completedAt" DATETIME,
    "outcome" TEXT NOT NULL DEFAULT '',
    CONSTRAINT "FailoverOperation_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "HealthSample" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "clusterId" TEXT NOT NULL,
    "gatewayId" TEXT NOT NULL,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "data" TEXT NOT NULL,
    CONSTRAINT "HealthSample_gatewayId_fkey" FOREIGN KEY ("gatewayId") REFERENCES "Gateway" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_FailoverState" (
    "ispId" TEXT NOT NULL PRIMARY KEY,
    "clusterId" TEXT NOT NULL,
    "adminState" TEXT NOT NULL DEFAULT 'active',
    "backupIspId" TEXT,
    "changedBy" TEXT NOT NULL DEFAULT '',
    "changedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "restoredEpoch" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "FailoverState_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_FailoverState" ("adminState", "backupIspId", "changedAt", "changedBy", "clusterId", "ispId") SELECT "adminState", "backupIspId", "changedAt", "changedBy", "clusterId", "ispId" FROM "FailoverState";
DROP TABLE "FailoverState";
ALTER TABLE "new_FailoverState" RENAME TO "FailoverState";
CREATE INDEX "FailoverState_clusterId_idx" ON "FailoverState"("clusterId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "FailoverOperation_clusterId_requestedAt_idx" ON "FailoverOperation"("clusterId", "requestedAt");

-- CreateIndex
CREATE INDEX "HealthSample_clusterId_id_idx" ON "HealthSample"("clusterId", "id");

-- CreateIndex
CREATE INDEX "HealthSample_gatewayId_at_idx" ON "HealthSample"("gatewayId", "at");
