import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { openPcapngOut, streamOut } from './pcapng-out.js';
import { PcapngWriter } from '../pcapng.js';

function blocks(n: number): Buffer[] {
  const out: Buffer[] = [];
  const w = new PcapngWriter((b) => out.push(b), { application: 't' });
  const i = w.interfaceId({ netns: 'a', dev: 'b', linkType: 101, snaplen: 256 });
  for (let k = 0; k < n; k++) w.packet({ iface: i, tsNs: BigInt(k), data: Buffer.alloc(200, k), origLen: 200, packetId: BigInt(k + 1) });
  w.flush();
  return out;
}

test('rewrite: a regular file goes through `each` block by block (more than one read), renamed over itself, nothing left beside it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pktpath-out-'));
  try {
    const path = join(dir, 'x.pcapng');
    const out = openPcapngOut(path);
    chmodSync(path, 0o640);
    const all = blocks(8000); // ~2 MiB: the rewrite reads it in several batches
    for (const b of all) out.write(b);
    await out.close();
    let seen = 0;
    await out.rewrite!((b) => (seen++, b.readUInt32LE(0) === 6 ? Buffer.from(b).fill(0xee, 28, 32) : b));
    assert.equal(seen, 8002, 'section, interface, 8000 packets');
    const after = readFileSync(path);
    assert.equal(after.length, Buffer.concat(all).length);
    const last = after.readUInt32LE(after.length - 4); // the last packet block's length
    assert.equal(after.readUInt32LE(after.length - last + 28), 0xeeeeeeee);
    assert.deepEqual(readdirSync(dir), ['x.pcapng']);
    assert.equal(statSync(path).mode & 0o777, 0o640, 'the mode of the file it replaces');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rewrite: a cut file is refused and left as it was; a device has no rewrite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pktpath-out-'));
  try {
    const path = join(dir, 'cut.pcapng');
    const out = openPcapngOut(path);
    const all = Buffer.concat(blocks(3));
    out.write(all.subarray(0, all.length - 10));
    await out.close();
    await assert.rejects(out.rewrite!((b) => b), /cannot rewrite .*cut\.pcapng: corrupt pcapng: \d+ bytes of a cut block/);
    assert.equal(readFileSync(path).length, all.length - 10);
    assert.deepEqual(readdirSync(dir), ['cut.pcapng']);
    const dev = openPcapngOut('/dev/null');
    assert.equal(dev.rewrite, undefined);
    await dev.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stream (standard output): what waits is a copy, and room() says no once maxQueued bytes wait', () => {
  let held: Buffer[] = [];
  const stream = new Writable({ highWaterMark: 1, write: (c: Buffer, _e, cb) => void (held.push(c), setImmediate(cb)) });
  const out = streamOut(stream, 1000);
  const lent = Buffer.alloc(600, 1);
  out.write(lent);
  lent.fill(2); // the writer reuses its buffer
  assert.ok(held[0]!.every((b) => b === 1), 'the stream got its own copy');
  assert.equal(out.room(), true);
  out.write(Buffer.alloc(600));
  assert.equal(out.room(), false, '600 bytes wait behind the first write');
  held = [];
});

test('a file: each batch written at once, so the writer may reuse its buffer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pktpath-out-'));
  try {
    const path = join(dir, 'lent.pcapng');
    const out = openPcapngOut(path);
    const w = new PcapngWriter((b) => out.write(b), { application: 't' }, true);
    const i = w.interfaceId({ netns: 'a', dev: 'b', linkType: 101, snaplen: 256 });
    for (let k = 0; k < 12_000; k++) w.packet({ iface: i, tsNs: BigInt(k), data: Buffer.alloc(200, k & 0xff), origLen: 200, packetId: k + 1 });
    w.flush();
    assert.equal(out.room(), true);
    await out.close();
    const file = readFileSync(path);
    assert.ok(file.equals(Buffer.concat(blocks(12_000))), 'the same bytes as a writer that never reuses its buffer (~3 MiB: three refills)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
