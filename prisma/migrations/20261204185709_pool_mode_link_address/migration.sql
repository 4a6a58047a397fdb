-- AlterTable
ALTER TABLE "Isp" ADD COLUMN "localAddress" TEXT;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Pool" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "clusterId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "ispId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "mode" TEXT NOT NULL DEFAULT 'routed',
    "addresses" TEXT NOT NULL,
    "portFrom" INTEGER,
    "portTo" INTEGER,
    "comment" TEXT NOT NULL DEFAULT '',
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Pool_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Pool" ("addresses", "clusterId", "comment", "createdAt", "id", "ispId", "name", "portFrom", "portTo", "seq", "updatedAt", "version") SELECT "addresses", "clusterId", "comment", "createdAt", "id", "ispId", "name", "portFrom", "portTo", "seq", "updatedAt", "version" FROM "Pool";
DROP TABLE "Pool";
ALTER TABLE "new_Pool" RENAME TO "Pool";
CREATE INDEX "Pool_clusterId_ispId_idx" ON "Pool"("clusterId", "ispId");
CREATE UNIQUE INDEX "Pool_clusterId_name_key" ON "Pool"("clusterId", "name");
CREATE UNIQUE INDEX "Pool_clusterId_seq_key" ON "Pool"("clusterId", "seq");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
