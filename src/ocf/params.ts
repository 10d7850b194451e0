// Instance parameters: OCF_RESKEY_<name> with declared defaults, checked against declared types.
import type { AgentDefinition } from './agent';
import { OCF, OcfError } from './codes';

export function readParameters(agent: AgentDefinition, env: NodeJS.ProcessEnv): Record<string, string> {
  const params: Record<string, string> = {};
  for (const p of agent.parameters) {
    const value = env[`OCF_RESKEY_${p.name}`];
    if (value !== undefined && value !== '') params[p.name] = value;
    else if (p.default !== undefined) params[p.name] = p.default;
  }
  return params;
}

const BOOLEAN = /^(true|false|yes|no|on|off|1|0)$/i;
const INTEGER = /^-?[0-9]+$/;

/** Syntax only: a missing required value or a value of the wrong type is a configuration error (6). */
export function checkParameters(agent: AgentDefinition, params: Record<string, string>): void {
  for (const p of agent.parameters) {
    const value = params[p.name];
    if (value === undefined) {
      if (p.required) throw new OcfError(OCF.ERR_CONFIGURED, `required parameter '${p.name}' is not set`);
      continue;
    }
    if (p.type === 'integer' && !INTEGER.test(value)) {
      throw new OcfError(OCF.ERR_CONFIGURED, `parameter '${p.name}' must be an integer, got '${value}'`);
    }
    if (p.type === 'boolean' && !BOOLEAN.test(value)) {
      throw new OcfError(OCF.ERR_CONFIGURED, `parameter '${p.name}' must be a boolean, got '${value}'`);
    }
  }
}

export function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(true|yes|on|1)$/i.test(value);
}
