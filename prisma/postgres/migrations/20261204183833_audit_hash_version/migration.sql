-- AlterTable
ALTER TABLE "AuditEvent" ADD COLUMN     "hashVersion" INTEGER NOT NULL DEFAULT 1;
