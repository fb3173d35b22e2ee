/**
 * Where a JSON text stops being JSON, as line and column (1-based). V8's JSON.parse messages
 * name a position only for some errors, and people want "line 7, column 3" anyway.
 * Returns undefined for valid JSON.
 */
export function jsonErrorPosition(
  text: string,
): { offset: number; line: number; column: number } | undefined {
  const offset = firstErrorOffset(text);
  if (offset === undefined) return undefined;
  const before = text.slice(0, offset).split('\n');
  return { offset, line: before.length, column: before.at(-1)!.length + 1 };
}

class Stop {
  constructor(readonly offset: number) {}
}

function firstErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new Stop(i);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      const ch = text[i];
      if (ch === undefined || ch < ' ') fail();
      i++;
      if (ch === '"') return;
      if (ch !== '\\') continue;
      if (text[i] === 'u') {
        if (!/^u[0-9a-fA-F]{4}/.test(text.slice(i, i + 5))) fail();
        i += 5;
      } else if ('"\\/bfnrt'.includes(text[i] ?? 'x')) i++;
      else fail();
    }
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match) fail();
    i += match![0].length;
  };
  const value = (): void => {
    space();
    const ch = text[i];
    if (ch === '{')
      return members('}', () => {
        if (text[i] !== '"') fail();
        string();
        space();
        if (text[i] !== ':') fail();
        i++;
        value();
      });
    if (ch === '[') return members(']', value);
    if (ch === '"') return string();
    if (ch === 't') return literal('true');
    if (ch === 'f') return literal('false');
    if (ch === 'n') return literal('null');
    return number();
  };
  const members = (close: string, member: () => void) => {
    i++;
    space();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      space();
      member();
      space();
      if (text[i] === ',') i++;
      else if (text[i] === close) {
        i++;
        return;
      } else fail();
    }
  };
  try {
    value();
    space();
    return i < text.length ? i : undefined;
  } catch (error) {
    if (error instanceof Stop) return error.offset;
    throw error;
  }
}
