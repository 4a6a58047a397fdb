-- AlterTable
ALTER TABLE "Cluster" ADD COLUMN     "haIncidents" TEXT NOT NULL DEFAULT '[]';

-- AlterTable
ALTER TABLE "Gateway" ADD COLUMN     "drained" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "haStatus" TEXT;
