import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../../../src/errors';
import { layout, plan, renderUnit, UNIT_NAMES } from '../../../src/install/layout';

const root = resolve(__dirname, '..', '..', '..');

describe('install/layout', () => {
  it('puts a default install where Debian 12 and pacemaker look', () => {
    const l = layout('/usr', {});
    assert.equal(l.binary, '/usr/sbin/lvskit');
    assert.equal(l.agentDir, '/usr/lib/ocf/resource.d/heartbeat');
    assert.equal(l.unitDir, '/lib/systemd/system');
    assert.equal(l.manifest, '/usr/share/lvskit/installed.txt');
    assert.ok(l.defaultPrefix);
  });

  it('keeps everything under another prefix, except OCF_ROOT when it is set', () => {
    const l = layout('pfx', {}, '/tmp/work');
    assert.equal(l.binary, '/tmp/work/pfx/sbin/lvskit');
    assert.equal(l.agentDir, '/tmp/work/pfx/lib/ocf/resource.d/heartbeat');
    assert.equal(l.unitDir, '/tmp/work/pfx/lib/systemd/system');
    assert.ok(!l.defaultPrefix);
    assert.equal(layout('/opt/lvskit', { OCF_ROOT: '/usr/lib/ocf' }).agentDir, '/usr/lib/ocf/resource.d/heartbeat');
    assert.ok(layout('/usr/', {}).defaultPrefix);
  });

  it('refuses prefixes that would change meaning in a unit or the manifest', () => {
    for (const p of ['', '/opt/my lvskit', '/opt/a%b', '/opt/$HOME', '/opt/a"b', '/opt/a\tb', '/opt/a\nb']) {
      assert.throws(() => layout(p, {}), UsageError, JSON.stringify(p));
    }
    assert.throws(() => layout('/usr', { OCF_ROOT: 'relative/ocf' }), UsageError);
  });

  it('installs the binary before its names, and ldirectord only when asked', () => {
    const l = layout('/opt/x', {});
    const items = plan(l, { 'lvsd.service': 'ExecStart=/usr/sbin/lvskit checker\n' }, { ldirectord: false });
    assert.deepEqual(
      items.map((i) => `${i.kind} ${i.path}${i.kind === 'symlink' ? ` -> ${i.target}` : ''}`),
      [
        'binary /opt/x/sbin/lvskit',
        'symlink /opt/x/lib/ocf/resource.d/heartbeat/lvs -> /opt/x/sbin/lvskit',
        'symlink /opt/x/lib/ocf/resource.d/heartbeat/lvsd -> /opt/x/sbin/lvskit',
        'text /opt/x/lib/systemd/system/lvsd.service',
      ],
    );
    const unit = items[3];
    assert.ok(unit?.kind === 'text');
    assert.equal(unit.text, 'ExecStart=/opt/x/sbin/lvskit checker\n');
    assert.ok(plan(l, {}, { ldirectord: true }).some((i) => i.kind === 'symlink' && i.path === '/opt/x/sbin/ldirectord'));
  });

  it('points every Exec line of the real unit that runs lvskit at the installed binary, and nothing else', () => {
    const text = readFileSync(join(root, 'systemd', 'lvsd.service'), 'utf8');
    const out = renderUnit(text, '/opt/x/sbin/lvskit');
    assert.match(out, /^ExecStart=\/opt\/x\/sbin\/lvskit /m);
    assert.ok(!out.includes('/usr/sbin/lvskit'));
    assert.equal(out.replaceAll('/opt/x/sbin/lvskit', '/usr/sbin/lvskit'), text);
    assert.equal(renderUnit('ExecStart=-/usr/sbin/lvskit x\nExecStop=/usr/sbin/lvskitd\nDescription=/usr/sbin/lvskit\n', '/p/lvskit'), 'ExecStart=-/p/lvskit x\nExecStop=/usr/sbin/lvskitd\nDescription=/usr/sbin/lvskit\n');
  });

  it('knows every unit of systemd/ by name (uninstall accepts only those in the unit directory)', () => {
    assert.deepEqual([...UNIT_NAMES].sort(), readdirSync(join(root, 'systemd')).sort());
  });
});

