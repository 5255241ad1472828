/** Dotted paths of trait(), property() and context(): `.` separates segments, `\.` is a dot inside one, `\\` a backslash. */

/** `a.b\.c` → `['a', 'b.c']`. A backslash before anything else is kept as it is. */
export function splitPath(text: string): string[] {
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === '\\' && (next === '.' || next === '\\')) {
      current += next;
      i++;
    } else if (ch === '.') {
      segments.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  segments.push(current);
  return segments;
}

/** The inverse of splitPath. */
export function joinPath(segments: readonly string[]): string {
  return segments.map((s) => s.replace(/\\/g, '\\\\').replace(/\./g, '\\.')).join('.');
}
