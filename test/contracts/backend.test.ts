/**
 * Every attach backend runs the same contract (./backend.suite.ts). On a kernel that lacks
 * a backend (this project's host has no fentry and no kprobes), that backend skips with the
 * reason; test/guest/backends.test.ts runs this file in guest kernels that have them.
 */
import { existsSync } from 'node:fs';
import { backendContract } from './backend.suite.js';
import { backendReason, BACKEND_FEATURES } from '../../src/engine/backends.js';
import type { FuncBackend, FunctionTarget } from '../../src/engine/backends.js';
import { fentryBackend, hasKprobePmu, kprobeBackend, kprobeMultiBackend, netfilterBackend, tracepointBackend } from '../../src/engine/io/attach/index.js';
import type { AttachBackend, NetfilterSpot } from '../../src/engine/io/attach/index.js';
import { catalog } from '../../src/engine/io/catalog.js';
import { RET_NO_ENTRY } from '../../src/engine/event.js';
import type { RawEvent } from '../../src/engine/event.js';
import { missingFeature } from '../../src/kernel/features.js';
import type { KernelFacts } from '../../src/kernel/features.js';
import { kallsyms, kernelBtf } from '../../src/kernel/io/kernel.js';

const haveBtf = existsSync('/sys/kernel/btf/vmlinux');
const facts = (): KernelFacts => ({ btf: kernelBtf(), hasSymbol: (s) => kallsyms().has(s) });

backendContract({
  backend: tracepointBackend,
  unavailable: () => missingFeature(['raw_tp', 'ringbuf'], facts()),
  targets: () => [{ probe: 'netif_receive_skb', flavour: haveBtf && kernelBtf().tracepointArgs('netif_receive_skb') ? 'tp_btf' : 'raw_tp' }],
  isOurs: (ev) => ev.probe === catalog().tracepoints.find((t) => t.name === 'netif_receive_skb')!.id,
  refusal: () => null,
});

const isIpRcv = (ev: RawEvent): boolean => ev.funcIp !== undefined && kallsyms().symbolize(ev.funcIp)?.name === 'ip_rcv';

/**
 * A function backend on ip_rcv, which every loopback packet passes; with `ret`, its return
 * too (fentry: fentry_ret and fexit; kprobe.multi: a kprobe session, Linux 6.10+), seen
 * as a return built from its entry (not flagged RET_NO_ENTRY).
 */
function functionCase(backend: AttachBackend<FunctionTarget>, ret = false): void {
  const name = backend.name as FuncBackend;
  const needs = [...BACKEND_FEATURES[name], ...(ret ? (name === 'fentry' ? (['fexit', 'func_ret'] as const) : (['kprobe_session'] as const)) : [])];
  backendContract<FunctionTarget>({
    backend,
    ...(ret ? { name: `${name}+returns` } : {}),
    unavailable: () => (name === 'kprobe' && !hasKprobePmu() ? backendReason('kprobe', new Error('no kprobe PMU'), false) : missingFeature(needs, facts())),
    targets: () => [{ name: 'ip_rcv', skbArg: 1, btfId: kernelBtf().findType('func', 'ip_rcv')?.id ?? 0, ...(ret ? { ret: true } : {}) }],
    isOurs: ret
      ? (ev) => ev.probe === catalog().functionProbes.return && isIpRcv(ev) && ((ev.aux3 ?? 0) & RET_NO_ENTRY) === 0
      : (ev) => ev.probe === catalog().functionProbes.entry && isIpRcv(ev),
    refusal: (err) => backendReason(name, err, hasKprobePmu(), facts()),
  });
}
functionCase(fentryBackend);
functionCase(fentryBackend, true);
functionCase(kprobeMultiBackend);
functionCase(kprobeMultiBackend, true);
functionCase(kprobeBackend);

/** A netfilter observer at IPv4 LOCAL_OUT in this namespace; another hook at that priority moves it on (EBUSY). */
backendContract<NetfilterSpot>({
  backend: {
    ...netfilterBackend,
    attach(h, targets) {
      for (let priority = -451; priority > -470; priority--) {
        const a = netfilterBackend.attach(h, targets.map((s) => ({ ...s, priority })));
        if (a.usable || !/Device or resource busy/.test(a.status[0]?.reason ?? '')) return a;
      }
      return netfilterBackend.attach(h, targets);
    },
  },
  unavailable: () => missingFeature(['netfilter_prog'], facts()),
  targets: () => [{ slot: 0, pf: 2 /* NFPROTO_IPV4 */, hookNum: 3 /* NF_INET_LOCAL_OUT */, priority: -451, netnsPath: null }],
  isOurs: (ev) => ev.probe === catalog().netfilterProbes.observer,
  refusal: () => null,
});
