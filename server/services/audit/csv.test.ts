import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { csvCell, csvRow, guardFormula, parseCsv, unguardFormula } from "./csv";

describe("CSV cells", () => {
  it("quotes text, doubles quotes, and leaves numbers and empties bare", () => {
    expect(csvCell("plain")).toBe('"plain"');
    expect(csvCell('say "hi", twice')).toBe('"say ""hi"", twice"');
    expect(csvCell("line\r\nbreak")).toBe('"line\r\nbreak"');
    expect(csvCell(42)).toBe("42");
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
    expect(csvCell(Number.NaN)).toBe("");
    expect(csvRow(["a", 1, null])).toBe('"a",1,\r\n');
  });

  it("defuses cells a spreadsheet would run as formulas", () => {
    for (const evil of ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]) {
      expect(guardFormula(evil)).toBe(`'${evil}`);
      expect(csvCell(evil).startsWith(`"'`)).toBe(true);
    }
    expect(guardFormula("'quoted")).toBe("''quoted");
    expect(guardFormula("rule.update")).toBe("rule.update");
    expect(guardFormula(" =not a formula start")).toBe(" =not a formula start");
  });

  it("round-trips any row of strings through csvRow, parseCsv and unguardFormula", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary" }), { minLength: 1, maxLength: 8 }), (cells) => {
        const parsed = parseCsv(csvRow(cells));
        expect(parsed).toHaveLength(1);
        expect(parsed[0]?.map(unguardFormula)).toEqual(cells);
      }),
      { numRuns: 500 },
    );
  });

  it("parses several rows with CRLF or LF line ends", () => {
    expect(parseCsv('"a","b"\r\n1,"x\ny"\n')).toEqual([
      ["a", "b"],
      ["1", "x\ny"],
    ]);
  });
});
