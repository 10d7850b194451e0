// What an OCF agent declares: parameters, actions and one handler per action.
// This layer knows the OCF protocol only; it knows nothing about LVS.
import type { OcfCode } from './codes';
import type { AgentLog } from './log';

export type ParameterType = 'string' | 'integer' | 'boolean';

export interface ParameterSpec {
  name: string;
  type: ParameterType;
  shortdesc: string;
  longdesc: string;
  required?: boolean;
  unique?: boolean;
  default?: string;
}

export interface ActionSpec {
  name: string;
  timeout: number; // seconds
  interval?: number; // seconds
  role?: 'Promoted' | 'Unpromoted';
  depth?: number;
}

export interface OcfContext {
  action: string;
  /** Instance parameters with defaults applied. */
  params: Record<string, string>;
  instance: string;
  env: NodeJS.ProcessEnv;
  /** A monitor with interval 0 (or none): pacemaker's probe. */
  isProbe: boolean;
  checkLevel: number;
  log: AgentLog;
}

export type ActionHandler = (ctx: OcfContext) => OcfCode | Promise<OcfCode>;

export interface AgentDefinition {
  name: string;
  version: string;
  shortdesc: string;
  longdesc: string;
  parameters: ParameterSpec[];
  actions: ActionSpec[];
  handlers: Record<string, ActionHandler>;
}
