/**
 * Wall-clock text for the monotonic timestamps events carry (bpf_ktime_get_ns).
 */
import type { Resolver } from './resolver.js';
import { micro6, pad2 } from './strings.js';

/**
 * The resolver is asked once per wall-clock second (and whenever time runs backwards);
 * within that second the microseconds follow from the monotonic clock in plain float
 * arithmetic, no BigInt per event. Exact while uptime is below 2^53 ns (104 days), off by
 * at most a few hundred ns beyond that.
 */
export class WallClock {
  /** monotonic ns at which the cached wall second starts / ends */
  private monoStart = 1;
  private monoEnd = 0;
  private prefix = '';

  constructor(
    private readonly resolver: Resolver,
    private readonly prefixOf: (epochSec: number) => string,
  ) {}

  /** prefix (cached per second) + 6-digit microseconds */
  text(monoNs: bigint): string {
    const m = Number(monoNs);
    if (m >= this.monoStart && m < this.monoEnd) {
      return this.prefix + micro6(Math.floor((m - this.monoStart) / 1000));
    }
    const wall = this.resolver.wallClockNs(monoNs);
    let sec = wall / 1_000_000_000n;
    if (sec * 1_000_000_000n > wall) sec -= 1n; // floor for times before 1970
    const into = Number(wall - sec * 1_000_000_000n); // ns into the second, exact
    this.monoStart = m - into;
    this.monoEnd = this.monoStart + 1e9;
    this.prefix = this.prefixOf(Number(sec));
    return this.prefix + micro6(Math.floor(into / 1000));
  }
}

/** "[HH:MM:SS." or "[YYYY-MM-DD HH:MM:SS." in local time, for the text time column. */
export function localPrefix(withDate: boolean): (sec: number) => string {
  return (sec) => {
    const d = new Date(sec * 1000);
    const hms = pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds()) + '.';
    if (!withDate) return '[' + hms;
    return '[' + d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' + hms;
  };
}

/** "2022-11-04T02:26:26." for the JSON time field. */
export function isoPrefix(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(0, 20);
}
