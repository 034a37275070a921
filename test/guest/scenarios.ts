/**
 * Runs INSIDE a guest kernel (scripts/vm/guest.sh): the foundation's scenarios with a
 * function backend, recorded to a JSON file the host-side test asserts on.
 *
 *   node dist/test/guest/scenarios.js BACKEND OUT.json [--keep-dnat]
 *
 * One trace (filter: the server address, the default function set) covers three
 * scenarios in turn: TCP to a closed port, an iptables OUTPUT DROP in the client, and a
 * ping. A second trace checks that a filter prints nothing of traffic it excludes, next to a
 * control flow it matches. With
 * --keep-dnat a third follows a DNAT'd connection with --keep.
 */
import { writeFileSync } from 'node:fs';
import { kernelRelease } from '../../src/kernel/io/kernel.js';
import { createTopology, ping, spawnTrace } from '../helpers/netns.js';
import { CLOSED_PORT, CONTROL_HOST, DNAT_REAL_PORT, DNAT_VIP_HOST, DNAT_VIP_PORT, DROP_PORT } from './constants.js';
import type { GuestResults } from './constants.js';


const READY_MS = 300_000;
const STOP_MS = 180_000;

async function main(): Promise<void> {
  const [backend, out, ...flags] = process.argv.slice(2);
  if (!backend || !out) throw new Error('usage: scenarios.js BACKEND OUT.json [--keep-dnat]');
  const topo = createTopology({ tag: 'guest' });
  const results: GuestResults = {
    backend,
    kernel: kernelRelease(),
    client: { ns: topo.client.ns, inode: topo.client.inode, v4: topo.client.v4 },
    server: { ns: topo.server.ns, inode: topo.server.inode, v4: topo.server.v4 },
    runs: {},
  };
  const server = topo.server.v4;
  try {
    // 1. one trace, three scenarios
    {
      const args = ['--backend', backend, '-H', server];
      const t0 = Date.now();
      const trace = await spawnTrace(args, { readyTimeoutMs: READY_MS });
      const readyMs = Date.now() - t0;
      const notes: string[] = [];
      const closed = await topo.connect(topo.client, server, CLOSED_PORT, 5000);
      notes.push(`closed port: ${closed.outcome}`);
      await topo.exec(topo.client, ['iptables', '-I', 'OUTPUT', '-d', server, '-p', 'tcp', '--dport', String(DROP_PORT), '-j', 'DROP']);
      const dropped = await topo.connect(topo.client, server, DROP_PORT, 1500);
      notes.push(`output drop: ${dropped.outcome}`);
      await topo.exec(topo.client, ['iptables', '-D', 'OUTPUT', '-d', server, '-p', 'tcp', '--dport', String(DROP_PORT), '-j', 'DROP']);
      const ping = await topo.ping(topo.client, server, { count: 2, intervalS: 0.2, waitS: 2 });
      notes.push(`ping: ${JSON.stringify(ping).slice(0, 200)}`);
      await new Promise((r) => setTimeout(r, 1000));
      results.runs.main = { args, readyMs, result: await trace.stop(STOP_MS), notes };
    }
    // 2. a filter that matches none of the same traffic, and one control flow it does match
    //    (a second address of the server's): the control proves the probes were running
    {
      const control = server.replace(/\.\d+$/, `.${CONTROL_HOST}`);
      results.control = control;
      await topo.exec(topo.server, ['ip', 'addr', 'add', `${control}/24`, 'dev', topo.server.ifname]);
      const args = ['--backend', backend, '-H', control, '--func', '^(ip_rcv|tcp_v4_rcv|__dev_queue_xmit|ip_output)$'];
      const t0 = Date.now();
      const trace = await spawnTrace(args, { readyTimeoutMs: READY_MS });
      const readyMs = Date.now() - t0;
      await topo.connect(topo.client, server, CLOSED_PORT, 5000);
      await topo.ping(topo.client, server, { count: 1, waitS: 2 });
      const p = await ping(topo.client.ns, control, { count: 1, waitS: 2 });
      await new Promise((r) => setTimeout(r, 500));
      results.runs.nomatch = { args, readyMs, result: await trace.stop(STOP_MS), notes: [`control ping: ${p.received}/${p.sent}`] };
    }
    // 3. --keep through DNAT: the filter names the virtual address, the packet leaves for the real one
    if (flags.includes('--keep-dnat')) {
      const vip = topo.server.v4.replace(/\.\d+$/, `.${DNAT_VIP_HOST}`);
      results.vip = vip;
      const listener = await topo.listen(topo.server, server, DNAT_REAL_PORT);
      await topo.exec(topo.client, ['iptables', '-t', 'nat', '-A', 'OUTPUT', '-d', vip, '-p', 'tcp', '--dport', String(DNAT_VIP_PORT),
        '-j', 'DNAT', '--to-destination', `${server}:${DNAT_REAL_PORT}`]);
      const args = ['--backend', backend, '-H', vip, '-P', String(DNAT_VIP_PORT), '--proto', 'tcp', '--keep'];
      const t0 = Date.now();
      const trace = await spawnTrace(args, { readyTimeoutMs: READY_MS });
      const readyMs = Date.now() - t0;
      // the VIP is not one of the topology's own addresses, so connect with bash inside the client
      const conn = await topo.exec(topo.client, ['timeout', '5', 'bash', '-c', `exec 3<>/dev/tcp/${vip}/${DNAT_VIP_PORT} && echo connected`], { allowFail: true });
      await new Promise((r) => setTimeout(r, 1000));
      results.runs.keep = { args, readyMs, result: await trace.stop(STOP_MS), notes: [`connect via DNAT: ${conn.stdout.trim() || conn.stderr.trim()}`] };
      void listener;
    }
  } finally {
    await topo.destroy();
    writeFileSync(out, JSON.stringify(results));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`scenarios: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
