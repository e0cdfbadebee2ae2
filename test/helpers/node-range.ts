// Does a Node version satisfy a package's `engines.node` range? The subset of npm's semver ranges that
// engines fields use: `||`, `>=` `>` `<=` `<` `=`, `^`, `~`, `x`/`*` wildcards, partial versions, `a - b`.

type Version = [number, number, number];

/** A version or partial version ("20", "20.x", "12.*"): its numbers and how many were given. */
function parts(text: string): { v: Version; given: number } | null {
  const m = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[-+].*)?$/.exec(text);
  if (!m) return null;
  const nums: number[] = [];
  for (const p of m.slice(1, 4)) {
    if (p === undefined || /[xX*]/.test(p)) break;
    nums.push(Number(p));
  }
  return { v: [nums[0] ?? 0, nums[1] ?? 0, nums[2] ?? 0], given: nums.length };
}

const cmp = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** The next version after everything a partial version covers: 20 -> 21.0.0, 20.1 -> 20.2.0. */
function after(v: Version, given: number): Version {
  if (given <= 1) return [v[0] + 1, 0, 0];
  if (given === 2) return [v[0], v[1] + 1, 0];
  return [v[0], v[1], v[2] + 1];
}

function comparator(version: Version, c: string): boolean {
  if (c === '' || c === '*' || /^[xX]$/.test(c)) return true;
  const m = /^(\^|~|>=|<=|>|<|=)?\s*(.+)$/.exec(c);
  if (!m) throw new Error(`unsupported range part "${c}"`);
  const op = m[1] ?? '';
  const p = parts(m[2] as string);
  if (!p) throw new Error(`unsupported version "${m[2]}"`);
  const { v, given } = p;
  if (given === 0) return true;
  const lo = cmp(version, v) >= 0;
  switch (op) {
    case '>=':
      return lo;
    case '>':
      return given < 3 ? cmp(version, after(v, given)) >= 0 : cmp(version, v) > 0;
    case '<':
      return cmp(version, v) < 0;
    case '<=':
      return given < 3 ? cmp(version, after(v, given)) < 0 : cmp(version, v) <= 0;
    case '^': {
      const top: Version =
        v[0] > 0 || given === 1 ? [v[0] + 1, 0, 0] : v[1] > 0 || given === 2 ? [0, v[1] + 1, 0] : after(v, 3);
      return lo && cmp(version, top) < 0;
    }
    case '~':
      return lo && cmp(version, after(v, Math.min(given, 2))) < 0;
    default:
      return lo && cmp(version, after(v, given)) < 0;
  }
}

export function satisfies(version: string, range: string): boolean {
  const v = parts(version.trim());
  if (v?.given !== 3) throw new Error(`not a version: ${version}`);
  const at = v.v;
  return range.split('||').some((set) => {
    const hyphen = /^\s*(\S+)\s+-\s+(\S+)\s*$/.exec(set);
    if (hyphen) return comparator(at, `>=${hyphen[1]}`) && comparator(at, `<=${hyphen[2]}`);
    // ">= 10" and ">=10" alike: glue an operator to the version after it, then split on blanks.
    const items = set
      .trim()
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1')
      .split(/\s+/);
    return items.every((c) => comparator(at, c));
  });
}
