/**
 * The page's script. It runs in the browser, not in Node: html.ts writes its source
 * (Function.prototype.toString of the compiled function) into the page, with the two
 * helpers it takes, so the report needs no file and no network. It shows the raw events
 * of whatever is clicked (a box, an arrow, a timeline mark, an evidence link) and zooms
 * and pans the timeline (wheel, drag, buttons; double-click resets).
 *
 * DOM values are typed `any`: the project compiles without the DOM library, and the
 * browser test (test/integration/report-browser.test.ts) is what exercises this code.
 */
export function reportClient(doc: any, durationText: (ns: number) => string, ticks: (v0: number, span: number, n?: number) => number[]): void {
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
    if (e.key !== 'Enter' && e.key !== ' ') return;
    const t = e.target && e.target.getAttribute ? e.target : null;
    if (!t || !t.getAttribute('data-ev')) return;
    e.preventDefault();
    show(t.getAttribute('data-ev'), t);
  });
  doc.getElementById('raw-close').addEventListener('click', () => {
    panel.hidden = true;
    if (selected) selected.classList.remove('sel');
    selected = null;
  });

  const svg = doc.getElementById('timeline');
  if (!svg) return;
  const span = Number(svg.getAttribute('data-span')) || 1;
  const L = Number(svg.getAttribute('data-left'));
  const W = Number(svg.getAttribute('data-width'));
  const top = Number(svg.getAttribute('data-top'));
  const height = Number(svg.getAttribute('height'));
  const plot = doc.getElementById('tl-plot');
  const axis = doc.getElementById('tl-axis');
  const range = doc.getElementById('tl-range');
  const NS = 'http://www.w3.org/2000/svg';
  let v0 = 0;
  let vs = span;

  function clamp(): void {
    vs = Math.min(span, Math.max(vs, Math.max(1, span / 1e6)));
    v0 = Math.min(Math.max(0, v0), span - vs);
  }

  function drawAxis(): void {
    while (axis.firstChild) axis.removeChild(axis.firstChild);
    for (const t of ticks(v0, vs)) {
      const x = L + ((t - v0) / vs) * W;
      const line = doc.createElementNS(NS, 'line');
      line.setAttribute('class', 'tick');
      for (const [k, v] of [['x1', x], ['x2', x], ['y1', top - 4], ['y2', height]] as [string, number][]) line.setAttribute(k, String(v));
      const label = doc.createElementNS(NS, 'text');
      label.setAttribute('class', 'tick-label');
      label.setAttribute('x', String(x));
      label.setAttribute('y', String(top - 8));
      label.setAttribute('text-anchor', 'middle');
      label.textContent = durationText(t);
      axis.appendChild(line);
      axis.appendChild(label);
    }
  }

  function apply(): void {
    clamp();
    const k = span / vs;
    plot.setAttribute('transform', `translate(${L - k * L - (k * v0 * W) / span},0) scale(${k},1)`);
    drawAxis();
    range.textContent = `showing +${durationText(v0)} to +${durationText(v0 + vs)} (x${k >= 10 ? Math.round(k) : k.toFixed(1)})`;
  }

  function zoomAt(frac: number, factor: number): void {
    const t = v0 + frac * vs;
    vs *= factor;
    clamp();
    v0 = t - frac * vs;
    apply();
  }

  function fracOf(e: any): number {
    const r = svg.getBoundingClientRect();
    const x = ((e.clientX - r.left) * Number(svg.getAttribute('width'))) / r.width;
    return Math.min(1, Math.max(0, (x - L) / W));
  }

  svg.addEventListener('wheel', (e: any) => {
    e.preventDefault();
    zoomAt(fracOf(e), e.deltaY < 0 ? 0.8 : 1.25);
  }, { passive: false });
  let drag: { x: number; v0: number } | null = null;
  svg.addEventListener('mousedown', (e: any) => (drag = { x: e.clientX, v0 }));
  doc.addEventListener('mouseup', () => (drag = null));
  doc.addEventListener('mousemove', (e: any) => {
    if (!drag) return;
    const r = svg.getBoundingClientRect();
    v0 = drag.v0 - ((e.clientX - drag.x) / ((r.width * W) / Number(svg.getAttribute('width')))) * vs;
    apply();
  });
  svg.addEventListener('dblclick', () => {
    v0 = 0;
    vs = span;
    apply();
  });
  doc.getElementById('tl-in').addEventListener('click', () => zoomAt(0.5, 0.5));
  doc.getElementById('tl-out').addEventListener('click', () => zoomAt(0.5, 2));
  doc.getElementById('tl-reset').addEventListener('click', () => {
    v0 = 0;
    vs = span;
    apply();
  });
  apply();
}
