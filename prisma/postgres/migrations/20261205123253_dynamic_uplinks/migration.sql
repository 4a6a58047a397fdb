-- AlterTable
ALTER TABLE "Isp" ADD COLUMN     "addressing" TEXT NOT NULL DEFAULT 'static';
