import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startExporter } from './exporter.js';
import { counterFamilies, dropFamilies, lostFamily, SeriesBudget } from '../metrics.js';
import type { MetricFamily } from '../metrics.js';
import type { DropRow } from '../rows.js';
import { EnvironmentError, exitCodeOf } from '../../shared/errors.js';

function families(total: number): MetricFamily[] {
  const row: DropRow = {
    id: 'r', reason: 'NO_SOCKET', location: 'udp_rcv "odd\\name"', netns: 1, netnsLabel: 'blue', ifindex: 2, device: 'veth0', proto: 'udp',
    total, bytes: 0, delta: 0, rate: 0, samples: [], stacks: [], hidden: false, meaning: '',
  };
  const counter = { netns: 1, netnsLabel: 'blue', group: 'snmp' as const, name: 'UdpNoPorts', value: 9, delta: 4, perSecond: 0, level: 'drop' as const, reasons: [], seeds: [] };
  return [...dropFamilies([row], new SeriesBudget(5)), ...counterFamilies([counter], new SeriesBudget(5)), lostFamily({ samples: 0, uncounted: 1 })];
}

async function get(url: string, method = 'GET'): Promise<{ status: number; body: string; type: string | null }> {
  const r = await fetch(url, { method });
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') };
}

test('/metrics: every family in the text format, fresh at each scrape; / points there; other paths 404, POST 405', async () => {
  let total = 3;
  const e = await startExporter({ host: '127.0.0.1', port: 0 }, () => families(total));
  try {
    const url = `http://${e.address}`;
    const first = await get(`${url}/metrics`);
    assert.equal(first.status, 200);
    assert.match(first.type ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(first.body, /^# TYPE pktpath_drops_total counter$/m);
    assert.match(first.body, /^pktpath_drops_total\{reason="NO_SOCKET",location="udp_rcv \\"odd\\\\name\\"",netns="blue",device="veth0",proto="udp"\} 3$/m);
    assert.match(first.body, /^pktpath_snmp_total\{netns="blue",counter="UdpNoPorts"\} 4$/m);
    assert.match(first.body, /^pktpath_lost_events_total\{what="uncounted"\} 1$/m);
    assert.match(first.body, /^process_cpu_seconds_total \d/m);
    total = 8;
    assert.match((await get(`${url}/metrics`)).body, /^pktpath_drops_total\{.*\} 8$/m);
    assert.deepEqual([(await get(`${url}/`)).status, (await get(`${url}/nope`)).status, (await get(`${url}/metrics`, 'POST')).status], [200, 404, 405]);
  } finally {
    await e.close();
  }
});

test('promtool check metrics accepts the exposition', async (t) => {
  if (spawnSync('promtool', ['--version']).status !== 0) return t.skip('promtool not installed (Debian package prometheus; npm run setup installs it)');
  const e = await startExporter({ host: '127.0.0.1', port: 0 }, () => families(5));
  try {
    const body = (await get(`http://${e.address}/metrics`)).body;
    const r = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  } finally {
    await e.close();
  }
});

test('a port in use and an address not on this host: one line, EnvironmentError (exit 3)', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as AddressInfo).port;
  try {
    await assert.rejects(startExporter({ host: '127.0.0.1', port }, () => []), (err: unknown) => {
      assert.ok(err instanceof EnvironmentError);
      assert.equal(exitCodeOf(err), 3);
      assert.equal(err.message, `--listen 127.0.0.1:${port}: the port is already in use`);
      return true;
    });
  } finally {
    busy.close();
  }
  await assert.rejects(startExporter({ host: '192.0.2.1', port: 9 }, () => []), (err: unknown) => {
    assert.ok(err instanceof EnvironmentError, String(err));
    assert.equal((err as Error).message, '--listen 192.0.2.1:9: not an address of this host');
    return true;
  });
});
