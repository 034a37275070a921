import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEthtoolStats } from './ethtool.js';
import { fixtureBytes, fixtureText } from '../../test/helpers/fixtures.js';

function copy(b: Uint8Array): ArrayBuffer {
  return b.slice().buffer;
}

test('veth: the names and values ethtool -S printed for the same device', () => {
  const ours = parseEthtoolStats(copy(fixtureBytes('host/veth-gstrings.bin')), copy(fixtureBytes('host/veth-gstats.bin')));
  const ethtool = fixtureText('host/ethtool-S-veth.txt')
    .split('\n')
    .slice(1)
    .filter((l) => l.includes(':'))
    .map((l) => l.trim().split(/:\s*/));
  assert.deepEqual([...ours].map(([k, v]) => [k, String(v)]), ethtool);
  assert.ok(ours.has('peer_ifindex') && ours.has('tx_queue_0_xdp_xmit_errors'));
});

function structs(names: string[], values: bigint[]): [ArrayBuffer, ArrayBuffer] {
  const s = new Uint8Array(12 + names.length * 32);
  new DataView(s.buffer).setUint32(8, names.length, true);
  names.forEach((n, i) => s.set(new TextEncoder().encode(n), 12 + i * 32));
  const v = new DataView(new ArrayBuffer(8 + values.length * 8));
  v.setUint32(4, values.length, true);
  values.forEach((x, i) => v.setBigUint64(8 + i * 8, x, true));
  return [s.buffer, v.buffer];
}

test('a repeated name keeps both values; counts that disagree use the smaller; empty structs are empty', () => {
  assert.deepEqual([...parseEthtoolStats(...structs(['rx_drops', 'rx_drops', 'x'], [1n, 2n, 3n]))], [['rx_drops', 1], ['rx_drops#2', 2], ['x', 3]]);
  const [s] = structs(['a', 'b'], []);
  const [, v] = structs(['z'], [7n]);
  assert.deepEqual([...parseEthtoolStats(s, v)], [['a', 7]]);
  assert.equal(parseEthtoolStats(new ArrayBuffer(0), new ArrayBuffer(0)).size, 0);
});
