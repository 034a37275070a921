import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPcapngOut } from './pcapng-out.js';
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
