import assert from 'node:assert/strict';
import { changelog, changelogDate, copyrightStanza, deb822Text, debianVersion, fillTemplate, installedSizeKiB, shlibsDepends } from '../../../src/install/debian';

describe('install/debian', () => {
  it('turns package.json versions into native Debian versions that sort the same way', () => {
    assert.equal(debianVersion('0.1.0'), '0.1.0');
    assert.equal(debianVersion('1.2.3-rc.1'), '1.2.3~rc.1');
    assert.equal(debianVersion('1.2.3-beta-2+git.abc'), '1.2.3~beta.2+git.abc');
    for (const v of ['1.2', 'v1.2.3', '1.2.3 ', '']) assert.throws(() => debianVersion(v), /not semver/, v);
  });

  it('fills templates exactly: no placeholder left, no value lost', () => {
    assert.equal(fillTemplate('Version: @VERSION@\n', { VERSION: '1' }), 'Version: 1\n');
    assert.throws(() => fillTemplate('@A@ @B@', { A: '1' }), /@B@/);
    assert.throws(() => fillTemplate('@A@', { A: '1', C: '2' }), /C/);
  });

  it('takes the library dependencies from dpkg-shlibdeps', () => {
    assert.equal(shlibsDepends('shlibs:Depends=libc6 (>= 2.34), libstdc++6 (>= 10.2)\n'), 'libc6 (>= 2.34), libstdc++6 (>= 10.2)');
    assert.throws(() => shlibsDepends('dpkg-shlibdeps: error: x'), /no shlibs:Depends/);
  });

  it('counts Installed-Size in KiB per file, as dpkg does', () => {
    assert.equal(installedSizeKiB([{ size: 1, type: 'file' }, { size: 1025, type: 'file' }, { size: 0, type: 'symlink' }, { size: 0, type: 'dir' }]), 5);
  });

  it("writes a changelog entry in Debian's format", () => {
    assert.equal(changelogDate(0), 'Thu, 01 Jan 1970 00:00:00 +0000');
    const text = changelog({ version: '0.1.0', maintainer: 'M <m@example.org>', epochSeconds: 1_795_000_000, changes: ['First.'] });
    assert.match(text, /^lvskit \(0\.1\.0\) unstable; urgency=medium\n\n {2}\* First\.\n\n -- M <m@example\.org> {2}\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\n$/);
  });

  it('folds licence texts into copyright-format stanzas', () => {
    assert.equal(deb822Text('a\n\n\tb  \n'), ' a\n .\n         b');
    const stanza = copyrightStanza({ files: 'node_modules/x/*', name: 'x 1.0', license: 'Expat', licenseText: 'MIT License\n\nCopyright (c) 2020 Someone\n\nPermission...\n' });
    assert.equal(stanza, 'Files: node_modules/x/*\nComment: x 1.0\nCopyright: Copyright (c) 2020 Someone\nLicense: Expat\n MIT License\n .\n Copyright (c) 2020 Someone\n .\n Permission...');
  });
});
