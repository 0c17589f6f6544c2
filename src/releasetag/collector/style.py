"""The pages' one stylesheet: system fonts only (nothing loaded from elsewhere), light and
dark (``prefers-color-scheme``), numbers right-aligned in tabular figures."""

STYLE = """
:root{color-scheme:light dark;--fg:#1d1c22;--bg:#f6f6f8;--card:#fff;--line:#e3e1e8;--muted:#6b6675;
--accent:#6c5fc7;--head:#2b1d38;--code:#f3f1f6;--err:#b0173a;--warn:#9a6700;--ok:#2b7a3d}
@media (prefers-color-scheme:dark){:root{--fg:#e8e6ee;--bg:#17151c;--card:#211e28;--line:#38333f;
--muted:#a39dad;--accent:#a99cff;--head:#120e17;--code:#2a2631;--err:#ff7a8f;--warn:#e8b64c;
--ok:#6fcf8a}}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--fg);
background:var(--bg)}a{color:var(--accent)}
header{background:var(--head);color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}
header a{color:#fff;text-decoration:none}header a.home{font-weight:700;font-size:17px}
nav.site a{margin-right:16px;opacity:.85}
nav.site a[aria-current]{opacity:1;border-bottom:2px solid #fff}
main{padding:16px 24px;max-width:1200px}h1{font-size:20px;margin:0}h2{font-size:18px;margin:0 0 6px;
overflow-wrap:anywhere}h3{font-size:14px;margin:12px 0 4px;color:var(--muted)}
section.release,.card{background:var(--card);border:1px solid var(--line);border-radius:6px;
padding:12px 16px;margin:0 0 14px;overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:4px 0}td,th{border-bottom:1px solid var(--line);
padding:3px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{color:var(--muted);
font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{width:22%;white-space:nowrap}
code,pre{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.muted,.left-out{color:var(--muted)}.left-out{font-style:italic}
.badge{display:inline-block;background:var(--code);
border-radius:10px;padding:0 8px;margin:0 4px 2px 0}
.level-error,.level-fatal{color:var(--err)}.level-warning{color:var(--warn)}
pre.ctx{background:var(--code);padding:6px;margin:2px 0;overflow:auto}pre.ctx b{display:block;
background:rgba(108,95,199,.18)}
.frame{margin:0 0 6px}.inapp{border-left:3px solid var(--accent);padding-left:8px}
details.frame>summary,details.lib>summary{cursor:pointer}
details.lib{color:var(--muted);margin:0 0 6px}
details.lib .frame{color:var(--fg)}
.o-healthy{background:#3c9a5f;color:#fff}.o-errored{background:#e0a526;color:#000}
.o-abnormal{background:#8c6bb1;color:#fff}.o-crashed{background:#c83a4b;color:#fff}
nav.pager{margin:6px 0}nav.pager a{margin:0 4px}time{white-space:nowrap}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;margin:0 0 10px}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
form.action{display:inline-block;margin:0 8px 6px 0}
input,select,button{font:inherit;color:inherit;background:var(--card);border:1px solid var(--line);
border-radius:4px;padding:3px 6px}button{cursor:pointer}
.bars{display:flex;align-items:end;gap:2px;height:60px}.bars span{background:var(--accent);
width:14px;min-height:1px}
.st-resolved{color:var(--ok);font-weight:600}.st-regressed{color:var(--err);font-weight:600}
.st-unresolved{color:var(--warn);font-weight:600}.st-ignored{color:var(--muted);font-weight:600}
"""
