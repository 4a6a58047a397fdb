-- AlterTable: plain ADD COLUMNs (SQLite takes NOT NULL with a default), so no table is rebuilt
ALTER TABLE "RuleCounter" ADD COLUMN "packets" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "RuleCounter" ADD COLUMN "bytes" BIGINT NOT NULL DEFAULT 0;
