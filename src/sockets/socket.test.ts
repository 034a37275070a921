import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEndpoint, isListening, ownersText, socketInode } from './socket.js';

test('fd links: socket:[N] is a socket inode, anything else is not', () => {
  assert.equal(socketInode('socket:[12345]'), 12345);
  for (const l of ['pipe:[1]', '/dev/null', 'socket:[]', 'anon_inode:[eventfd]']) assert.equal(socketInode(l), null, l);
});

test('endpoints are written as ss -n writes them', () => {
  const table: [Parameters<typeof formatEndpoint>, string][] = [
    [[{ addr: '10.0.0.1', port: 80 }, { family: 4 }], '10.0.0.1:80'],
    [[{ addr: 'fd00::1', port: 80 }, { family: 6 }], '[fd00::1]:80'],
    [[{ addr: '::', port: 80 }, { family: 6, v6only: false }], '*:80'],
    [[{ addr: '::', port: 80 }, { family: 6, v6only: true }], '[::]:80'],
    [[{ addr: '::', port: 0 }, { family: 6, v6only: false }, true], '*:*'],
    [[{ addr: '0.0.0.0', port: 0 }, { family: 4 }, true], '0.0.0.0:*'],
    [[{ addr: '0.0.0.0', port: 53 }, { family: 4, ifname: 'lo' }], '0.0.0.0%lo:53'],
  ];
  for (const [args, want] of table) assert.equal(formatEndpoint(...args), want);
});

test('listening: TCP LISTEN, UDP and raw UNCONN', () => {
  assert.ok(isListening({ proto: 'tcp', state: 'LISTEN' }));
  assert.ok(!isListening({ proto: 'tcp', state: 'UNCONN' }));
  assert.ok(isListening({ proto: 'udp', state: 'UNCONN' }));
  assert.ok(!isListening({ proto: 'udp', state: 'ESTAB' }));
});

test('owners: one entry per process, however many fds', () => {
  assert.equal(ownersText({ processes: [] }), 'no process');
  assert.equal(ownersText({ processes: [{ pid: 1, comm: 'nc', fd: 3 }, { pid: 1, comm: 'nc', fd: 4 }, { pid: 2, comm: 'sshd', fd: 5 }] }), 'nc (pid 1), sshd (pid 2)');
});
