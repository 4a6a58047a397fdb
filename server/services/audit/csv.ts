/**
 * CSV cells for the audit export (RFC 4180: fields in double quotes, quotes doubled, CRLF line
 * ends), safe to open in a spreadsheet: a text cell that a spreadsheet would read as a formula
 * (it starts with = + - @, a tab or a carriage return) gets a leading apostrophe, as OWASP
 * recommends. Cells that already start with an apostrophe get one too, so removing one leading
 * apostrophe from every text cell that has one always gives back the exact value.
 */

const FORMULA_START = /^['=+\-@\t\r]/;

export function guardFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** The inverse of guardFormula, for reading an export back. */
export function unguardFormula(text: string): string {
  return text.startsWith("'") ? text.slice(1) : text;
}

export type CsvValue = string | number | boolean | null | undefined;

export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  if (typeof value === "boolean") return value ? "true" : "false";
  return `"${guardFormula(value).replace(/"/g, '""')}"`;
}

export function csvRow(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(",")}\r\n`;
}

/**
 * Reads CSV text back into rows of strings (quoted fields, doubled quotes, CRLF or LF). Used by
 * the tests and by anyone checking an export; it does not undo the formula guard.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      quoted = true;
    } else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      if (c === "\r" && text[i + 1] === "\n") i++;
    } else {
      field += c;
    }
    i++;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
