import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../shared/errors.js';
import { currentNetns, netnsNames, resolveNetns } from './netns.js';

const self = statSync('/proc/self/ns/net').ino;

function withTmpRunDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'pktpath-netns-'));
  try {
    symlinkSync('/proc/self/ns/net', join(dir, 'me'));
    writeFileSync(join(dir, 'plain'), 'not a namespace');
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('currentNetns', () => {
  assert.equal(currentNetns(), self);
});

test('resolveNetns accepts', () => {
  withTmpRunDir((dir) => {
    const cases: [string, number][] = [
      ['4026531992', 4026531992],
      ['1', 1],
      ['4294967295', 4294967295],
      ['/proc/self/ns/net', self],
      ['me', self], // a name under the run dir
      [join(dir, 'me'), self],
    ];
    for (const [spec, want] of cases) assert.equal(resolveNetns(spec, dir), want, spec);
  });
});

test('resolveNetns rejects', () => {
  withTmpRunDir((dir) => {
    const unknown = (s: string) => `unknown network namespace "${s}": not an inode, not a name under ${dir}, not a path`;
    const cases: [string, string][] = [
      ['0', 'invalid --netns "0": an inode must be 1-4294967295'],
      ['4294967296', 'invalid --netns "4294967296": an inode must be 1-4294967295'],
      ['nosuchns', unknown('nosuchns')],
      ['12abc', unknown('12abc')],
      ['', unknown('')],
      ['..', unknown('..')],
      ['/nonexistent/ns', unknown('/nonexistent/ns')],
      ['plain', `invalid --netns "plain": ${join(dir, 'plain')} is not a namespace file (see ip netns, /proc/PID/ns/net)`],
      ['/etc/hostname', 'invalid --netns "/etc/hostname": /etc/hostname is not a namespace file (see ip netns, /proc/PID/ns/net)'],
    ];
    for (const [spec, message] of cases) {
      assert.throws(() => resolveNetns(spec, dir), (e: unknown) => {
        assert.ok(e instanceof UsageError, spec);
        assert.equal(e.message, message);
        assert.equal(e.exitCode, 2);
        return true;
      });
    }
  });
  // the default directory appears in the message
  assert.throws(() => resolveNetns('pktpath-surely-missing'), {
    message: 'unknown network namespace "pktpath-surely-missing": not an inode, not a name under /run/netns, not a path',
  });
});

test('netnsNames', () => {
  assert.deepEqual(netnsNames('/nonexistent/run/netns'), new Map());
  withTmpRunDir((dir) => {
    symlinkSync('/proc/self/ns/net', join(dir, 'alias')); // same inode: first name in sorted order wins
    assert.deepEqual(netnsNames(dir), new Map([[self, 'alias']]));
  });
});

test('a real named namespace (root only)', (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('not root: cannot run "ip netns add"');
    return;
  }
  const name = `pktpath-t-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
  } catch (e) {
    t.skip(`"ip netns add" failed here: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`);
    return;
  }
  try {
    const ino = resolveNetns(name);
    assert.equal(ino, statSync(`/run/netns/${name}`).ino);
    assert.notEqual(ino, currentNetns());
    assert.equal(resolveNetns(`/run/netns/${name}`), ino);
    assert.equal(resolveNetns(String(ino)), ino);
    assert.equal(netnsNames().get(ino), name);
    const inside = execFileSync('ip', ['netns', 'exec', name, 'stat', '-L', '-c', '%i', '/proc/self/ns/net'], { encoding: 'utf8' });
    assert.equal(Number(inside.trim()), ino);
  } finally {
    execFileSync('ip', ['netns', 'delete', name], { stdio: 'pipe' });
  }
  assert.ok(![...netnsNames().values()].includes(name), 'namespace deleted');
});
