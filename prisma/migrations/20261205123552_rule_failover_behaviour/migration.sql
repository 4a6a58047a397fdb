-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Rule" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "clusterId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "priority" INTEGER,
    "source" TEXT NOT NULL,
    "destinations" TEXT NOT NULL DEFAULT '[]',
    "protocol" TEXT NOT NULL DEFAULT 'any',
    "egressIspId" TEXT,
    "action" TEXT NOT NULL,
    "redirectIspId" TEXT,
    "fallbackPoolId" TEXT,
    "onFailover" TEXT NOT NULL DEFAULT 'follow',
    "failoverIspId" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "comment" TEXT NOT NULL DEFAULT '',
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Rule_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Rule" ("action", "clusterId", "comment", "createdAt", "destinations", "egressIspId", "enabled", "fallbackPoolId", "id", "priority", "protocol", "redirectIspId", "seq", "source", "updatedAt", "version") SELECT "action", "clusterId", "comment", "createdAt", "destinations", "egressIspId", "enabled", "fallbackPoolId", "id", "priority", "protocol", "redirectIspId", "seq", "source", "updatedAt", "version" FROM "Rule";
DROP TABLE "Rule";
ALTER TABLE "new_Rule" RENAME TO "Rule";
CREATE UNIQUE INDEX "Rule_clusterId_seq_key" ON "Rule"("clusterId", "seq");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
