import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { jsonErrorPosition } from '../../../client/cli/json-error-position.js';

describe('json error position', () => {
  it('finds nothing wrong with valid JSON', () => {
    for (const text of ['{}', ' [1, -2.5e3, "a\\u00e9\\n", true, false, null, {"b": []}] ', '"x"']) {
      assert.equal(jsonErrorPosition(text), undefined, text);
      JSON.parse(text); // the same verdict as JSON.parse
    }
  });

  it('points at the line and column where the text stops being JSON', () => {
    const cases: Array<[string, number, number]> = [
      ['{\n  "cloud": "local",\n  "image": oops\n}', 3, 12], // a bare word
      ['{ "cloud": "local", ', 1, 21], // cut short
      ['{ "a": 1, }', 1, 11], // trailing comma
      ['{"a": 1}\n\n x', 3, 2], // text after the document
      ['', 1, 1],
      ['{"a": "tab\there"}', 1, 11], // raw control character in a string
    ];
    for (const [text, line, column] of cases) {
      assert.throws(() => JSON.parse(text));
      const at = jsonErrorPosition(text);
      assert.deepEqual(at && { line: at.line, column: at.column }, { line, column }, JSON.stringify(text));
    }
  });
});
