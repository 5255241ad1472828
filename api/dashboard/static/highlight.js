/** Query highlighting: the text split into classed spans (strings, numbers, functions, keywords, units), with each diagnostic's character underlined at its line and column. */

const TOKEN = /('(?:[^'\\\n]|\\.)*'?|"(?:[^"\\\n]|\\.)*"?)|(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)(?=\s*\()|(\b(?:AND|OR|NOT|ANY|ALL|and|or|not|true|false|null)\b)|(\b(?:minutes?|hours?|days?|weeks?|months?|years?|seconds?)\b)|([<>!=]=?|[.,()+*/%-])/g;
const CLASSES = ['str', 'num', 'fn', 'kw', 'unit', 'op'];

/** Spans of `text` for an overlay; `diagnostics` (1-based line/column) mark the character they point at (or the line end). */
export function highlight(text, diagnostics) {
  const marks = new Map();
  const lineStarts = [0];
  for (let i = 0; i < text.length; i += 1) if (text[i] === '\n') lineStarts.push(i + 1);
  for (const d of diagnostics) {
    const start = lineStarts[Math.min(d.line, lineStarts.length) - 1] ?? 0;
    const offset = Math.min(start + Math.max(0, d.column - 1), text.length);
    if (!marks.has(offset)) marks.set(offset, d);
  }
  const parts = [];
  let last = 0;
  const plain = (from, to) => {
    if (to > from) parts.push({ text: text.slice(from, to), cls: '' });
  };
  for (const m of text.matchAll(TOKEN)) {
    plain(last, m.index);
    const group = m.slice(1).findIndex((g) => g !== undefined);
    parts.push({ text: m[0], cls: CLASSES[group] ?? '' });
    last = m.index + m[0].length;
  }
  plain(last, text.length);
  // split at each marked offset, so the marked character gets its own span
  const out = [];
  let at = 0;
  for (const part of parts) {
    let rest = part.text;
    let pos = at;
    while (rest.length > 0) {
      const next = [...marks.keys()].filter((o) => o >= pos && o < pos + rest.length).sort((a, b) => a - b)[0];
      if (next === undefined) {
        out.push(span(rest, part.cls));
        break;
      }
      if (next > pos) out.push(span(rest.slice(0, next - pos), part.cls));
      const ch = rest[next - pos];
      out.push(mark(ch === '\n' ? ' \n' : ch, part.cls, marks.get(next)));
      rest = rest.slice(next - pos + 1);
      pos = next + 1;
    }
    at += part.text.length;
  }
  // a diagnostic at the very end (e.g. an unterminated call) marks a blank
  if (marks.has(text.length)) out.push(mark(' ', '', marks.get(text.length)));
  out.push(document.createTextNode('\n'));
  return out;
}

function span(text, cls) {
  if (cls === '') return document.createTextNode(text);
  const s = document.createElement('span');
  s.className = `tok-${cls}`;
  s.textContent = text;
  return s;
}

function mark(text, cls, diagnostic) {
  const s = document.createElement('span');
  s.className = `diag${cls === '' ? '' : ` tok-${cls}`}`;
  s.dataset.line = String(diagnostic.line);
  s.dataset.column = String(diagnostic.column);
  s.title = diagnostic.message;
  s.textContent = text;
  return s;
}
