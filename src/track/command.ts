/**
 * Running the command of `pktpath diagnose -- CMD [ARGS]`, the pure part: as whom it
 * runs, where its program is, and the shim that holds it until its pid is tracked.
 *
 * The command must not send anything before the kernel knows its pid, so it starts as a
 * tiny shell (the shim) that waits for one line on fd 3 and then execs the command in
 * its own place: same pid, nothing missed. Under sudo it runs as the invoking user
 * (SUDO_UID/SUDO_GID), through setpriv so its supplementary groups are its own.
 */
import { UsageError } from '../shared/errors.js';

/** A user to run as. */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/** The line the shim waits for before it execs the command. */
export const GO_LINE = 'go\n';
/** The shim's exit status when it is let go without the line (pktpath failed first). */
export const SHIM_ABANDONED = 125;

/*
 * $0 is the name the shim shows, "$@" the command. fd 3 is closed before the exec so the
 * command does not inherit it.
 */
const SHIM = 'IFS= read -r go <&3; exec 3<&-; [ "$go" = go ] || exit 125; exec "$@"';

/**
 * The user the command runs as: the one who ran sudo (SUDO_UID, SUDO_GID), when pktpath
 * runs as root under sudo; null (the current user, as is) otherwise.
 *
 * @example
 *   invokingUser({ SUDO_UID: '1000', SUDO_GID: '1000' }, 0) // { uid: 1000, gid: 1000 }
 */
export function invokingUser(env: Readonly<Record<string, string | undefined>>, uid: number): RunAs | null {
  if (uid !== 0 || env.SUDO_UID === undefined) return null;
  const u = Number(env.SUDO_UID);
  const g = Number(env.SUDO_GID ?? env.SUDO_UID);
  if (!Number.isInteger(u) || !Number.isInteger(g) || u < 0 || g < 0) return null;
  return u === 0 ? null : { uid: u, gid: g };
}

/**
 * The argv that runs `argv` through the shim, as `user` when given: setpriv (util-linux)
 * sets the ids and the user's groups, and execs in place, so the pid stays the one tracked.
 */
export function shimArgv(argv: readonly string[], user: RunAs | null, setpriv: string | null): string[] {
  const as = user && setpriv ? [setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--'] : [];
  return ['/bin/sh', '-c', SHIM, 'pktpath-cmd', ...as, ...argv];
}

/** One line of the passwd database (getent passwd): name, home and shell. */
export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly home: string;
}

export function parsePasswd(line: string): PasswdEntry | null {
  const f = line.trim().split(':');
  if (f.length < 7 || !f[0] || !/^\d+$/.test(f[2]!)) return null;
  return { name: f[0], uid: Number(f[2]), home: f[5]! };
}

/** The environment the command gets as `user`: the caller's, with HOME, USER and LOGNAME its own. */
export function userEnv(env: Readonly<Record<string, string | undefined>>, who: PasswdEntry | null): Record<string, string | undefined> {
  if (!who) return { ...env };
  return { ...env, HOME: who.home, USER: who.name, LOGNAME: who.name };
}

/**
 * Where the command's program is: argv[0] itself when it names a path, else the first
 * PATH entry where `isExecutable` says it is. A UsageError when it is nowhere.
 */
export function resolveProgram(argv: readonly string[], path: string | undefined, isExecutable: (file: string) => boolean): string {
  const prog = argv[0];
  if (prog === undefined || prog === '') throw new UsageError('no command after --: expected -- CMD [ARGS]');
  if (prog.includes('/')) {
    if (!isExecutable(prog)) throw new UsageError(`cannot run ${prog}: not an executable file`);
    return prog;
  }
  for (const dir of (path ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const file = `${dir || '.'}/${prog}`;
    if (isExecutable(file)) return file;
  }
  throw new UsageError(`command not found: ${prog}`);
}

/** How the command ended: its exit code, or the signal that ended it. */
export interface CommandExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** "exited with status 0", "was killed by SIGTERM": how the report says it ended */
export function exitText(e: CommandExit): string {
  return e.signal ? `was killed by ${e.signal}` : e.code === null ? 'did not start' : `exited with status ${e.code}`;
}
