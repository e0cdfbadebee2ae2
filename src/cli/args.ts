// From argv to one command with its arguments and options, or one line saying what is wrong and what is near.
import { parseArgs } from 'node:util';
import { CliError } from './io.ts';
import {
  COMMANDS,
  type CommandSpec,
  type Flags,
  findTop,
  GLOBAL_OPTIONS,
  type GroupSpec,
  isGroup,
  OPTIONS,
  type OptionName,
  type OptionSpec,
  usageLine,
} from './spec.ts';
import { closest, didYouMean } from './suggest.ts';

export type Invocation =
  | { kind: 'version' }
  | { kind: 'help'; topic: CommandSpec | GroupSpec | null; missingCommand?: true }
  | { kind: 'run'; spec: CommandSpec; args: string[]; flags: Flags };

type Token = ReturnType<typeof parseArgs>['tokens'] extends (infer T)[] | undefined ? T : never;

const see = (what: string) => ` (see hero-gateway ${what ? `${what} ` : ''}--help)`;
const isOption = (t: Token): t is Extract<Token, { kind: 'option' }> => t.kind === 'option';

/** Resolves `words` ("user", "add") to a command or group; unknown words get a suggestion. */
export function resolve(words: string[]): { spec: CommandSpec | GroupSpec; used: number } {
  const [first = '', second] = words;
  const top = findTop(first);
  if (!top)
    throw new CliError(
      `unknown command "${first}"${didYouMean(
        first,
        COMMANDS.map((c) => c.name),
      )}${see('')}`,
    );
  if (!isGroup(top) || second === undefined) return { spec: top, used: 1 };
  const sub = top.subcommands.find((s) => s.name === `${first} ${second}`);
  if (!sub)
    throw new CliError(
      `unknown command "${first} ${second}"${didYouMean(
        `${first} ${second}`,
        top.subcommands.map((s) => s.name),
      )}${see(first)}`,
    );
  return { spec: sub, used: 2 };
}

function checkOption(t: Extract<Token, { kind: 'option' }>, spec: CommandSpec | GroupSpec | null): void {
  const taken: Partial<Record<OptionName, string>> = {
    ...GLOBAL_OPTIONS,
    ...(spec && !isGroup(spec) ? spec.options : {}),
    ...(spec ? {} : { version: '' }),
  };
  const where = spec?.name ?? '';
  const known = Object.hasOwn(OPTIONS, t.name);
  if (!known || !(t.name in taken)) {
    if (!known || !spec) {
      const near = t.rawName.startsWith('--') ? closest(t.name, Object.keys(taken)) : null;
      const hint = near ? ` — did you mean "--${near}"?` : '';
      throw new CliError(`unknown option "${t.rawName}"${hint}${see(where)}`);
    }
    throw new CliError(`${spec.name} does not take ${t.rawName}${see(where)}`);
  }
  const o: OptionSpec = OPTIONS[t.name as OptionName];
  if (o.type === 'boolean' && t.value !== undefined)
    throw new CliError(`${t.rawName} takes no value, but got "${t.value}"${see(where)}`);
  // Like node's strict mode: "--email --admin" is a forgotten value, not an address "--admin".
  if (o.type === 'string' && (t.value === undefined || (!t.inlineValue && t.value.startsWith('-'))))
    throw new CliError(`${t.rawName} needs a value (${t.rawName} ${o.value})${see(where)}`);
}

function checkArity(spec: CommandSpec, args: string[], flags: Flags): void {
  const min = spec.args.filter((a) => !a.startsWith('[')).length;
  const extra = args[spec.args.length];
  if (extra !== undefined) {
    const takes = spec.args.length === 0 ? 'takes no arguments' : `takes only ${spec.args.join(' ')}`;
    throw new CliError(`unexpected argument "${extra}": ${spec.name} ${takes}${see(spec.name)}`);
  }
  if (args.length < min)
    throw new CliError(
      `${spec.name} needs ${spec.args.slice(args.length, min).join(' ')} (usage: ${usageLine(spec)})`,
    );
  for (const name of spec.required ?? [])
    if (flags[name] === undefined)
      throw new CliError(
        `${spec.name} needs --${name} ${(OPTIONS[name] as OptionSpec).value ?? ''}`.trimEnd() +
          ` (usage: ${usageLine(spec)})`,
      );
  const given = (spec.exclusive ?? []).filter((n) => flags[n] !== undefined);
  if (given.length > 1)
    throw new CliError(`use only one of ${given.map((n) => `--${n}`).join(', ')}${see(spec.name)}`);
}

export function parseInvocation(argv: string[]): Invocation {
  const { tokens } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const words = tokens.flatMap((t) => (t.kind === 'positional' ? [t.value] : []));
  const options = tokens.filter(isOption);
  const wantsHelp = options.some((t) => t.name === 'help');

  if (words.length === 0) {
    for (const t of options) checkOption(t, null);
    if (options.some((t) => t.name === 'version')) return { kind: 'version' };
    return wantsHelp ? { kind: 'help', topic: null } : { kind: 'help', topic: null, missingCommand: true };
  }

  if (words[0] === 'help') {
    for (const t of options) checkOption(t, null);
    if (words.length === 1) return { kind: 'help', topic: null };
    const { spec, used } = resolve(words.slice(1));
    const extra = words[1 + used];
    if (extra !== undefined)
      throw new CliError(`unexpected argument "${extra}": help takes COMMAND [SUBCOMMAND]${see('help')}`);
    return { kind: 'help', topic: spec };
  }

  const { spec, used } = resolve(words);
  for (const t of options) checkOption(t, spec);
  if (wantsHelp) return { kind: 'help', topic: spec };
  if (isGroup(spec))
    throw new CliError(
      `${spec.name} needs a subcommand: ${spec.subcommands.map((s) => s.name.split(' ')[1]).join(', ')}${see(spec.name)}`,
    );
  const flags: Flags = {};
  for (const t of options) (flags as Record<string, string | boolean>)[t.name] = t.value ?? true;
  const args = words.slice(used);
  checkArity(spec, args, flags);
  return { kind: 'run', spec, args, flags };
}
