/**
 * The run's stdout, bounded. Lines are batched per ring wake-up and written in one call;
 * the stream may hold at most `maxPending` characters not yet taken by the consumer
 * (a pipe into a slow reader, a socket). Past that, writable() says no and the pipeline
 * counts events as dropped for back-pressure instead of queueing them, so a slow consumer
 * costs events, never memory. Files and terminals are written synchronously by Node: for
 * them the bound is the batch.
 */
import type { LineSink } from '../pipeline.js';

/** Characters the stream may hold for a slow consumer. */
export const MAX_PENDING_CHARS = 4 << 20;

/** A writable stream as the run uses it (process.stdout, a PassThrough in the demo and tests). */
export type OutStream = NodeJS.WritableStream & { readonly writableLength?: number };

export class LineOutput implements LineSink {
  private batch: string[] = [];
  private batchChars = 0;
  /** lines handed to the stream that it has not confirmed written */
  private unconfirmed = 0;
  /** lines the stream failed to write (EPIPE) or that were never handed over */
  private failed = 0;
  private broken = false;
  private onSettled: (() => void) | undefined;

  constructor(
    private readonly stream: OutStream,
    private readonly maxPending: number = MAX_PENDING_CHARS,
  ) {}

  writable(): boolean {
    return !this.broken && (this.stream.writableLength ?? 0) + this.batchChars < this.maxPending;
  }

  push(line: string): void {
    this.batch.push(line);
    this.batchChars += line.length + 1;
  }

  /** Writes a line at once, outside the batches (the text header). */
  writeNow(line: string): void {
    this.push(line);
    this.flush();
  }

  /** Hands the batch to the stream in one write. */
  flush(): void {
    const lines = this.batch.length;
    if (!lines) return;
    const text = `${this.batch.join('\n')}\n`;
    this.batch = [];
    this.batchChars = 0;
    if (this.broken) {
      this.failed += lines;
      return;
    }
    this.unconfirmed += lines;
    this.stream.write(text, (err?: Error | null) => {
      this.unconfirmed -= lines;
      if (err) this.failed += lines;
      if (this.unconfirmed === 0) this.onSettled?.();
    });
  }

  /** The consumer went away (EPIPE): nothing more is written. */
  markBroken(): void {
    this.broken = true;
  }

  /** Lines that did not reach the consumer so far. */
  get lost(): number {
    return this.failed;
  }

  /**
   * Waits until the stream has taken every line handed to it, at most `ms`; returns the
   * lines it still holds then (they will not be counted as printed).
   */
  settle(ms: number): Promise<number> {
    this.flush();
    if (this.unconfirmed === 0 || this.broken) return Promise.resolve(this.broken ? this.unconfirmed : 0);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.onSettled = undefined;
        resolve(this.unconfirmed);
      };
      const timer = setTimeout(done, ms);
      this.onSettled = done;
    });
  }
}
