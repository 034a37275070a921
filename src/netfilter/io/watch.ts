/**
 * --iptable during the run: every second, namespaces created under /run/netns since the
 * start (when no -N was given) get their trace session, and a traced namespace that had
 * no iptables-legacy rules is looked at again: its legacy table names are read in place
 * (the addon enters the namespace for the read; no process), and when they change, or
 * every RULES_RECHECK_MS while the tables hold no rule, its rules are snapshot.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NETNS_RUN_DIR, netnsNames } from '../../kernel/io/netns.js';
import { native } from '../../engine/io/native.js';

/** At most this many namespaces get a trace session of their own. */
export const MAX_NAMESPACES = 64;
/** How often namespaces and legacy tables that appear during a run are looked for. */
const POLL_MS = 1000;
/** How often a namespace whose legacy tables hold no rule is looked at again (one iptables-legacy-save). */
const RULES_RECHECK_MS = 3000;

/** What the watch drives: the --iptable path of the run. */
export interface WatchedPath {
  readonly stopped: boolean;
  /** counters and observers for a namespace's legacy rules; false when it has none */
  watchLegacy(netns: string | null, report: (problem: string) => void): Promise<boolean>;
  /** the nft trace session of a namespace */
  startSession(netns: string | null, report: (problem: string) => void): Promise<void>;
  /** observer hook positions in a namespace, by name ('' = ours) */
  spotsIn(name: string): number | undefined;
}

/** Legacy table names of a namespace (null: ours), read in place: no process is started. */
function legacyTableNames(netns: string | null): string {
  const n = native();
  const path = netns === null ? null : join(NETNS_RUN_DIR, netns);
  const read = (f: string): string => {
    try {
      return n.readInNetns(path, f);
    } catch {
      return ''; // no x_tables in that family (the file is missing)
    }
  };
  return `${read('/proc/thread-self/net/ip_tables_names')}|${read('/proc/thread-self/net/ip6_tables_names')}`.replace(/\s+/g, ' ');
}

export class NamespaceWatch {
  /** namespaces given a session, or tried, by name ('' = ours) */
  private readonly attempted: Set<string>;
  /**
   * Traced namespaces without legacy rules, by name: the table names last seen and when
   * the rules were last looked at (tables that exist but hold no rule are looked at again
   * every RULES_RECHECK_MS: a rule added to them changes no names).
   */
  private readonly unwatched = new Map<string, { tables: string; atMs: number }>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private polling: Promise<void> | null = null;

  /**
   * `newNamespaces`: also trace namespaces created under /run/netns during the run (no -N).
   * `initial`: the namespaces traced from the start.
   */
  constructor(
    private readonly path: WatchedPath,
    private readonly newNamespaces: boolean,
    initial: readonly (string | null)[],
    private readonly onError: (msg: string) => void,
    private readonly onInfo: (msg: string) => void,
  ) {
    this.attempted = new Set(initial.map((t) => t ?? ''));
  }

  /** Traces a namespace: counters and observers when it has legacy rules, else remembered for the poll; then its session. */
  async add(netns: string | null, report: (problem: string) => void): Promise<void> {
    // the table names are read only for a namespace the poll has to keep looking at
    if (!(await this.path.watchLegacy(netns, report))) this.unwatched.set(netns ?? '', { tables: legacyTableNames(netns), atMs: Date.now() });
    await this.path.startSession(netns, report);
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.polling || this.path.stopped) return;
      this.polling = this.poll()
        .catch((err: unknown) => this.onError(`netfilter path: ${(err as Error).message}`))
        .finally(() => (this.polling = null));
    }, POLL_MS);
    this.timer.unref();
  }

  /** No more polls; resolves when the one under way (if any) is over. */
  async stop(): Promise<void> {
    this.stopSync();
    await this.polling;
  }

  stopSync(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    if (this.newNamespaces) await this.pollNamespaces();
    await this.pollLegacy();
  }

  /** A problem in a namespace found during the run; one deleted while it was being added is not worth a line. */
  private lateIn(netns: string | null): (p: string) => void {
    return (p) => {
      if (netns === null || existsSync(join(NETNS_RUN_DIR, netns))) this.onError(`netfilter path: ${p}`);
    };
  }

  private async pollNamespaces(): Promise<void> {
    for (const name of netnsNames().values()) {
      if (this.path.stopped || this.attempted.has(name)) continue;
      if (this.attempted.size > MAX_NAMESPACES) break;
      this.attempted.add(name);
      await this.add(name, this.lateIn(name));
      const spots = this.path.spotsIn(name);
      this.onInfo(`netfilter path: now tracing namespace ${name}, created during the run${spots ? `; iptables-legacy path via BPF netfilter observers at ${spots} hook positions` : ''}`);
    }
  }

  private async pollLegacy(): Promise<void> {
    for (const [name, seen] of [...this.unwatched]) {
      if (this.path.stopped) return;
      const netns = name === '' ? null : name;
      if (netns !== null && !existsSync(join(NETNS_RUN_DIR, netns))) {
        this.unwatched.delete(name); // gone
        continue;
      }
      const now = legacyTableNames(netns);
      const hasTables = /\w/.test(now);
      if (now === seen.tables && !(hasTables && Date.now() - seen.atMs >= RULES_RECHECK_MS)) continue;
      this.unwatched.set(name, { tables: now, atMs: Date.now() });
      if (!hasTables) continue;
      if (await this.path.watchLegacy(netns, this.lateIn(netns))) {
        this.unwatched.delete(name);
        const spots = this.path.spotsIn(name);
        this.onInfo(`netfilter path: iptables-legacy rules appeared in ${name || 'this namespace'}: now watched${spots ? `, with BPF netfilter observers at ${spots} hook positions` : ''}`);
      }
    }
  }
}
