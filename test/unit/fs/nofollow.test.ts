import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNoFollow, writeNoFollow } from '../../../src/fs/nofollow';

describe('fs/nofollow: state files of root processes', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lvskit-nofollow-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('never writes through a link planted at the temporary name, nor at the file itself', () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const path = join(dir, 'state.json');
    symlinkSync(victim, `${path}.${process.pid}.tmp`);
    symlinkSync(victim, path);
    writeNoFollow(path, '{"saved":{}}');
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.ok(lstatSync(path).isFile(), 'the link at the file was replaced by a regular file');
    assert.equal(readFileSync(path, 'utf8'), '{"saved":{}}');
  });

  it('refuses to read through a link, and says a missing file is missing', () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'secret');
    symlinkSync(victim, join(dir, 'link'));
    assert.throws(() => readNoFollow(join(dir, 'link')), /symbolic link/);
    assert.equal(readNoFollow(join(dir, 'absent')), undefined);
  });
});
