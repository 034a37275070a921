/**
 * Every event that has a device or a socket knows its namespace. The cases here are the
 * ones where the skb itself no longer says: TCP's own drops on the receiving socket (the
 * skb has lost its device and its route, and the socket does not own it yet), and
 * retransmissions (the skb waits in the socket's queue, with neither headers nor device).
 * The tracepoint's socket argument names the namespace there: kfree_skb's rx_sk (Linux
 * 6.11+), the sk of tcp_retransmit_skb.
 *
 * Needs root, BTF, python3 (test/fixtures/scripts/tcp-segments.py) and iptables; skips
 * with the reason otherwise.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseBtf } from '../../src/kernel/btf.js';
import { describeEvents, requireRoot, skipUnlessMet, spawnTrace, tcpFlags, whileTracing, withTopology } from '../helpers/netns.js';
import type { TraceEvent, TraceResult, TraceRun } from '../helpers/netns.js';
import { assertCleanRun } from '../helpers/events.js';
import { duplicateSegment, pushSegment } from '../helpers/segments.js';

const EXPECT_MS = 5000;
const SETTLE_MS = 300;
const TEST_TIMEOUT = 90_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let nextPort = 41000 + (process.pid % 2000) * 4;
const freshPort = (): number => nextPort++;

/** The events here are tracepoints': no function backend, whatever the kernel has (guest kernels too). */
async function traced(args: string[], body: (trace: TraceRun) => Promise<void>): Promise<TraceResult> {
  return whileTracing(await spawnTrace(['--backend', 'tracepoints', ...args]), body);
}

/** Why the running kernel's kfree_skb tracepoint cannot name the receiving socket, or null. */
function noRxSk(): string | null {
  try {
    const args = parseBtf(readFileSync('/sys/kernel/btf/vmlinux')).tracepointArgs('kfree_skb');
    if (!args) return 'the kernel BTF does not describe the kfree_skb tracepoint';
    return args.length >= 4 ? null : `kfree_skb passes no receiving socket before Linux 6.11 (here: ${args.join(', ')})`;
  } catch (err) {
    return `cannot read the kernel BTF: ${(err as Error).message}`;
  }
}

const isOldData = (ev: TraceEvent): boolean => ev.probe === 'kfree_skb' && ev.drop_reason === 'TCP_OLD_DATA';

describe('namespaces of socket-side events (integration)', () => {
  test('a duplicate segment dropped by the receiving socket (TCP_OLD_DATA) is told in the receiver\'s namespace', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!requireRoot(t, { commands: ['python3'] }) || !skipUnlessMet(t, noRxSk())) return;
    await withTopology(
      async (topo) => {
        const server = topo.server.v4;
        const port = freshPort();
        let sent = '';
        const res = await traced(['-H', server, '-P', String(port)], async (trace) => {
          sent = await duplicateSegment(topo.server.ns, topo.client.ns, topo.client.ifname, server, port);
          await trace.waitFor(isOldData, EXPECT_MS);
          await sleep(SETTLE_MS);
        });
        assertCleanRun(res);
        const dump = `\n${sent}\nevents:\n${describeEvents(res.events, 60)}\nstderr:\n${res.stderr}`;
        const drops = res.events.filter(isOldData);
        assert.ok(drops.length > 0, `no kfree_skb TCP_OLD_DATA for the duplicate segment${dump}`);
        for (const drop of drops) {
          assert.equal(drop.ifname, '', `the drop happens where the skb has no device (what this test is about): ${JSON.stringify(drop)}`);
          assert.equal(drop.netns, topo.server.inode, `TCP_OLD_DATA told in netns ${drop.netns}, the receiving socket is in ${topo.server.inode}${dump}`);
          assert.equal(drop.netns_name, topo.server.ns, `the namespace's name: ${JSON.stringify(drop)}`);
          assert.ok(drop.tuple?.saddr === topo.client.v4 && drop.tuple.dport === port && tcpFlags(drop).includes('PSH'), `the dropped copy is the client's data: ${JSON.stringify(drop)}`);
        }
      },
      { tag: 'olddata' },
    );
  });

  test('-N <receiver> shows the socket-side drop, and nothing from elsewhere', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!requireRoot(t, { commands: ['python3'] }) || !skipUnlessMet(t, noRxSk())) return;
    await withTopology(
      async (topo) => {
        const port = freshPort();
        const res = await traced(['-N', topo.server.ns, '-P', String(port), '--proto', 'tcp'], async (trace) => {
          await duplicateSegment(topo.server.ns, topo.client.ns, topo.client.ifname, topo.server.v4, port);
          await trace.waitFor(isOldData, EXPECT_MS);
          await sleep(SETTLE_MS);
        });
        assertCleanRun(res);
        const dump = `\nevents:\n${describeEvents(res.events, 60)}\nstderr:\n${res.stderr}`;
        assert.ok(res.events.some(isOldData), `-N ${topo.server.ns} should show the TCP_OLD_DATA drop${dump}`);
        assert.deepEqual(res.events.filter((ev) => ev.netns !== topo.server.inode), [], `-N ${topo.server.ns}: events of other namespaces${dump}`);
      },
      { tag: 'oldatans' },
    );
  });

  test('a retransmission is told in the sender\'s namespace, with the flow of its socket', { timeout: TEST_TIMEOUT }, async (t) => {
    if (!requireRoot(t, { commands: ['python3', 'iptables'] })) return;
    await withTopology(
      async (topo) => {
        const server = topo.server.v4;
        const port = freshPort();
        await topo.listen(topo.server, server, port);
        // the server never sees the data (segments with PSH), so the client retransmits it
        const rule = ['INPUT', '-p', 'tcp', '-d', server, '--dport', String(port), '--tcp-flags', 'PSH', 'PSH', '-j', 'DROP'];
        await topo.exec(topo.server, ['iptables', '-I', ...rule]);
        let res: TraceResult;
        try {
          res = await traced(['-H', server, '-P', String(port)], async (trace) => {
            await pushSegment(topo.client.ns, server, port, 1.2);
            await trace.waitFor((ev) => ev.probe === 'tcp_retransmit_skb', EXPECT_MS);
            await sleep(SETTLE_MS);
          });
        } finally {
          await topo.exec(topo.server, ['iptables', '-D', ...rule], { allowFail: true });
        }
        assertCleanRun(res);
        const dump = `\nevents:\n${describeEvents(res.events, 60)}\nstderr:\n${res.stderr}`;
        const rtx = res.events.filter((ev) => ev.probe === 'tcp_retransmit_skb');
        // the client's data, and maybe the server's FIN, whose acknowledgement rode on that data
        const sender = new Map([[topo.client.v4, topo.client], [server, topo.server]]);
        for (const ev of rtx) {
          const from = sender.get(ev.tuple?.saddr ?? '');
          assert.ok(from && ev.tuple?.proto === 'tcp' && ev.tuple.daddr === (from === topo.client ? server : topo.client.v4), `the segment's flow, from its sender's socket: ${JSON.stringify(ev)}`);
          assert.equal(ev.netns, from.inode, `retransmission from ${from.v4} told in netns ${ev.netns}, its sender is in ${from.inode}${dump}`);
          assert.equal(ev.ifname, '', `a queued segment has no device (its device field holds queue links): ${JSON.stringify(ev)}`);
        }
        const data = rtx.filter((ev) => ev.tuple?.saddr === topo.client.v4 && ev.tuple.dport === port);
        assert.ok(data.length > 0, `no tcp_retransmit_skb of the client's data matched -H ${server} -P ${port}${dump}`);
        for (const ev of data) assert.deepEqual(tcpFlags(ev), ['ACK', 'PSH'], `flags from the segment's control block: ${JSON.stringify(ev)}`);
      },
      { tag: 'retrans' },
    );
  });
});
