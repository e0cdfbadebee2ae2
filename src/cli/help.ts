// Help text, built from the command table so that every command is listed and every option described.
import {
  COMMANDS,
  type CommandSpec,
  GLOBAL_OPTIONS,
  type GroupSpec,
  isGroup,
  OPTIONS,
  type OptionName,
  type OptionSpec,
  usageLine,
} from './spec.ts';

const WIDE = 34;

/** Two aligned columns; a left cell too wide for the column puts its text on the next line instead. */
const columns = (rows: [string, string][]): string => {
  const width = Math.min(WIDE, Math.max(...rows.map(([left]) => left.length)));
  return rows
    .map(([left, right]) =>
      left.length > width
        ? `  ${left}\n  ${''.padEnd(width)}   ${right}`
        : `  ${left.padEnd(width)}   ${right}`.trimEnd(),
    )
    .join('\n');
};

const shortUsage = (spec: CommandSpec) => usageLine(spec).replace(/^hero-gateway /, '');
/** The overview's left column: the whole usage when it is short, else the command and its arguments. */
const nameAndArgs = (spec: CommandSpec) =>
  shortUsage(spec).length <= WIDE ? shortUsage(spec) : `${[spec.name, ...spec.args].join(' ')} …`;

export function topHelp(): string {
  const rows: [string, string][] = [];
  for (const c of COMMANDS) {
    if (isGroup(c)) for (const s of c.subcommands) rows.push([nameAndArgs(s), s.summary]);
    else rows.push([nameAndArgs(c), c.summary]);
  }
  return `hero-gateway — an authenticating reverse proxy

usage: hero-gateway <command> [options] [-c FILE]

${columns(rows)}

-c FILE defaults to $HERO_GATEWAY_CONFIG, then ./hero-gateway.toml.
"hero-gateway help COMMAND" (or COMMAND --help) shows its options and an example.
Exit codes: 0 ok, 1 usage or validation error, 2 runtime failure.`;
}

function optionRows(options: Readonly<Partial<Record<OptionName, string>>>): [string, string][] {
  return (Object.entries(options) as [OptionName, string][]).map(([name, text]) => {
    const o: OptionSpec = OPTIONS[name];
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`;
    return [flag, text];
  });
}

export function commandHelp(spec: CommandSpec): string {
  const own = optionRows(spec.options);
  const global = spec.name === 'help' ? [] : optionRows(GLOBAL_OPTIONS);
  const options = [...own, ...global];
  return [
    `usage: ${usageLine(spec)}`,
    '',
    spec.summary,
    ...(options.length > 0 ? ['', 'options:', columns(options)] : []),
    '',
    'example:',
    `  ${spec.example}`,
  ].join('\n');
}

export function groupHelp(group: GroupSpec): string {
  return [
    `usage: hero-gateway ${group.name} <${group.subcommands.map((s) => s.name.split(' ')[1]).join('|')}> …`,
    '',
    group.summary,
    '',
    columns(group.subcommands.map((s) => [shortUsage(s), s.summary])),
    '',
    'options:',
    columns(optionRows(GLOBAL_OPTIONS)),
    `"hero-gateway ${group.name} SUBCOMMAND --help" shows its options and an example.`,
    '',
    'example:',
    `  ${group.example}`,
  ].join('\n');
}
