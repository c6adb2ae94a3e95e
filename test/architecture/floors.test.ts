/**
 * The house has no back stairs: every import under src/ goes to the file's own room or to a lower floor.
 * The floors come from docs/architecture.md (the table between the `floors:` markers), so the page and the
 * rule cannot drift apart. To add a room, add it to that table.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const SRC = join(ROOT, 'src');

/** Room name (`time/` or `types.ts`) -> floor, parsed from docs/architecture.md. */
export function readFloors(markdown: string): Map<string, number> {
  const m = /<!-- floors:start -->([\s\S]*?)<!-- floors:end -->/.exec(markdown);
  if (!m) throw new Error('docs/architecture.md has no floors table');
  const floors = new Map<string, number>();
  for (const line of m[1]!.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const floor = Number(cells[1]);
    if (cells.length < 4 || cells[1] === '' || !Number.isInteger(floor)) continue;
    for (const room of cells[2]!.matchAll(/`([^`]+)`/g)) floors.set(room[1]!, floor);
  }
  return floors;
}

/** The room of a file under src/: its first folder (`time/`) or, at the top, its own name (`types.ts`). */
function roomOf(file: string): string {
  const rel = relative(SRC, file).split(/[\\/]/);
  return rel.length > 1 ? `${rel[0]}/` : rel[0]!;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative import specifiers of a file: static imports, re-exports and dynamic import(). */
function importsOf(source: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;
  for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

/** Every upward or sideways import under `src`, as `file -> target (room floor -> room floor)`. */
function backStairs(floors: Map<string, number>, src = SRC): string[] {
  const bad: string[] = [];
  for (const file of tsFiles(src)) {
    const from = roomOf(file);
    const f = floors.get(from);
    if (f === undefined) {
      bad.push(`${relative(ROOT, file)}: room \`${from}\` is on no floor (add it to docs/architecture.md)`);
      continue;
    }
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      const to = roomOf(target);
      if (to === from) continue;
      const t = floors.get(to);
      if (t === undefined || t >= f) {
        bad.push(`${relative(ROOT, file)} (${from} floor ${f}) imports ${spec} (${to} floor ${t ?? '?'})`);
      }
    }
  }
  return bad;
}

describe('floors', () => {
  const floors = readFloors(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'));

  it('reads the floor table from docs/architecture.md', () => {
    expect(floors.get('types.ts')).toBe(0);
    expect(floors.get('time/')).toBe(0);
    expect(floors.get('cli/')).toBeGreaterThan(floors.get('report/')!);
    expect(floors.get('scenario/')).toBeGreaterThan(floors.get('measure/')!);
  });

  it('no file under src/ imports a room on its own floor or above', () => {
    expect(backStairs(floors)).toEqual([]);
  });

  it('catches a back stair (the check itself works)', () => {
    const low = new Map(floors);
    low.set('scenario/', 0); // pretend scenario/ were on the ground floor: its imports now go upward
    expect(backStairs(low).some((b) => b.startsWith('src/scenario/'))).toBe(true);
    const missing = new Map(floors);
    missing.delete('mock/');
    expect(backStairs(missing).some((b) => b.includes('room `mock/` is on no floor'))).toBe(true);
  });

  it('only cli/ (and the mock child process entry point) touches process', () => {
    const entryPoints = ['src/mock/child.ts'];
    const bad = tsFiles(SRC)
      .filter((f) => roomOf(f) !== 'cli/' && !entryPoints.includes(relative(ROOT, f)))
      .filter((f) => /\bprocess\.(argv|env|exit|stdout|stderr|stdin|on|once|cwd|kill)\b/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(bad).toEqual([]);
  });
});
