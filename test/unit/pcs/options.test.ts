import assert from 'node:assert/strict';
import { runLvskit } from '../../../src/commands/program';
import { UsageError } from '../../../src/errors';
import { parseOptions, type RawOptions } from '../../../src/pcs/options';

const OK: RawOptions = { nodes: 'd1,d2', vip: '198.51.100.100' };

function usage(raw: RawOptions, message: RegExp): void {
  assert.throws(() => parseOptions({ ...OK, ...raw }), (e) => e instanceof UsageError && e.exitCode === 2 && message.test(e.message), `expected ${message}`);
}

describe('pcs/options: bootstrap options, checked before anything runs', () => {
  it('fills in the documented defaults', () => {
    assert.deepEqual(parseOptions(OK), {
      nodes: ['d1', 'd2'],
      name: 'lvs',
      vips: [{ address: '198.51.100.100', family: 4, prefix: undefined, nic: 'eth0', resource: 'lvs' }],
      placement: 'together',
      syncInterface: undefined,
      checker: 'ocf',
      config: '/etc/ha.d/ldirectord.cf',
      stickiness: '100',
      stonith: true,
      token: 1000,
      pcsVersion: undefined,
      apply: false,
      qdevice: undefined,
      fence: undefined,
    });
    assert.equal(parseOptions({ ...OK, stickiness: 'infinity' }).stickiness, 'INFINITY');
    assert.equal(parseOptions({ ...OK, stickiness: '007' }).stickiness, '7');
    assert.equal(parseOptions({ ...OK, vip: '2001:db8::1', vipPrefix: '64' }).vips[0]?.prefix, 64);
    assert.equal(parseOptions({ ...OK, token: '3000' }).token, 3000);
  });

  it('names the option and the value that is wrong', () => {
    usage({ nodes: undefined }, /^--nodes is required/);
    usage({ nodes: 'd1' }, /--nodes needs at least two nodes, got 'd1'/);
    usage({ nodes: 'd1,,d2' }, /--nodes has an empty name/);
    usage({ nodes: 'd1,D1' }, /--nodes names 'D1' twice/);
    usage({ nodes: 'd1,-rf' }, /--nodes: '-rf' is not a valid node name/);
    usage({ nodes: 'd1,d2;reboot' }, /'d2;reboot' is not a valid node name/);
    usage({ name: 'my cluster' }, /--name: 'my cluster' is not a valid cluster name/);
    usage({ vip: undefined }, /^--vip is required/);
    usage({ vip: '300.1.1.1' }, /--vip is not an IPv4 or IPv6 address: '300.1.1.1'/);
    usage({ nic: 'eth0;id' }, /--nic is not a valid interface name: 'eth0;id'/);
    usage({ nic: 'lo' }, /--nic cannot be lo/);
    usage({ vipPrefix: '33' }, /--vip-prefix must be an integer from 1 to 32 for an IPv4 VIP, got '33'/);
    usage({ vipPrefix: '0' }, /--vip-prefix must be an integer from 1 to 32/);
    usage({ vip: '2001:db8::1', vipPrefix: '129' }, /from 1 to 128 for an IPv6 VIP/);
    usage({ syncInterface: '$(id)' }, /--sync-interface is not a valid interface name/);
    usage({ config: 'ldirectord.cf' }, /--config must be an absolute path/);
    usage({ config: '/etc/ha.d/my file.cf' }, /--config must be an absolute path without spaces/);
    usage({ checker: 'systemd', config: '/etc/x.cf' }, /--config applies to --checker ocf only/);
    usage({ checker: 'cron' }, /--checker must be ocf or systemd, got 'cron'/);
    usage({ stickiness: '-5' }, /--stickiness must be an integer from 0 to 1000000 or INFINITY, got '-5'/);
    usage({ stickiness: '1000001' }, /--stickiness must be/);
    usage({ pcsVersion: 'latest' }, /--pcs-version must look like X.Y/);
    usage({ token: '3' }, /^--token must be milliseconds from 200 to 60000, got '3'$/);
    usage({ token: '1s' }, /--token must be milliseconds/);
    usage({ token: '60001' }, /--token must be milliseconds/);
  });

  it('exits 2 with the message on stderr from the command line, and for commander errors', async () => {
    const written: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => {
      written.push(String(s));
      return true;
    }) as typeof process.stderr.write;
    try {
      assert.equal(await runLvskit(['bootstrap', '--nodes', 'd1,d2', '--vip', 'nope', '--pcs-version', '0.11']), 2);
      assert.match(written.join(''), /^lvskit: --vip is not an IPv4 or IPv6 address: 'nope'$/m);
      assert.equal(await runLvskit(['bootstrap', '--nodes', 'd1,d2', '--vip', '198.51.100.1', '--checker', 'cron']), 2);
      assert.equal(await runLvskit(['bootstrap', '--nodes', 'd1,d2', '--vip', '198.51.100.1', '--dry-run', '--apply']), 2);
      assert.equal(await runLvskit(['bootstrap', '--nodes', 'd1,d2', '--vip', '198.51.100.1', '--pcs-version', '0.8.1']), 2);
      assert.match(written.join(''), /pcs 0\.8\.1 is not supported/);
    } finally {
      process.stderr.write = write;
    }
  });
});
