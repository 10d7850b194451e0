// Meta-data XML as ra-api-1.dtd wants it (the DOCTYPE line is what ocf-tester validates against).
import type { ActionSpec, AgentDefinition, ParameterSpec } from './agent';

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function parameterXml(p: ParameterSpec): string {
  const attrs = [`name="${escapeXml(p.name)}"`, `unique="${p.unique ? 1 : 0}"`, `required="${p.required ? 1 : 0}"`];
  const dflt = p.default === undefined ? '' : ` default="${escapeXml(p.default)}"`;
  return [
    `<parameter ${attrs.join(' ')}>`,
    `<longdesc lang="en">${escapeXml(p.longdesc)}</longdesc>`,
    `<shortdesc lang="en">${escapeXml(p.shortdesc)}</shortdesc>`,
    `<content type="${p.type}"${dflt} />`,
    `</parameter>`,
  ].join('\n');
}

function actionXml(a: ActionSpec): string {
  const attrs = [`name="${a.name}"`, `timeout="${a.timeout}s"`];
  if (a.interval !== undefined) attrs.push(`interval="${a.interval}s"`);
  if (a.depth !== undefined) attrs.push(`depth="${a.depth}"`);
  if (a.role !== undefined) attrs.push(`role="${a.role}"`);
  return `<action ${attrs.join(' ')} />`;
}

export function renderMetadata(agent: AgentDefinition): string {
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">',
    `<resource-agent name="${escapeXml(agent.name)}" version="${escapeXml(agent.version)}">`,
    '<version>1.0</version>',
    `<longdesc lang="en">${escapeXml(agent.longdesc)}</longdesc>`,
    `<shortdesc lang="en">${escapeXml(agent.shortdesc)}</shortdesc>`,
    '<parameters>',
    ...agent.parameters.map(parameterXml),
    '</parameters>',
    '<actions>',
    ...agent.actions.map(actionXml),
    '</actions>',
    '</resource-agent>',
    '',
  ].join('\n');
}
