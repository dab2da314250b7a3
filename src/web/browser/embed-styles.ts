/**
 * The embed's styles, adopted by its shadow root: the partner's CSS cannot reach inside, and these rules cannot
 * leak out. `:host { all: initial }` also stops inherited properties (font, colour, line height) of the
 * partner's page from flowing in.
 */
export const embedCss = `
:host { all: initial; display: block; contain: content;
  --bg: #ffffff; --fg: #1a1a1a; --muted: #5b6068; --line: #e3e5e8; --accent: #b3122e; --mark-bg: #fff3c4; --mark-fg: #5c4400;
  --reaction-bg: #f5f6f8; --live: #1f8a3b; --warn: #9a6700; --error: #b3122e;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); }
:host([data-theme="dark"]) { --bg: #15171a; --fg: #eceef1; --muted: #a5abb4; --line: #2e3238; --accent: #ff6b7f; --mark-bg: #3d3210;
  --mark-fg: #ffe08a; --reaction-bg: #1d2024; --live: #4cc26d; --warn: #e0b341; --error: #ff6b7f; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.sp { background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
.sp-head { display: flex; align-items: center; gap: .6rem; padding: .7rem .9rem; border-bottom: 1px solid var(--line); }
.sp-live { background: var(--accent); color: #fff; font-weight: 700; text-transform: uppercase; font-size: .72rem; letter-spacing: .06em; padding: .1rem .45rem; border-radius: 4px; }
.sp-title { flex: 1; min-width: 0; font-weight: 650; color: var(--fg); text-decoration: none; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.sp-title:hover, .sp-title:focus-visible { text-decoration: underline; }
.sp-state { margin: 0; padding: 1rem .9rem; color: var(--muted); }
.sp[data-state="error"] .sp-state { color: var(--error); font-weight: 600; }
.sp[data-state="ready"] .sp-state { display: none; }
.sp-feed { max-height: var(--sp-max-height, 32rem); overflow-y: auto; overscroll-behavior: contain; }
.sp-foot { padding: .55rem .9rem; border-top: 1px solid var(--line); font-size: .8rem; color: var(--muted); display: flex; justify-content: space-between; gap: .5rem; }
.sp-foot a { color: var(--accent); }
.status-badge { display: inline-flex; align-items: center; gap: .35rem; font-size: .75rem; color: var(--muted); white-space: nowrap; }
.status-dot { width: .5rem; height: .5rem; border-radius: 50%; background: var(--muted); }
.status-badge[data-status="live"] .status-dot { background: var(--live); }
.status-badge[data-status="reconnecting"] .status-dot, .status-badge[data-status="connecting"] .status-dot { background: var(--warn); }
.status-badge[data-status="offline"] .status-dot { background: var(--error); }
.update { padding: .75rem .9rem; border-bottom: 1px solid var(--line); }
.update:last-child { border-bottom: 0; }
.update.is-new { animation: sp-arrive 2.5s ease-out; }
@keyframes sp-arrive { from { background: var(--mark-bg); } to { background: transparent; } }
.update-head { display: flex; flex-wrap: wrap; align-items: center; gap: .45rem; font-size: .78rem; color: var(--muted); }
.permalink { color: var(--muted); text-decoration: none; }
.permalink:hover, .permalink:focus-visible { text-decoration: underline; }
.flag { font-weight: 700; font-size: .68rem; text-transform: uppercase; letter-spacing: .05em; border-radius: 3px; padding: 0 .35rem; }
.flag-key { background: var(--accent); color: #fff; }
.flag-reaction { background: var(--reaction-bg); color: var(--muted); border: 1px solid var(--line); }
.flag-pinned { background: var(--fg); color: var(--bg); }
.sp[data-status="ended"] .sp-live { background: var(--muted); }
.update-image { margin: .5rem 0 0; }
.update-image img { display: block; max-width: 100%; height: auto; border-radius: 3px; }
.update-image figcaption { font-size: .8rem; color: var(--muted); margin-top: .25rem; }
.sp-feed > .update.is-pinned { border-left: 3px solid var(--fg); padding-left: .6rem; }
.source { margin: .25rem 0 0; font-size: .85rem; color: var(--muted); }
.source-name { font-weight: 650; color: var(--fg); }
a.source-name { text-decoration: underline; }
.byline { margin: .2rem 0 0; font-size: .8rem; color: var(--muted); font-style: italic; }
.byline-name { color: var(--fg); }
.said { white-space: nowrap; }
.update-text p, .withdrawn-text { margin: .35rem 0 0; overflow-wrap: anywhere; }
.withdrawn-text { font-style: italic; color: var(--muted); }
.correction { margin-top: .45rem; padding: .4rem .6rem; border-left: 3px solid var(--mark-fg); background: var(--mark-bg); color: var(--mark-fg); border-radius: 0 6px 6px 0; font-size: .82rem; }
.correction p { margin: 0; }
.corrected-mark { font-weight: 700; text-transform: uppercase; letter-spacing: .04em; font-size: .72rem; }
.correction-history summary { cursor: pointer; margin-top: .2rem; }
.correction-history ol { margin: .25rem 0 0; padding-left: 1.1rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
a:focus-visible, summary:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
@media (prefers-reduced-motion: reduce) { .update.is-new { animation: none; } }
`;
