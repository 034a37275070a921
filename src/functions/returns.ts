/**
 * Typed return values (pure): what a traced function's return value means, read from the
 * kernel's BTF, so a return line says `NULL`, `true`, `-EPERM`, `NF_DROP` or `NO_SOCKET`
 * instead of a number (pwru users have asked for this since 2021). The BTF return type
 * decides: pointers, booleans, enums (enum skb_drop_reason and any other, named from the
 * kernel's own enumerators), signed integers (an errno when in -4095..-1) and plain
 * unsigned integers. What BTF cannot say (an `unsigned int` that is a netfilter verdict,
 * an `int` that is NET_RX_DROP) comes from the function catalogue as a convention.
 */
import type { Btf } from '../kernel/btf.js';
import { dropReasonNames } from '../kernel/btf.js';
import { verdictOf } from '../netfilter/eval.js';

/** What the catalogue can add to BTF's type: how the kernel uses the value. */
export type RetConvention = 'verdict' | 'net_rx' | 'net_xmit' | 'tc_act';
export const RET_CONVENTIONS: readonly RetConvention[] = ['verdict', 'net_rx', 'net_xmit', 'tc_act'];

export interface ReturnSpec {
  readonly kind: 'ptr' | 'bool' | 'int' | 'uint' | 'enum';
  /** the C type, as BTF spells it */
  readonly type: string;
  /** width of the value in bits (the rest of the register is not the function's) */
  readonly bits: number;
  /** enumerator names by value (kind enum); drop reasons without their SKB_DROP_REASON_ prefix */
  readonly names?: ReadonlyMap<number, string>;
  readonly convention?: RetConvention;
}

/** A return value as output shows it. */
export interface ReturnValue {
  /** the number (pointers: hex text, so 64 bits survive JSON) */
  readonly value: number | string;
  /** its name, when the type or convention gives one */
  readonly name: string | null;
  /**
   * The value says the packet did not go on: an errno, NULL or ERR_PTR, NF_DROP, NET_RX_DROP,
   * NET_XMIT_DROP, TC_ACT_SHOT, a drop reason. Absent when it does not say so (or cannot:
   * booleans mean different things in different functions).
   */
  readonly failed?: true;
}

/** Names that say the packet went no further. */
const FAILED = /^(-E|ERR_PTR|NULL$|NF_(DROP|STOLEN|QUEUE)$|NET_RX_DROP$|NET_XMIT_(DROP|CN)$|TC_ACT_(SHOT|STOLEN)$)/;
/** Drop reasons that are no drop. */
const NOT_DROPPED = new Set(['NOT_DROPPED_YET', 'CONSUMED']);

const MODIFIERS = new Set(['typedef', 'const', 'volatile', 'restrict', 'type_tag']);

/** The type under typedefs and qualifiers, and whether a typedef named it bool. */
function peel(btf: Btf, id: number): { id: number; bool: boolean } {
  let bool = false;
  for (let n = 0; n < 32 && id !== 0 && MODIFIERS.has(btf.kindOf(id)); n++) {
    const t = btf.type(id) as { name: string; type: number };
    if (t.name === 'bool') bool = true;
    id = t.type;
  }
  return { id, bool };
}

/** Names of an enum's values; skb_drop_reason's as the rest of pktpath names drop reasons. */
function enumNames(btf: Btf, id: number, name: string): Map<number, string> {
  if (name === 'skb_drop_reason') return dropReasonNames(btf);
  const out = new Map<number, string>();
  for (const [v, n] of btf.enumValues(id) ?? []) if (!out.has(Number(v))) out.set(Number(v), n);
  return out;
}

/**
 * How to read the return value of a function whose FUNC_PROTO's return type is `typeId`
 * in `btf`; null for void (nothing to report).
 */
export function returnSpec(btf: Btf, typeId: number, convention?: RetConvention): ReturnSpec | null {
  if (typeId === 0) return null;
  const type = btf.typeName(typeId);
  const { id, bool } = peel(btf, typeId);
  if (id === 0) return null;
  const t = btf.type(id);
  const conv = convention ? { convention } : {};
  switch (t.kind) {
    case 'ptr':
      return { kind: 'ptr', type, bits: 64, ...conv };
    case 'enum':
    case 'enum64':
      return { kind: 'enum', type, bits: t.size * 8, names: enumNames(btf, id, t.name), ...conv };
    case 'int':
      if (t.bool || bool) return { kind: 'bool', type, bits: t.size * 8, ...conv };
      return { kind: t.signed ? 'int' : 'uint', type, bits: t.size * 8, ...conv };
    default:
      return { kind: 'uint', type, bits: 64, ...conv };
  }
}

/** The low `bits` of the register, as the type reads them. */
function narrow(raw: bigint, bits: number, signed: boolean): bigint {
  const b = Math.min(Math.max(bits, 8), 64);
  return signed ? BigInt.asIntN(b, raw) : BigInt.asUintN(b, raw);
}

const CONVENTION_NAMES: Readonly<Record<'net_rx' | 'net_xmit' | 'tc_act', readonly string[]>> = {
  net_rx: ['NET_RX_SUCCESS', 'NET_RX_DROP'],
  net_xmit: ['NET_XMIT_SUCCESS', 'NET_XMIT_DROP', 'NET_XMIT_CN'],
  // include/uapi/linux/pkt_cls.h, from TC_ACT_OK (0); TC_ACT_UNSPEC is -1
  tc_act: ['TC_ACT_OK', 'TC_ACT_RECLASSIFY', 'TC_ACT_SHOT', 'TC_ACT_PIPE', 'TC_ACT_STOLEN', 'TC_ACT_QUEUED', 'TC_ACT_REPEAT', 'TC_ACT_REDIRECT', 'TC_ACT_TRAP'],
};

/** The name a convention gives a value (a negative one is an errno, but for verdicts and tc actions). */
function conventionName(c: RetConvention, v: bigint, errno: (n: number) => string | undefined): string | null {
  if (c === 'verdict') {
    const name = verdictOf(Number(BigInt.asUintN(32, v)));
    return name === 'UNKNOWN' ? null : `NF_${name}`;
  }
  if (c === 'tc_act' && v === -1n) return 'TC_ACT_UNSPEC';
  if (v < 0n) return c === 'tc_act' ? null : errnoText(v, errno);
  return CONVENTION_NAMES[c][Number(v)] ?? null;
}

/** "-EPERM" for -1 .. -4095 when the errno is known. */
function errnoText(v: bigint, errno: (n: number) => string | undefined): string | null {
  if (v >= 0n || v < -4095n) return null;
  const name = errno(Number(-v));
  return name ? `-${name}` : null;
}

/**
 * A raw return value (the whole register) as its type reads it, with its name. `errno`
 * names a positive errno number ("EPERM").
 */
export function returnValue(spec: ReturnSpec, raw: bigint, errno: (n: number) => string | undefined): ReturnValue {
  const r = rawValue(spec, raw, errno);
  const dropReason = spec.type === 'enum skb_drop_reason' && r.name !== null && !NOT_DROPPED.has(r.name);
  return (r.name !== null && FAILED.test(r.name)) || dropReason ? { ...r, failed: true } : r;
}

function rawValue(spec: ReturnSpec, raw: bigint, errno: (n: number) => string | undefined): ReturnValue {
  if (spec.kind === 'ptr') {
    const p = BigInt.asUintN(64, raw);
    const err = BigInt.asIntN(64, p);
    const name = p === 0n ? 'NULL' : err < 0n && err >= -4095n ? `ERR_PTR(${errnoText(err, errno) ?? String(err)})` : null;
    return { value: `0x${p.toString(16)}`, name };
  }
  const signed = spec.kind === 'int' || (spec.convention !== undefined && spec.convention !== 'verdict');
  const v = narrow(raw, spec.bits, signed);
  const value = Number(v);
  if (spec.convention) return { value, name: conventionName(spec.convention, v, errno) };
  switch (spec.kind) {
    case 'bool':
      return { value, name: v === 0n ? 'false' : 'true' };
    case 'enum':
      return { value, name: spec.names?.get(value) ?? null };
    case 'int':
      return { value, name: errnoText(v, errno) };
    default:
      return { value, name: null };
  }
}
