-- CreateTable
CREATE TABLE "HealthRollup" (
    "id" SERIAL NOT NULL,
    "clusterId" TEXT NOT NULL,
    "gatewayId" TEXT NOT NULL,
    "ispId" TEXT NOT NULL,
    "resolution" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "n" INTEGER NOT NULL DEFAULT 0,
    "up" INTEGER NOT NULL DEFAULT 0,
    "degraded" INTEGER NOT NULL DEFAULT 0,
    "down" INTEGER NOT NULL DEFAULT 0,
    "lossN" INTEGER NOT NULL DEFAULT 0,
    "lossSum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "lossMax" DOUBLE PRECISION,
    "rttN" INTEGER NOT NULL DEFAULT 0,
    "rttSum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "rttMin" DOUBLE PRECISION,
    "rttMax" DOUBLE PRECISION,
    "failedOver" INTEGER NOT NULL DEFAULT 0,
    "connN" INTEGER NOT NULL DEFAULT 0,
    "connSum" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "connMax" DOUBLE PRECISION,

    CONSTRAINT "HealthRollup_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "HealthRollup_clusterId_resolution_at_idx" ON "HealthRollup"("clusterId", "resolution", "at");

-- CreateIndex
CREATE INDEX "HealthRollup_gatewayId_resolution_at_idx" ON "HealthRollup"("gatewayId", "resolution", "at");

-- CreateIndex
CREATE UNIQUE INDEX "HealthRollup_gatewayId_ispId_resolution_at_key" ON "HealthRollup"("gatewayId", "ispId", "resolution", "at");

-- AddForeignKey
ALTER TABLE "HealthRollup" ADD CONSTRAINT "HealthRollup_gatewayId_fkey" FOREIGN KEY ("gatewayId") REFERENCES "Gateway"("id") ON DELETE CASCADE ON UPDATE CASCADE;
