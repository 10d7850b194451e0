// ocf:heartbeat:lvs, the promotable LVS director agent (docs/lvs-agent.md).
// Promoted: the VIP on the NIC (director). Unpromoted: the VIP on lo with ARP hidden (DR real server).
import type { AgentDefinition } from '../../ocf/agent';
import { VERSION } from '../../version';
import { actions } from './actions';
import { PARAMETERS } from './params';

export const lvsAgent: AgentDefinition = {
  name: 'lvs',
  version: VERSION,
  shortdesc: 'LVS director: VIP on the NIC when promoted, on lo when unpromoted',
  longdesc:
    'Makes an LVS (IPVS) director in direct-routing mode highly available, as a promotable clone. The promoted ' +
    'instance holds the virtual IP on its NIC, answers ARP for it and announces it by gratuitous ARP. Every ' +
    'unpromoted instance holds the virtual IP on lo with ARP hidden, so that it serves as a DR real server. ' +
    'Promotion is not preemptive: a node that returns never takes the role from the running director.',
  parameters: PARAMETERS,
  actions: [
    { name: 'start', timeout: 20 },
    { name: 'stop', timeout: 20 },
    { name: 'promote', timeout: 20 },
    { name: 'demote', timeout: 20 },
    { name: 'monitor', timeout: 20, interval: 10, depth: 0, role: 'Promoted' },
    { name: 'monitor', timeout: 20, interval: 30, depth: 0, role: 'Unpromoted' },
    { name: 'notify', timeout: 5 },
    { name: 'validate-all', timeout: 20, depth: 0 },
    { name: 'meta-data', timeout: 5 },
  ],
  handlers: actions,
};
