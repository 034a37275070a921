/**
 * Runs the command of `pktpath diagnose -- CMD [ARGS]` so that every packet it sends is
 * traced: it starts held in a shim, its pid goes to the kernel's tracked set
 * (LoadedTrace.tracker, bpf/track.h), then it runs. Its output goes where pktpath's goes
 * (never swallowed); its exit is reported, not turned into pktpath's.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Readable } from 'node:stream';
import { EnvironmentError } from '../../shared/errors.js';
import { GO_LINE, invokingUser, parsePasswd, resolveProgram, shimArgv, userEnv } from '../command.js';
import type { CommandExit, RunAs } from '../command.js';

export interface TrackOptions {
  /**
   * Called with the command's pid before it runs, to track it (LoadedTrace.tracker.track);
   * when it throws, the command never runs and trackCommand rejects with its error.
   */
  readonly register: (pid: number) => void;
  /** run as this user; absent: the invoking user (SUDO_UID/SUDO_GID under sudo), null: as pktpath runs */
  readonly user?: RunAs | null;
  /** the command's environment (default: pktpath's, with HOME/USER/LOGNAME of the user it runs as) */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /**
   * 'inherit' (default): the command writes to pktpath's stdout and stderr; 'stderr': both
   * its stdout and stderr go to pktpath's stderr (stdout is a report's); 'pipe': to
   * TrackedCommand.stdout/stderr
   */
  readonly stdio?: 'inherit' | 'stderr' | 'pipe';
}

/** A command that is running, tracked. */
export interface TrackedCommand {
  readonly pid: number;
  /** resolves when it has exited (never rejects) */
  readonly exited: Promise<CommandExit>;
  /** its output, with stdio 'pipe' */
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** Sends it a signal (SIGTERM by default); nothing when it has exited. */
  kill(signal?: NodeJS.Signals): void;
}

/** The command's stdout and stderr for each TrackOptions.stdio (fd 2: pktpath's stderr itself, no copy). */
const STDIO = { inherit: ['inherit', 'inherit'], stderr: [2, 2], pipe: ['pipe', 'pipe'] } as const;

const isExecutable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const setprivPath = (): string | null => ['/usr/bin/setpriv', '/bin/setpriv'].find(isExecutable) ?? null;

function passwdOf(uid: number): ReturnType<typeof parsePasswd> {
  const r = spawnSync('getent', ['passwd', String(uid)], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? parsePasswd(r.stdout) : null;
}

/**
 * Checks that `argv`'s program can be found before anything is started (a UsageError
 * when it cannot): trackCommand checks again when it runs it.
 */
export function checkProgram(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  resolveProgram(argv, env.PATH, isExecutable);
}

/**
 * Runs `argv` (CMD and its arguments) as a tracked command: spawned held, its pid handed
 * to `opts.register`, then let go. Rejects with a UsageError when the program is not
 * found, an EnvironmentError when it cannot be started.
 *
 * @example
 *   const trace = loadTrace(fields, { ringBytes, track: true, evidence: true });
 *   const cmd = await trackCommand(['curl', '-m', '5', 'http://10.0.0.2/'], { register: (pid) => trace.tracker!.track(pid) });
 *   const { code } = await cmd.exited;
 */
export async function trackCommand(argv: readonly string[], opts: TrackOptions): Promise<TrackedCommand> {
  const env = opts.env ?? process.env;
  resolveProgram(argv, env.PATH, isExecutable);
  const user = opts.user === undefined ? invokingUser(process.env, process.getuid?.() ?? -1) : opts.user;
  const setpriv = user ? setprivPath() : null;
  const [file, ...args] = shimArgv(argv, user, setpriv);
  const child = spawn(file!, args, {
    stdio: ['inherit', ...STDIO[opts.stdio ?? 'inherit'], 'pipe'],
    env: user ? userEnv(env, passwdOf(user.uid)) : env,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    // without setpriv, node sets the ids (and drops the supplementary groups)
    ...(user && !setpriv ? { uid: user.uid, gid: user.gid } : {}),
  });
  const exited = exitOf(child);
  const pid = await started(child, argv[0]!);
  const go = child.stdio[3] as NodeJS.WritableStream & { destroy(): void };
  go.on('error', () => undefined); // the shim already gone (killed): its exit says so
  try {
    opts.register(pid);
  } catch (err) {
    go.destroy(); // the shim reads EOF and exits without running the command
    await exited;
    throw err;
  }
  go.end(GO_LINE);
  return {
    pid,
    exited,
    stdout: child.stdout,
    stderr: child.stderr,
    kill: (signal = 'SIGTERM') => void (child.exitCode === null && child.signalCode === null && child.kill(signal)),
  };
}

/** The pid once the shim runs; an EnvironmentError when it cannot start. */
function started(child: ChildProcess, prog: string): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', (err) => reject(new EnvironmentError(`cannot start ${prog}: ${err.message}`, { cause: err })));
  });
}

function exitOf(child: ChildProcess): Promise<CommandExit> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
}
