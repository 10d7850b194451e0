import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, type Metafile } from 'esbuild';

// Rules the layout promises, checked on the real import graph of the bundle.
const root = resolve(__dirname, '..', '..');

async function graph(entry: string): Promise<Metafile> {
  const r = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
    define: { LVSKIT_VERSION: '"test"' },
  });
  return r.metafile;
}

/** Everything loaded at start-up: static imports only, dynamic import() is lazy in the bundle. */
function eager(meta: Metafile, entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const path = todo.pop()!;
    if (seen.has(path)) continue;
    seen.add(path);
    for (const imp of meta.inputs[path]?.imports ?? []) {
      if (!imp.external && imp.kind !== 'dynamic-import') todo.push(imp.path);
    }
  }
  return seen;
}

describe('architecture', function () {
  this.timeout(30_000);

  it('starts an OCF action without loading commander, fast-xml-parser or the subcommands', async () => {
    const meta = await graph('src/cli.ts');
    const startup = [...eager(meta, 'src/cli.ts')];
    assert.deepEqual(startup.filter((p) => /node_modules\/(commander|fast-xml-parser)\/|src\/commands\//.test(p)), []);
    const agentPath = [...eager(meta, 'src/agents/registry.ts')];
    assert.deepEqual(agentPath.filter((p) => /node_modules\/commander\//.test(p)), []);
    // The graph is real: the subcommands are reachable, lazily.
    assert.ok(Object.keys(meta.inputs).some((p) => /node_modules\/commander\//.test(p)));
  });

  it('lists in package.json exactly the libraries the binary bundles (its licence file is made from that list)', async () => {
    const meta = await graph('src/cli.ts');
    const bundled = new Set(Object.keys(meta.inputs).flatMap((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1] ?? []));
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies)) assert.ok(bundled.has(dep), `${dep} is a dependency in package.json, but the binary does not contain it`);
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const production = new Set(Object.entries(lock.packages).flatMap(([p, v]) => (p && !v.dev ? [p.replace(/^.*node_modules\//, '')] : [])));
    for (const b of bundled) assert.ok(production.has(b), `the binary contains ${b}, which package.json does not bring in`);
  });

  it('keeps the OCF protocol layer free of anything LVS-specific (it may run programs)', async () => {
    const meta = await graph('src/agents/registry.ts');
    const ocf = Object.keys(meta.inputs).filter((p) => p.startsWith('src/ocf/'));
    assert.ok(ocf.length >= 4, `expected the OCF layer in the graph, got ${ocf.join(', ')}`);
    for (const file of ocf) {
      for (const imp of meta.inputs[file]!.imports) {
        if (imp.external) continue;
        assert.ok(/^src\/(ocf|exec)\//.test(imp.path), `${file} imports ${imp.path}`);
      }
    }
  });
});
