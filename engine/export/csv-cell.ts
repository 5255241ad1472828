/**
 * One CSV cell: RFC 4180 quoting, and the rule that neutralises spreadsheet formula injection.
 *
 * Injection rule (README "CSV export"): a cell whose text begins with `=`, `+`, `-`, `@`, a tab or a
 * carriage return gets one `'` (apostrophe) put in front, so a spreadsheet shows it as text instead of
 * evaluating it (OWASP's advice). It applies to every text cell — keys, identifiers, trait values; it
 * does not apply to numbers Flock writes itself (a JSON number such as `-5` is no formula) nor to JSON
 * cells, which begin with `{` or `[` and must stay valid JSON.
 */

/** A field needs quotes when it holds a quote, a comma, or a line break (RFC 4180 §2.6–2.7). */
const NEEDS_QUOTES = /[",\r\n]/;

/** Whether `text` would start a formula in a spreadsheet. */
export function isFormulaLike(text: string): boolean {
  if (text.length === 0) return false;
  const c = text.charCodeAt(0);
  // = + - @ \t \r
  return c === 61 || c === 43 || c === 45 || c === 64 || c === 9 || c === 13;
}

/** RFC 4180 quoting only (for JSON cells and numbers Flock formats itself). */
export function quoted(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A text cell: neutralised against formula injection, then quoted as needed. */
export function textCell(text: string): string {
  return quoted(isFormulaLike(text) ? `'${text}` : text);
}

/**
 * A value cell (a trait's value): empty for null or no value; numbers and booleans as JSON writes
 * them; strings as text cells; objects and arrays as JSON cells.
 */
export function valueCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  switch (typeof value) {
    case 'string':
      return textCell(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : '';
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return quoted(JSON.stringify(value));
  }
}

/** A JSON cell: the value as JSON (always valid JSON once the CSV quoting is undone). */
export function jsonCell(value: unknown): string {
  return quoted(JSON.stringify(value));
}

/** RFC 4180 line ending. */
export const CRLF = '\r\n';
