/**
 * `pktpath diagnose -- CMD` with process-tree capture, end to end through the CLI and with
 * no -H/-P filter: the report holds the command's flow before and after a DNAT router
 * (both directions) and nothing of another process's flows to the same server at the same
 * time; a refused connect gives the no-listener verdict; the report counts what the
 * command's tree opened; an unknown command is one line and exit 2 before anything loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRoot, runCli } from '../helpers/netns.js';
import { withRouted } from '../helpers/routed.js';
import type { Routed } from '../helpers/routed.js';
import { sleep } from '../helpers/collect.js';
import { PARALLEL_UNTIL_PY, startServer, trackReady } from '../helpers/http.js';
import type { FlowReport, Report } from '../../src/diagnose/index.js';

const ready = trackReady;

/** The router sends what comes to its client-side address, port 80, to the server's 8080. */
async function dnat(r: Routed): Promise<void> {
  await r.sh('rtr', `nft -f - <<'EOF'
table ip ppdiag {
  chain pre { type nat hook prerouting priority dstnat; ip daddr ${r.addr.rtrC} tcp dport 80 dnat to ${r.addr.srv}:8080; }
}
EOF`);
}

/** The flow's two endpoints as "addr:port" strings. */
const ends = (f: FlowReport): string[] => [f.a, f.b];
const portOf = (end: string): number => Number(end.slice(end.lastIndexOf(':') + 1));

test('diagnose -- curl through DNAT, no filter: the command\'s flow before and after NAT, both directions, nothing of a parallel flow to the same server', { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  await withRouted('dtk', async (r) => {
    await dnat(r);
    await startServer(r, 8080, 60);
    const dir = mkdtempSync(join(tmpdir(), 'pp-dtk-'));
    const flag = join(dir, 'stop');
    try {
      // another process of the client's namespace talks to the same address and port all along
      const parallel = r.run('cli', ['python3', '-c', PARALLEL_UNTIL_PY(r.addr.rtrC, 80, flag, 300, 100)], { timeoutMs: 60_000, allowFail: true });
      await sleep(500);
      const run = await runCli(['diagnose', '--json', '--grace', '500ms', '--', 'ip', 'netns', 'exec', r.ns.cli, 'curl', '-sS', '-m', '3', '-w', '%{http_code}\\n', `http://${r.addr.rtrC}/`], 60_000);
      writeFileSync(flag, '');
      const par = (await parallel).stdout.trim().split('\n');
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /^hello\n200$/m, 'curl\'s own output, on stderr (stdout is the report)');
      assert.match(run.stderr, /curl .* exited with status 0/);
      const parallelPorts = par.filter((l) => /^\d+$/.test(l)).map(Number);
      assert.ok(parallelPorts.length >= 10 && !par.includes('gave up'), `the parallel flows ran all along (positive control): ${par.slice(-3).join(' | ')}`);

      const rep = JSON.parse(run.stdout) as Report;
      const tcp = rep.flows.filter((f) => f.proto === 'tcp');
      const vip = tcp.find((f) => ends(f).includes(`${r.addr.rtrC}:80`));
      const real = tcp.find((f) => ends(f).includes(`${r.addr.srv}:8080`));
      assert.ok(vip && real, `the flow to the VIP and its translation: ${tcp.map((f) => `${f.a} ${f.b}`).join(', ')}`);
      const client = (f: FlowReport): string => ends(f).find((e) => e.startsWith(`${r.addr.cli}:`)) ?? '';
      const port = portOf(client(vip));
      assert.ok(port > 0 && client(real) === client(vip), `one client port before and after NAT: ${client(vip)}, ${client(real)}`);
      assert.ok(!parallelPorts.includes(port), 'the command\'s port is not the parallel one\'s');
      // the wire as tcpdump would see it: the request to the VIP in the client, the translated flow's replies in the server
      // (a packet is told in the flow its life began in, so the report does not split each side's packets by tuple)
      assert.ok(vip.tcpdump.some((v) => v.netns === r.inode.cli && v.seen[0] > 0), `the client sends to the VIP: ${JSON.stringify(vip.tcpdump)}`);
      assert.ok(real.tcpdump.some((v) => v.netns === r.inode.srv && v.seen[0] + v.seen[1] > 0), `the translated flow in the server: ${JSON.stringify(real.tcpdump)}`);
      assert.ok(vip.packets > 0 && real.packets > 0 && vip.events + real.events >= 20, `${vip.events} + ${real.events} events`);
      const foreign = rep.flows.filter((f) => f !== vip && f !== real);
      assert.deepEqual(foreign.map((f) => `${f.proto} ${f.a} ${f.b}`), [], 'nothing of another flow');
      assert.ok(rep.findings.every((f) => f.flowId === null || f.flowId === vip.id || f.flowId === real.id), JSON.stringify(rep.findings.map((f) => f.flow)));
      const tr = rep.inputs.tracked;
      assert.ok(tr && tr.flows >= 2 && tr.sockets >= 1, `process-tree capture counts: ${JSON.stringify(tr)}`);
      assert.equal(tr.untracked, 0);
    } finally {
      writeFileSync(flag, '');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('diagnose -- curl to a closed port through the router, no filter: the no-listener verdict in the text report, with the process-tree line', { timeout: 90_000 }, async (t) => {
  if (!ready(t)) return;
  await withRouted('dtk', async (r) => {
    const port = 23000 + (process.pid % 1000);
    const run = await runCli(['diagnose', '--grace', '500ms', '--', 'ip', 'netns', 'exec', r.ns.cli, 'curl', '-sS', '-m', '3', `http://${r.addr.srv}:${port}/`], 60_000);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /curl: \(7\)/, 'curl\'s own error message');
    assert.match(run.stderr, /curl .* exited with status 7/);
    assert.match(run.stdout, new RegExp(`^verdict: connection refused: nothing listens on ${r.addr.srv.replace(/\./g, '\\.')}:${port}/tcp in netns ${r.ns.srv}`, 'm'), run.stdout);
    assert.match(run.stdout, /^ 1\. \[error\] tcp\.no-listener: /m);
    assert.match(run.stdout, new RegExp(`where: netns ${r.ns.srv} \\(${r.inode.srv}\\)`));
    assert.match(run.stdout, /^process-tree capture: [1-9]\d* flows, [1-9]\d* sockets, 0 child processes$/m);
  });
});

test('diagnose -- an unknown command: one line, exit 2, before anything is loaded', { timeout: 30_000 }, async (t) => {
  if (!requireRoot(t)) return;
  for (const [cmd, re] of [['pp-no-such-command', /^pktpath: command not found: pp-no-such-command$/], ['/no/such/program', /^pktpath: cannot run \/no\/such\/program: not an executable file$/]] as const) {
    const run = await runCli(['diagnose', '--', cmd, 'x'], 20_000);
    assert.equal(run.code, 2, run.stderr);
    assert.deepEqual(run.stderr.trim().split('\n'), [run.stderr.trim()], 'one line');
    assert.match(run.stderr.trim(), re);
    assert.doesNotMatch(run.stderr, /ready|tracing/, 'nothing loaded');
  }
});
