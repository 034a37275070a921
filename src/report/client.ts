/**
 * The page's script. It runs in the browser, not in Node: html.ts writes its source
 * (Function.prototype.toString of the compiled function) into the page, with the two
 * helpers it takes, so the report needs no file and no network. It shows the raw events
 * of whatever is clicked (a box, an arrow, a timeline mark, an evidence link) and zooms
 * and pans the timeline (wheel, drag, buttons; double-click resets).
 *
 * Three functions, each written into the page whole (they share nothing but what they
 * are given). DOM values are typed `any`: the project compiles without the DOM library, and the
 * browser test (test/integration/report-browser.test.ts) is what exercises this code.
 */
export function rawPanel(doc: any): void {
  const events: Record<string, unknown> = JSON.parse(doc.getElementById('pp-events').textContent || '{}');
  const panel = doc.getElementById('raw');
  const title = doc.getElementById('raw-title');
  const body = doc.getElementById('raw-body');
  let selected: any = null;
  function show(list: string, from: any): void {
    const nums = list.split(',').filter(Boolean);
    title.textContent = `Raw events ${nums.map((n) => `#${n}`).join(' ')}`;
    body.textContent = nums.map((n) => (events[n] ? JSON.stringify(events[n], null, 2) : `#${n}: not kept in this report (see the note at the top)`)).join('\n\n');
    panel.hidden = false;
    if (selected) selected.classList.remove('sel');
    selected = from;
    if (from) from.classList.add('sel');
  }
  doc.addEventListener('click', (e: any) => {
    const t = e.target.closest ? e.target.closest('[data-ev]') : null;
    if (!t) return;
    e.preventDefault();
    show(t.getAttribute('data-ev'), t);
  });
  doc.addEventListener('keydown', (e: any) => {
    const t = e.target && e.target.getAttribute ? e.target : null;
    if ((e.key !== 'Enter' && e.key !== ' ') || !t || !t.getAttribute('data-ev')) return;
    e.preventDefault();
    show(t.getAttribute('data-ev'), t);
  });
  doc.getElementById('raw-close').addEventListener('click', () => {
    panel.hidden = true;
    if (selected) selected.classList.remove('sel');
    selected = null;
  });
}

/** The timeline's zoom: a window [v0, v0 + vs] of the run, applied as an x scale of the plot; null without a timeline. */
export function timelineZoom(doc: any, durationText: (ns: number) => string, ticks: (v0: number, span: number, n?: number) => number[]): any {
  const svg = doc.getElementById('timeline');
  if (!svg) return null;
  const span = Number(svg.getAttribute('data-span')) || 1;
  const L = Number(svg.getAttribute('data-left'));
  const W = Number(svg.getAttribute('data-width'));
  const top = Number(svg.getAttribute('data-top'));
  const height = Number(svg.getAttribute('height'));
  const plot = doc.getElementById('tl-plot');
  const axis = doc.getElementById('tl-axis');
  const NS = 'http://www.w3.org/2000/svg';
  const z = { svg, L, W, span, v0: 0, vs: span, apply, zoomAt };
  function make(tag: string, a: Record<string, string | number>, text?: string): any {
    const e = doc.createElementNS(NS, tag);
    for (const k of Object.keys(a)) e.setAttribute(k, String(a[k]));
    if (text !== undefined) e.textContent = text;
    return axis.appendChild(e);
  }
  function apply(): void {
    z.vs = Math.min(span, Math.max(z.vs, Math.max(1, span / 1e6)));
    z.v0 = Math.min(Math.max(0, z.v0), span - z.vs);
    const k = span / z.vs;
    plot.setAttribute('transform', `translate(${L - k * L - (k * z.v0 * W) / span},0) scale(${k},1)`);
    while (axis.firstChild) axis.removeChild(axis.firstChild);
    for (const t of ticks(z.v0, z.vs)) {
      const x = L + ((t - z.v0) / z.vs) * W;
      make('line', { class: 'tick', x1: x, x2: x, y1: top - 4, y2: height });
      make('text', { class: 'tick-label', x, y: top - 8, 'text-anchor': 'middle' }, durationText(t));
    }
    doc.getElementById('tl-range').textContent = `showing +${durationText(z.v0)} to +${durationText(z.v0 + z.vs)} (x${k >= 10 ? Math.round(k) : k.toFixed(1)})`;
  }
  function zoomAt(frac: number, factor: number): void {
    const t = z.v0 + frac * z.vs;
    z.vs = Math.min(span, Math.max(z.vs * factor, Math.max(1, span / 1e6)));
    z.v0 = t - frac * z.vs;
    apply();
  }
  apply();
  return z;
}

/** Wheel, drag, double-click and the buttons, on the zoom timelineZoom made. */
export function timelineInput(doc: any, z: any): void {
  const svg = z.svg;
  const scale = (): number => svg.getBoundingClientRect().width / Number(svg.getAttribute('width'));
  const fracOf = (e: any): number => Math.min(1, Math.max(0, ((e.clientX - svg.getBoundingClientRect().left) / scale() - z.L) / z.W));
  const reset = (): void => {
    z.v0 = 0;
    z.vs = z.span;
    z.apply();
  };
  svg.addEventListener('wheel', (e: any) => {
    e.preventDefault();
    z.zoomAt(fracOf(e), e.deltaY < 0 ? 0.8 : 1.25);
  }, { passive: false });
  let drag: { x: number; v0: number } | null = null;
  svg.addEventListener('mousedown', (e: any) => (drag = { x: e.clientX, v0: z.v0 }));
  doc.addEventListener('mouseup', () => (drag = null));
  doc.addEventListener('mousemove', (e: any) => {
    if (!drag) return;
    z.v0 = drag.v0 - ((e.clientX - drag.x) / (scale() * z.W)) * z.vs;
    z.apply();
  });
  svg.addEventListener('dblclick', reset);
  doc.getElementById('tl-in').addEventListener('click', () => z.zoomAt(0.5, 0.5));
  doc.getElementById('tl-out').addEventListener('click', () => z.zoomAt(0.5, 2));
  doc.getElementById('tl-reset').addEventListener('click', reset);
}

/** The page's whole script, from the functions above and the two helpers they take. */
export function clientScript(helpers: readonly ((...a: never[]) => unknown)[]): string {
  return `${helpers.map((h) => h.toString()).join('\n')}\n(${rawPanel.toString()})(document);\nconst zoom = (${timelineZoom.toString()})(document, durationText, ticks);\nif (zoom) (${timelineInput.toString()})(document, zoom);`;
}
