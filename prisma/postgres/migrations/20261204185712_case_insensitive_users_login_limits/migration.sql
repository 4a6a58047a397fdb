-- AlterTable
ALTER TABLE "User" ADD COLUMN     "usernameKey" TEXT;
-- The key is the lower-case name. Should names differing only in case already exist, the oldest account keeps
-- the plain key and the others get one that no sign-in matches (':' is not allowed in names) until an admin
-- deletes or replaces them.
UPDATE "User" u SET "usernameKey" = CASE WHEN EXISTS (
    SELECT 1 FROM "User" o
    WHERE lower(o."username") = lower(u."username")
      AND (o."createdAt" < u."createdAt" OR (o."createdAt" = u."createdAt" AND o."id" < u."id"))
  ) THEN lower(u."username") || ':' || u."id" ELSE lower(u."username") END;
ALTER TABLE "User" ALTER COLUMN "usernameKey" SET NOT NULL;

-- DropTable
DROP TABLE "LoginThrottle";

-- CreateTable
CREATE TABLE "LoginLimit" (
    "key" TEXT NOT NULL,
    "points" INTEGER NOT NULL,
    "expire" TIMESTAMP(3),

    CONSTRAINT "LoginLimit_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_usernameKey_key" ON "User"("usernameKey");
