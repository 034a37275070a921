/**
 * The Prometheus endpoint of `pktpath drops --listen`: GET /metrics answers in the text
 * exposition format, written by prom-client from the families src/drops/metrics.ts
 * computes at each scrape (fresh counts: a scrape reads the kernel's table), plus what
 * the exporter costs the node: process_cpu_seconds_total and process_resident_memory_bytes
 * (prom-client's default set also has nodejs_* gauges named *_total, which promtool
 * refuses). Every other path is 404, every other method 405.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { EnvironmentError } from '../../shared/errors.js';
import type { MetricFamily } from '../metrics.js';
import type { ListenAddress } from '../options.js';

export interface Exporter {
  /** host:port it listens on ([v6]:port), the port resolved when 0 was asked */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** One prom-client Counter per family, filled from the scrape's families when prom-client collects. */
class FamilyCounters {
  private current = new Map<string, MetricFamily>();
  constructor(private readonly registry: Registry) {}

  set(families: readonly MetricFamily[]): void {
    this.current = new Map(families.map((f) => [f.name, f]));
    for (const f of families) {
      if (this.registry.getSingleMetric(f.name)) continue;
      const current = (): MetricFamily | undefined => this.current.get(f.name);
      new Counter({
        name: f.name,
        help: f.help,
        labelNames: [...f.labelNames],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const s of current()?.samples ?? []) this.inc({ ...s.labels }, s.value);
        },
      });
    }
  }
}

function listenError(l: ListenAddress, err: NodeJS.ErrnoException): EnvironmentError {
  const where = `--listen ${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;
  const why: Record<string, string> = {
    EADDRINUSE: 'the port is already in use',
    EADDRNOTAVAIL: 'not an address of this host',
    EACCES: 'not permitted (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
    ENOTFOUND: 'the name does not resolve',
  };
  return new EnvironmentError(`${where}: ${why[err.code ?? ''] ?? err.message}`, { cause: err });
}

/** This process's CPU time and memory, under the names every exporter uses. */
function processMetrics(registry: Registry): void {
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'User and system CPU time spent by pktpath, in seconds',
    registers: [registry],
    collect() {
      const u = process.cpuUsage();
      this.reset();
      this.inc((u.user + u.system) / 1e6);
    },
  });
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory of pktpath, in bytes',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().rss);
    },
  });
}

function answer(res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Listens on `l`; `collect` gives the families at each scrape. Fails with an
 * EnvironmentError (exit 3) when the address cannot be bound.
 */
export async function startExporter(l: ListenAddress, collect: () => MetricFamily[]): Promise<Exporter> {
  const registry = new Registry();
  processMetrics(registry);
  const families = new FamilyCounters(registry);
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'only GET\n');
    if (path === '/') return answer(res, 200, 'pktpath drops exporter: see /metrics\n');
    if (path !== '/metrics') return answer(res, 404, 'not found: see /metrics\n');
    try {
      families.set(collect());
      answer(res, 200, await registry.metrics(), registry.contentType);
    } catch (err) {
      answer(res, 500, `pktpath: ${(err as Error).message}\n`);
    }
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(l, err as NodeJS.ErrnoException)));
    server.listen({ host: l.host, port: l.port, ipv6Only: false }, resolve);
  });
  const a = server.address() as AddressInfo;
  return {
    address: a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`,
    port: a.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
