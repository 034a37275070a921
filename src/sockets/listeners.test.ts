import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findListeners } from './listeners.js';
import type { ListenerQuery } from './listeners.js';
import type { Socket } from './socket.js';

const SRV = 100;
const OTHER = 200;

function sock(netns: number, proto: 'tcp' | 'udp', addr: string, port: number, extra: Partial<Socket> = {}): Socket {
  const family = addr.includes(':') ? 6 : 4;
  return {
    proto,
    family,
    state: proto === 'tcp' ? 'LISTEN' : 'UNCONN',
    local: { addr, port },
    peer: { addr: family === 4 ? '0.0.0.0' : '::', port: 0 },
    recvQ: 0,
    sendQ: 128,
    uid: 0,
    inode: 1,
    ifindex: 0,
    netns,
    netnsLabel: netns === SRV ? 'srv' : 'other',
    processes: [{ pid: netns + port, comm: 'nc', fd: 3 }],
    ...extra,
  };
}

const owned = new Map([
  [SRV, new Set(['10.0.0.2', 'fd00::2', '127.0.0.1'])],
  [OTHER, new Set(['10.0.1.2'])],
]);
const labels = new Map([
  [SRV, 'srv'],
  [OTHER, 'other'],
]);

/** [what, sockets, query, answering ports@netns, elsewhere why list, sentence pattern] */
const CASES: [string, Socket[], ListenerQuery, string[], string[], RegExp][] = [
  ['exact address', [sock(SRV, 'tcp', '10.0.0.2', 80)], { proto: 'tcp', addr: '10.0.0.2', port: 80 }, ['80@srv'], [], /^tcp 10\.0\.0\.2:80 in netns srv: nc \(pid 180\) listens on 10\.0\.0\.2:80$/],
  ['IPv4 wildcard', [sock(SRV, 'tcp', '0.0.0.0', 80)], { proto: 'tcp', addr: '10.0.0.2', port: 80 }, ['80@srv'], [], /listens on 0\.0\.0\.0:80/],
  ['loopback only: another address', [sock(SRV, 'tcp', '127.0.0.1', 80)], { proto: 'tcp', addr: '10.0.0.2', port: 80 }, [], ['address'], /^nothing listens on tcp 10\.0\.0\.2:80 in netns srv; but nc \(pid 180\) listens on 127\.0\.0\.1:80 \(on another address\)$/],
  ['another namespace', [sock(OTHER, 'tcp', '0.0.0.0', 80)], { proto: 'tcp', addr: '10.0.0.2', port: 80 }, [], ['namespace'], /but nc \(pid 280\) listens on 0\.0\.0\.0:80 in netns other \(in another namespace\)/],
  ['dual-stack IPv6 wildcard takes IPv4', [sock(SRV, 'tcp', '::', 80, { v6only: false })], { proto: 'tcp', addr: '10.0.0.2', port: 80 }, ['80@srv'], [], /listens on \*:80/],
  ['v6only wildcard does not', [sock(SRV, 'tcp', '::', 80, { v6only: true })], { proto: 'tcp', addr: '10.0.0.2', port: 80 }, [], ['family'], /\[::\]:80 \(for the other IP version only\)/],
  ['IPv4 socket, IPv6 question', [sock(SRV, 'tcp', '0.0.0.0', 80)], { proto: 'tcp', addr: 'fd00::2', port: 80 }, [], ['family'], /nothing listens on tcp \[fd00::2\]:80/],
  ['IPv6 exact, long spelling', [sock(SRV, 'tcp', 'fd00::2', 80)], { proto: 'tcp', addr: 'FD00:0:0::2', port: 80 }, ['80@srv'], [], /listens on \[fd00::2\]:80/],
  ['UDP is not TCP', [sock(SRV, 'udp', '0.0.0.0', 53)], { proto: 'tcp', addr: '10.0.0.2', port: 53 }, [], [], /^nothing listens on tcp 10\.0\.0\.2:53 in netns srv$/],
  ['UDP unconnected', [sock(SRV, 'udp', '0.0.0.0', 53)], { proto: 'udp', addr: '10.0.0.2', port: 53 }, ['53@srv'], [], /^udp 10\.0\.0\.2:53/],
  ['connected UDP is no listener', [sock(SRV, 'udp', '10.0.0.2', 53, { state: 'ESTAB' })], { proto: 'udp', addr: '10.0.0.2', port: 53 }, [], [], /^nothing/],
  ['named namespace wins over addresses', [sock(SRV, 'tcp', '0.0.0.0', 80), sock(OTHER, 'tcp', '0.0.0.0', 80)], { proto: 'tcp', port: 80, netns: OTHER }, ['80@other'], ['namespace'], /^tcp \*:80 in netns other: /],
  ['no address: every namespace answers', [sock(SRV, 'tcp', '0.0.0.0', 80), sock(OTHER, 'tcp', '0.0.0.0', 80)], { proto: 'tcp', port: 80 }, ['80@srv', '80@other'], [], /^tcp \*:80 in netns srv, other: /],
  ['bound device is said', [sock(SRV, 'tcp', '0.0.0.0', 80, { ifindex: 3, ifname: 'eth0' })], { proto: 'tcp', addr: '10.0.0.2', port: 80 }, ['80@srv'], [], /listens on 0\.0\.0\.0%eth0:80 \(bound to device eth0\)/],
  ['loopback is local everywhere', [sock(OTHER, 'tcp', '127.0.0.1', 80)], { proto: 'tcp', addr: '127.0.0.1', port: 80 }, ['80@other'], [], /^tcp 127\.0\.0\.1:80 in netns (srv, other|other, srv): /],
];

test('who answers, and who listens elsewhere', () => {
  for (const [what, socks, q, answering, why, sentence] of CASES) {
    const a = findListeners(socks, q, { owned, labels });
    assert.deepEqual(a.answering.map((s) => `${s.local.port}@${s.netnsLabel}`), answering, `${what}: answering`);
    assert.deepEqual(a.elsewhere.map((e) => e.why), why, `${what}: elsewhere`);
    assert.match(a.sentence, sentence, what);
  }
});

test('the same namespace is told before other namespaces', () => {
  const socks = [sock(OTHER, 'tcp', '0.0.0.0', 80), sock(SRV, 'tcp', '127.0.0.1', 80)];
  const a = findListeners(socks, { proto: 'tcp', addr: '10.0.0.2', port: 80 }, { owned, labels });
  assert.deepEqual(a.elsewhere.map((e) => e.why), ['address', 'namespace']);
});

test('long lists are cut after three', () => {
  const socks = [1, 2, 3, 4, 5].map((i) => sock(OTHER, 'tcp', `10.0.1.${i}`, 80));
  const a = findListeners(socks, { proto: 'tcp', addr: '10.0.0.2', port: 80 }, { owned, labels });
  assert.match(a.sentence, /; and 2 more$/);
});
