// The directive reference of docs/checker-config.md, rendered from the directive table so that
// the document cannot drift from the parser (a unit test compares them).
import { DIRECTIVES, type Directive } from './directives';

export const BEGIN_MARK = '<!-- directives:begin (generated from src/checker/config/directives.ts) -->';
export const END_MARK = '<!-- directives:end -->';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const scope = (d: Directive) => ({ global: 'global', virtual: 'virtual', both: 'global, virtual' })[d.scope];

export function renderReference(): string {
  const rows = DIRECTIVES.map(
    (d) => `| \`${d.name}\`${d.lvsdOnly ? ' (lvsd)' : ''} | ${scope(d)} | ${cell(d.syntax)} | ${cell(d.default)} | ${cell(d.summary)} |`,
  );
  const notes = DIRECTIVES.filter((d) => d.lvsd).map((d) => `| \`${d.name}\` | ${cell(d.lvsd!)} |`);
  return [
    BEGIN_MARK,
    '',
    '| Directive | Scope | Value | Default | What it does |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '### Where lvsd differs from ldirectord, directive by directive',
    '',
    '| Directive | Difference |',
    '| --- | --- |',
    ...notes,
    '',
    END_MARK,
  ].join('\n');
}
