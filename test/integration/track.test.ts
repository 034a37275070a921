/**
 * Process-tree flow capture (`pktpath diagnose -- CMD`, bpf/track.h) on real traffic in
 * namespaces: a command's flows are traced in both directions and in every namespace,
 * including what a DNAT router turns them into, and nothing of a flow another process
 * opens to the same server at the same time; its children are tracked; its output and
 * exit code are its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { haveCommand } from '../helpers/netns.js';
import { withRouted } from '../helpers/routed.js';
import type { Routed } from '../helpers/routed.js';
import { between, collect, sleep, tupleText } from '../helpers/collect.js';
import { PARALLEL_PY, startServer, trackReady } from '../helpers/http.js';
import type { Ev } from '../helpers/collect.js';
import { trackCommand } from '../../src/track/io/command.js';
import type { TrackedCommand } from '../../src/track/io/command.js';
import { configValues, parseTraceOptions } from '../../src/cli/options.js';
import { runRequest } from '../../src/cli/request.js';
import { runTrace } from '../../src/run/io/session.js';
import { loadTrace } from '../../src/engine/io/loader.js';

const SYN = 0x02;
const ACK = 0x10;

const ready = trackReady;

/** Reads a piped stream to the end. */
function text(s: NodeJS.ReadableStream | null): Promise<string> {
  if (!s) return Promise.resolve('');
  let out = '';
  s.setEncoding('utf8');
  s.on('data', (d: string) => (out += d));
  return new Promise((resolve) => s.on('end', () => resolve(out)));
}

/** The client ports of the SYNs `addr` sent, as seen in its own namespace. */
function synPorts(evs: readonly Ev[], netns: number, addr: string): Set<number> {
  return new Set(evs.filter((e) => e.netns === netns && e.t?.saddr === addr && e.t.flags === SYN).map((e) => e.t!.sport));
}

test('a command through DNAT: both directions, the translated flow and its replies, nothing of a parallel flow to the same server', { timeout: 60_000 }, async (t) => {
  if (!ready(t)) return;
  await withRouted('trk', async (r) => {
    await r.sh('rtr', `nft -f - <<'EOF'
table ip pptrack {
  chain pre { type nat hook prerouting priority dstnat; ip daddr ${r.addr.rtrC} tcp dport 80 dnat to ${r.addr.srv}:8080; }
}
EOF`);
    const c = collect({}, { track: true, evidence: true });
    try {
      await startServer(r, 8080, 30); // after the load: loading takes long in a TCG guest
      // another process of the same namespace talks to the same address and port all along
      const parallel = r.run('cli', ['python3', '-c', PARALLEL_PY(r.addr.rtrC, 80, 12, 120)], { timeoutMs: 20_000 });
      await sleep(300);
      const cmd = await trackCommand(['ip', 'netns', 'exec', r.ns.cli, 'curl', '-sS', '-m', '5', '-w', '%{http_code}\\n', `http://${r.addr.rtrC}/`], {
        register: (pid) => c.trace.tracker!.track(pid),
        stdio: 'pipe',
        user: null,
      });
      const [out, err, exit] = await Promise.all([text(cmd.stdout), text(cmd.stderr), cmd.exited]);
      const par = (await parallel).stdout.trim().split('\n');
      await sleep(300);
      const counts = c.trace.tracker!.counts();
      const evs = await c.stop();
      assert.deepEqual(exit, { code: 0, signal: null }, `curl: ${err}`);
      assert.equal(out, 'hello\n200\n', 'the command\'s own output, untouched');

      const ports = synPorts(evs, r.inode.cli, r.addr.cli);
      assert.equal(ports.size, 1, `one flow of the command: ${[...ports].join(', ')}`);
      const p = [...ports][0]!;
      const parallelPorts = par.filter((l) => /^\d+$/.test(l)).map(Number);
      assert.ok(parallelPorts.length >= 8, `the parallel flows ran (positive control): ${par.join(' | ')}`);
      assert.ok(!parallelPorts.includes(p));

      const has = (ns: number, from: string, fp: number, to: string, tp: number): boolean =>
        evs.some((e) => e.netns === ns && e.t?.saddr === from && e.t.sport === fp && e.t.daddr === to && e.t.dport === tp);
      assert.ok(has(r.inode.cli, r.addr.cli, p, r.addr.rtrC, 80), 'client -> VIP, in the client');
      assert.ok(has(r.inode.cli, r.addr.rtrC, 80, r.addr.cli, p), 'VIP -> client, in the client');
      assert.ok(has(r.inode.srv, r.addr.cli, p, r.addr.srv, 8080), 'the translated flow in the server');
      assert.ok(has(r.inode.srv, r.addr.srv, 8080, r.addr.cli, p), 'the translated replies in the server');
      assert.ok(has(r.inode.rtr, r.addr.srv, 8080, r.addr.cli, p), 'the translated replies reaching the router, before un-NAT');
      assert.ok(evs.some((e) => e.netns === r.inode.srv && e.t?.flags === (SYN | ACK)), 'the server\'s SYN-ACK');

      // every event with a packet belongs to the command's flow, before or after NAT (its
      // socket's SYN_SENT comes before connect() picks the port: told by the process)
      const connecting = (e: Ev): boolean => e.probe === 'inet_sock_set_state' && e.t?.sport === 0 && e.pid === cmd.pid;
      const ours = (e: Ev): boolean => between(e.t, r.addr.cli, p, r.addr.rtrC, 80) || between(e.t, r.addr.cli, p, r.addr.srv, 8080) || connecting(e);
      const foreign = evs.filter((e) => e.t && e.t.proto === 6 && !ours(e));
      assert.deepEqual(foreign.map((e) => `${e.probe} ${tupleText(e.t)} pid ${e.pid}`), [], 'nothing of another flow');
      assert.ok(counts.flows >= 2, `the flow and its translation joined: ${JSON.stringify(counts)}`);
    } finally {
      await c.stop();
    }
  });
});

test('children and grandchildren of the command are tracked; its pid is the one tracked; its exit code and stderr are its own', { timeout: 60_000 }, async (t) => {
  if (!ready(t)) return;
  await withRouted('trk', async (r) => {
    const c = collect({}, { track: true });
    const tracked: number[] = [];
    let cmd: TrackedCommand | undefined;
    try {
      await startServer(r, 8080, 30);
      const url = `http://${r.addr.srv}:8080/`;
      const line = `echo pid $$; curl -sS -m 5 -o /dev/null ${url}; sh -c 'curl -sS -m 5 ${url}'; echo to-stderr >&2; exit 7`;
      cmd = await trackCommand(['ip', 'netns', 'exec', r.ns.cli, 'sh', '-c', line], {
        register: (pid) => (tracked.push(pid), c.trace.tracker!.track(pid)),
        stdio: 'pipe',
        user: null,
      });
      const [out, err, exit] = await Promise.all([text(cmd.stdout), text(cmd.stderr), cmd.exited]);
      await sleep(300);
      const counts = c.trace.tracker!.counts();
      const evs = await c.stop();
      assert.deepEqual(exit, { code: 7, signal: null });
      assert.equal(err, 'to-stderr\n');
      assert.equal(out, `pid ${cmd.pid}\nhello\n`, 'the shell runs in the shim\'s place: the tracked pid is the command\'s');
      assert.deepEqual(tracked, [cmd.pid]);
      const ports = synPorts(evs, r.inode.cli, r.addr.cli);
      assert.equal(ports.size, 2, `both curls' flows (a child and a grandchild of the shell): ${[...ports].join(', ')}`);
      for (const p of ports) {
        assert.ok(evs.some((e) => e.netns === r.inode.srv && e.t?.sport === 8080 && e.t.dport === p), `the server's replies to port ${p}`);
      }
      assert.ok(counts.forks >= 2, JSON.stringify(counts));
    } finally {
      cmd?.kill('SIGKILL');
      await c.stop();
    }
  });
});

test('the run session: RunRequest.track hands the tracker over when ready, the events are the command\'s flow only', { timeout: 60_000 }, async (t) => {
  if (!ready(t)) return;
  await withRouted('trk', async (r) => {
    await startServer(r, 8080, 60); // the run loads its probes after this
    const lines: string[] = [];
    const out = new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)), cb()) });
    const errs: string[] = [];
    const err = new Writable({ write: (chunk: Buffer, _e, cb) => (errs.push(chunk.toString('utf8')), cb()) });
    let done: () => void = () => {};
    const until = new Promise<void>((resolve) => (done = resolve));
    let exit: Promise<unknown> | undefined;
    // filters still apply: only the command's flows to port 8080 join (its flow to 9 is left out)
    const req = runRequest(parseTraceOptions({ json: true, port: '8080' }), { track: true, evidence: true });
    const url = `http://${r.addr.srv}:8080/`;
    const summary = await runTrace(req, {
      out,
      err,
      until,
      onReady: ({ tracker }) => {
        const line = `curl -sS -m 2 -o /dev/null http://${r.addr.srv}:9/; curl -sS -m 5 -o /dev/null ${url}`;
        exit = trackCommand(['ip', 'netns', 'exec', r.ns.cli, 'sh', '-c', line], { register: (pid) => tracker!.track(pid), stdio: 'pipe', user: null })
          .then((cmd) => cmd.exited)
          .finally(() => setTimeout(done, 300));
      },
    });
    assert.ok(exit, 'onReady ran');
    await exit;
    const evs = lines.map((l) => JSON.parse(l) as { probe: string; tuple: { sport: number; dport: number } | null });
    assert.ok(evs.length > 5, `events: ${evs.length}; ${errs.join('')}`);
    const tcp = evs.filter((e) => e.tuple && (e.tuple.sport === 8080 || e.tuple.dport === 8080));
    assert.ok(tcp.length > 5, 'the flow to 8080');
    assert.deepEqual(evs.filter((e) => e.tuple && (e.tuple.sport === 9 || e.tuple.dport === 9)).map((e) => e.probe), [], 'the flow the filter leaves out');
    assert.ok(summary.tracked && summary.tracked.flows >= 1 && summary.tracked.sockets >= 1, JSON.stringify(summary.tracked));
  });
});

test('task context only: the ICMP error the stack sends from softirq while the command runs does not make the error socket the command\'s', { timeout: 60_000 }, async (t) => {
  if (!ready(t) || !haveCommand('nc') || !haveCommand('taskset')) return t.skip('needs nc and taskset');
  await withRouted('trk', async (r) => {
    // one CPU: the server's ICMP errors are made in the softirq the sender's own send runs
    const udp = (port: number): string[] => ['taskset', '-c', '0', 'ip', 'netns', 'exec', r.ns.cli, 'sh', '-c', `echo x | nc -u -w 1 ${r.addr.srv} ${port}`];
    await r.run('cli', ['ping', '-c', '1', '-W', '1', r.addr.srv]); // neighbours resolved: the send runs through at once
    const c = collect({}, { track: true });
    try {
      const cmd = await trackCommand(udp(4000), { register: (pid) => c.trace.tracker!.track(pid), stdio: 'pipe', user: null });
      await cmd.exited;
      const other = await trackCommand(udp(4001), { register: () => undefined, stdio: 'pipe', user: null }); // not tracked
      await other.exited;
      await sleep(300);
    } finally {
      await c.stop();
    }
    const evs = c.events();
    const errors = evs.filter((e) => e.t?.proto === 1 && e.t.saddr === r.addr.srv);
    assert.ok(errors.some((e) => e.related && e.inner?.dport === 4000), 'the error about the command\'s datagram, tied to it by its quoted header');
    assert.ok(evs.some((e) => e.t?.proto === 17 && e.t.dport === 4000), 'the command\'s datagram');
    const leaked = evs.filter((e) => e.t?.dport === 4001 || e.inner?.dport === 4001);
    assert.deepEqual(leaked.map((e) => `${e.probe} ${tupleText(e.t)}`), [], 'nothing of the other process\'s datagram or its error');
  });
});

test('a ping: its first echo request, sent in task context, brings the reply along', { timeout: 60_000 }, async (t) => {
  if (!ready(t)) return;
  await withRouted('trk', async (r) => {
    await r.run('cli', ['ping', '-c', '1', '-W', '1', r.addr.srv]); // neighbours resolved: the request leaves inside sendmsg
    const c = collect({}, { track: true });
    try {
      const cmd = await trackCommand(['ip', 'netns', 'exec', r.ns.cli, 'ping', '-c', '1', '-W', '2', r.addr.srv], { register: (pid) => c.trace.tracker!.track(pid), stdio: 'pipe', user: null });
      assert.equal((await cmd.exited).code, 0);
      await sleep(200);
    } finally {
      await c.stop();
    }
    const evs = c.events().filter((e) => e.t?.proto === 1);
    const at = (ns: number, from: string, type: number): boolean => evs.some((e) => e.netns === ns && e.t?.saddr === from && e.t.icmpType === type);
    assert.ok(at(r.inode.cli, r.addr.cli, 8), 'the request, in the client');
    assert.ok(at(r.inode.srv, r.addr.srv, 0), 'the reply, in the server');
    assert.ok(at(r.inode.cli, r.addr.srv, 0), 'the reply, back in the client');
  });
});

test('every probe loads in the flavour the kernel offers, tracking or not, with each kind of filter: tp_btf, raw_tp when forced (no silent fallback); only what the kernel lacks is skipped', { timeout: 120_000 }, (t) => {
  if (!ready(t)) return;
  const filters: Parameters<typeof parseTraceOptions>[0][] = [{}, { ipaddr: 'fd00::1', port: '80', proto: 'tcp' }, { ipaddr: '10.0.0.1', mark: '0x1', ifname: 'lo', icmpid: '7' }];
  for (const raw of filters) {
    for (const track of [false, true]) {
      for (const forceRaw of [false, true]) {
        const what = `${JSON.stringify(raw)} track=${track} forceRaw=${forceRaw}`;
        const trace = loadTrace(configValues(parseTraceOptions(raw)), { ringBytes: 1 << 20, track, evidence: true, observers: true, forceRaw });
        try {
          const want = forceRaw ? 'raw_tp' : 'tp_btf';
          // what this kernel lacks is skipped, with the reason (an older kernel: sk_data_ready before 6.3)
          const lacking = (reason = ''): boolean => /not in this kernel|and this kernel has no/.test(reason);
          const other = trace.probes.filter((p) => (p.attached ? p.via !== want : !lacking(p.reason)));
          assert.deepEqual(other.map((p) => `${p.probe}: ${p.via ?? p.reason}`), [], what);
          assert.equal(trace.tracker !== undefined, track, what);
        } finally {
          trace.close();
        }
      }
    }
  }
});
