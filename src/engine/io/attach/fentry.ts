/**
 * fentry, with fexit: one program template per position of the skb argument, verified at
 * load against the first function of that position and re-verified as a clone for each
 * other function (one trampoline per function). A function whose return value is reported
 * gets fentry_ret_skb_N, which keeps its entry's event, and fexit_skb_N, which builds the
 * return from it. Functions in modules (nf_tables, ip_tables...) are clones loaded against
 * the module's BTF. fexit also reports the verdicts of the netfilter evaluation functions
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

/** The templates of one position: entry only, entry that keeps the call, return. */
interface Templates {
  readonly entry: string;
  readonly entryRet: string;
  readonly exit: string;
}
const templates = (pos: number): Templates => ({ entry: `fentry_skb_${pos}`, entryRet: `fentry_ret_skb_${pos}`, exit: `fexit_skb_${pos}` });

/** The function a template is verified against at load: a vmlinux one when there is one. */
const loadTarget = (fs: readonly FunctionTarget[]): FunctionTarget | undefined => fs.find((f) => !f.module) ?? fs[0];

export const fentryBackend: AttachBackend<FunctionTarget> = {
  name: 'fentry',
  prepare(h, targets) {
    const n = native();
    const names: string[] = [];
    const point = (prog: string, fs: readonly FunctionTarget[]): void => {
      const first = loadTarget(fs);
      if (!first) return;
      n.setAttachTarget(h, prog, first.name);
      names.push(prog);
    };
    for (const [pos, fs] of byPosition(targets)) {
      const t = templates(pos);
      point(t.entry, fs.filter((f) => !f.ret));
      point(t.entryRet, fs.filter((f) => f.ret));
      point(t.exit, fs.filter((f) => f.ret));
    }
    return names;
  },
  attach(h: ObjHandle, targets: readonly FunctionTarget[]): Attachment {
    const out = { status: [] as ProbeStatus[], links: [] as number[] };
    try {
      for (const [pos, fs] of byPosition(targets)) {
        const t = templates(pos);
        const ret = fs.filter((f) => f.ret);
        attachTemplate(h, t.entry, fs.filter((f) => !f.ret), out, (f) => f.name, 'fentry');
        attachTemplate(h, t.entryRet, ret, out, (f) => f.name, 'fentry');
        attachTemplate(h, t.exit, ret, out, (f) => `${f.name} (return)`, 'fexit');
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
 * one (against its module's BTF for a module function). A refusal of the mechanism before
 * anything attached throws Refused.
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
  const first = loadTarget(fs);
  for (const f of fs) {
    try {
      out.links.push(f === first ? n.attach(h, prog) : n.attachClone(h, prog, f.btfId, f.module));
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
