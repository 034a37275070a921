import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSocketsOptions } from './options.js';
import type { RawSocketsOptions } from './options.js';
import { matchesFilter } from './filter.js';
import type { Socket } from './socket.js';
import { UsageError } from '../shared/errors.js';

test('bad values: one line naming the option', () => {
  const table: [RawSocketsOptions, RegExp][] = [
    [{ port: '0' }, /^invalid --port "0": expected 1-65535$/],
    [{ port: '65536' }, /--port "65536"/],
    [{ port: '8o' }, /--port "8o"/],
    [{ ipaddr: '10.0.0.256' }, /^invalid --ipaddr "10\.0\.0\.256": expected an IPv4 or IPv6 address$/],
    [{ proto: 'sctp' }, /^invalid --proto "sctp": expected tcp, udp, raw or any$/],
    [{ netns: ' ' }, /--netns ""/],
  ];
  for (const [raw, msg] of table) assert.throws(() => parseSocketsOptions(raw), (e: unknown) => e instanceof UsageError && msg.test(e.message), JSON.stringify(raw));
});

test('good values: canonical address, protocols', () => {
  const o = parseSocketsOptions({ ipaddr: 'FD00:0::1', port: '80', proto: 'udp', listening: true });
  assert.deepEqual(o, { addr: 'fd00::1', port: 80, protos: ['udp'], listening: true, json: false });
  assert.deepEqual(parseSocketsOptions({}).protos, ['tcp', 'udp', 'raw']);
});

function s(local: string, lport: number, peer: string, pport: number, state = 'ESTAB'): Socket {
  return { proto: 'tcp', family: local.includes(':') ? 6 : 4, state, local: { addr: local, port: lport }, peer: { addr: peer, port: pport }, recvQ: 0, sendQ: 0, uid: 0, inode: 1, ifindex: 0, netns: 1, netnsLabel: 'x', processes: [] };
}

test('filter: either end; with --listening a wildcard bind matches -H', () => {
  const f = (o: RawSocketsOptions) => parseSocketsOptions(o);
  assert.ok(matchesFilter(s('10.0.0.1', 5000, '10.0.0.2', 80), f({ ipaddr: '10.0.0.2', port: '80' })));
  assert.ok(matchesFilter(s('::ffff:10.0.0.1', 80, '::ffff:10.0.0.2', 5000), f({ ipaddr: '10.0.0.2' })));
  assert.ok(!matchesFilter(s('10.0.0.1', 5000, '10.0.0.2', 80), f({ port: '81' })));
  assert.ok(!matchesFilter(s('0.0.0.0', 80, '0.0.0.0', 0, 'LISTEN'), f({ ipaddr: '10.0.0.2' })));
  assert.ok(matchesFilter(s('0.0.0.0', 80, '0.0.0.0', 0, 'LISTEN'), f({ ipaddr: '10.0.0.2', listening: true })));
  assert.ok(!matchesFilter(s('0.0.0.0', 80, '0.0.0.0', 0, 'LISTEN'), f({ ipaddr: 'fd00::2', listening: true })));
  assert.ok(!matchesFilter(s('10.0.0.1', 5000, '10.0.0.2', 80), f({ listening: true })));
  assert.ok(!matchesFilter(s('10.0.0.1', 5000, '10.0.0.2', 80), f({ proto: 'udp' })));
});
