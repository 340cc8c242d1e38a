// @ts-check
// V8's JSON.parse keeps a handle per level of nesting outside the heap, where the memory limit
// does not see it, and cannot be interrupted: '['.repeat(2e7) took the host ~1.8 GB and outlived
// the deadline. Nesting deeper than any real document is refused before parsing.
const MAX_JSON_DEPTH = 5000;
const $parse = $JSON.parse;
/** @param {string} text */
function jsonTooDeep(text) {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i += 1; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      depth += 1;
      if (depth > MAX_JSON_DEPTH) return true;
    } else if (c === 93 || c === 125) depth -= 1;
  }
  return false;
}
$defineProperty(
  $JSON,
  'parse',
  /** @type {PropertyDescriptor} */ ({
    __proto__: null,
    value: /** @type {(text: unknown, reviver?: (this: any, key: string, value: any) => any) => any} */ (
      function parse(text, reviver) {
        const source = $String(text);
        // A text shorter than twice the limit cannot nest deeper than it: no scan for everyday sizes.
        if (source.length > 2 * MAX_JSON_DEPTH && jsonTooDeep(source)) throw new $RangeError(`JSON nesting deeper than ${MAX_JSON_DEPTH} levels`);
        return $apply($parse, $JSON, [source, reviver]);
      }
    ),
    writable: true,
    configurable: true,
  }),
);
