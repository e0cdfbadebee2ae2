// The one stylesheet of the auth pages, served from the gateway itself (no third-party assets), with the
// branding accent colour baked in at config load: one shade of it per colour scheme, readable on the pages'
// backgrounds (views/palette.ts).
import { createHash } from 'node:crypto';
import { type Palette, palette } from './palette.ts';

/** The pages' icon: an "H" on the accent colour (browsers ask for one on every page). */
export function icon(accent: string): string {
  const p = palette('light', accent);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="${p.accentBg}"/><path d="M10 8v16M22 8v16M10 16h12" stroke="${p.onAccent}" stroke-width="3.5" stroke-linecap="round"/></svg>`;
}

const variables = (p: Palette) =>
  `--accent:${p.accent};--accent-bg:${p.accentBg};--on-accent:${p.onAccent};--fg:${p.fg};--muted:${p.muted};--bg:${p.bg};--card:${p.card};--border:${p.border};--error:${p.error};--ok:${p.ok}`;

export function stylesheet(accent: string): { css: string; icon: string; version: string } {
  const css = `:root{${variables(palette('light', accent))};color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{${variables(palette('dark', accent))}}}
*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5;color:var(--fg);background:var(--bg)}
body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;padding:8vh 1rem 2rem}
main{width:100%;max-width:26rem;background:var(--card);border:1px solid var(--border);border-radius:12px;padding:2rem}
main.wide{max-width:44rem}
.brand{display:flex;align-items:center;gap:.6rem;font-weight:600;color:var(--muted);margin-bottom:1.25rem}
.brand img{height:28px;width:auto}
h1{font-size:1.4rem;margin:0 0 1.25rem}
h2{font-size:1.05rem;margin:2rem 0 .75rem}
label{display:block;font-weight:600;margin:1rem 0 .3rem}
label.check{font-weight:400;margin:.3rem 0}
fieldset{border:1px solid var(--border);border-radius:8px;margin:1rem 0 0;padding:.5rem 1rem 1rem}
legend{font-weight:600;padding:0 .3rem}
select{font:inherit;padding:.5rem .6rem;border:1px solid var(--border);border-radius:8px;background:var(--card);color:var(--fg)}
code{font-size:.9em}
input[type=text],input[type=email],input[type=password],input[readonly]{width:100%;font:inherit;padding:.6rem .7rem;border:1px solid var(--border);border-radius:8px;background:var(--card);color:var(--fg)}
input:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
input[aria-invalid=true]{border-color:var(--error)}
.hint{color:var(--muted);font-size:.875rem;margin:.3rem 0 0}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.6rem 1rem;border-radius:8px;border:1px solid var(--accent-bg);background:var(--accent-bg);color:var(--on-accent);cursor:pointer;text-decoration:none;text-align:center}
button.secondary,.button.secondary{background:transparent;color:var(--fg);border-color:var(--border)}
form>button[type=submit],.actions{margin-top:1.5rem}
form.stack>button{width:100%}
.actions{display:flex;gap:.75rem;flex-wrap:wrap}
.alert{border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem;border:1px solid}
.alert.error{color:var(--error);border-color:var(--error)}
.alert.ok{color:var(--ok);border-color:var(--ok)}
.alert>p:first-child{margin-top:0}
.alert>:last-child{margin-bottom:0}
.alternatives:empty{display:none}
.alternatives{border-top:1px solid var(--border);margin-top:1.5rem;padding-top:1rem;display:grid;gap:.6rem}
.button[aria-disabled=true]{cursor:not-allowed;color:var(--muted);border-style:dashed}
a{color:var(--accent)}
p.meta{color:var(--muted);font-size:.875rem}
table{width:100%;border-collapse:collapse;font-size:.9rem}
th,td{text-align:left;padding:.5rem .4rem;border-bottom:1px solid var(--border);vertical-align:top;overflow-wrap:break-word}
th,td.when{white-space:nowrap}
td.what{overflow-wrap:anywhere}
td.actions-cell{width:1%;white-space:nowrap;text-align:right;vertical-align:middle}
td form{margin:0}
td form>button[type=submit]{margin:0}
td button{padding:.3rem .7rem;font-size:.85rem}
form.create{margin-top:1.25rem;display:grid;grid-template-columns:minmax(12rem,1fr) auto;gap:0 1rem;align-items:start}
form.create>*{grid-column:1/-1}
form.create>.name{grid-column:1}
form.create>.expires{grid-column:2}
form.create select{width:100%;min-width:12rem;padding:.6rem .6rem}
form.create>button{justify-self:start;margin-top:1.25rem}
.new-token input{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
[hidden]{display:none!important}
details{margin-top:1.5rem}
summary{cursor:pointer;font-weight:600}
summary:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.or{display:flex;align-items:center;gap:.75rem;margin:1.5rem 0 0}
.or::before,.or::after{content:"";flex:1;border-top:1px solid var(--border)}
form.stack .actions>button{flex:1}
.passkey-status:empty{margin:0}
ol.steps{margin:1.25rem 0 0;padding-left:1.5rem}
ol.steps>li{padding-left:.25rem;margin-bottom:1.5rem}
ol.steps>li::marker{font-weight:600}
ol.steps>li>p:first-child{margin-top:0}
.qr{display:block;width:100%;max-width:15rem;height:auto;border:1px solid var(--border);forced-color-adjust:none}
code.secret,ol.recovery-codes{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:1rem}
code.secret{user-select:all;word-spacing:.25em}
ol.recovery-codes{display:grid;grid-template-columns:repeat(2,max-content);gap:.5rem 3rem;margin:1.25rem 0;padding-left:2rem}
ol.recovery-codes code{font:inherit}
details.rename{margin-top:.3rem;font-size:.875rem}
details.rename summary{font-weight:400}
td details.rename form>button{margin-top:.5rem}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:40rem){table.rows,table.rows tbody,table.rows tr,table.rows td{display:block;width:auto}
table.rows thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
table.rows tr{display:flex;flex-wrap:wrap;align-items:center;gap:.2rem 1rem;padding:.75rem 0;border-bottom:1px solid var(--border)}
table.rows td{border:0;padding:0;flex:1 1 100%}
td[data-label]::before{content:attr(data-label) ": ";color:var(--muted)}
table.rows td.actions-cell{flex:0 0 auto;text-align:left}
form.create{grid-template-columns:1fr}form.create>.expires{grid-column:1}}
@media (max-width:30rem){main{padding:1.25rem;border-radius:0;border-left:0;border-right:0}body{padding:0}}
`;
  return {
    css,
    icon: icon(accent),
    version: createHash('sha256').update(css).update(accent).digest('hex').slice(0, 12),
  };
}
