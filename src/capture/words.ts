/** Small words shared by the findings and the report: endpoints, flows, durations. */
import { addrText } from './decode.js';
import type { Flow } from './flow.js';

export function protoName(p: number): string {
  return p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 1 ? 'icmp' : p === 58 ? 'icmp6' : `proto ${p}`;
}

/** "10.0.0.1:80" or "[fd00::1]:80" */
export function endpoint(bin: string, port: number): string {
  const a = addrText(bin);
  return bin.length === 16 ? `[${a}]:${port}` : `${a}:${port}`;
}

/** "tcp 10.0.0.1:40000 -> 10.0.0.2:80", from side `s` to the other. */
export function flowText(f: Flow, s: 0 | 1 = 0): string {
  const o = s === 0 ? 1 : 0;
  return `${protoName(f.proto)} ${endpoint(f.addr[s], f.port[s])} -> ${endpoint(f.addr[o], f.port[o])}`;
}

/** "12 µs", "3.4 ms", "200 ms", "1.6 s" for nanoseconds. */
export function durationText(ns: number): string {
  if (ns < 1e3) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${round3(ns / 1e3)} µs`;
  if (ns < 1e9) return `${round3(ns / 1e6)} ms`;
  return `${round3(ns / 1e9)} s`;
}

function round3(v: number): number {
  return v >= 100 ? Math.round(v) : v >= 10 ? Math.round(v * 10) / 10 : Math.round(v * 100) / 100;
}

/** "0.2 s, 0.4 s, 0.8 s" */
export function gapsText(gaps: readonly number[]): string {
  return gaps.map(durationText).join(', ');
}

/** A series whose every gap is at least 1.6 times the one before: a timer backing off. */
export function doubling(gaps: readonly number[]): boolean {
  if (gaps.length < 2) return false;
  for (let k = 1; k < gaps.length; k++) if (gaps[k]! < gaps[k - 1]! * 1.6) return false;
  return true;
}

/** The initial TTL a received TTL most likely started from, and the hops it took. */
export function ttlOrigin(ttl: number): { initial: number; hops: number } {
  const initial = ttl <= 32 ? 32 : ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
  return { initial, hops: initial - ttl };
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
