-- CreateTable
CREATE TABLE "VirtualService" (
    "id" TEXT NOT NULL,
    "clusterId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "fields" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "VirtualService_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "VirtualService_clusterId_name_key" ON "VirtualService"("clusterId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "VirtualService_clusterId_seq_key" ON "VirtualService"("clusterId", "seq");

-- AddForeignKey
ALTER TABLE "VirtualService" ADD CONSTRAINT "VirtualService_clusterId_fkey" FOREIGN KEY ("clusterId") REFERENCES "Cluster"("id") ON DELETE CASCADE ON UPDATE CASCADE;
