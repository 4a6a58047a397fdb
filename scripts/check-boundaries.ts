/**
 * The one layer rule that Biome's noRestrictedImports cannot express: browser code in app/ may use
 * server/ for types only (`import type`), so no server module ends up in the browser bundle. Route
 * handlers under app/api/ are the console's HTTP mounts and may call server/http and server/trpc.
 * The other boundaries (core/, agent/, testkit/) are Biome overrides in biome.json.
 *
 *   tsx scripts/check-boundaries.ts    exits 1 and names each offending import
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";

export interface Violation {
  file: string;
  line: number;
  specifier: string;
}

const IMPORT_RE =
  /^\s*(import|export)\s+(type\s+)?([^"';]*?)\s*from\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

/** Where a specifier points inside the repository (null for packages). */
export function resolveSpecifier(file: string, specifier: string): string | null {
  if (specifier.startsWith("@/")) return posix.normalize(specifier.slice(2));
  if (specifier.startsWith("./") || specifier.startsWith("../")) {
    return posix.normalize(posix.join(posix.dirname(file), specifier));
  }
  return null;
}

const isBrowserFile = (file: string) => file.startsWith("app/") && !file.startsWith("app/api/");
const isTestFile = (file: string) => /\.test\.tsx?$/.test(file);

/** Value imports of server/ from browser code in one file's text. */
export function browserServerImports(file: string, text: string): Violation[] {
  if (!isBrowserFile(file) || isTestFile(file)) return [];
  const found: Violation[] = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const specifier = m[4] ?? m[5] ?? "";
    const target = resolveSpecifier(file, specifier);
    if (target === null || !(target === "server" || target.startsWith("server/"))) continue;
    const typeOnly = m[2] !== undefined || /^\{\s*(type\s+[\w$]+(\s+as\s+[\w$]+)?\s*,?\s*)+\}$/.test(m[3] ?? "");
    if (typeOnly && m[5] === undefined) continue;
    found.push({ file, line: text.slice(0, m.index).split("\n").length, specifier });
  }
  return found;
}

function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(root, path));
    else if (/\.tsx?$/.test(e.name)) out.push(path.split(sep).join("/"));
  }
  return out;
}

export function checkBoundaries(root: string): Violation[] {
  return sourceFiles(root, "app").flatMap((f) => browserServerImports(f, readFileSync(join(root, f), "utf8")));
}

if (process.argv[1] !== undefined && relative(process.cwd(), process.argv[1]).endsWith("check-boundaries.ts")) {
  const violations = checkBoundaries(process.cwd());
  for (const v of violations) {
    console.error(`${v.file}:${v.line}: browser code imports ${v.specifier} for its values; use core/ or import type`);
  }
  if (violations.length > 0) process.exit(1);
  console.log("layer boundaries hold");
}
