/**
 * prisma/schema.prisma (SQLite) is the one data model; the PostgreSQL schema is derived from it because a generated
 * client and a migrations folder are each bound to one provider.
 */

export const GENERATED_HEADER = [
  "// GENERATED from prisma/schema.prisma by `npm run db:schema`. Do not edit: change prisma/schema.prisma,",
  "// regenerate, and add a migration for both stores with `npm run db:migration <name>`.",
  "",
  "",
].join("\n");

/** Where the PostgreSQL client goes, relative to prisma/postgres/schema.prisma. */
const PG_CLIENT_OUTPUT = "../generated/postgres";

function replaceInBlock(schema: string, kind: string, name: string, edit: (body: string) => string): string {
  const block = new RegExp(`^${kind}\\s+${name}\\s*\\{[^}]*\\}`, "gm");
  const matches = schema.match(block) ?? [];
  if (matches.length !== 1) throw new Error(`expected exactly one \`${kind} ${name}\` block, found ${matches.length}`);
  return schema.replace(block, edit);
}

function setField(body: string, field: string, value: string): string {
  const line = new RegExp(`^(\\s*${field}\\s*=\\s*)"[^"]*"`, "m");
  if (!line.test(body)) throw new Error(`no ${field} = "..." in:\n${body}`);
  return body.replace(line, `$1"${value}"`);
}

/** The PostgreSQL twin of the SQLite schema: same models, other provider and client output. */
export function toPostgresSchema(sqliteSchema: string): string {
  // Native types are provider-specific and would need a mapping; fail instead of emitting a broken schema.
  const native = sqliteSchema.match(/^[^/\n]*@db\.\w+/m);
  if (native) throw new Error(`native type attributes cannot be carried over to PostgreSQL: ${native[0].trim()}`);

  let out = replaceInBlock(sqliteSchema, "datasource", "db", (body) => {
    if (!/provider\s*=\s*"sqlite"/.test(body)) throw new Error("the source schema's datasource must be sqlite");
    return setField(body, "provider", "postgresql");
  });
  out = replaceInBlock(out, "generator", "client", (body) => setField(body, "output", PG_CLIENT_OUTPUT));
  return GENERATED_HEADER + out;
}
