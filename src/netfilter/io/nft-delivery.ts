/**
 * From a group of trace records (one packet) to its NfTrace, in the order the groups
 * completed: rules the monitor did not know (added after it started) get their text
 * from `nft -a list ruleset`, and chains it has not seen get their hook from `nft -j
 * list chains`; each lookup is a process, so at most one per 100 ms.
 */
import { performance } from 'node:perf_hooks';
import { OWN_TABLE_RE, chainKey } from '../model.js';
import type { NfTrace, NftChainInfo, NftTraceRecord } from '../model.js';
import { aggregateTrace } from '../nft/path.js';
import { nftRuleTexts, nftRulesetHooks, ruleKey } from './nft-cli.js';

/** A listing older than this is read again when it lacks what a group needs. */
const RELIST_MS = 100;

/** Values pushed by one side, read through an async iterator by the other; buffers from the first iterator() on. */
export class AsyncQueue<T> {
  private readonly buffered: T[] = [];
  private readonly waiters: ((r: IteratorResult<T>) => void)[] = [];
  private buffering = false;
  private ended = false;

  push(v: T): void {
    const w = this.waiters.shift();
    if (w) w({ value: v, done: false });
    else if (this.buffering) this.buffered.push(v);
  }

  /** No more values: iterators end once they have read what is buffered. */
  end(): void {
    this.ended = true;
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
  }

  iterator(): AsyncIterableIterator<T> {
    this.buffering = true;
    const it: AsyncIterableIterator<T> = {
      next: (): Promise<IteratorResult<T>> => {
        if (this.buffered.length) return Promise.resolve({ value: this.buffered.shift()!, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.waiters.push(resolve));
      },
      return: (): Promise<IteratorResult<T>> => Promise.resolve({ value: undefined, done: true }),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }
}

export class TraceDelivery {
  private hooks: Map<string, NftChainInfo> = new Map();
  private hooksAt = -Infinity;
  private rules: Map<string, string> | null = null;
  private rulesAt = -Infinity;
  private pipeline: Promise<void> = Promise.resolve();
  readonly queue = new AsyncQueue<NfTrace>();
  /** traces delivered */
  delivered = 0;

  constructor(
    private readonly netns: string | null,
    private readonly onTrace: ((trace: NfTrace) => void) | undefined,
    private readonly report: (err: unknown) => void,
  ) {}

  /** Queues a group; it is delivered after the groups pushed before it. */
  push(group: NftTraceRecord[]): void {
    this.pipeline = this.pipeline.then(() => this.deliver(group)).catch(this.report);
  }

  /** Resolves once every group pushed so far is delivered. */
  async settled(): Promise<void> {
    for (let p = this.pipeline; ; p = this.pipeline) {
      await p;
      if (p === this.pipeline) return;
    }
  }

  /** Reads the namespace's chains again (hook and priority of each). */
  async refreshHooks(): Promise<void> {
    this.hooks = await nftRulesetHooks(this.netns);
    this.hooksAt = performance.now();
  }

  private async deliver(group: NftTraceRecord[]): Promise<void> {
    const records = await this.resolveRules(group);
    const missing = records.some((r) => r.kind === 'packet' && !OWN_TABLE_RE.test(r.table) && !this.hooks.has(chainKey(r.family, r.table, r.chain)));
    if (missing && performance.now() - this.hooksAt > RELIST_MS) await this.refreshHooks();
    const trace = aggregateTrace(records, this.hooks);
    this.delivered++;
    this.onTrace?.(trace);
    this.queue.push(trace);
  }

  /** The text of `unknown rule handle N` records, from the current ruleset. */
  private async resolveRules(records: NftTraceRecord[]): Promise<NftTraceRecord[]> {
    if (!records.some((r) => r.unknownRule && r.rule === undefined)) return records;
    const lookup = (r: NftTraceRecord): string | undefined => this.rules?.get(ruleKey(r.family, r.table, r.chain, r.handle));
    if (records.some((r) => r.unknownRule && lookup(r) === undefined) && performance.now() - this.rulesAt > RELIST_MS) {
      this.rules = await nftRuleTexts(this.netns);
      this.rulesAt = performance.now();
    }
    return records.map((r) => {
      const text = r.unknownRule ? lookup(r) : undefined;
      return text === undefined ? r : { ...r, rule: text };
    });
  }
}
