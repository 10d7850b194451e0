import assert from 'node:assert/strict';
import { layout } from '../../../src/install/layout';
import { decide, decideRemoval, type Entry, foreignEntries, formatManifest, ManifestError, mergeEntries, parseManifest } from '../../../src/install/manifest';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

describe('install/manifest', () => {
  const entries: Entry[] = [
    { kind: 'dir', path: '/opt/x/sbin' },
    { kind: 'file', path: '/opt/x/sbin/lvskit', sha256: SHA_A },
    { kind: 'symlink', path: '/opt/x/lib/ocf/resource.d/heartbeat/lvs', target: '/opt/x/sbin/lvskit' },
    { kind: 'replaced', path: '/opt/x/lib/ocf/resource.d/heartbeat/lvsd', backup: '/opt/x/share/lvskit/replaced/1-lvsd' },
  ];

  it('reads back what it writes, comments and version line aside', () => {
    const text = formatManifest(entries, '0.1.0');
    assert.match(text, /^# lvskit install manifest/);
    assert.match(text, /^version\t0\.1\.0$/m);
    assert.deepEqual(parseManifest(text, 'm'), entries);
  });

  it('names the line of a damaged manifest', () => {
    for (const line of ['file\t/x\tmd5:abc', 'file\trelative\tsha256:' + SHA_A, 'socket\t/x', 'symlink\t/x', 'replaced\t/x\tbackup', 'dir\t/x\textra']) {
      assert.throws(() => parseManifest(`# c\n${line}\n`, '/m'), (e: unknown) => e instanceof ManifestError && e.message.startsWith('/m line 2: '), line);
    }
  });

  it('keeps older records and replaces those of the same path', () => {
    const merged = mergeEntries(entries, [
      { kind: 'file', path: '/opt/x/sbin/lvskit', sha256: SHA_B },
      // A path that was a symlink of ours and is now a file of ours is recorded once.
      { kind: 'file', path: '/opt/x/lib/ocf/resource.d/heartbeat/lvs', sha256: SHA_B },
      { kind: 'symlink', path: '/opt/x/sbin/ldirectord', target: '/opt/x/sbin/lvskit' },
    ]);
    assert.deepEqual(
      merged.map((e) => `${e.kind} ${e.path}`).sort(),
      [
        'dir /opt/x/sbin',
        'file /opt/x/lib/ocf/resource.d/heartbeat/lvs',
        'file /opt/x/sbin/lvskit',
        'replaced /opt/x/lib/ocf/resource.d/heartbeat/lvsd',
        'symlink /opt/x/sbin/ldirectord',
      ],
    );
    assert.deepEqual(merged.find((e) => e.path === '/opt/x/sbin/lvskit'), { kind: 'file', path: '/opt/x/sbin/lvskit', sha256: SHA_B });
  });

  describe('install decisions', () => {
    const ours: Entry = { kind: 'file', path: '/p', sha256: SHA_A };
    const wantA = { type: 'file', sha256: SHA_A } as const;
    const wantB = { type: 'file', sha256: SHA_B } as const;

    it('creates what is missing, leaves alone what is already right', () => {
      assert.equal(decide({ type: 'absent' }, wantA, undefined, false), 'create');
      assert.equal(decide({ type: 'file', sha256: SHA_A }, wantA, ours, false), 'unchanged');
      // Identical and nobody else's: adopted without touching it.
      assert.equal(decide({ type: 'file', sha256: SHA_A }, wantA, undefined, false), 'unchanged');
      assert.equal(decide({ type: 'symlink', target: '/bin' }, { type: 'symlink', target: '/bin' }, undefined, false), 'unchanged');
    });

    it('updates its own unchanged files, never a foreign or edited one without --force', () => {
      assert.equal(decide({ type: 'file', sha256: SHA_A }, wantB, ours, false), 'update');
      // A shell agent where lvs goes: not ours.
      assert.equal(decide({ type: 'file', sha256: SHA_B }, wantA, undefined, false), 'conflict');
      assert.equal(decide({ type: 'file', sha256: SHA_B }, wantA, undefined, true), 'replace');
      // Ours once, edited since.
      assert.equal(decide({ type: 'file', sha256: SHA_B }, { type: 'file', sha256: 'c'.repeat(64) }, ours, false), 'conflict');
      assert.equal(decide({ type: 'symlink', target: '/elsewhere' }, wantA, ours, false), 'conflict');
      assert.equal(decide({ type: 'other', what: 'a directory' }, wantA, undefined, false), 'conflict');
    });

    it('does not adopt an identical copy that a Debian package owns', () => {
      assert.equal(decide({ type: 'file', sha256: SHA_A }, wantA, undefined, false, 'lvskit'), 'conflict');
      assert.equal(decide({ type: 'file', sha256: SHA_A }, wantA, ours, false, 'lvskit'), 'unchanged');
    });

    it('removes at uninstall only what is still as install left it', () => {
      assert.equal(decideRemoval({ type: 'file', sha256: SHA_A }, ours), 'remove');
      assert.equal(decideRemoval({ type: 'file', sha256: SHA_B }, ours), 'changed');
      assert.equal(decideRemoval({ type: 'absent' }, ours), 'gone');
      const link: Entry = { kind: 'symlink', path: '/l', target: '/opt/x/sbin/lvskit' };
      assert.equal(decideRemoval({ type: 'symlink', target: '/opt/x/sbin/lvskit' }, link), 'remove');
      assert.equal(decideRemoval({ type: 'symlink', target: '/usr/lib/ocf/lib/heartbeat/other' }, link), 'changed');
      assert.equal(decideRemoval({ type: 'file', sha256: SHA_A }, link), 'changed');
    });
  });

  describe('what a manifest may list', () => {
    const l = layout('/opt/x', {});
    const why = (e: Entry) => foreignEntries([e], l)[0]?.why;

    it('accepts everything an install under the layout writes, with any OCF root for the agent links', () => {
      const genuine: Entry[] = [
        { kind: 'dir', path: '/opt' },
        { kind: 'dir', path: '/opt/x/sbin' },
        { kind: 'dir', path: '/opt/x/lib/ocf/resource.d/heartbeat' },
        { kind: 'dir', path: '/opt/x/share/lvskit/replaced' },
        { kind: 'file', path: '/opt/x/sbin/lvskit', sha256: SHA_A },
        { kind: 'file', path: '/opt/x/lib/systemd/system/lvsd.service', sha256: SHA_B },
        { kind: 'symlink', path: '/opt/x/lib/ocf/resource.d/heartbeat/lvs', target: '/opt/x/sbin/lvskit' },
        { kind: 'symlink', path: '/opt/x/sbin/ldirectord', target: '/opt/x/sbin/lvskit' },
        // Installed with OCF_ROOT=/srv/ocf, uninstalled without it.
        { kind: 'symlink', path: '/srv/ocf/resource.d/heartbeat/lvsd', target: '/opt/x/sbin/lvskit' },
        { kind: 'dir', path: '/srv/ocf/resource.d' },
        { kind: 'replaced', path: '/opt/x/lib/ocf/resource.d/heartbeat/lvs', backup: '/opt/x/share/lvskit/replaced/2-lvs' },
      ];
      assert.deepEqual(foreignEntries(genuine, l), []);
    });

    it('refuses files, links, saved copies and directories install never makes, naming the line', () => {
      assert.deepEqual(foreignEntries([{ kind: 'file', path: '/etc/shadow', sha256: SHA_A }], l), [
        { line: `file\t/etc/shadow\tsha256:${SHA_A}`, why: 'install puts no file there (only /opt/x/sbin/lvskit and its units in /opt/x/lib/systemd/system)' },
      ]);
      for (const e of [
        { kind: 'file', path: '/opt/x/sbin/other', sha256: SHA_A },
        { kind: 'file', path: '/opt/x/lib/systemd/system/ssh.service', sha256: SHA_A },
        { kind: 'file', path: '/opt/x/sbin/../../../etc/shadow', sha256: SHA_A },
        { kind: 'file', path: '/opt/x/sbin/lvskit/', sha256: SHA_A },
        { kind: 'symlink', path: '/opt/x/sbin/lvskit', target: '/opt/x/sbin/lvskit' },
        { kind: 'symlink', path: '/opt/x/lib/ocf/resource.d/heartbeat/lvs', target: '/etc/passwd' },
        { kind: 'symlink', path: '/etc/lvs', target: '/opt/x/sbin/lvskit' },
        { kind: 'symlink', path: '/resource.d/heartbeat/lvs', target: '/opt/x/sbin/lvskit' },
        { kind: 'replaced', path: '/etc/passwd', backup: '/opt/x/share/lvskit/replaced/1-passwd' },
        { kind: 'replaced', path: '/opt/x/sbin/lvskit', backup: '/tmp/planted' },
        { kind: 'replaced', path: '/opt/x/sbin/lvskit', backup: '/opt/x/share/lvskit/replaced/1-other' },
        { kind: 'dir', path: '/etc/ssh' },
        { kind: 'dir', path: '/' },
        { kind: 'dir', path: '/opt/x/sbin/sub' },
      ] as Entry[]) {
        assert.ok(why(e), JSON.stringify(e));
      }
    });
  });
});

