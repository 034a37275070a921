/**
 * The command line itself: `pktpath --version` names pktpath's version, the libbpf the
 * addon runs with (checked against the installed package), and the running kernel; a
 * second SIGINT ends a run at once and still removes pktpath's nft table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { release } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, execSyncIn, requireRoot, runCli, spawnTrace, whileTracing, withTopology } from '../helpers/netns.js';

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

test('a second SIGINT exits at once (130) and still removes the nft table of --iptable', { timeout: 60_000 }, async (t) => {
  if (!requireRoot(t, { commands: ['nft'] })) return;
  await withTopology(
    async (topo) => {
      const trace = await spawnTrace(['--iptable', '--verbose', '-N', topo.client.ns, '-H', topo.server.v4]);
      // other runs with --iptable and no -N put tables of their own in every namespace
      const ours = (): string[] => execSyncIn(topo.client.ns, ['nft', 'list', 'tables']).split('\n').filter((l) => l.includes(`pktpath_${trace.pid}`));
      const res = await whileTracing(trace, async () => {
        assert.equal(ours().length, 1, 'the run traces with a table of its own');
        process.kill(trace.pid!, 'SIGINT');
        // the second once the first is being handled (two at once may arrive as one)
        for (let i = 0; i < 200 && !/SIGINT: stopping/.test(trace.stderr()); i++) await new Promise((r) => setTimeout(r, 10));
        process.kill(trace.pid!, 'SIGINT');
        await trace.waitForExit(20_000);
      });
      assert.equal(res.code, 130, `exit code after two SIGINTs; stderr:\n${res.stderr}`);
      assert.match(res.stderr, /SIGINT again: exiting now/);
      assert.deepEqual(ours(), [], 'no table of this run left');
    },
    { tag: 'sigtwice' },
  );
});
