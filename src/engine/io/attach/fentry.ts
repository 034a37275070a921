/**
 * fentry, with fexit: one program template per position of the skb argument, verified at
 * load against the first function of that position and re-verified as a clone for each
 * other function (one trampoline per function). fexit reports the return value of the
 * functions that ask for it, and the verdicts of the netfilter evaluation functions
 * (nft_do_chain, ipt_do_table, ip6t_do_table).
 */
import { native } from '../native.js';
import type { ObjHandle } from '../native.js';
import { byPosition, mechanismMissing } from '../../backends.js';
import type { FunctionTarget, ProbeStatus } from '../../backends.js';
import type { NfEvalProgram } from '../../../netfilter/eval.js';
import { messageOf } from './backend.js';
import type { AttachBackend, Attachment } from './backend.js';

/** Thrown out of the first attach of a backend whose mechanism the kernel refuses. */
class Refused extends Error {
  constructor(readonly error: unknown) {
    super(messageOf(error));
  }
}

export const fentryBackend: AttachBackend<FunctionTarget> = {
  name: 'fentry',
  prepare(h, targets) {
    const n = native();
    const names: string[] = [];
    for (const [pos, fs] of byPosition(targets)) {
      // fentry/fexit are verified against one target at load; the rest are clones
      const first = fs.find((f) => !f.module);
      if (first) {
        n.setAttachTarget(h, `fentry_skb_${pos}`, first.name);
        names.push(`fentry_skb_${pos}`);
      }
      const ret = fs.find((f) => !f.module && f.ret);
      if (ret) {
        n.setAttachTarget(h, `fexit_skb_${pos}`, ret.name);
        names.push(`fexit_skb_${pos}`);
      }
    }
    return names;
  },
  attach(h: ObjHandle, targets: readonly FunctionTarget[]): Attachment {
    const out = { status: [] as ProbeStatus[], links: [] as number[] };
    try {
      for (const [pos, fs] of byPosition(targets)) {
        attachTemplate(h, `fentry_skb_${pos}`, fs, out, (f) => f.name, 'fentry');
        attachTemplate(h, `fexit_skb_${pos}`, fs.filter((f) => !f.module && f.ret), out, (f) => `${f.name} (return)`, 'fexit');
      }
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      return { ...out, usable: false, why: err.message, error: err.error };
    }
    if (!out.links.length) return { ...out, usable: false, why: 'no function could be attached' };
    return { ...out, usable: true };
  },
};

/**
 * The template itself for the function it was verified against, a clone for each other
 * one. A refusal of the mechanism before anything attached throws Refused.
 */
function attachTemplate(
  h: ObjHandle,
  prog: string,
  fs: readonly FunctionTarget[],
  out: { status: ProbeStatus[]; links: number[] },
  label: (f: FunctionTarget) => string,
  via: 'fentry' | 'fexit',
): void {
  const n = native();
  const loadTarget = fs.find((f) => !f.module); // the function the template was verified against
  for (const f of fs) {
    try {
      if (f.module) throw new Error('module function: fentry clones need the module BTF (use --backend kprobe)');
      out.links.push(f === loadTarget ? n.attach(h, prog) : n.attachClone(h, prog, f.btfId));
      out.status.push({ probe: label(f), attached: true, via });
    } catch (err) {
      if (via === 'fentry' && !out.links.length && mechanismMissing(err)) throw new Refused(err);
      out.status.push({ probe: label(f), attached: false, reason: `${via}: ${messageOf(err)}` });
    }
  }
}

/** The netfilter evaluation functions' fexit programs (libbpf finds each target, in its module's BTF if need be). */
export const fexitEvalBackend: AttachBackend<NfEvalProgram> = {
  name: 'fentry',
  prepare: (_h, targets) => targets.map((p) => p.program),
  attach(h, targets) {
    const n = native();
    const status: ProbeStatus[] = [];
    const links: number[] = [];
    for (const p of targets) {
      try {
        links.push(n.attach(h, p.program));
        status.push({ probe: `${p.func} (verdict)`, attached: true, via: 'fexit' });
      } catch (err) {
        status.push({ probe: `${p.func} (verdict)`, attached: false, reason: `fexit: ${messageOf(err)}` });
      }
    }
    return { status, links, usable: links.length > 0 || targets.length === 0 };
  },
};
