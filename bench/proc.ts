/** What the benches read of a process from /proc. */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat's times (USER_HZ: 100 on Linux). */
export const USER_HZ = 100;

/** utime + stime of a process so far, in clock ticks (USER_HZ). */
export function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the fields after the command, which may hold spaces and parentheses: utime is the 12th, stime the 13th
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}
