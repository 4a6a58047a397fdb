-- AlterTable
ALTER TABLE "Rule" ADD COLUMN     "criteria" TEXT NOT NULL DEFAULT '{}';
