// CLI plumbing: one-line errors with exit codes, output helpers, reading secrets from stdin or a prompt.

/** exit 1: usage or validation problem; exit 2: runtime failure. */
export class CliError extends Error {
  readonly exitCode: 1 | 2;
  constructor(message: string, exitCode: 1 | 2 = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export const out = (line = '') => process.stdout.write(`${line}\n`);
export const note = (line: string) => process.stderr.write(`${line}\n`);

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

let typedAhead = '';

/**
 * Asks on the terminal without echoing what is typed. The terminal is put in raw mode BEFORE the question is
 * shown, so nothing typed after it can be echoed by the terminal itself; backspace edits, Ctrl-C cancels.
 */
export async function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) throw new CliError('no terminal to ask on: use --password-stdin');
  input.setRawMode(true);
  process.stderr.write(question);
  let typed = '';
  let inEscape = false;
  try {
    return await new Promise<string>((resolve, reject) => {
      const take = (text: string): boolean => {
        const chars = [...text];
        for (let i = 0; i < chars.length; i++) {
          const ch = chars[i] as string;
          if (inEscape) {
            // Arrow and function keys arrive as ESC [ … letter; none of it is part of a password.
            if (/[A-Za-z~]/.test(ch)) inEscape = false;
          } else if (ch === '\r' || ch === '\n') {
            typedAhead = chars.slice(i + 1).join('');
            resolve(typed);
            return true;
          } else if (ch === '\u0003') {
            reject(new CliError('cancelled; nothing was changed'));
            return true;
          } else if (ch === '\u0004' && typed === '') {
            reject(new CliError('no password typed; nothing was changed'));
            return true;
          } else if (ch === '\u007f' || ch === '\b') {
            typed = [...typed].slice(0, -1).join('');
          } else if (ch === '\u001b') {
            inEscape = true;
          } else if (ch >= ' ') {
            typed += ch;
          }
        }
        return false;
      };
      const ahead = typedAhead;
      typedAhead = '';
      if (take(ahead)) return;
      const onData = (chunk: Buffer) => {
        if (take(chunk.toString('utf8'))) input.off('data', onData);
      };
      input.on('data', onData);
      input.resume();
    });
  } finally {
    input.setRawMode(false);
    input.pause();
    process.stderr.write('\n');
  }
}

/** Plain aligned columns for listings. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
