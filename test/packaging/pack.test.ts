/**
 * The package travels: `npm pack` holds the built dist/ and the docs (no sources, tests or contributor docs),
 * installs into an empty folder with install scripts disabled and no network, and runs the quickstart from
 * there (shortened: smaller caps on the same mock). Its shipped docs point at nothing it does not ship.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, tmpDir } from '../helpers/cli.js';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('the npm package', () => {
  let dir: string;
  let tarball: string;
  let files: string[];

  beforeAll(() => {
    dir = tmpDir('dsprobe-pack-');
    // dist/ is already built (`npm test` builds first); scripts off here so the pack does not rebuild dist/ under
    // tests running in parallel. A real `npm pack` / `npm publish` runs `prepack`, which rebuilds it clean.
    const out = execFileSync(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
    const info = (JSON.parse(out) as { filename: string; files: { path: string }[] }[])[0]!;
    tarball = path.join(dir, info.filename);
    files = info.files.map((f) => f.path);
  }, 120_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds on prepack, not on install, and says where it lives', () => {
    expect(pkg.scripts.prepack).toMatch(/npm run build/);
    for (const s of ['prepare', 'preinstall', 'install', 'postinstall']) expect(pkg.scripts[s]).toBeUndefined();
    expect(pkg.repository.url).toContain('github.com/dsprobe/dsprobe');
    expect(pkg.bugs.url).toContain('github.com/dsprobe/dsprobe/issues');
    expect(pkg.homepage).toContain('github.com/dsprobe/dsprobe');
  });

  it('ships dist/, the schema, the scenarios and the docs; no sources, tests, source maps or contributor docs', () => {
    expect(files).toEqual(expect.arrayContaining(['bin/dsprobe.js', 'dist/cli/main.js', 'dist/index.d.ts', 'dist/mock/child.js', 'schema/scenario.schema.json', 'scenarios/quickstart.yaml', 'README.md', 'docs/scenario.md']));
    expect(files.filter((f) => /^(src|test|bench)\//.test(f) || f.endsWith('.map') || f === 'docs/architecture.md')).toEqual([]);
  });

  it('README and shipped docs point at nothing outside the package', () => {
    const docs = files.filter((f) => f.endsWith('.md'));
    const bad: string[] = [];
    for (const f of docs) {
      const text = fs.readFileSync(path.join(ROOT, f), 'utf8');
      if (/\.\.\/shared/.test(text)) bad.push(`${f}: ../shared`);
      for (const m of text.matchAll(/(?<![\w/.-])(src|test)\/[\w./-]+\.(ts|js)/g)) bad.push(`${f}: ${m[0]}`);
      // Relative markdown links must land on a shipped file.
      for (const m of text.matchAll(/\]\(((?!https?:|#|mailto:)[^)#\s]+)/g)) {
        const target = path.normalize(path.join(path.dirname(f), m[1]!));
        if (!files.some((x) => x === target || x.startsWith(target + '/'))) bad.push(`${f}: link ${m[1]} (not in the package)`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('installs with scripts disabled and no network, and runs the quickstart from there', () => {
    const app = path.join(dir, 'app');
    fs.mkdirSync(path.join(app, 'node_modules'), { recursive: true });
    fs.writeFileSync(path.join(app, 'package.json'), '{"name":"app","private":true}\n');
    // No network: the package's runtime dependencies come from this checkout's node_modules (the npm cache
    // may not hold their metadata); npm then installs the tarball itself offline.
    const deps = execFileSync(npm, ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' })
      .split('\n').slice(1).filter(Boolean).map((p) => path.relative(ROOT, p));
    for (const d of deps) fs.cpSync(path.join(ROOT, d), path.join(app, d), { recursive: true });
    const inst = spawnSync(npm, ['install', '--ignore-scripts', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tarball], { cwd: app, encoding: 'utf8' });
    expect(inst.status, inst.stderr).toBe(0);
    expect(inst.stderr).not.toMatch(/install script|prepare|tsc/i);

    // The quickstart as shipped, shortened for a test: the mock's caps and the search range a tenth.
    const quick = fs.readFileSync(path.join(app, 'node_modules/dsprobe/scenarios/quickstart.yaml'), 'utf8')
      .replace('start: 100', 'start: 10').replace('max: 4000', 'max: 400')
      .replace('deepseek-v4-flash: 2500', 'deepseek-v4-flash: 250').replace('deepseek-v4-pro: 500', 'deepseek-v4-pro: 50');
    fs.writeFileSync(path.join(app, 'quickstart.yaml'), quick);
    const bin = path.join(app, 'node_modules/.bin/dsprobe');
    const run = spawnSync(bin, ['run', 'quickstart.yaml', '--out', 'out', '--quiet', '--json'], { cwd: app, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
    expect(run.status, run.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(app, 'out/report.json'), 'utf8')) as { models: { model: string; cap: { estimate: number | null } }[] };
    const cap = (m: string) => report.models.find((x) => x.model === m)?.cap.estimate;
    expect(cap('deepseek-v4-flash')).toBe(250);
    expect(cap('deepseek-v4-pro')).toBe(50);
    expect(fs.readFileSync(path.join(app, 'out/report.json'), 'utf8')).not.toContain(app);
  }, 120_000);
});
