/**
 * The evidence probes (bpf/evidence.h) fire in the cases they are for, on real traffic in
 * namespaces: XDP frames a veth cannot hand to a peer without an XDP program (seed 004),
 * an aborting XDP program, SYNs retransmitted to a silent host until connect() gives up,
 * a listener's full accept queue, and SYN-ACKs resent when the final ACK never comes.
 * Each case has its control: the same setup made right makes the event go away.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { haveCommand, REPO_ROOT, requireRoot, spawnTrace } from '../helpers/netns.js';
import { withRouted } from '../helpers/routed.js';
import type { Routed } from '../helpers/routed.js';
import { collect, sleep, tupleText } from '../helpers/collect.js';
import type { Ev } from '../helpers/collect.js';
import { trackCommand } from '../../src/track/io/command.js';
import { configValues, parseTraceOptions } from '../../src/cli/options.js';

const ETIMEDOUT = 110;
const EOPNOTSUPP = 95;
const xdpObject = (verdict: string): string => join(REPO_ROOT, 'build', `xdp-${verdict}.bpf.o`);

function ready(t: TestContext, commands: readonly string[] = []): boolean {
  if (!requireRoot(t)) return false;
  for (const c of commands) {
    if (!haveCommand(c)) {
      t.skip(`needs ${c}`);
      return false;
    }
  }
  return true;
}

/** The trace fields of these trace options (the run's filter), namespace resolved. */
const fields = (raw: Parameters<typeof parseTraceOptions>[0], netns = 0): object => configValues(parseTraceOptions(raw), netns);

/** Puts the XDP program of this verdict on a device (in place of the one there), or none. */
async function xdp(r: Routed, role: 'cli' | 'rtr', dev: string, verdict: string | null): Promise<void> {
  await r.run(role, ['ip', 'link', 'set', 'dev', dev, 'xdp', 'off']);
  if (verdict) await r.run(role, ['ip', 'link', 'set', 'dev', dev, 'xdp', 'obj', xdpObject(verdict), 'sec', 'xdp']);
}

/** One nft base chain with one rule, in a table of its own in the namespace. */
const nftRule = (r: Routed, role: 'cli' | 'srv', table: string, hook: 'input' | 'output', rule: string): Promise<unknown> =>
  r.sh(role, `nft add table inet ${table} && nft add chain inet ${table} c '{ type filter hook ${hook} priority 0; }' && nft add rule inet ${table} c ${rule}`);

/** Events of `probe` in the router, after a few pings from the client to the router. */
async function xdpEvents(r: Routed, probes: readonly string[]): Promise<Ev[]> {
  const c = collect(fields({}, r.inode.rtr), { evidence: true, only: [...probes] });
  try {
    await r.run('cli', ['ping', '-c', '3', '-i', '0.2', '-W', '1', r.addr.rtrC], { allowFail: true });
    await sleep(200);
  } finally {
    await c.stop();
  }
  return c.events().filter((e) => probes.includes(e.probe));
}

test('XDP_REDIRECT to a veth whose peer has no XDP program: the redirect fails or the frames are dropped; an XDP program on the peer fixes it (seed 004)', { timeout: 60_000 }, async (t) => {
  if (!ready(t, ['ping'])) return;
  if (!existsSync(xdpObject('back'))) return t.skip('build/xdp-back.bpf.o not built (make)');
  await withRouted('xdp', async (r) => {
    // the router's XDP program sends every frame from the client back out towards it
    await xdp(r, 'rtr', r.dev.rtrC, 'back');
    const probes = ['xdp_redirect_err', 'xdp_devmap_xmit'];
    const bad = await xdpEvents(r, probes);
    const rtrC = r.ifindex('rtr', r.dev.rtrC);
    // 6.3+: the veth refuses at the redirect (no NDO_XMIT without a peer program); before: the bulk is dropped
    const refused = bad.filter((e) => e.probe === 'xdp_redirect_err' && e.ifname === r.dev.rtrC && e.aux === -EOPNOTSUPP);
    const dropped = bad.filter((e) => e.probe === 'xdp_devmap_xmit' && e.ifindex === rtrC && e.aux3 > 0);
    assert.ok(refused.length + dropped.length >= 1, `events: ${JSON.stringify(bad)}`);
    for (const e of refused) if (e.aux2) assert.equal(e.aux2, rtrC, 'the redirect target: the device itself');
    assert.ok(bad.every((e) => e.netns === r.inode.rtr), 'only the traced namespace');

    await xdp(r, 'cli', r.dev.cli, 'pass');
    const good = await xdpEvents(r, probes);
    assert.deepEqual(good.map((e) => `${e.probe} ${e.ifname} err ${e.aux}`), [], 'with a program on the peer, nothing fails');
  });
});

test('XDP_TX on a veth whose peer has no XDP program: xdp_bulk_tx counts the drops', { timeout: 60_000 }, async (t) => {
  if (!ready(t, ['ping'])) return;
  if (!existsSync(xdpObject('tx'))) return t.skip('build/xdp-tx.bpf.o not built (make)');
  await withRouted('xdp', async (r) => {
    await xdp(r, 'rtr', r.dev.rtrC, 'tx');
    const bad = await xdpEvents(r, ['xdp_bulk_tx']);
    assert.ok(bad.some((e) => e.ifname === r.dev.rtrC && e.aux3 >= 1), `events: ${JSON.stringify(bad)}`);
    await xdp(r, 'cli', r.dev.cli, 'pass');
    assert.deepEqual(await xdpEvents(r, ['xdp_bulk_tx']), [], 'with a program on the peer, nothing is dropped');
  });
});

test('an XDP program that aborts: xdp_exception names the device and the action', { timeout: 60_000 }, async (t) => {
  if (!ready(t, ['ping'])) return;
  if (!existsSync(xdpObject('abort'))) return t.skip('build/xdp-abort.bpf.o not built (make)');
  await withRouted('xdp', async (r) => {
    await xdp(r, 'rtr', r.dev.rtrC, 'abort');
    const evs = await xdpEvents(r, ['xdp_exception']);
    assert.ok(evs.some((e) => e.ifname === r.dev.rtrC && e.aux === 0 /* XDP_ABORTED */ && e.aux2 > 0), `events: ${JSON.stringify(evs)}`);
    await xdp(r, 'rtr', r.dev.rtrC, 'pass');
    assert.deepEqual(await xdpEvents(r, ['xdp_exception']), [], 'a passing program raises nothing');
  });
});

test('SYNs to a silent host: retransmitted, then SYN_SENT -> CLOSE with ETIMEDOUT, in the command\'s own run', { timeout: 60_000 }, async (t) => {
  if (!ready(t, ['curl', 'nft', 'python3'])) return;
  await withRouted('syn', async (r) => {
    await nftRule(r, 'srv', 'ppsilent', 'input', 'tcp dport 9999 drop');
    await r.run('cli', ['sysctl', '-qw', 'net.ipv4.tcp_syn_retries=1']);
    const c = collect({}, { track: true, evidence: true });
    let counts;
    try {
      const cmd = await trackCommand(['ip', 'netns', 'exec', r.ns.cli, 'curl', '-sS', '-m', '10', `http://${r.addr.srv}:9999/`], {
        register: (pid) => c.trace.tracker!.track(pid),
        stdio: 'pipe',
        user: null,
      });
      const exit = await cmd.exited;
      assert.notEqual(exit.code, 0, 'curl could not connect');
      counts = c.trace.tracker!.counts();
    } finally {
      await c.stop();
    }
    const evs = c.events();
    const retrans = evs.filter((e) => e.probe === 'tcp_retransmit_skb' && e.t?.dport === 9999);
    assert.ok(retrans.length >= 1, `the SYN was retransmitted: ${JSON.stringify(counts)}`);
    const states = evs.filter((e) => e.probe === 'inet_sock_set_state' && e.t?.dport === 9999).map((e) => [e.aux, e.aux2, e.aux3]);
    assert.deepEqual(states, [[7, 2, 0], [2, 7, ETIMEDOUT]], 'CLOSE -> SYN_SENT at connect(), SYN_SENT -> CLOSE with ETIMEDOUT');
    const close = evs.find((e) => e.probe === 'inet_sock_set_state' && e.aux2 === 7)!;
    assert.equal(close.t?.sport, retrans[0]!.t?.sport, 'the closing socket still names its port');
  });
});

test('a listener that never accepts: sk_data_ready says its accept queue is full; one that accepts raises nothing', { timeout: 60_000 }, async (t) => {
  if (!ready(t, ['python3'])) return;
  await withRouted('acq', async (r) => {
    const listen = (port: number, accept: boolean): void =>
      void r.run('srv', ['python3', '-c', `
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((${JSON.stringify(r.addr.srv)}, ${port})); s.listen(${accept ? 16 : 1}); s.settimeout(0.1)
end = time.time() + 8
while time.time() < end:
    if ${accept ? 'True' : 'False'}:
        try: s.accept()[0].close()
        except socket.timeout: pass
    else: time.sleep(0.1)
`], { timeoutMs: 15_000, allowFail: true });
    const connect = (port: number): Promise<unknown> =>
      Promise.all([1, 2, 3, 4].map(() => r.run('cli', ['python3', '-c', `
import socket, time
s = socket.socket(); s.settimeout(2)
try: s.connect((${JSON.stringify(r.addr.srv)}, ${port}))
except Exception as e: print(e)
time.sleep(2)
`], { timeoutMs: 10_000, allowFail: true })));
    // the one that accepts has room for the four connections at once: it polls accept() every 100 ms, and a
    // backlog of 1 overflowed there too on a loaded host before it took them
    listen(7001, false);
    listen(7002, true);
    await sleep(600);
    const c = collect(fields({ ipaddr: r.addr.srv, proto: 'tcp' }), { evidence: true, only: ['sk_data_ready', 'inet_sock_set_state'] });
    try {
      await connect(7001);
      await connect(7002);
    } finally {
      await c.stop();
    }
    const full = c.events().filter((e) => e.probe === 'sk_data_ready');
    assert.ok(full.length >= 1, 'the full queue was seen');
    for (const e of full) {
      assert.equal(e.netns, r.inode.srv);
      assert.deepEqual([e.t?.daddr, e.t?.dport], [r.addr.srv, 7001], `only the listener that does not accept: ${tupleText(e.t)}`);
      assert.ok(e.aux > e.aux2, `queued ${e.aux} > backlog ${e.aux2}`);
    }
    assert.ok(c.events().some((e) => e.probe === 'inet_sock_set_state' && e.t?.sport === 7002), 'the accepting listener\'s connections were traced (positive control)');
  });
});

test('the final ACK never comes: tcp_retransmit_synack resends the SYN-ACK of that flow, with the listener\'s queue', { timeout: 60_000 }, async (t) => {
  if (!ready(t, ['python3', 'nft'])) return;
  await withRouted('sak', async (r) => {
    void r.run('srv', ['python3', '-c', `
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((${JSON.stringify(r.addr.srv)}, 7003)); s.listen(8); time.sleep(8)
`], { timeoutMs: 15_000, allowFail: true });
    // the client's ACKs (and everything after its SYN) never reach the server
    await nftRule(r, 'cli', 'ppack', 'output', `'tcp dport 7003 tcp flags & (syn | ack) == ack drop'`);
    await sleep(500);
    const c = collect(fields({ ipaddr: r.addr.srv, port: '7003' }), { evidence: true, only: ['tcp_retransmit_synack'] });
    let port = 0;
    try {
      const out = await r.run('cli', ['python3', '-c', `
import socket, time
s = socket.socket(); s.connect((${JSON.stringify(r.addr.srv)}, 7003)); print(s.getsockname()[1], flush=True); time.sleep(2.5)
`], { timeoutMs: 10_000 });
      port = Number(out.stdout.trim());
    } finally {
      await c.stop();
    }
    const evs = c.events();
    assert.ok(evs.length >= 1, 'a SYN-ACK was resent');
    for (const e of evs) {
      assert.deepEqual([e.netns, e.t?.saddr, e.t?.sport, e.t?.daddr, e.t?.dport, e.t?.flags], [r.inode.srv, r.addr.srv, 7003, r.addr.cli, port, 0x12]);
      assert.ok(e.aux2 === 8 && e.aux3 >= 1, `backlog 8, nth resend: ${JSON.stringify(e)}`);
    }
  });
});

test('pktpath trace --evidence: the evidence probes in the CLI, their values named (JSON and text); without the flag they are not attached', { timeout: 90_000 }, async (t) => {
  if (!ready(t, ['ping'])) return;
  if (!existsSync(xdpObject('abort'))) return t.skip('build/xdp-abort.bpf.o not built (make)');
  await withRouted('xcl', async (r) => {
    await xdp(r, 'rtr', r.dev.rtrC, 'abort');
    // the XDP program aborts the ARP requests too: a neighbour left FAILED by one batch would keep the next from sending any
    const pings = async (): Promise<unknown> => {
      await r.run('cli', ['ip', 'neigh', 'flush', 'all'], { allowFail: true });
      return r.run('cli', ['ping', '-c', '2', '-i', '0.2', '-W', '1', r.addr.rtrC], { allowFail: true });
    };
    const json = await spawnTrace(['--evidence', '-N', r.ns.rtr]);
    await pings();
    const withFlag = await json.stop();
    const ex = withFlag.events.filter((e) => e.probe === 'xdp_exception');
    assert.ok(ex.length >= 1, `xdp_exception in --json: ${withFlag.stderr}`);
    assert.deepEqual([ex[0]!.ifname, (ex[0]!.info as { action?: string }).action], [r.dev.rtrC, 'ABORTED']);
    assert.equal(ex[0]!.tuple, null, 'no packet');

    const text = await spawnTrace(['--evidence', '-N', r.ns.rtr], { json: false });
    await pings();
    const textRun = await text.stop();
    assert.match(textRun.nonJson.join('\n'), /:xdp_exception action=ABORTED prog=\d+/);

    const plain = await spawnTrace(['--verbose', '-N', r.ns.rtr]);
    await pings();
    const without = await plain.stop();
    assert.deepEqual(without.events.filter((e) => e.probe.startsWith('xdp_')), [], 'not attached without --evidence');
    assert.doesNotMatch(without.stderr, /probe xdp_exception/);
  });
});
