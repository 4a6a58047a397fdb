-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Cluster" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "settings" TEXT NOT NULL,
    "draftVersion" INTEGER NOT NULL DEFAULT 1,
    "publishedRevision" INTEGER NOT NULL DEFAULT 0,
    "nextSeq" INTEGER NOT NULL DEFAULT 1,
    "failoverEpoch" INTEGER NOT NULL DEFAULT 0,
    "haIncidents" TEXT NOT NULL DEFAULT '[]',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_Cluster" ("createdAt", "description", "draftVersion", "failoverEpoch", "id", "name", "nextSeq", "publishedRevision", "settings", "updatedAt") SELECT "createdAt", "description", "draftVersion", "failoverEpoch", "id", "name", "nextSeq", "publishedRevision", "settings", "updatedAt" FROM "Cluster";
DROP TABLE "Cluster";
ALTER TABLE "new_Cluster" RENAME TO "Cluster";
CREATE UNIQUE INDEX "Cluster_name_key" ON "Cluster"("name");
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
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Gateway_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Gateway" ("address", "agentVersion", "appliedEpoch", "appliedRevision", "clusterId", "createdAt", "enrollExpiresAt", "enrollTokenHash", "facts", "health", "id", "lastApplyAt", "lastApplyError", "lastApplyOk", "lastSeenAt", "name", "tokenHash", "updatedAt", "version") SELECT "address", "agentVersion", "appliedEpoch", "appliedRevision", "clusterId", "createdAt", "enrollExpiresAt", "enrollTokenHash", "facts", "health", "id", "lastApplyAt", "lastApplyError", "lastApplyOk", "lastSeenAt", "name", "tokenHash", "updatedAt", "version" FROM "Gateway";
DROP TABLE "Gateway";
ALTER TABLE "new_Gateway" RENAME TO "Gateway";
CREATE UNIQUE INDEX "Gateway_tokenHash_key" ON "Gateway"("tokenHash");
CREATE UNIQUE INDEX "Gateway_enrollTokenHash_key" ON "Gateway"("enrollTokenHash");
CREATE UNIQUE INDEX "Gateway_clusterId_name_key" ON "Gateway"("clusterId", "name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
