-- CreateTable
CREATE TABLE "RuleCounter" (
    "gatewayId" TEXT NOT NULL,
    "ruleId" TEXT NOT NULL,
    "connections" BIGINT NOT NULL DEFAULT 0,
    "lastHitAt" TIMESTAMP(3),
    "since" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RuleCounter_pkey" PRIMARY KEY ("gatewayId","ruleId")
);

-- CreateIndex
CREATE INDEX "RuleCounter_ruleId_idx" ON "RuleCounter"("ruleId");

-- AddForeignKey
ALTER TABLE "RuleCounter" ADD CONSTRAINT "RuleCounter_gatewayId_fkey" FOREIGN KEY ("gatewayId") REFERENCES "Gateway"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RuleCounter" ADD CONSTRAINT "RuleCounter_ruleId_fkey" FOREIGN KEY ("ruleId") REFERENCES "Rule"("id") ON DELETE CASCADE ON UPDATE CASCADE;
