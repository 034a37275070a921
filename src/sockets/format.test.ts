import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignColumns, formatSocketsJson, formatSocketsText } from './format.js';
import { findListeners } from './listeners.js';
import type { Socket } from './socket.js';

const listener: Socket = {
  proto: 'tcp', family: 6, state: 'LISTEN', local: { addr: '::', port: 8080 }, peer: { addr: '::', port: 0 }, recvQ: 0, sendQ: 128,
  uid: 0, inode: 99, ifindex: 0, v6only: false, netns: 5, netnsLabel: 'srv', processes: [{ pid: 42, comm: 'nc', fd: 3 }],
};

test('columns are padded to the widest cell, the last one is not', () => {
  assert.deepEqual(alignColumns([['a', 'bb', 'c'], ['ccc', 'd', 'e']]), ['a    bb  c', 'ccc  d   e']);
});

test('text: header, rows like ss, then the listener answer and notes', () => {
  const a = findListeners([listener], { proto: 'tcp', addr: '10.0.0.2', port: 8080, netns: 5 });
  const out = formatSocketsText([listener], [a], ['raw sockets not listed']).split('\n');
  assert.match(out[0]!, /^NETNS\s+PROTO\s+STATE\s+RECV-Q\s+SEND-Q\s+LOCAL\s+PEER\s+PROCESS$/);
  assert.match(out[1]!, /^srv\s+tcp6\s+LISTEN\s+0\s+128\s+\*:8080\s+\*:\*\s+nc\(pid=42,fd=3\)$/);
  assert.equal(out[2], 'listeners: tcp 10.0.0.2:8080 in netns srv: nc (pid 42) listens on *:8080');
  assert.equal(out[3], 'note: raw sockets not listed');
});

test('no rows: one line saying so, the answer still follows', () => {
  const a = findListeners([listener], { proto: 'tcp', addr: '10.0.0.2', port: 8080, netns: 6 });
  assert.deepEqual(formatSocketsText([], [a], []).split('\n'), ['no socket matches', `listeners: ${a.sentence}`]);
});

test('JSON: one document with sockets, listener answers and notes', () => {
  const a = findListeners([listener], { proto: 'tcp', port: 8080 });
  const j = JSON.parse(formatSocketsJson([listener], [a], [])) as { sockets: Record<string, unknown>[]; listeners: Record<string, unknown>[]; notes: string[] };
  assert.deepEqual(j.sockets[0], {
    netns: 5, netns_label: 'srv', proto: 'tcp', family: 6, state: 'LISTEN', local: { addr: '::', port: 8080 }, peer: { addr: '::', port: 0 },
    recv_q: 0, send_q: 128, uid: 0, inode: 99, ifindex: 0, v6only: false, processes: [{ pid: 42, comm: 'nc', fd: 3 }],
  });
  assert.equal((j.listeners[0]!.answering as unknown[]).length, 1);
  assert.deepEqual(j.notes, []);
});
