// Shared by the config tests: a resolver that knows a few names and never asks the system.
import assert from 'node:assert/strict';
import { ConfigError } from '../../../../src/checker/config/errors';
import type { CheckerConfig, Family, VirtualConfig } from '../../../../src/checker/config/model';
import { parseConfig } from '../../../../src/checker/config/parse';
import type { Resolver } from '../../../../src/checker/config/resolve';

export const FILE = '/etc/ha.d/test.cf';

const HOSTS: Record<string, Partial<Record<Family, string[]>>> = {
  'www.example.net': { 4: ['198.51.100.80'], 6: ['2001:db8::80'] },
  web1: { 4: ['198.51.100.11'] },
  web3: { 4: ['198.51.100.13'] },
  v6only: { 6: ['2001:db8::6'] },
};
const SERVICES: Record<string, number> = { http: 80, https: 443, domain: 53, 'http-alt': 8080 };

export function fakeResolver(calls: string[] = []): Resolver {
  return {
    host(name, family) {
      calls.push(`host ${name} ${family}`);
      return HOSTS[name]?.[family] ?? [];
    },
    service(name, protocol) {
      calls.push(`service ${name}${protocol ? `/${protocol}` : ''}`);
      return SERVICES[name];
    },
  };
}

export function parse(text: string, calls: string[] = []): CheckerConfig {
  return parseConfig(text, FILE, { resolver: fakeResolver(calls), hostname: 'director1' });
}

/** The only virtual of a config. */
export function only(text: string): VirtualConfig {
  const c = parse(text);
  assert.equal(c.virtuals.length, 1, `expected one virtual, got ${c.virtuals.length}`);
  return c.virtuals[0]!;
}

/** The lines of the ConfigError the text raises. */
export function errorLines(text: string): string[] {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  assert.fail(`expected a ConfigError for:\n${text}`);
}

/** Asserts one error, `FILE:LINE: DIRECTIVE: ` followed by text matching `pattern`. */
export function assertError(text: string, line: number, directive: string | undefined, pattern: RegExp): void {
  const lines = errorLines(text);
  const prefix = directive ? `${FILE}:${line}: ${directive}: ` : `${FILE}:${line}: `;
  const hit = lines.find((l) => l.startsWith(prefix) && pattern.test(l.slice(prefix.length)));
  assert.ok(hit, `expected "${prefix}" + ${pattern} among:\n${lines.join('\n')}`);
}

/** A virtual section around some directive lines (4-space indent). */
export function section(...lines: string[]): string {
  return ['virtual=198.51.100.100:80', ...lines.map((l) => `    ${l}`)].join('\n') + '\n';
}
