// TOML syntax errors in plain words: what the parser says, turned into what to fix on that line.

type Rewrite = (lineText: string, column: number) => string;

/** For a bare word where a value belongs: the line as it should read, with the text quoted. */
function quoteIt(line: string): string {
  const m = /^\s*([^=]+?)\s*=/.exec(line);
  // The key, never the value: this text reaches the log and the reload API, and an unquoted value may be a
  // password or an SMTP URL with one in it.
  return `expected a value: text needs quotes${m?.[1] ? `, as in ${m[1].trim()} = "…"` : ' ("…")'}`;
}

// The parser's messages (smol-toml), each with what a person would say instead.
const REWRITES: [RegExp, string | Rewrite][] = [
  [
    /^illegal character in key/,
    (line, col) =>
      line.slice(col - 1).includes('=')
        ? 'a key can only hold letters, digits, "_" and "-" (quote it for anything else)'
        : 'expected "=" after a key',
  ],
  [
    /^incomplete key-value: cannot find end of key/,
    (line) =>
      line.trimStart().startsWith('[')
        ? 'a [table] header needs its closing "]"'
        : 'expected "=" after a key',
  ],
  [/^(unexpected end of key|illegal empty bare key)/, 'expected a key before "="'],
  [/^invalid value/, quoteIt],
  [/^illegal character in numeric literal/, quoteIt],
  [/^illegal leading zero/, (line) => `a number cannot start with 0; ${quoteIt(line)}`],
  [/^illegal underscore/, 'an "_" in a number must stand between two digits'],
  [/^unfinished numeric value/, 'the number is cut short'],
  [
    /^trying to redefine an already defined/,
    'this key or table is already set above; each may appear only once',
  ],
  [/^unfinished string/, 'this string has no closing quote'],
  [
    /^unrecognised escape sequence/,
    'unknown escape after "\\" in a string: write "\\\\" for a backslash, or use single quotes',
  ],
  [/^invalid (non-hex character in )?unicode escape/, 'a \\u escape needs 4 hex digits (\\U needs 8)'],
  [
    /^each key-value declaration must be followed by an end-of-line/,
    'expected the end of the line: one key = value per line, and text in quotes',
  ],
  [/^expected comma or end of structure/, 'expected "," or the closing bracket of the [array] or {table}'],
  [/^unfinished array/, 'this [array] has no closing "]"'],
  [/^unfinished table/, 'this [table] header has no closing "]"'],
  [/^expected end of table array declaration/, 'a [[table]] header needs its closing "]]"'],
  [/^invalid date/, 'not a valid date or time (for a duration write a string such as "15m")'],
  [
    /^control characters are not allowed/,
    'control characters (other than tab) are not allowed in strings and comments',
  ],
];

export function plainTomlMessage(message: string, lineText: string, column: number): string {
  for (const [pattern, rewrite] of REWRITES)
    if (pattern.test(message)) return typeof rewrite === 'string' ? rewrite : rewrite(lineText, column);
  return message;
}
