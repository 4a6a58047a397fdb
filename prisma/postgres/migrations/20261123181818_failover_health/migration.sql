-- AlterTable
ALTER TABLE "FailoverState" ADD COLUMN     "restoredEpoch" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "FailoverOperation" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "ispId" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "backupIspId" TEXT,
    "actorName" TEXT NOT NULL,
    "requestId" TEXT NOT NULL DEFAULT '',
    "requestedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deadlineAt" TIMESTAMP(3) NOT NULL,
    "gateways" TEXT NOT NULL,
    "completedAt" TIMESTAMP(3),
    "outcome" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "FailoverOperation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "HealthSample" (
    "id" SERIAL NOT NULL,
    "clusterId" TEXT NOT NULL,
    "gatewayId" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "data" TEXT NOT NULL,

    CONSTRAINT "HealthSample_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "FailoverOperation_clusterId_requestedAt_idx" ON "FailoverOperation"("clusterId", "requestedAt");

-- CreateIndex
CREATE INDEX "HealthSample_clusterId_id_idx" ON "HealthSample"("clusterId", "id");

-- CreateIndex
CREATE INDEX "HealthSample_gatewayId_at_idx" ON "HealthSample"("gatewayId", "at");

-- AddForeignKey
ALTER TABLE "FailoverOperation" ADD CONSTRAINT "FailoverOperation_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "HealthSample" ADD CONSTRAINT "HealthSample_gatewayId_fkey" FOREIGN KEY ("gatewayId") REFERENCES "Gateway"("id") ON DELETE CASCADE ON UPDATE CASCADE;
