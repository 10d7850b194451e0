// Replaced at build time by esbuild's `define`; tests running from source fall back to package.json.
declare const LVSKIT_VERSION: string | undefined;

export const VERSION: string =
  typeof LVSKIT_VERSION === 'string' ? LVSKIT_VERSION : (require('../package.json') as { version: string }).version;

export function versionLine(): string {
  return `lvskit ${VERSION} (node ${process.version})`;
}
