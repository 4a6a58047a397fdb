-- AlterTable
ALTER TABLE "Gateway" ADD COLUMN     "poolUsage" TEXT NOT NULL DEFAULT '{}',
ADD COLUMN     "usageIncidents" TEXT NOT NULL DEFAULT '[]';

-- CreateTable
CREATE TABLE "UsageSample" (
    "id" SERIAL NOT NULL,
    "clusterId" TEXT NOT NULL,
    "gatewayId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "data" TEXT NOT NULL,

    CONSTRAINT "UsageSample_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "UsageSample_clusterId_at_idx" ON "UsageSample"("clusterId", "at");

-- CreateIndex
CREATE INDEX "UsageSample_gatewayId_at_idx" ON "UsageSample"("gatewayId", "at");

-- AddForeignKey
ALTER TABLE "UsageSample" ADD CONSTRAINT "UsageSample_gatewayId_fkey" FOREIGN KEY ("gatewayId") REFERENCES "Gateway"("id") ON DELETE CASCADE ON UPDATE CASCADE;
