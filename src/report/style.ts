/** The page's stylesheet, inlined into every report (no file, no network). */
export const REPORT_CSS = `
:root { --red: #c62828; --orange: #e65100; --blue: #1565c0; --grey: #607d8b; --ink: #1f2933; }
* { box-sizing: border-box; }
body { font: 14px/1.45 "DejaVu Sans", system-ui, sans-serif; color: var(--ink); margin: 0; padding: 0 24px 48px; background: #fff; }
header { padding: 16px 0 4px; border-bottom: 1px solid #dde3ea; margin-bottom: 12px; }
header h1 { font-size: 20px; margin: 0 0 4px; }
header p { margin: 0; color: #52606d; font-size: 13px; }
h2 { font-size: 17px; margin: 22px 0 8px; }
h3 { font-size: 15px; margin: 18px 0 6px; font-family: "DejaVu Sans Mono", monospace; }
code, pre { font-family: "DejaVu Sans Mono", monospace; }
.note { background: #fffde7; border: 1px solid #f9e79f; padding: 6px 10px; border-radius: 4px; font-size: 13px; }
.verdict { border-left: 6px solid var(--grey); padding: 4px 14px; background: #f7f9fb; }
.verdict h2 { margin: 6px 0 2px; }
.verdict p { font-size: 15px; margin: 4px 0 8px; }
.verdict.lv-error { border-color: var(--red); background: #fff5f5; }
.verdict.lv-warn { border-color: var(--orange); background: #fff8f0; }
.verdict.lv-ok { border-color: #2e7d32; background: #f3faf3; }
.findings { padding-left: 22px; }
.finding { margin: 0 0 12px; }
.finding p { margin: 2px 0; font-size: 13px; }
.finding .fh { font-weight: 600; }
.lvl { display: inline-block; font-size: 11px; text-transform: uppercase; padding: 0 6px; border-radius: 3px; background: var(--grey); color: #fff; }
.lv-error .lvl { background: var(--red); } .lv-warn .lvl { background: var(--orange); } .lv-info .lvl { background: var(--blue); }
a.ev { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; margin-right: 6px; }
.inputs, .meta { color: #52606d; font-size: 12px; }
.scroll { overflow-x: auto; border: 1px solid #e4e9ef; border-radius: 6px; padding: 4px; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.legend i { display: inline-block; width: 22px; height: 0; border-top: 2px solid; vertical-align: middle; margin-right: 4px; }
svg text { font-family: "DejaVu Sans", sans-serif; }
.lane { fill: #f6f8fb; stroke: #d5dde6; }
.lane-title { font-size: 13px; font-weight: 700; fill: #334e68; }
.lane-sub { font-size: 10px; fill: #7b8794; }
.row-label { font-size: 12px; font-weight: 600; fill: #243b53; }
.row-label.back { fill: var(--blue); } .row-label.err-icmp, .row-label.err-rst { fill: var(--orange); }
.row-end { font-size: 11px; fill: #7b8794; }
.box { cursor: pointer; }
.box rect { fill: #eef2f7; stroke: #8293a8; stroke-width: 1.2; }
.box.k-receive rect { fill: #e3f2fd; } .box.k-netfilter rect { fill: #fff8e1; } .box.k-route rect { fill: #ede7f6; }
.box.k-socket rect { fill: #e8f5e9; } .box.k-qdisc rect { fill: #fce4ec; } .box.k-queue rect, .box.k-transmit rect { fill: #e0f7fa; }
.box.k-icmp rect { fill: #fff3e0; } .box.k-free rect { fill: #f1f1f1; } .box.k-func rect { fill: #f7f7f7; }
.box.t-drop rect { fill: #ffebee; stroke: var(--red); stroke-width: 2.6; }
.box.t-drop .bl, .box.t-drop .bt { fill: var(--red); }
.box.t-benign rect { fill: #f5f5f5; stroke: #9e9e9e; stroke-dasharray: 4 3; }
.box.t-error-sent rect { stroke: var(--orange); stroke-width: 2; }
.box.t-slow rect { stroke: #f9a825; stroke-width: 2.6; fill: #fffde7; }
.bl { font-size: 12px; font-weight: 700; fill: #102a43; }
.bt { font-size: 10.5px; fill: #334e68; }
.badge circle { fill: #243b53; } .badge text { fill: #fff; font-size: 10px; font-weight: 700; }
.box:hover rect, .box:focus rect { filter: drop-shadow(0 0 3px #90a4ae); outline: none; }
.box.sel rect { stroke: #000; stroke-width: 3; }
.edge { cursor: pointer; }
.edge .line { fill: none; stroke: #52606d; stroke-width: 1.6; }
.edge .hit { fill: none; stroke: transparent; stroke-width: 12; }
.edge.e-back .line { stroke: var(--blue); } .edge.e-error .line { stroke: var(--orange); stroke-width: 2; }
.edge.e-drop .line { stroke: var(--red); stroke-width: 2.2; }
.edge.e-cause .line { stroke: var(--orange); stroke-dasharray: 5 4; }
.edge.sel .line { stroke-width: 3.5; }
.el { font-size: 10.5px; fill: #243b53; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.edge.e-drop .el { fill: var(--red); } .edge.e-cause .el, .edge.e-error .el { fill: var(--orange); }
marker.mk-a path { fill: #52606d; } marker.mk-back path { fill: var(--blue); } marker.mk-error path, marker.mk-cause path { fill: var(--orange); } marker.mk-drop path { fill: var(--red); }
.timeline { background: #fff; cursor: grab; user-select: none; }
.tl-row { fill: #fbfcfd; } .tl-row.odd { fill: #f2f5f8; }
.tl-label { font-size: 11px; fill: #334e68; }
.tick { stroke: #e1e7ee; } .tick-label { font-size: 10px; fill: #52606d; }
.pk { fill: none; stroke-width: 1.2; opacity: .55; vector-effect: non-scaling-stroke; }
.pt { stroke-width: 2; vector-effect: non-scaling-stroke; cursor: pointer; }
.wait { stroke: #f9a825; stroke-width: 5; opacity: .6; vector-effect: non-scaling-stroke; cursor: pointer; }
.pt.drop { stroke: var(--red); stroke-width: 3.5; }
.pt.sel { stroke: #000; stroke-width: 4; }
.controls button { font-size: 13px; padding: 1px 10px; margin-right: 4px; }
.controls span { color: #52606d; font-size: 12px; margin-left: 8px; }
.bar { fill: #5c7cfa; } .base { stroke: #cbd2d9; } .hist-label { font-size: 11.5px; fill: #243b53; }
#raw { position: fixed; right: 12px; top: 12px; bottom: 12px; width: min(480px, 45vw); background: #fff; border: 1px solid #9aa5b1; border-radius: 6px; box-shadow: 0 4px 18px rgba(0,0,0,.18); display: flex; flex-direction: column; z-index: 10; }
#raw[hidden] { display: none; }
#raw .raw-head { display: flex; justify-content: space-between; align-items: center; padding: 6px 10px; border-bottom: 1px solid #e4e9ef; font-weight: 600; font-size: 13px; }
#raw pre { margin: 0; padding: 8px 10px; overflow: auto; font-size: 11.5px; flex: 1; white-space: pre-wrap; word-break: break-all; }
.tcpdump { font-size: 12px; color: #334e68; margin: 2px 0; }
`;
