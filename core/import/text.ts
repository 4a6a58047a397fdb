import { expandShortRange, isIPv4 } from "../address";
import { IMPORT_LIMITS, ImportError } from "./types";

/**
 * Text as operators paste it: from web pages (en dashes, non-breaking spaces, curly quotes), from
 * Windows (CRLF), from scripts. Each fix that is unambiguous is made and said; input that cannot
 * be configuration text at all (binary, too big) is refused as a whole with a clear error.
 */

export interface SourceLine {
  file: string;
  line: number;
  /** the line as given (CR removed) */
  raw: string;
  /** the line after the fixes */
  text: string;
  changed: string[];
}

const FIXES: Array<{ re: RegExp; to: string; what: string }> = [
  { re: /[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]/g, to: "-", what: "dash characters replaced by '-'" },
  {
    re: /[\u00a0\u2007\u202f\u2000-\u200a\u3000]/g,
    to: " ",
    what: "non-breaking or special spaces replaced by spaces",
  },
  { re: /\u200b|\u200c|\u200d|\u2060|\ufeff/g, to: "", what: "invisible zero-width characters removed" },
  { re: /[\u201c\u201d\u201e\u2033]/g, to: '"', what: "curly double quotes replaced by '\"'" },
  { re: /[\u2018\u2019\u201a\u2032]/g, to: "'", what: 'curly single quotes replaced by "\'"' },
  { re: /\t/g, to: " ", what: "" },
];

/** Refuses input that is not text, or too much of it, before any line is read. */
export function checkInput(text: string, what = "The input"): void {
  if (text.length > IMPORT_LIMITS.maxBytes) {
    throw new ImportError(
      `${what} is ${Math.round(text.length / 1000)} kB; at most ${IMPORT_LIMITS.maxBytes / 1_000_000} MB of configuration text can be imported at once`,
    );
  }
  // binary files: NUL or many control characters
  if (text.includes("\u0000"))
    throw new ImportError(`${what} contains NUL bytes: it is a binary file, not configuration text`);
  const controls = text.match(/[\u0001-\u0008\u000e-\u001f\u007f\ufffd]/g)?.length ?? 0;
  if (controls > 0 && controls > text.length / 1000) {
    throw new ImportError(
      `${what} contains ${controls} control or undecodable characters: it looks like a binary file`,
    );
  }
  let lines = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) {
    if (++lines > IMPORT_LIMITS.maxLines) {
      throw new ImportError(`${what} has more than ${IMPORT_LIMITS.maxLines.toLocaleString("en-US")} lines; split it`);
    }
  }
}

/** Splits text into lines and fixes pasted characters; notes go to `notes` once per kind. */
export function sourceLines(text: string, file: string, notes: string[]): SourceLine[] {
  checkInput(text, file ? `File ${file}` : "The input");
  if (text.includes("\r")) note(notes, `${file ? `${file}: ` : ""}Windows (CRLF) line endings read as plain line ends`);
  const out: SourceLine[] = [];
  const raws = text.replace(/\r\n?/g, "\n").split("\n");
  if (raws.length > 1 && raws.at(-1) === "") raws.pop();
  raws.forEach((raw, i) => {
    let t = raw;
    const changed: string[] = [];
    for (const f of FIXES) {
      const next = t.replace(f.re, f.to);
      if (next !== t && f.what) changed.push(f.what);
      t = next;
    }
    out.push({ file, line: i + 1, raw, text: t, changed });
  });
  return out;
}

function note(notes: string[], n: string) {
  if (!notes.includes(n)) notes.push(n);
}

/** Shell-like words: whitespace separated, '...' and "..." quoted. */
export function words(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) out.push(m[1] ?? m[2] ?? m[3] ?? "");
  return out;
}

/** `#` comments (and keepalived's `!`), outside quotes. */
export function stripComment(line: string, marks = "#"): string {
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (marks.includes(c)) return line.slice(0, i);
  }
  return line;
}

/**
 * An address range as people write it: "a", "a-b", and the shortened "1.1.2.71-73" (the last
 * octets of the end taken from the start) which becomes "1.1.2.71-1.1.2.73", said in `changed`.
 * Returns null when it is not an address range.
 */
export function expandRange(text: string, changed: string[]): string | null {
  const t = text.trim();
  if (isIPv4(t)) return t;
  const long = expandShortRange(t);
  const m = /^(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)$/.exec(long);
  if (!m || !isIPv4(m[1] as string) || !isIPv4(m[2] as string)) return null;
  if (long !== t) changed.push(`shortened range ${t} read as ${long}`);
  return long;
}

const MASK_BITS = new Map<string, number>();
for (let n = 0; n <= 32; n++) {
  const v = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  MASK_BITS.set([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join("."), n);
}

/**
 * A network as people write it: "a.b.c.d/len", "a.b.c.d/255.255.255.0", a bare address (/32).
 * Dotted masks become prefix lengths (said in `changed`). Host bits are left for the model's check.
 */
export function normaliseCidr(text: string, changed: string[]): string | null {
  const t = text.trim();
  const [addr, len, extra] = t.split("/");
  if (extra !== undefined || addr === undefined || !isIPv4(addr)) return null;
  if (len === undefined) return `${addr}/32`;
  if (/^\d{1,2}$/.test(len) && Number(len) <= 32) return `${addr}/${Number(len)}`;
  const bits = MASK_BITS.get(len);
  if (bits === undefined) return null;
  changed.push(`netmask ${len} read as /${bits}`);
  return `${addr}/${bits}`;
}
