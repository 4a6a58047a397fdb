-- AlterTable: a plain ADD COLUMN (SQLite takes NOT NULL with a default), so no table is rebuilt
ALTER TABLE "Rule" ADD COLUMN "criteria" TEXT NOT NULL DEFAULT '{}';
