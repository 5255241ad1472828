/** Turns 0-based offsets into 1-based line and column (in UTF-16 code units; `\r\n`, `\n` and `\r` end a line). */

export interface Position {
  readonly line: number;
  readonly column: number;
}

export class LineMap {
  private readonly lineStarts: number[] = [0];

  constructor(source: string) {
    for (let i = 0; i < source.length; i++) {
      const ch = source.charCodeAt(i);
      if (ch === 13 /* \r */) {
        if (source.charCodeAt(i + 1) === 10) i++;
        this.lineStarts.push(i + 1);
      } else if (ch === 10 /* \n */) {
        this.lineStarts.push(i + 1);
      }
    }
  }

  positionAt(offset: number): Position {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }
}
