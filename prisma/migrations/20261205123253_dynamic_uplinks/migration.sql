-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Isp" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "clusterId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "index" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "interface" TEXT NOT NULL,
    "addressing" TEXT NOT NULL DEFAULT 'static',
    "nextHop" TEXT NOT NULL,
    "localAddress" TEXT,
    "probeTargets" TEXT NOT NULL DEFAULT '[]',
    "monitor" TEXT NOT NULL,
    "failoverMode" TEXT NOT NULL DEFAULT 'manual',
    "failbackMode" TEXT NOT NULL DEFAULT 'manual',
    "flushOnFailback" BOOLEAN NOT NULL DEFAULT false,
    "backupIspIds" TEXT NOT NULL DEFAULT '[]',
    "defaultPoolId" TEXT,
    "comment" TEXT NOT NULL DEFAULT '',
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Isp_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Isp" ("backupIspIds", "clusterId", "comment", "createdAt", "defaultPoolId", "failbackMode", "failoverMode", "flushOnFailback", "id", "index", "interface", "localAddress", "monitor", "name", "nextHop", "probeTargets", "seq", "updatedAt", "version") SELECT "backupIspIds", "clusterId", "comment", "createdAt", "defaultPoolId", "failbackMode", "failoverMode", "flushOnFailback", "id", "index", "interface", "localAddress", "monitor", "name", "nextHop", "probeTargets", "seq", "updatedAt", "version" FROM "Isp";
DROP TABLE "Isp";
ALTER TABLE "new_Isp" RENAME TO "Isp";
CREATE UNIQUE INDEX "Isp_clusterId_name_key" ON "Isp"("clusterId", "name");
CREATE UNIQUE INDEX "Isp_clusterId_index_key" ON "Isp"("clusterId", "index");
CREATE UNIQUE INDEX "Isp_clusterId_seq_key" ON "Isp"("clusterId", "seq");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
