-- DropTable
PRAGMA foreign_keys=off;
DROP TABLE "LoginThrottle";
PRAGMA foreign_keys=on;

-- CreateTable
CREATE TABLE "LoginLimit" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "points" INTEGER NOT NULL,
    "expire" DATETIME
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_User" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "username" TEXT NOT NULL,
    "usernameKey" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1
);
-- The key is the lower-case name. Should names differing only in case already exist, the oldest account keeps
-- the plain key and the others get one that no sign-in matches (':' is not allowed in names) until an admin
-- deletes or replaces them.
INSERT INTO "new_User" ("createdAt", "disabled", "id", "passwordHash", "role", "updatedAt", "username", "usernameKey", "version")
SELECT u."createdAt", u."disabled", u."id", u."passwordHash", u."role", u."updatedAt", u."username",
  CASE WHEN EXISTS (
    SELECT 1 FROM "User" o
    WHERE lower(o."username") = lower(u."username")
      AND (o."createdAt" < u."createdAt" OR (o."createdAt" = u."createdAt" AND o."id" < u."id"))
  ) THEN lower(u."username") || ':' || u."id" ELSE lower(u."username") END,
  u."version"
FROM "User" u;
DROP TABLE "User";
ALTER TABLE "new_User" RENAME TO "User";
CREATE UNIQUE INDEX "User_username_key" ON "User"("username");
CREATE UNIQUE INDEX "User_usernameKey_key" ON "User"("usernameKey");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
