-- CreateTable
CREATE TABLE "RuleCounter" (
    "gatewayId" TEXT NOT NULL,
    "ruleId" TEXT NOT NULL,
    "connections" BIGINT NOT NULL DEFAULT 0,
    "lastHitAt" DATETIME,
    "since" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,

    PRIMARY KEY ("gatewayId", "ruleId"),
    CONSTRAINT "RuleCounter_gatewayId_fkey" FOREIGN KEY ("gatewayId") REFERENCES "Gateway" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "RuleCounter_ruleId_fkey" FOREIGN KEY ("ruleId") REFERENCES "Rule" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "RuleCounter_ruleId_idx" ON "RuleCounter"("ruleId");
