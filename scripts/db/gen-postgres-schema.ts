/** Writes prisma/postgres/schema.prisma from prisma/schema.prisma (`npm run db:schema`). */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { SCHEMA_FILES } from "../../server/db/migration-files";
import { toPostgresSchema } from "./postgres-schema";

const source = readFileSync(SCHEMA_FILES.sqlite, "utf8");
const target = SCHEMA_FILES.postgresql;
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, toPostgresSchema(source));
console.log(`wrote ${relative(process.cwd(), target)}`);
