// Entry of `lvskit install` for the command line: the real process, the embedded units.
import { isSea } from 'node:sea';
import { VERSION } from '../version';
import { type InstallOptions, runInstall } from './install';

export async function installCommand(options: InstallOptions): Promise<number> {
  const self = isSea() ? process.execPath : undefined;
  // Only the built binary carries the units (node and tsx cannot load text imports).
  const units = self !== undefined ? (await import('./units')).UNITS : {};
  return runInstall(options, {
    self,
    env: process.env,
    version: VERSION,
    units,
    out: (line) => process.stdout.write(`${line}\n`),
  });
}
