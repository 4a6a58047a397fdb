-- CreateTable
CREATE TABLE "HealthRollup" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "clusterId" TEXT NOT NULL,
    "gatewayId" TEXT NOT NULL,
    "ispId" TEXT NOT NULL,
    "resolution" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    "n" INTEGER NOT NULL DEFAULT 0,
    "up" INTEGER NOT NULL DEFAULT 0,
    "degraded" INTEGER NOT NULL DEFAULT 0,
    "down" INTEGER NOT NULL DEFAULT 0,
    "lossN" INTEGER NOT NULL DEFAULT 0,
    "lossSum" REAL NOT NULL DEFAULT 0,
    "lossMax" REAL,
    "rttN" INTEGER NOT NULL DEFAULT 0,
    "rttSum" REAL NOT NULL DEFAULT 0,
    "rttMin" REAL,
    "rttMax" REAL,
    "failedOver" INTEGER NOT NULL DEFAULT 0,
    "connN" INTEGER NOT NULL DEFAULT 0,
    "connSum" REAL NOT NULL DEFAULT 0,
    "connMax" REAL,
    CONSTRAINT "HealthRollup_gatewayId_fkey" FOREIGN KEY ("gatewayId") REFERENCES "Gateway" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "HealthRollup_clusterId_resolution_at_idx" ON "HealthRollup"("clusterId", "resolution", "at");

-- CreateIndex
CREATE INDEX "HealthRollup_gatewayId_resolution_at_idx" ON "HealthRollup"("gatewayId", "resolution", "at");

-- CreateIndex
CREATE UNIQUE INDEX "HealthRollup_gatewayId_ispId_resolution_at_key" ON "HealthRollup"("gatewayId", "ispId", "resolution", "at");
