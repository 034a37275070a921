/**
 * Parser for the Linux kernel's BPF Type Format (BTF), as found in
 * /sys/kernel/btf/vmlinux, /sys/kernel/btf/<module> (split BTF) and the
 * `.BTF` section of BPF objects. See the kernel's Documentation/bpf/btf.rst.
 *
 * Parsing only walks the type section once to record where each type starts;
 * type objects are decoded on demand (and cached), and the name index is built
 * on the first name lookup.
 */

/** Kind of a BTF type, lower-case spelling of the kernel's `BTF_KIND_*`. `void` is type id 0. */
export type BtfKind =
  | 'void'
  | 'int'
  | 'ptr'
  | 'array'
  | 'struct'
  | 'union'
  | 'enum'
  | 'fwd'
  | 'typedef'
  | 'volatile'
  | 'const'
  | 'restrict'
  | 'func'
  | 'func_proto'
  | 'var'
  | 'datasec'
  | 'float'
  | 'decl_tag'
  | 'type_tag'
  | 'enum64';

/** Linkage of a FUNC or VAR. */
export type BtfLinkage = 'static' | 'global' | 'extern';

interface BtfTypeBase {
  /** Type id (0 is void). */
  readonly id: number;
  /** Name, '' when anonymous. */
  readonly name: string;
}

export interface BtfVoid extends BtfTypeBase {
  readonly kind: 'void';
}

export interface BtfInt extends BtfTypeBase {
  readonly kind: 'int';
  /** Storage size in bytes. */
  readonly size: number;
  readonly bits: number;
  readonly bitOffset: number;
  readonly signed: boolean;
  readonly char: boolean;
  readonly bool: boolean;
}

export type BtfRefKind = 'ptr' | 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag';

/** PTR, TYPEDEF, VOLATILE, CONST, RESTRICT and TYPE_TAG: a kind that refers to one other type. */
export interface BtfRef<Kd extends BtfRefKind = BtfRefKind> extends BtfTypeBase {
  readonly kind: Kd;
  readonly type: number;
}

export interface BtfArray extends BtfTypeBase {
  readonly kind: 'array';
  readonly elemType: number;
  readonly indexType: number;
  readonly nelems: number;
}

export interface BtfMember {
  readonly name: string;
  readonly typeId: number;
  /** Offset from the start of the enclosing struct/union, in bits. */
  readonly bitOffset: number;
  /** Width of a bitfield in bits; 0 when the member is not a bitfield. */
  readonly bitSize: number;
}

export interface BtfComposite<Kd extends 'struct' | 'union' = 'struct' | 'union'> extends BtfTypeBase {
  readonly kind: Kd;
  readonly size: number;
  readonly members: readonly BtfMember[];
}

export interface BtfEnum extends BtfTypeBase {
  readonly kind: 'enum';
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly { readonly name: string; readonly value: number }[];
}

export interface BtfEnum64 extends BtfTypeBase {
  readonly kind: 'enum64';
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly { readonly name: string; readonly value: bigint }[];
}

export interface BtfFwd extends BtfTypeBase {
  readonly kind: 'fwd';
  readonly fwdKind: 'struct' | 'union';
}

export interface BtfFunc extends BtfTypeBase {
  readonly kind: 'func';
  /** Id of the FUNC_PROTO. */
  readonly type: number;
  readonly linkage: BtfLinkage;
}

export interface BtfParam {
  readonly name: string;
  readonly typeId: number;
}

export interface BtfFuncProto extends BtfTypeBase {
  readonly kind: 'func_proto';
  readonly returnType: number;
  /** Parameters, without the trailing variadic marker. */
  readonly params: readonly BtfParam[];
  readonly variadic: boolean;
}

export interface BtfVar extends BtfTypeBase {
  readonly kind: 'var';
  readonly type: number;
  readonly linkage: BtfLinkage;
}

export interface BtfVarSecinfo {
  /** Id of the VAR (or FUNC for extern functions in `.ksyms`). */
  readonly typeId: number;
  readonly offset: number;
  readonly size: number;
}

export interface BtfDatasec extends BtfTypeBase {
  readonly kind: 'datasec';
  readonly size: number;
  readonly vars: readonly BtfVarSecinfo[];
}

export interface BtfFloat extends BtfTypeBase {
  readonly kind: 'float';
  readonly size: number;
}

export interface BtfDeclTag extends BtfTypeBase {
  readonly kind: 'decl_tag';
  readonly type: number;
  /** Member/parameter index the tag applies to; -1 for the type itself. */
  readonly componentIdx: number;
}

export type BtfType =
  | BtfVoid
  | BtfInt
  | BtfRef<'ptr'>
  | BtfRef<'typedef'>
  | BtfRef<'volatile'>
  | BtfRef<'const'>
  | BtfRef<'restrict'>
  | BtfRef<'type_tag'>
  | BtfArray
  | BtfComposite<'struct'>
  | BtfComposite<'union'>
  | BtfEnum
  | BtfEnum64
  | BtfFwd
  | BtfFunc
  | BtfFuncProto
  | BtfVar
  | BtfDatasec
  | BtfFloat
  | BtfDeclTag;

/** The type object for a given kind. */
export type BtfTypeOf<K extends BtfKind> = Extract<BtfType, { kind: K }>;

/** One member of a {@link StructLayout}. */
export interface StructMember {
  readonly name: string;
  /** Byte offset from the start of the outer struct (floor of bitOffset / 8 for bitfields). */
  readonly offset: number;
  /** Bit offset from the start of the outer struct. */
  readonly bitOffset: number;
  /** Bitfield width in bits; 0 when not a bitfield. */
  readonly bitSize: number;
  /** Size in bytes of the member's type. */
  readonly size: number;
  readonly typeId: number;
  readonly typeName: string;
}

export interface StructLayout {
  readonly id: number;
  readonly kind: 'struct' | 'union';
  readonly size: number;
  /** Members; those of anonymous nested structs/unions are flattened in, with offsets relative to the outer type. */
  readonly members: readonly StructMember[];
}

export interface DatasecVar {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** Type of the variable (the VAR's target type). */
  readonly typeId: number;
  /** Id of the VAR itself. */
  readonly varId: number;
}

export interface FuncInfo {
  readonly name: string;
  readonly id: number;
  readonly linkage: BtfLinkage;
  readonly returnTypeId: number;
  readonly params: readonly { readonly name: string; readonly typeId: number; readonly typeName: string }[];
  readonly variadic: boolean;
}

/** Thrown for malformed or unsupported BTF and for bad type ids. */
export class BtfError extends Error {
  override readonly name = 'BtfError';
}

const BTF_MAGIC = 0xeb9f;
const BTF_MAGIC_SWAPPED = 0x9feb;
const HEADER_MIN_LEN = 24;
const TYPE_HEADER_LEN = 12;
/** BTF does not record pointer size; every kernel we target is 64-bit. */
const POINTER_SIZE = 8;
const MAX_CHAIN = 64;

const KIND_NAMES: readonly BtfKind[] = [
  'void',
  'int',
  'ptr',
  'array',
  'struct',
  'union',
  'enum',
  'fwd',
  'typedef',
  'volatile',
  'const',
  'restrict',
  'func',
  'func_proto',
  'var',
  'datasec',
  'float',
  'decl_tag',
  'type_tag',
  'enum64',
];

const KIND_NUM: Readonly<Record<BtfKind, number>> = Object.fromEntries(
  KIND_NAMES.map((k, i) => [k, i]),
) as Record<BtfKind, number>;

const K = KIND_NUM;
const LINKAGES: readonly BtfLinkage[] = ['static', 'global', 'extern'];

/** Bytes following the 12-byte common header for a kind, or -1 for an unknown kind. */
function extraLen(kind: number, vlen: number): number {
  switch (kind) {
    case K.int:
    case K.var:
    case K.decl_tag:
      return 4;
    case K.ptr:
    case K.fwd:
    case K.typedef:
    case K.volatile:
    case K.const:
    case K.restrict:
    case K.func:
    case K.float:
    case K.type_tag:
      return 0;
    case K.array:
      return 12;
    case K.struct:
    case K.union:
    case K.datasec:
    case K.enum64:
      return 12 * vlen;
    case K.enum:
    case K.func_proto:
      return 8 * vlen;
    default:
      return -1;
  }
}

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** 32-bit FNV-1a of bytes[start, end). */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

function linkage(v: number): BtfLinkage {
  return LINKAGES[v] ?? 'static';
}

/** Parsed BTF. Create with {@link parseBtf}. Ids of a split BTF continue after its base's. */
export class Btf {
  /** The base BTF (vmlinux) of a split BTF. */
  readonly base: Btf | undefined;
  /** First type id defined by this BTF (1, or the base's {@link Btf.endId} for split BTF). */
  readonly startId: number;
  /** One past the last valid type id. */
  readonly endId: number;

  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  /** Absolute byte offset of each local type's common header. */
  private readonly offsets: Uint32Array;
  private readonly kinds: Uint8Array;
  private readonly strStart: number;
  private readonly strLen: number;
  /** First string offset owned by this BTF (the base's total string length for split BTF). */
  private readonly startStrOff: number;
  private readonly cache: (BtfType | undefined)[];
  /**
   * Name index: open hash table over name bytes. `buckets[hash & mask]` is the lowest local
   * index in that bucket, `chain[i]` the next one (ascending), -1 ends a chain.
   */
  private buckets: Int32Array | undefined;
  private chain: Int32Array | undefined;
  private readonly typeNames = new Map<number, string>();

  /** @internal Use {@link parseBtf}. */
  constructor(
    bytes: Uint8Array,
    offsets: Uint32Array,
    kinds: Uint8Array,
    strStart: number,
    strLen: number,
    base: Btf | undefined,
  ) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offsets = offsets;
    this.kinds = kinds;
    this.strStart = strStart;
    this.strLen = strLen;
    this.base = base;
    this.startId = base ? base.endId : 1;
    this.endId = this.startId + offsets.length;
    this.startStrOff = base ? base.strEnd : 0;
    this.cache = new Array<BtfType | undefined>(offsets.length);
  }

  /** One past the last string offset valid in this BTF (base strings included). */
  get strEnd(): number {
    return this.startStrOff + this.strLen;
  }

  /** Number of types defined by this BTF itself (excluding void and any base types). */
  get localTypeCount(): number {
    return this.offsets.length;
  }

  /** Returns the string at a string-section offset (offsets below the split start go to the base). */
  str(off: number): string {
    if (off < this.startStrOff) {
      if (!this.base) throw new BtfError(`string offset ${off} out of range`);
      return this.base.str(off);
    }
    const local = off - this.startStrOff;
    if (local >= this.strLen) throw new BtfError(`string offset ${off} out of range (string section ends at ${this.strEnd})`);
    const start = this.strStart + local;
    const bytes = this.bytes;
    let end = start;
    let ascii = true;
    const limit = this.strStart + this.strLen;
    while (end < limit) {
      const c = bytes[end]!;
      if (c === 0) break;
      if (c >= 0x80) ascii = false;
      end++;
    }
    if (end === start) return '';
    if (ascii && end - start < 64) {
      let s = '';
      for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
      return s;
    }
    return utf8.decode(bytes.subarray(start, end));
  }

  /** Whether `id` names a type (void included). */
  has(id: number): boolean {
    return Number.isInteger(id) && id >= 0 && id < this.endId;
  }

  /** Kind of type `id`; cheaper than {@link Btf.type} when only the kind is needed. */
  kindOf(id: number): BtfKind {
    if (id === 0) return 'void';
    if (id < this.startId) {
      if (!this.base || id < 0) throw new BtfError(`invalid BTF type id ${id}`);
      return this.base.kindOf(id);
    }
    const k = this.kinds[id - this.startId];
    if (k === undefined) throw new BtfError(`invalid BTF type id ${id} (max ${this.endId - 1})`);
    return KIND_NAMES[k]!;
  }

  /**
   * Returns the decoded type with id `id` (0 is void).
   * @throws BtfError when the id is out of range.
   */
  type(id: number): BtfType {
    if (id === 0) return VOID;
    if (id < this.startId) {
      if (!this.base || !Number.isInteger(id) || id < 0) throw new BtfError(`invalid BTF type id ${id}`);
      return this.base.type(id);
    }
    const idx = id - this.startId;
    const cached = this.cache[idx];
    if (cached) return cached;
    if (idx >= this.offsets.length || !Number.isInteger(idx)) {
      throw new BtfError(`invalid BTF type id ${id} (max ${this.endId - 1})`);
    }
    const t = this.decode(id, this.offsets[idx]!);
    this.cache[idx] = t;
    return t;
  }

  /**
   * Finds the first type (lowest id, base types first) of `kind` named `name`.
   * The name index is built on first use.
   */
  findType<Kd extends BtfKind>(kind: Kd, name: string): BtfTypeOf<Kd> | undefined {
    const fromBase = this.base?.findType(kind, name);
    if (fromBase) return fromBase;
    const id = this.findLocalId(KIND_NUM[kind], name);
    return id === undefined ? undefined : (this.type(id) as BtfTypeOf<Kd>);
  }

  /** Ids of all types named `name` (any kind), ascending, base types included. */
  idsByName(name: string): number[] {
    const out = this.base ? this.base.idsByName(name) : [];
    const query = utf8Encoder.encode(name);
    this.forEachNamed(query, (idx) => {
      out.push(idx + this.startId);
      return false;
    });
    return out;
  }

  /** Follows typedef, const, volatile, restrict and type_tag to the underlying type. */
  resolve(id: number): BtfType {
    let t = this.type(id);
    for (let n = 0; n < MAX_CHAIN; n++) {
      switch (t.kind) {
        case 'typedef':
        case 'const':
        case 'volatile':
        case 'restrict':
        case 'type_tag':
          t = this.type(t.type);
          break;
        default:
          return t;
      }
    }
    throw new BtfError(`type chain from id ${id} is too long (loop?)`);
  }

  /**
   * Size in bytes of type `id` (pointers are 8 bytes).
   * @throws BtfError for types without a size (void, func, func_proto, fwd, ...).
   */
  sizeOf(id: number): number {
    let t = this.resolve(id);
    let mult = 1;
    for (let n = 0; n < MAX_CHAIN; n++) {
      switch (t.kind) {
        case 'int':
        case 'struct':
        case 'union':
        case 'enum':
        case 'enum64':
        case 'float':
        case 'datasec':
          return mult * t.size;
        case 'ptr':
          return mult * POINTER_SIZE;
        case 'array':
          mult *= t.nelems;
          t = this.resolve(t.elemType);
          break;
        case 'var':
          t = this.resolve(t.type);
          break;
        default:
          throw new BtfError(`type ${id} (${t.kind}${t.name ? ` ${t.name}` : ''}) has no size`);
      }
    }
    throw new BtfError(`type chain from id ${id} is too long (loop?)`);
  }

  /**
   * C spelling of type `id`, without a declarator name: "u32", "struct sk_buff *",
   * "const char *", "void (*)(void *, int)", "u8[16]". For a FUNC or VAR, its own
   * name is used as the declarator ("int tcp_v4_rcv(struct sk_buff *)").
   */
  typeName(id: number): string {
    let name = this.typeNames.get(id);
    if (name === undefined) {
      name = this.declare(id, '', [], 0);
      this.typeNames.set(id, name);
    }
    return name;
  }

  /**
   * Values of the ENUM or ENUM64 named `nameOrId` (or with that id): value -> enumerator name.
   * ENUM values are numbers, ENUM64 values bigints. When several enumerators share a value,
   * the first one wins. Undefined when there is no such enum.
   */
  enumValues(nameOrId: string | number): Map<number | bigint, string> | undefined {
    let t: BtfType | undefined;
    if (typeof nameOrId === 'number') {
      t = this.resolve(nameOrId);
    } else {
      t = this.findType('enum', nameOrId) ?? this.findType('enum64', nameOrId);
    }
    if (!t || (t.kind !== 'enum' && t.kind !== 'enum64')) return undefined;
    const out = new Map<number | bigint, string>();
    for (const v of t.values) if (!out.has(v.value)) out.set(v.value, v.name);
    return out;
  }

  /**
   * Layout of struct (or, failing that, union) `nameOrId`: total size and members with
   * byte/bit offsets. Anonymous nested structs/unions are flattened. Undefined when missing.
   */
  structLayout(nameOrId: string | number): StructLayout | undefined {
    let t: BtfType | undefined;
    if (typeof nameOrId === 'number') {
      t = this.resolve(nameOrId);
    } else {
      t = this.findType('struct', nameOrId) ?? this.findType('union', nameOrId);
    }
    if (!t || (t.kind !== 'struct' && t.kind !== 'union')) return undefined;
    const members: StructMember[] = [];
    this.flatten(t, 0, members, 0);
    return { id: t.id, kind: t.kind, size: t.size, members };
  }

  /** Variables of DATASEC `secName` (e.g. ".data..percpu"), or undefined when missing. */
  datasecVars(secName: string): DatasecVar[] | undefined {
    const sec = this.findType('datasec', secName);
    if (!sec) return undefined;
    return sec.vars.map((v) => {
      const vt = this.type(v.typeId);
      const typeId = vt.kind === 'var' || vt.kind === 'func' ? vt.type : v.typeId;
      return { name: vt.name, offset: v.offset, size: v.size, typeId, varId: v.typeId };
    });
  }

  /**
   * All FUNC types in id order, with their parameters spelled out.
   * @param includeBase for split BTF, also list the base's functions first (default true).
   */
  *funcs(includeBase = true): IterableIterator<FuncInfo> {
    if (this.base && includeBase) yield* this.base.funcs();
    const kinds = this.kinds;
    for (let i = 0; i < kinds.length; i++) {
      if (kinds[i] !== K.func) continue;
      const f = this.type(i + this.startId) as BtfFunc;
      const proto = this.type(f.type);
      if (proto.kind !== 'func_proto') continue;
      yield {
        name: f.name,
        id: f.id,
        linkage: f.linkage,
        returnTypeId: proto.returnType,
        params: proto.params.map((p) => ({ name: p.name, typeId: p.typeId, typeName: this.typeName(p.typeId) })),
        variadic: proto.variadic,
      };
    }
  }

  /**
   * C type names of the arguments of tracepoint `tpName`, from the vmlinux typedef
   * `btf_trace_<tpName>` (`void (*)(void *, args...)`), without the leading `void *`.
   * Null when the typedef is missing or not a function pointer.
   */
  tracepointArgs(tpName: string): string[] | null {
    const td = this.findType('typedef', `btf_trace_${tpName}`);
    if (!td) return null;
    const ptr = this.resolve(td.type);
    if (ptr.kind !== 'ptr') return null;
    const proto = this.resolve(ptr.type);
    if (proto.kind !== 'func_proto') return null;
    return proto.params.slice(1).map((p) => this.typeName(p.typeId));
  }

  // ---- internals ----

  private findLocalId(kind: number, name: string): number | undefined {
    let found: number | undefined;
    this.forEachNamed(utf8Encoder.encode(name), (idx) => {
      if (this.kinds[idx] !== kind) return false;
      found = idx + this.startId;
      return true;
    });
    return found;
  }

  /** Calls `fn` with each local index whose name equals `query`, ascending, until it returns true. */
  private forEachNamed(query: Uint8Array, fn: (idx: number) => boolean): void {
    if (query.length === 0) return;
    this.buildIndex();
    const buckets = this.buckets!;
    const chain = this.chain!;
    let idx = buckets[hashBytes(query, 0, query.length) & (buckets.length - 1)]!;
    while (idx >= 0) {
      const nameOff = this.view.getUint32(this.offsets[idx]!, true);
      if (this.strEquals(nameOff, query) && fn(idx)) return;
      idx = chain[idx]!;
    }
  }

  private buildIndex(): void {
    if (this.buckets) return;
    const n = this.offsets.length;
    let size = 16;
    while (size < n * 2) size *= 2;
    const mask = size - 1;
    const buckets = new Int32Array(size).fill(-1);
    const chain = new Int32Array(n).fill(-1);
    const view = this.view;
    for (let i = n - 1; i >= 0; i--) {
      const nameOff = view.getUint32(this.offsets[i]!, true);
      if (nameOff === 0) continue;
      const b = this.strHash(nameOff) & mask;
      chain[i] = buckets[b]!;
      buckets[b] = i;
    }
    this.buckets = buckets;
    this.chain = chain;
  }

  /** Hash of the NUL-terminated string at string offset `off` (same function as {@link hashBytes}). */
  private strHash(off: number): number {
    if (off < this.startStrOff) return this.base ? this.base.strHash(off) : 0;
    const local = off - this.startStrOff;
    if (local >= this.strLen) return 0;
    const bytes = this.bytes;
    const limit = this.strStart + this.strLen;
    let h = 0x811c9dc5;
    for (let i = this.strStart + local; i < limit; i++) {
      const c = bytes[i]!;
      if (c === 0) break;
      h = Math.imul(h ^ c, 0x01000193);
    }
    return h >>> 0;
  }

  /** Whether the string at offset `off` equals the bytes of `query`. */
  private strEquals(off: number, query: Uint8Array): boolean {
    if (off < this.startStrOff) return this.base ? this.base.strEquals(off, query) : false;
    const local = off - this.startStrOff;
    const start = this.strStart + local;
    const len = query.length;
    if (local + len >= this.strLen) return false;
    const bytes = this.bytes;
    for (let i = 0; i < len; i++) if (bytes[start + i] !== query[i]) return false;
    return bytes[start + len] === 0;
  }

  private decode(id: number, off: number): BtfType {
    const v = this.view;
    const nameOff = v.getUint32(off, true);
    const info = v.getUint32(off + 4, true);
    const sizeOrType = v.getUint32(off + 8, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    const name = nameOff === 0 ? '' : this.str(nameOff);
    const p = off + TYPE_HEADER_LEN;
    switch (kind) {
      case K.int:
        return this.decodeInt(id, name, sizeOrType, v.getUint32(p, true));
      case K.ptr:
      case K.typedef:
      case K.volatile:
      case K.const:
      case K.restrict:
      case K.type_tag:
        return { id, name, kind: KIND_NAMES[kind] as BtfRefKind, type: sizeOrType };
      case K.array:
        return { id, name, kind: 'array', elemType: v.getUint32(p, true), indexType: v.getUint32(p + 4, true), nelems: v.getUint32(p + 8, true) };
      case K.struct:
      case K.union:
        return { id, name, kind: kind === K.struct ? 'struct' : 'union', size: sizeOrType, members: this.decodeMembers(p, vlen, kflag) };
      case K.enum:
        return { id, name, kind: 'enum', size: sizeOrType, signed: kflag, values: this.decodeEnum(p, vlen, kflag) };
      case K.enum64:
        return { id, name, kind: 'enum64', size: sizeOrType, signed: kflag, values: this.decodeEnum64(p, vlen, kflag) };
      case K.fwd:
        return { id, name, kind: 'fwd', fwdKind: kflag ? 'union' : 'struct' };
      case K.func:
        return { id, name, kind: 'func', type: sizeOrType, linkage: linkage(vlen) };
      case K.func_proto:
        return this.decodeProto(id, name, sizeOrType, p, vlen);
      case K.var:
        return { id, name, kind: 'var', type: sizeOrType, linkage: linkage(v.getUint32(p, true)) };
      case K.datasec:
        return { id, name, kind: 'datasec', size: sizeOrType, vars: this.decodeSecinfo(p, vlen) };
      case K.float:
        return { id, name, kind: 'float', size: sizeOrType };
      case K.decl_tag:
        return { id, name, kind: 'decl_tag', type: sizeOrType, componentIdx: v.getInt32(p, true) };
      default:
        // Unreachable: parseBtf rejects unknown kinds.
        throw new BtfError(`type ${id} has unknown kind ${kind}`);
    }
  }

  /** INT: the encoding word after the header. */
  private decodeInt(id: number, name: string, size: number, e: number): BtfType {
    const enc = (e >>> 24) & 0x0f;
    return { id, name, kind: 'int', size, bits: e & 0xff, bitOffset: (e >>> 16) & 0xff, signed: (enc & 1) !== 0, char: (enc & 2) !== 0, bool: (enc & 4) !== 0 };
  }

  /** STRUCT/UNION members: {name, type, offset}; with kind_flag the offset holds bitfield size << 24 | bit offset. */
  private decodeMembers(p: number, vlen: number, kflag: boolean): BtfMember[] {
    const v = this.view;
    const members: BtfMember[] = new Array<BtfMember>(vlen);
    for (let i = 0; i < vlen; i++) {
      const m = p + i * 12;
      const mName = v.getUint32(m, true);
      const raw = v.getUint32(m + 8, true);
      members[i] = {
        name: mName === 0 ? '' : this.str(mName),
        typeId: v.getUint32(m + 4, true),
        bitOffset: kflag ? raw & 0xffffff : raw,
        bitSize: kflag ? raw >>> 24 : 0,
      };
    }
    return members;
  }

  /** ENUM values {name, value}; kind_flag: signed. */
  private decodeEnum(p: number, vlen: number, kflag: boolean): { name: string; value: number }[] {
    const v = this.view;
    const values = new Array<{ name: string; value: number }>(vlen);
    for (let i = 0; i < vlen; i++) {
      const e = p + i * 8;
      const eName = v.getUint32(e, true);
      values[i] = { name: eName === 0 ? '' : this.str(eName), value: kflag ? v.getInt32(e + 4, true) : v.getUint32(e + 4, true) };
    }
    return values;
  }

  /** ENUM64 values {name, lo32, hi32}; kind_flag: signed. */
  private decodeEnum64(p: number, vlen: number, kflag: boolean): { name: string; value: bigint }[] {
    const v = this.view;
    const values = new Array<{ name: string; value: bigint }>(vlen);
    for (let i = 0; i < vlen; i++) {
      const e = p + i * 12;
      const eName = v.getUint32(e, true);
      const u = (BigInt(v.getUint32(e + 8, true)) << 32n) | BigInt(v.getUint32(e + 4, true));
      values[i] = { name: eName === 0 ? '' : this.str(eName), value: kflag ? BigInt.asIntN(64, u) : u };
    }
    return values;
  }

  /** FUNC_PROTO parameters {name, type}; a last {0, 0} means variadic. */
  private decodeProto(id: number, name: string, returnType: number, p: number, vlen: number): BtfType {
    const v = this.view;
    const params: BtfParam[] = [];
    let variadic = false;
    for (let i = 0; i < vlen; i++) {
      const q = p + i * 8;
      const pName = v.getUint32(q, true);
      const pType = v.getUint32(q + 4, true);
      if (i === vlen - 1 && pName === 0 && pType === 0) {
        variadic = true;
        break;
      }
      params.push({ name: pName === 0 ? '' : this.str(pName), typeId: pType });
    }
    return { id, name, kind: 'func_proto', returnType, params, variadic };
  }

  /** DATASEC variables {type, offset, size}. */
  private decodeSecinfo(p: number, vlen: number): BtfVarSecinfo[] {
    const v = this.view;
    const vars = new Array<BtfVarSecinfo>(vlen);
    for (let i = 0; i < vlen; i++) {
      const s = p + i * 12;
      vars[i] = { typeId: v.getUint32(s, true), offset: v.getUint32(s + 4, true), size: v.getUint32(s + 8, true) };
    }
    return vars;
  }

  private flatten(t: BtfComposite, baseBits: number, out: StructMember[], depth: number): void {
    if (depth > MAX_CHAIN) throw new BtfError(`struct nesting too deep at type ${t.id}`);
    for (const m of t.members) {
      const mt = this.resolve(m.typeId);
      let bitOffset = baseBits + m.bitOffset;
      let bitSize = m.bitSize;
      if (m.name === '' && (mt.kind === 'struct' || mt.kind === 'union')) {
        this.flatten(mt, bitOffset, out, depth + 1);
        continue;
      }
      // Without kind_flag, a bitfield is an INT whose bits are fewer than its storage.
      if (bitSize === 0 && mt.kind === 'int' && mt.bits !== mt.size * 8) {
        bitSize = mt.bits;
        bitOffset += mt.bitOffset;
      }
      let size: number;
      try {
        size = this.sizeOf(m.typeId);
      } catch {
        size = 0; // e.g. flexible array of an incomplete type
      }
      out.push({
        name: m.name,
        offset: Math.floor(bitOffset / 8),
        bitOffset,
        bitSize,
        size,
        typeId: m.typeId,
        typeName: this.typeName(m.typeId),
      });
    }
  }

  /** Builds a C declaration of type `id` around declarator `inner`, with pending qualifiers. */
  private declare(id: number, inner: string, quals: readonly string[], depth: number): string {
    if (depth > MAX_CHAIN) return '?';
    const t = this.type(id);
    switch (t.kind) {
      case 'ptr': {
        let d = '*';
        if (quals.length > 0) d += ` ${quals.join(' ')}${inner ? ' ' : ''}`;
        return this.declare(t.type, d + inner, [], depth + 1);
      }
      case 'const':
      case 'volatile':
      case 'restrict':
        return this.declare(t.type, inner, [...quals, t.kind], depth + 1);
      case 'type_tag':
        return this.declare(t.type, inner, quals, depth + 1);
      case 'array': {
        const d = inner.startsWith('*') ? `(${inner})` : inner;
        return this.declare(t.elemType, `${d}[${t.nelems}]`, quals, depth + 1);
      }
      case 'func_proto': {
        const d = inner.startsWith('*') ? `(${inner})` : inner;
        const params = t.params.map((p) => this.declare(p.typeId, '', [], depth + 1));
        if (t.variadic) params.push('...');
        const list = params.length === 0 ? 'void' : params.join(', ');
        return this.declare(t.returnType, `${d}(${list})`, [], depth + 1);
      }
      case 'func':
        return this.declare(t.type, t.name + inner, quals, depth + 1);
      case 'var':
        return this.declare(t.type, t.name + inner, quals, depth + 1);
      case 'decl_tag':
        return this.declare(t.type, inner, quals, depth + 1);
      default: {
        const base = quals.length > 0 ? `${quals.join(' ')} ${baseName(t)}` : baseName(t);
        if (!inner) return base;
        return inner.startsWith('[') ? base + inner : `${base} ${inner}`;
      }
    }
  }
}

const VOID: BtfVoid = Object.freeze({ id: 0, name: '', kind: 'void' });

function baseName(t: BtfType): string {
  switch (t.kind) {
    case 'void':
      return 'void';
    case 'struct':
    case 'union':
      return `${t.kind} ${t.name || '{...}'}`;
    case 'enum':
    case 'enum64':
      return `enum ${t.name || '{...}'}`;
    case 'fwd':
      return `${t.fwdKind} ${t.name}`;
    case 'datasec':
      return `datasec ${t.name}`;
    default:
      return t.name || '?';
  }
}

/**
 * Parses a BTF blob (little endian). For split BTF (kernel module BTF from
 * /sys/kernel/btf/<module>), pass the base (vmlinux) BTF: ids and string offsets
 * then continue after the base's. The returned object keeps a view of `data`;
 * do not modify it afterwards.
 * @throws BtfError for bad magic, big-endian BTF, truncated sections or unknown kinds.
 */
export function parseBtf(data: Uint8Array, base?: Btf): Btf {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.byteLength < HEADER_MIN_LEN) {
    throw new BtfError(`BTF too short: ${data.byteLength} bytes, header needs ${HEADER_MIN_LEN}`);
  }
  const magic = view.getUint16(0, true);
  if (magic === BTF_MAGIC_SWAPPED) throw new BtfError('big-endian BTF is not supported');
  if (magic !== BTF_MAGIC) {
    throw new BtfError(`not BTF: bad magic 0x${magic.toString(16).padStart(4, '0')} (expected 0xeb9f)`);
  }
  const version = data[2]!;
  if (version !== 1) throw new BtfError(`unsupported BTF version ${version}`);
  const hdrLen = view.getUint32(4, true);
  const typeOff = view.getUint32(8, true);
  const typeLen = view.getUint32(12, true);
  const strOff = view.getUint32(16, true);
  const strLen = view.getUint32(20, true);
  if (hdrLen < HEADER_MIN_LEN || hdrLen > data.byteLength) throw new BtfError(`bad BTF header length ${hdrLen}`);
  const typeStart = hdrLen + typeOff;
  const typeEnd = typeStart + typeLen;
  const strStart = hdrLen + strOff;
  if (typeEnd > data.byteLength) {
    throw new BtfError(`BTF type section [${typeStart}, ${typeEnd}) exceeds data length ${data.byteLength}`);
  }
  if (strStart + strLen > data.byteLength) {
    throw new BtfError(`BTF string section [${strStart}, ${strStart + strLen}) exceeds data length ${data.byteLength}`);
  }
  if (typeLen % 4 !== 0) throw new BtfError(`BTF type section length ${typeLen} is not a multiple of 4`);

  const maxTypes = Math.floor(typeLen / TYPE_HEADER_LEN);
  const offsets = new Uint32Array(maxTypes);
  const kinds = new Uint8Array(maxTypes);
  let n = 0;
  let p = typeStart;
  while (p < typeEnd) {
    if (p + TYPE_HEADER_LEN > typeEnd) throw new BtfError(`truncated BTF type header at byte ${p}`);
    const info = view.getUint32(p + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const extra = extraLen(kind, info & 0xffff);
    if (extra < 0) {
      const id = n + (base ? base.endId : 1);
      throw new BtfError(`BTF type ${id} at byte ${p} has unknown kind ${kind}`);
    }
    offsets[n] = p;
    kinds[n] = kind;
    n++;
    p += TYPE_HEADER_LEN + extra;
  }
  if (p !== typeEnd) throw new BtfError(`last BTF type overruns the type section (ends at ${p}, section at ${typeEnd})`);
  return new Btf(data, offsets.slice(0, n), kinds.slice(0, n), strStart, strLen, base);
}

/**
 * Kernel drop reasons from `enum skb_drop_reason`: value -> name without the
 * `SKB_DROP_REASON_` prefix ("NO_SOCKET"); `SKB_NOT_DROPPED_YET` and `SKB_CONSUMED`
 * lose their `SKB_` prefix. The `..._MAX` sentinel, the subsystem mask/shift and
 * values at or above MAX are left out. Empty when the kernel has no such enum.
 */
export function dropReasonNames(btf: Btf): Map<number, string> {
  const out = new Map<number, string>();
  const values = btf.enumValues('skb_drop_reason');
  if (!values) return out;
  let max = Number.POSITIVE_INFINITY;
  for (const [v, name] of values) if (name === 'SKB_DROP_REASON_MAX') max = Number(v);
  for (const [v, name] of values) {
    const value = Number(v);
    if (value >= max || value < 0) continue;
    let short: string;
    if (name.startsWith('SKB_DROP_REASON_')) short = name.slice('SKB_DROP_REASON_'.length);
    else if (name.startsWith('SKB_')) short = name.slice('SKB_'.length);
    else short = name;
    if (short === 'MAX' || short.startsWith('SUBSYS_')) continue;
    if (!out.has(value)) out.set(value, short);
  }
  return out;
}
