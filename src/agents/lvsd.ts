// ocf:heartbeat:lvsd, which runs the health checker (lvsd) beside the promoted lvs instance.
// Skeleton: parameters and meta-data are in place; the actions arrive with the checker issue.
import type { AgentDefinition } from '../ocf/agent';
import { VERSION } from '../version';
import { notYet } from './not-yet';

const pending = notYet('lvsd');

export const lvsdAgent: AgentDefinition = {
  name: 'lvsd',
  version: VERSION,
  shortdesc: 'LVS health checker (ldirectord-compatible)',
  longdesc:
    'Runs lvsd, which reads an ldirectord configuration file, checks the real servers and keeps the IPVS ' +
    'table of this director in line with their health.',
  parameters: [
    {
      name: 'configfile',
      type: 'string',
      default: '/etc/ha.d/ldirectord.cf',
      shortdesc: 'Configuration file',
      longdesc: 'The ldirectord configuration file lvsd reads.',
    },
  ],
  actions: [
    { name: 'start', timeout: 20 },
    { name: 'stop', timeout: 20 },
    { name: 'monitor', timeout: 20, interval: 10 },
    { name: 'validate-all', timeout: 20 },
    { name: 'meta-data', timeout: 5 },
  ],
  handlers: {
    start: pending,
    stop: pending,
    monitor: pending,
    'validate-all': pending,
  },
};
