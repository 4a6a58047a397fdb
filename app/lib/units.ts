/** Numbers for people: counts in steps of 1000, bytes in steps of 1024. */

/** n in the largest unit it reaches (one decimal); below the first step, `small(n)`. */
function scaled(n: number, step: number, units: readonly string[], small: (n: number) => string): string {
  if (n < step) return small(n);
  let v = n;
  let u = -1;
  while (v >= step && u < units.length - 1) {
    v /= step;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** 1234567 -> "1.2 M", with "k", "M", "G" steps of 1000. */
export const formatCount = (n: number): string =>
  scaled(n, 1000, ["k", "M", "G", "T"], (x) => String(Math.round(x * 10) / 10));

/** Bytes in binary steps: "512 B", "1.5 KiB", "3.2 MiB". */
export const formatBytes = (n: number): string => scaled(n, 1024, ["KiB", "MiB", "GiB", "TiB"], (x) => `${x} B`);
