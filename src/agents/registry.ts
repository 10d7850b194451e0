// The OCF agents this binary provides, by the name pacemaker runs them under (ocf:heartbeat:<name>).
import type { AgentDefinition } from '../ocf/agent';
import { OCF } from '../ocf/codes';
import { runAgent } from '../ocf/run';
import { lvsAgent } from './lvs/index';
import { lvsdAgent } from './lvsd';

export const AGENTS: Record<string, AgentDefinition> = { lvs: lvsAgent, lvsd: lvsdAgent };

export async function runAgentByName(name: string, args: string[]): Promise<number> {
  const agent = Object.hasOwn(AGENTS, name) ? AGENTS[name] : undefined;
  if (agent === undefined) {
    process.stderr.write(`lvskit: no OCF agent named '${name}' (known: ${Object.keys(AGENTS).join(', ')})\n`);
    return OCF.ERR_ARGS;
  }
  return runAgent(agent, args);
}
