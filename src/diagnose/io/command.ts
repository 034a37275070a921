/**
 * The command `pktpath diagnose -- CMD` runs: as the user who invoked pktpath (sudo's
 * SUDO_UID/SUDO_GID), its output passed through to stderr untouched (stdout is the
 * report's), its exit status kept for the report.
 */
import { spawn } from 'node:child_process';
import { UsageError } from '../../shared/errors.js';

export interface CommandRun {
  readonly pid: number | undefined;
  /** resolves once the program runs; rejects with a UsageError when it cannot start */
  readonly started: Promise<void>;
  /** how it ended: "exited with status 0", "was killed by SIGINT" */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; text: string }>;
  kill(signal?: NodeJS.Signals): void;
}

function invokingUser(): { uid?: number; gid?: number } {
  const uid = Number(process.env.SUDO_UID);
  const gid = Number(process.env.SUDO_GID);
  if (process.getuid?.() !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid) || uid === 0) return {};
  return { uid, gid };
}

export function startCommand(argv: readonly string[]): CommandRun {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['inherit', 2, 2], ...invokingUser() });
  const started = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? 'no such program' : err.code === 'EACCES' ? 'permission denied' : err.message;
      reject(new UsageError(`cannot run "${argv[0]}": ${why}`, { cause: err }));
    });
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; text: string }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, text: signal ? `was killed by ${signal}` : `exited with status ${code}` }));
    child.once('error', () => resolve({ code: null, signal: null, text: 'did not start' }));
  });
  return { pid: child.pid, started, exited, kill: (s = 'SIGTERM') => void child.kill(s) };
}
