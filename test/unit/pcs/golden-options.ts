// The options every golden dry run is made with: each option given, so each appears in the output.
import type { RawOptions } from '../../../src/pcs/options';

export const GOLDEN_OPTIONS: RawOptions = {
  nodes: 'd1,d2',
  name: 'lvs',
  vip: '198.51.100.100',
  nic: 'eth0',
  vipPrefix: '24',
  syncInterface: 'eth1',
  config: '/etc/ha.d/lvs.cf',
  stickiness: '200',
  stonith: false,
  token: '1500',
  checker: 'ocf',
};

/** A real `pcs --version` of each dialect (Debian 10, 11, 12 and a 0.12 release). */
export const GOLDEN_VERSIONS = { '0.9': '0.9.169', '0.10': '0.10.8', '0.11': '0.11.5', '0.12': '0.12.0' } as const;

/** A safe two-node cluster: fencing on, a fence device with its options, a quorum device (golden/safe-*.txt). */
export const GOLDEN_SAFE_OPTIONS: RawOptions = {
  ...GOLDEN_OPTIONS,
  stonith: true,
  fence: 'fence_xvm',
  fenceOption: ['pcmk_host_map=d1:vm-d1;d2:vm-d2', 'key_file=/etc/cluster/fence_xvm.key', 'pcmk_delay_max=5s'],
  qdevice: 'q1',
};

/** Several VIPs, both families, one on its own NIC, spread over the directors: golden/vips-*.txt. */
export const GOLDEN_VIPS_OPTIONS: RawOptions = {
  nodes: 'd1,d2,d3',
  name: 'web',
  vip: ['198.51.100.100', '2001:db8::100/64', '203.0.113.100/24@eth1'],
  vipPrefix: '24',
  placement: 'spread',
  stonith: false,
};
