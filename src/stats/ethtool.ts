/**
 * The driver's statistics (`ethtool -S`) from the raw SIOCETHTOOL structs the addon
 * returns. Pure.
 *
 *   struct ethtool_gstrings { u32 cmd; u32 string_set; u32 len; u8 data[len][32]; }
 *   struct ethtool_stats    { u32 cmd; u32 n_stats; u64 data[n_stats]; }
 *
 * A name a driver repeats gets "#2", "#3" appended, so no value is lost.
 */
const ETH_GSTRING_LEN = 32;

export function parseEthtoolStats(strings: ArrayBuffer, stats: ArrayBuffer): Map<string, number> {
  const sv = new DataView(strings);
  const dv = new DataView(stats);
  const names = strings.byteLength >= 12 ? sv.getUint32(8, true) : 0;
  const values = stats.byteLength >= 8 ? dv.getUint32(4, true) : 0;
  const n = Math.min(names, values, Math.floor((strings.byteLength - 12) / ETH_GSTRING_LEN), Math.floor((stats.byteLength - 8) / 8));
  const bytes = new Uint8Array(strings);
  const dec = new TextDecoder();
  const out = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const raw = bytes.subarray(12 + i * ETH_GSTRING_LEN, 12 + (i + 1) * ETH_GSTRING_LEN);
    const end = raw.indexOf(0);
    const base = dec.decode(end < 0 ? raw : raw.subarray(0, end)).trim();
    let name = base;
    for (let k = 2; out.has(name); k++) name = `${base}#${k}`;
    out.set(name, Number(dv.getBigUint64(8 + i * 8, true)));
  }
  return out;
}
