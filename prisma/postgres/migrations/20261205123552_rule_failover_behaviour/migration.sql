-- AlterTable
ALTER TABLE "Rule" ADD COLUMN     "failoverIspId" TEXT,
ADD COLUMN     "onFailover" TEXT NOT NULL DEFAULT 'follow';
