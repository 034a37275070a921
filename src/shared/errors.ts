/**
 * The errors pktpath reports to the user. Each carries the process exit code the CLI
 * uses for it, and an optional `cause` (the underlying error) for --verbose output.
 *
 *   UsageError        exit 2  bad command-line input
 *   EnvironmentError  exit 3  the machine cannot run a trace (not root, no BTF, libbpf missing)
 *   KernelError       exit 4  the kernel refused something (BPF load or attach failed)
 *
 * Messages are one line, meant to be printed as-is after "pktpath: ".
 */

export abstract class PktpathError extends Error {
  abstract readonly exitCode: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bad input from the user (exit 2). */
export class UsageError extends PktpathError {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/** The environment cannot run a trace: not root, no BTF, libbpf missing (exit 3). */
export class EnvironmentError extends PktpathError {
  override readonly name = 'EnvironmentError';
  readonly exitCode = 3;
}

/** The loader's phases, in order (src/engine/io/loader.ts). */
export type LoadPhase = 'open' | 'select' | 'configure' | 'load' | 'attach' | 'ring';

/**
 * The kernel refused: BPF load or attach failures (exit 4). `phase` and `probe` say where
 * (for example phase 'load', probe 'fentry_skb_1'), when the loader knows.
 */
export class KernelError extends PktpathError {
  override readonly name = 'KernelError';
  readonly exitCode = 4;
  readonly phase?: LoadPhase;
  readonly probe?: string;

  constructor(message: string, options?: { cause?: unknown; phase?: LoadPhase; probe?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    if (options?.phase) this.phase = options.phase;
    if (options?.probe) this.probe = options.probe;
  }
}

/** Exit code for any thrown value: the error's own for PktpathErrors, 1 otherwise. */
export function exitCodeOf(err: unknown): number {
  return err instanceof PktpathError ? err.exitCode : 1;
}
