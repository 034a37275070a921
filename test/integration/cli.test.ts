/**
 * The command line itself: `pktpath --version` names pktpath's version, the libbpf the
 * addon runs with (checked against the installed package), and the running kernel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { release } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, requireRoot, runCli } from '../helpers/netns.js';

/** major.minor of the installed libbpf package (Debian: "1:1.1.2-0+deb12u1" -> "1.1"), or null. */
function installedLibbpf(): string | null {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'libbpf1'], { encoding: 'utf8' });
  const m = /^(?:\d+:)?(\d+\.\d+)/.exec(r.stdout ?? '');
  return r.status === 0 && m ? m[1]! : null;
}

test('pktpath --version and -V: pktpath, libbpf and kernel versions, exit 0', async (t) => {
  if (!requireRoot(t, { root: false, btf: false, netns: false, bpfObject: false })) return;
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = await runCli([flag]);
    assert.equal(r.code, 0, `${flag}: ${r.stderr}`);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    assert.equal(lines[0], `pktpath ${pkg.version}`);
    assert.match(lines[1]!, /^libbpf \d+\.\d+$/);
    const lib = installedLibbpf();
    if (lib) assert.equal(lines[1], `libbpf ${lib}`);
    else t.diagnostic('libbpf1 package version unknown (no dpkg): only the form is checked');
    assert.equal(lines[2], `kernel ${release()}`);
  }
});
