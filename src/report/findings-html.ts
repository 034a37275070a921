/** The top of the page: the diagnosis's verdict and numbered findings, evidence linked to raw events. */
import type { Finding, Report } from '../diagnose/model.js';
import { el, esc } from './svg.js';

function whereText(f: Finding): string {
  const w = f.where;
  return [
    `netns ${w.netnsName ? `${w.netnsName} (${w.netns})` : w.netns}`,
    w.dev ? `device ${w.dev}` : '',
    w.hook ? `hook ${w.hook}` : '',
    w.rule ? `rule ${w.rule}` : w.policy ? 'the chain\u2019s policy' : '',
    w.function ? `function ${w.function}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

function findingHtml(f: Finding, flowAnchor: (reportFlow: number | null) => string | null): string {
  const times = f.count > 1 && !f.rule.startsWith('latency.') ? ` (${f.count} times${f.flows ? `, ${f.flows} flows` : ''})` : '';
  const evidence = f.evidence
    .map((e) => el('a', { class: 'ev', href: `#ev-${e.n}`, 'data-ev': e.n, title: e.text }, esc(`#${e.n}${e.count > 1 ? ` (x${e.count})` : ''} ${e.probe}`)))
    .join(' ');
  const anchor = flowAnchor(f.flowId);
  return el(
    'li',
    { class: `finding lv-${f.level}`, id: `finding-${f.n}` },
    el('div', { class: 'fh' }, `${el('span', { class: 'lvl' }, esc(f.level))} ${el('code', {}, esc(f.rule))} ${esc(f.title)}${esc(times)}`) +
      el('p', { class: 'what' }, esc(f.what)) +
      el('p', { class: 'where' }, `<b>where</b> ${esc(whereText(f))}${anchor ? ` \u00b7 ${el('a', { href: anchor }, esc(f.flow ?? 'its flow'))}` : ''}`) +
      el('p', { class: 'evidence' }, `<b>evidence</b> ${evidence}`) +
      el('p', { class: 'advice' }, `<b>advice</b> ${esc(f.advice)}`) +
      (f.explains.length ? el('p', { class: 'explains' }, `<b>explains</b> ${esc(f.explains.join(', '))}`) : ''),
  );
}

/** The verdict and the findings; a note when no diagnosis was made. */
export function findingsHtml(r: Report | null, flowAnchor: (reportFlow: number | null) => string | null): string {
  if (!r) return el('section', { id: 'verdict', class: 'verdict lv-ok' }, el('h2', {}, 'Verdict') + el('p', {}, 'no diagnosis was made for this run'));
  const v = el('section', { id: 'verdict', class: `verdict lv-${r.verdict.level}` }, el('h2', {}, 'Verdict') + el('p', { class: 'verdict-text' }, esc(r.verdict.text)));
  const list = r.findings.length ? el('ol', { class: 'findings' }, r.findings.map((f) => findingHtml(f, flowAnchor)).join('')) : el('p', {}, 'no findings');
  const i = r.inputs;
  const inputs = `the diagnosis read ${i.events} events, ${i.lost} lost, ${i.flows} flows${i.flowsEvicted ? ` (${i.flowsEvicted} judged early to bound memory)` : ''}${i.missing.length ? `; rules that could say more with: ${i.missing.join(', ')}` : ''}`;
  return v + el('section', { id: 'findings' }, el('h2', {}, 'Findings') + list + el('p', { class: 'inputs' }, esc(inputs)));
}
