/**
 * The run's lifecycle pieces: why it stops, who owns the signals, and a stop made of
 * phases that all run whatever an earlier one threw.
 *
 * The session is the only owner of SIGINT and SIGTERM in pktpath: the first asks for a
 * graceful stop (drain, summary, detach); the second forces a quick exit, through
 * process.exit, so the 'exit' handlers still run (the netfilter module removes its nft
 * tables there, synchronously).
 */

/** Why a run ends. */
export type StopCause = 'signal' | 'catch-count' | 'until' | 'output-closed' | 'error';

/** The run's end: the first cause asked for wins. */
export class StopRequest {
  cause: StopCause | undefined;
  readonly stopped: Promise<StopCause>;
  private resolve!: (cause: StopCause) => void;

  constructor() {
    this.stopped = new Promise((r) => (this.resolve = r));
  }

  request(cause: StopCause): void {
    if (this.cause) return;
    this.cause = cause;
    this.resolve(cause);
  }
}

export type RunSignal = 'SIGINT' | 'SIGTERM';

/** Where signals come from (process, or a fake in tests). */
export interface SignalSource {
  on(sig: RunSignal, fn: () => void): unknown;
  off(sig: RunSignal, fn: () => void): unknown;
}

export const SIGNAL_EXIT: Readonly<Record<RunSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Takes SIGINT and SIGTERM: the first of them calls `onStop`, any later one `onForce`.
 * Returns the function that gives them back.
 */
export function ownSignals(src: SignalSource, onStop: (sig: RunSignal) => void, onForce: (sig: RunSignal) => void): () => void {
  let seen = 0;
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((sig) => {
    const fn = (): void => (seen++ === 0 ? onStop(sig) : onForce(sig));
    src.on(sig, fn);
    return [sig, fn] as const;
  });
  let owned = true;
  return () => {
    if (!owned) return;
    owned = false;
    for (const [sig, fn] of handlers) src.off(sig, fn);
  };
}

/** One step of a stop. */
export interface Phase {
  readonly name: string;
  run(): void | Promise<void>;
}

/** A phase that threw, with its name. */
export interface PhaseFailure {
  readonly phase: string;
  readonly error: unknown;
}

/** Runs every phase in order, whatever an earlier one threw; returns the failures. */
export async function runPhases(phases: readonly Phase[]): Promise<PhaseFailure[]> {
  const failures: PhaseFailure[] = [];
  for (const p of phases) {
    try {
      await p.run();
    } catch (error) {
      failures.push({ phase: p.name, error });
    }
  }
  return failures;
}
