-- CreateTable
CREATE TABLE "GatewaySsh" (
    "gatewayId" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL DEFAULT 22,
    "username" TEXT NOT NULL,
    "hostKeyAlgorithm" TEXT NOT NULL,
    "hostKeyFingerprint" TEXT NOT NULL,
    "authKind" TEXT NOT NULL DEFAULT '',
    "secret" TEXT,
    "serviceMode" TEXT NOT NULL DEFAULT '',
    "installRoot" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "GatewaySsh_pkey" PRIMARY KEY ("gatewayId")
);

-- CreateTable
CREATE TABLE "SshJob" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "gatewayId" TEXT,
    "kind" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'running',
    "steps" TEXT NOT NULL DEFAULT '[]',
    "error" TEXT NOT NULL DEFAULT '',
    "actorId" TEXT NOT NULL DEFAULT '',
    "actorName" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "SshJob_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "SshJob_clusterId_createdAt_idx" ON "SshJob"("clusterId", "createdAt");

-- AddForeignKey
ALTER TABLE "GatewaySsh" ADD CONSTRAINT "GatewaySsh_gatewayId_fkey" FOREIGN KEY ("gatewayId") REFERENCES "Gateway"("id") ON DELETE CASCADE ON UPDATE CASCADE;
