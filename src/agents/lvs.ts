// ocf:heartbeat:lvs, the promotable LVS director agent.
// Promoted: the VIP on the NIC (director). Unpromoted: the VIP on lo with ARP hidden (DR real server).
// Skeleton: parameters and meta-data are in place; the actions arrive with the agent issue.
import type { AgentDefinition } from '../ocf/agent';
import { VERSION } from '../version';
import { notYet } from './not-yet';

const pending = notYet('lvs');

export const lvsAgent: AgentDefinition = {
  name: 'lvs',
  version: VERSION,
  shortdesc: 'LVS director: VIP on the NIC when promoted, on lo when unpromoted',
  longdesc:
    'Makes an LVS (IPVS) director in direct-routing mode highly available. The promoted instance holds the ' +
    'virtual IP on its NIC, answers ARP for it and announces it by gratuitous ARP. Every unpromoted instance ' +
    'holds the virtual IP on lo with ARP hidden, so that it serves as a DR real server.',
  parameters: [
    {
      name: 'vip',
      type: 'string',
      required: true,
      unique: true,
      shortdesc: 'Virtual IP address',
      longdesc: 'The virtual IP address (IPv4 or IPv6) the clients connect to.',
    },
    {
      name: 'nic',
      type: 'string',
      default: 'eth0',
      shortdesc: 'Network interface for the VIP',
      longdesc: 'The network interface on which the promoted instance puts the virtual IP.',
    },
    {
      name: 'vip_prefix',
      type: 'integer',
      default: '32',
      shortdesc: 'Prefix length of the VIP on the NIC',
      longdesc: 'The prefix length the virtual IP gets on the NIC when promoted (on lo it is always a host route).',
    },
  ],
  actions: [
    { name: 'start', timeout: 20 },
    { name: 'stop', timeout: 20 },
    { name: 'promote', timeout: 20 },
    { name: 'demote', timeout: 20 },
    { name: 'monitor', timeout: 20, interval: 9, role: 'Promoted' },
    { name: 'monitor', timeout: 20, interval: 10, role: 'Unpromoted' },
    { name: 'validate-all', timeout: 20 },
    { name: 'meta-data', timeout: 5 },
  ],
  handlers: {
    start: pending,
    stop: pending,
    promote: pending,
    demote: pending,
    monitor: pending,
    'validate-all': pending,
  },
};
