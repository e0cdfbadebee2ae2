// Choosing a password for someone at the terminal: typed twice, hidden, checked against the policy.
import { type PasswordContext, passwordProblem } from '../services/password-policy.ts';
import { CliError, note, promptHidden } from './io.ts';

const TRIES = 3;

/** Whether a person is there to ask: only a terminal on standard input can take a hidden answer. */
export const canPrompt = () => process.stdin.isTTY === true;

/** Asks until a password passes the policy and is typed the same twice; gives up after three tries. */
export async function askNewPassword(ctx: PasswordContext): Promise<string> {
  for (let attempt = 1; attempt <= TRIES; attempt++) {
    const first = await promptHidden('New password: ');
    const problem = passwordProblem(first, ctx);
    if (problem) {
      note(`${problem}${attempt < TRIES ? '; try again' : ''}`);
      continue;
    }
    const second = await promptHidden('Repeat the password: ');
    if (second === first) return first;
    note(`the two passwords differ${attempt < TRIES ? '; try again' : ''}`);
  }
  throw new CliError(`no password after ${TRIES} tries; nothing was changed`);
}
