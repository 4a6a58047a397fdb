-- AlterTable
ALTER TABLE "Isp" ADD COLUMN     "localAddress" TEXT;

-- AlterTable
ALTER TABLE "Pool" ADD COLUMN     "mode" TEXT NOT NULL DEFAULT 'routed';
