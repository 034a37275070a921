import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inetDiagRequest, parseInetDiag } from './diag.js';
import type { DiagSocket, SockProto } from './diag.js';
import { formatEndpoint } from './socket.js';
import { fixtureBytes, fixtureText } from '../../test/helpers/fixtures.js';

const DUMPS: [string, number, SockProto][] = [
  ['host/diag-tcp4.bin', 41, 'tcp'],
  ['host/diag-tcp6.bin', 42, 'tcp'],
  ['host/diag-udp4.bin', 43, 'udp'],
  ['host/diag-udp6.bin', 44, 'udp'],
];

function parsed(): DiagSocket[] {
  return DUMPS.flatMap(([f, seq, proto]) => parseInetDiag(fixtureBytes(f), seq, proto));
}

/** One socket as `ss -tunapH` writes it, without the process column. */
function ssLine(s: DiagSocket, ifname?: string): string {
  const sock = { ...s, ...(ifname ? { ifname } : {}) };
  return [s.proto, s.state, s.recvQ, s.sendQ, formatEndpoint(s.local, sock), formatEndpoint(s.peer, sock, true)].join(' ');
}

test('the captured dumps say what ss -tunapH said about the same sockets (state, queues, addresses)', () => {
  const ss = fixtureText('host/ss-tunapH.txt')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).slice(0, 6).join(' '))
    .sort();
  const ours = parsed().map((s) => ssLine(s, s.ifindex === 1 ? 'lo' : undefined)).sort();
  assert.deepEqual(ours, ss);
});

test('IPV6_V6ONLY is read for listening IPv6 sockets; the bound device index is kept', () => {
  const socks = parsed();
  const by = (port: number) => socks.find((s) => s.local.port === port)!;
  assert.equal(by(8081).v6only, true);
  assert.equal(by(8082).v6only, false);
  assert.equal(by(8080).v6only, undefined);
  assert.equal(by(5355).ifindex, 1);
  assert.ok(socks.every((s) => s.inode > 0), 'every socket of the fixture is held by a file descriptor');
  const est = socks.filter((s) => s.state === 'ESTAB');
  assert.deepEqual(est.map((s) => s.recvQ).sort(), [0, 5], 'the accepted connection has 5 unread bytes');
});

test('the request: inet_diag_req_v2 for the family and protocol, all states, raw asks for every protocol', () => {
  const table: [4 | 6, SockProto, number[]][] = [
    [4, 'tcp', [2, 6, 0, 0]],
    [6, 'udp', [10, 17, 0, 0]],
    [4, 'raw', [2, 255, 0, 255]],
  ];
  for (const [family, proto, head] of table) {
    const req = inetDiagRequest(9, family, proto);
    assert.equal(req.length, 16 + 56);
    assert.deepEqual([...req.subarray(16, 20)], head, `${proto}${family}`);
    assert.equal(new DataView(req.buffer).getUint32(20, true), 0xffffffff);
    assert.equal(new DataView(req.buffer).getUint16(6, true), 0x301);
  }
});
