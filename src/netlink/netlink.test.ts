import { test } from 'node:test';
import assert from 'node:assert/strict';
import { align4, attrString, attrUint, encodeRequest, NetlinkError, NLM_F_DUMP, parseAttributes, replyMessages, splitMessages } from './netlink.js';
import { fixtureBytes } from '../../test/helpers/fixtures.js';

test('a request is header + payload, padded to 4 bytes, with NLM_F_REQUEST set', () => {
  const req = encodeRequest(20, NLM_F_DUMP, 7, new Uint8Array([1, 2, 3]));
  assert.equal(req.length, 20);
  const dv = new DataView(req.buffer);
  assert.deepEqual([dv.getUint32(0, true), dv.getUint16(4, true), dv.getUint16(6, true), dv.getUint32(8, true)], [19, 20, 0x301, 7]);
  assert.deepEqual([...req.subarray(16, 19)], [1, 2, 3]);
  assert.deepEqual([0, 1, 4, 5].map(align4), [0, 4, 4, 8]);
});

test('replies split into messages; a truncated tail is dropped, not misread', () => {
  const buf = fixtureBytes('host/diag-tcp4.bin');
  const all = splitMessages(buf);
  assert.ok(all.length >= 2, 'sock_diag dump of the fixture has sockets and NLMSG_DONE');
  assert.equal(all.at(-1)!.type, 3);
  assert.equal(splitMessages(buf.subarray(0, buf.length - 3)).length, all.length - 1);
  assert.deepEqual(splitMessages(new Uint8Array(10)), []);
});

test('replyMessages keeps the messages before NLMSG_DONE of its own sequence number', () => {
  const buf = fixtureBytes('host/diag-tcp4.bin');
  assert.equal(replyMessages(buf, 41, 'tcp').length, splitMessages(buf).length - 1);
  assert.equal(replyMessages(buf, 40, 'tcp').length, 0);
});

test('an error reply (sock_diag for a protocol nobody handles) becomes a NetlinkError with the errno', () => {
  const buf = fixtureBytes('host/error-reply.bin');
  assert.throws(() => replyMessages(buf, 47, 'proto 99 dump'), (e: unknown) => e instanceof NetlinkError && e.errno === 2 && /proto 99 dump/.test(e.message));
});

test('attributes: by type, flags masked, first one wins, values read by width', () => {
  const bytes = new Uint8Array([8, 0, 3, 0x80, 1, 2, 3, 4, 6, 0, 4, 0, 0x61, 0, 0, 0, 8, 0, 3, 0, 9, 9, 9, 9]);
  const a = parseAttributes(bytes);
  assert.deepEqual([...a.keys()], [3, 4]);
  assert.equal(attrUint(a.get(3)), 0x04030201);
  assert.equal(attrString(a.get(4)), 'a');
  assert.equal(attrUint(new Uint8Array([5])), 5);
  assert.equal(attrUint(undefined), undefined);
});
