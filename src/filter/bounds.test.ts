import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, Refusal } from './bounds.js';
import { decodeCbpf } from './cbpf.js';
import type { CInsn } from './cbpf.js';
import { native } from '../engine/io/native.js';

const WINDOW = 512;
const ether = (expr: string): CInsn[] => decodeCbpf(native().pcapCompile(expr, 1, 262144));
const raw = (expr: string): CInsn[] => decodeCbpf(native().pcapCompile(expr, 12, 262144));
const I = (code: number, k = 0, jt = 0, jf = 0): CInsn => ({ code, jt, jf, k });

test('need: the furthest byte any load can touch, X bounded by the IP header length', () => {
  const table: [CInsn[], number][] = [
    [ether('ip'), 14], // ldh [12]
    [ether('tcp port 80'), 14 + 60 + 4], // ldxb 4*([14]&0xf); ldh [x+16]
    [raw('tcp port 80'), 60 + 4],
    [ether('tcp[tcpflags] & tcp-syn != 0'), 14 + 60 + 14],
    [ether('tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420'), 14 + 60 + 60 + 4],
    [ether('len > 100'), 0],
    [ether('vlan and tcp'), 18 + 40 + 1], // the IPv6 fragment header's next header, behind the tag
  ];
  for (const [prog, need] of table) assert.equal(analyze(prog, WINDOW).need, need);
});

test('refusals: one line saying what a probe cannot give', () => {
  const table: [CInsn[], RegExp][] = [
    [ether('inbound'), /^`inbound` and `outbound` need the capture direction/],
    [ether('ip6 protochain 6'), /loops \(as `protochain` does\): loops cannot run at a probe/],
    [ether('ip[600] = 1'), /^the expression reads packet byte 615; a probe copies the first 512 bytes$/],
    [ether('ip[ip[2:2]] = 1'), /reads packet bytes at an offset it computes from the packet, up to byte 65550; a probe copies/],
    [[I(0x20, 0xfffff000 + 9), I(0x06, 1)], /socket-filter metadata \(offset 0xfffff009\)/],
  ];
  for (const [prog, why] of table) {
    assert.throws(() => analyze(prog, WINDOW), (err: unknown) => err instanceof Refusal && why.test((err as Error).message));
  }
});

test('reachability follows jumps; invalid classic BPF is an error, not a refusal', () => {
  const prog = [I(0x28, 12), I(0x15, 0x800, 0, 1), I(0x06, 1), I(0x06, 0), I(0x06, 7)]; // last ret unreachable
  assert.deepEqual(analyze(prog, WINDOW).reachable, [true, true, true, true, false]);
  const invalid: [CInsn[], RegExp][] = [
    [[I(0x28, 12)], /does not end with ret/],
    [[I(0x15, 0, 5, 0), I(0x06, 0)], /jump past the end/],
    [[I(0x34, 0), I(0x06, 0)], /division by zero/],
    [[I(0x02, 16), I(0x06, 0)], /M\[16\] out of range/],
    [[I(0x0e), I(0x06, 0)], /"ret x"/],
  ];
  for (const [p, why] of invalid) assert.throws(() => analyze(p, WINDOW), (err: unknown) => !(err instanceof Refusal) && why.test((err as Error).message));
});

test('the window bounds what X can reach: computed offsets past it are refused, within it kept', () => {
  // tcp[tcp[0]] reads up to 14 + 60 + 255 + 1 bytes: fits in 512, not in 256
  assert.equal(analyze(ether('tcp[tcp[0]] = 1'), WINDOW).need, 14 + 60 + 255 + 1);
  assert.throws(() => analyze(ether('tcp[tcp[0]] = 1'), 256), /up to byte 330; a probe copies the first 256 bytes/);
});
