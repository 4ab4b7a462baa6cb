// Rows (objects with the same keys) as RFC 4180 CSV: a header line of the keys, CRLF line
// ends, fields with `,`, `"` or a line break quoted. One module for the demo page (a
// report built from its JSON rows) and the mock server (its `format=csv` reports), so
// both write the same file for the same rows.

/** `rows` as CSV text; no rows give an empty text (no keys for a header line). */
export function toCsv(rows) {
  const field = (v) => (/[",\r\n]/.test(String(v)) ? `"${String(v).replaceAll('"', '""')}"` : String(v));
  const keys = Object.keys(rows[0] ?? {});
  if (!keys.length) return "";
  return [keys, ...rows.map((row) => keys.map((k) => row[k]))].map((line) => `${line.map(field).join(",")}\r\n`).join("");
}
