// The visualizer page. It lays out what the server computed (the words for
// states and intents, the spp_vf drawings, the ports' rows and the machine
// layouts) and words nothing itself. Sources: a live agent (Server-Sent
// Events), a replay's frames (a slider), or a cluster in etcd (SSE, with a
// drill-in per host).

const state = {
  machines: {},
  source: 'live',
  view: undefined,
  receivedAt: 0,
  frames: [],
  selectedPort: undefined,
  /** A port was just clicked or linked and the reader has not scrolled since: live updates keep its heading in view. */
  keepInView: false,
  cluster: undefined,
  selectedHost: undefined,
  hostDetail: undefined,
};

const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const $ = (id) => document.getElementById(id);

/**
 * A CSS class for a port or NIC machine state, from the tags the view sends
 * with it (machines/tags.ts): a renamed state keeps its colour.
 */
function tagClass(tags) {
  const has = (tag) => Array.isArray(tags) && tags.includes(tag);
  if (has('up') || has('free')) return 'ok';
  if (has('failed')) return 'bad';
  if (has('retrying')) return 'warn';
  return 'busy';
}

/** The agent machine's state (it declares no tags): its few top-level names decide the colour. */
function agentClass(s) {
  if (s === 'running') return 'ok';
  if (s === 'degraded' || s === 'refused') return 'bad';
  return 'busy';
}

const badgeOf = (cls, s) => `<span class="state ${cls}" data-state="${esc(s)}">${esc(s)}</span>`;
const badge = (s, tags) => badgeOf(tagClass(tags), s);
const chip = (phase, text, title) =>
  `<span class="chip phase-${esc(phase)}" data-phase="${esc(phase)}"${title ? ` title="${esc(title)}"` : ''}>${esc(text ?? phase)}</span>`;
/** A port's state in the legend's word; the port machine's own state name only in the tooltip. */
const portChip = (row) => chip(row.phase, row.phase, `port machine state: ${row.state}`);
/** Failed attempts in a row and the last error, in a few words (the panel has them whole). */
function trouble(row) {
  const n = row.attempts ? `${row.attempts} failed attempt${row.attempts === 1 ? '' : 's'}` : '';
  const e = row.lastError ? (row.lastError.length > 40 ? `${row.lastError.slice(0, 39)}…` : row.lastError) : '';
  return [n, e].filter(Boolean).join(': ');
}

function duration(ms) {
  if (ms === undefined || ms === null) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

/** Age in the current state: the server's figure, plus the time since it was sent when live. */
const ageOf = (row) => (row.ageMs === undefined ? undefined : row.ageMs + (state.source === 'frames' ? 0 : Date.now() - state.receivedAt));

// ---------------------------------------------------------------- host view

/** The SVG of a drawing (an spp_vf or the spp_mirror): boxes and links as the server placed them. */
function drawingSvg(d) {
  const edges = d.edges.map((e) => `<path class="link" d="${e.path}" marker-end="url(#vf-arrow)"></path>`).join('');
  const nodes = d.nodes
    .map((n) => {
      const cls = ['node', n.kind, n.phase ? `phase-${n.phase}` : '', n.differs ? 'differs' : ''].filter(Boolean).join(' ');
      const attrs = `data-node="${esc(n.id)}"${n.vhostId !== undefined ? ` data-vhost="${n.vhostId}"` : ''}${n.portId ? ` data-owner="${esc(n.portId)}"` : ''}${n.phase ? ` data-phase="${esc(n.phase)}"` : ''}`;
      const texts = n.lines.map((l, i) => `<text x="${n.x + 7}" y="${n.y + 16 + i * 15}" class="${esc(l.cls || '')}">${esc(l.text)}</text>`).join('');
      const tip = n.portId ? `<title>port ${esc(n.portId)}</title>` : '';
      return `<g class="${cls}" ${attrs}>${tip}<rect x="${n.x}" y="${n.y}" width="${n.w}" height="${n.h}" rx="5"></rect>${texts}</g>`;
    })
    .join('');
  return `<div class="diagram"><svg class="vf-drawing" viewBox="0 0 ${d.width} ${d.height}" width="${d.width}" height="${d.height}">
      <defs><marker id="vf-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"></path></marker></defs>
      ${edges}${nodes}</svg></div>`;
}

function renderDrawing(d) {
  return `<article class="card vf" data-sec-id="${d.secId}">
    <h3>${esc(d.title)} ${badge(d.state, d.tags)}</h3>${(d.warnings ?? []).map((w) => `<p class="drift">${esc(w)}</p>`).join('')}
    ${d.release ? `<p class="release" title="${esc(d.release.reason)}">${esc(d.release.text)}: ${esc(d.release.reason)}</p>` : ''}
    ${drawingSvg(d)}
  </article>`;
}

/** The host's spp_mirror (TaaS): its components and the rings it took from the vfs. */
function renderMirror(d) {
  return `<article class="card mirror" data-mirror-sec-id="${d.secId}">
    <h3>${esc(d.title)} ${badge(d.state, d.tags)}</h3>${d.lastError ? `<p class="error">${esc(d.lastError)}</p>` : ''}
    ${drawingSvg(d)}
  </article>`;
}

/** A tap flow: its state (the legend's word, from its machine's tags), direction, ports, mirrors, last error, and what the plan still needs. */
function renderTap(r) {
  const end = (e) => (e ? `${esc(e.portId)} (vhost:${e.vhostId}, spp_vf ${e.secId})` : '<span class="missing">unknown</span>');
  const list = (cls, items, code) =>
    items.length ? `<ul class="${cls}">${items.map((x) => `<li>${code ? `<code>${esc(x)}</code>` : esc(x)}</li>`).join('')}</ul>` : '';
  const e = r.explanation;
  const explanation = e
    ? `<div class="explain ${e.up ? '' : 'open'}" data-verdict="${esc(e.verdict)}"><h4>spp explain: ${e.up ? 'up' : 'not up'} (${esc(e.verdict)})</h4><ul>${e.sentences
        .map(
          (s) => `<li>${esc(s.text)}${s.facts.length ? `<ul class="facts">${s.facts.map((f) => `<li><code>${esc(f)}</code></li>`).join('')}</ul>` : ''}</li>`,
        )
        .join('')}</ul></div>`
    : '';
  return `<article class="card tap" data-tap-flow="${esc(r.flowId)}" data-phase="${esc(r.phase)}" data-state="${esc(r.state)}">
    <h3>tap flow ${esc(r.flowId)} ${chip(r.phase, r.phase, `tap machine state: ${r.state}`)} <span class="direction">${esc(r.direction ?? '')}</span></h3>
    <p class="desired"><b>desired:</b> ${esc(r.intentText)}</p>
    <p class="ends"><b>source:</b> ${end(r.source)} · <b>service:</b> ${end(r.service)} · <b>mirrors:</b> ${
      r.legs.map((l) => `${esc(l.dir)} ${esc(l.component)}`).join(', ') || 'none'
    } · machine state <code class="machine-state">${esc(r.state)}</code></p>
    ${r.attempts ? `<p class="attempts"><b>attempts:</b> ${r.attempts} failed in a row</p>` : ''}
    ${r.lastError ? `<p class="error last-error"><b>last error:</b> ${esc(r.lastError)}</p>` : ''}
    ${r.redirects.length ? `<h4>Rings redirected</h4>${list('redirects', r.redirects)}` : ''}
    ${r.missing.length ? `<h4 class="error">Not where the plan puts them</h4>${list('missing-steps', r.missing, true)}` : ''}
    ${r.commands.length ? `<details><summary>spp-ctl commands of the last run</summary>${list('commands', r.commands, true)}</details>` : ''}
    ${explanation}
  </article>`;
}

function filteredRows(rows) {
  const phase = $('phase-filter').value;
  const q = $('port-search').value.trim().toLowerCase();
  return rows.filter(
    (r) =>
      (phase === '' || (phase === 'attention' ? r.attention : r.phase === phase)) &&
      (q === '' ||
        r.portId.toLowerCase().includes(q) ||
        String(r.mac || '')
          .toLowerCase()
          .includes(q)),
  );
}

function renderList(rows) {
  const shown = filteredRows(rows);
  $('port-count').textContent = `${shown.length} of ${rows.length} ports`;
  $('ports-table').tBodies[0].innerHTML =
    shown
      .map(
        (
          r,
        ) => `<tr data-port-id="${esc(r.portId)}" data-phase="${esc(r.phase)}" data-state="${esc(r.state)}" class="${r.portId === state.selectedPort ? 'selected' : ''}">
      <td><a href="#port=${encodeURIComponent(r.portId)}">${esc(r.portId)}</a></td><td>${portChip(r)}</td>
      <td title="${r.vhostId !== undefined ? `spp_vf ${r.secId}` : ''}">${r.vhostId !== undefined ? `vhost:${r.vhostId}` : ''}</td><td>${esc(r.mac)}</td><td>${esc(r.binding === 'invalid request' ? 'invalid' : (r.vlan ?? ''))}</td>
      <td class="age" data-age="${r.ageMs ?? ''}">${esc(duration(ageOf(r)))}</td>
      <td class="trouble" title="${esc(r.lastError ?? '')}">${esc(trouble(r))}</td></tr>`,
      )
      .join('') || `<tr><td colspan="7" class="missing">${rows.length ? 'no port matches' : 'no ports'}</td></tr>`;
}

function renderPanel(v) {
  const row = v.rows.find((r) => r.portId === state.selectedPort);
  const panel = $('port-panel');
  if (!row) {
    panel.innerHTML = `<p class="missing">${state.selectedPort ? `port ${esc(state.selectedPort)} is not in this view` : 'Pick a port in the list or a vhost in the drawing.'}</p>`;
    return;
  }
  const compare = v.compare?.[row.portId] || [];
  const cmp = compare
    .map(
      (r) =>
        `<tr class="${r.same ? 'same' : 'differs'}"><td>${esc(r.field)}</td><td>${esc(r.desired)}</td><td>${esc(r.observed)}</td><td>${r.same ? '=' : '≠'}</td></tr>`,
    )
    .join('');
  const timeline = row.timeline
    .map((h, i) => ({ ...h, repeated: h.error !== undefined && h.error === row.timeline[i - 1]?.error }))
    .reverse()
    .map(
      (
        h,
      ) => `<tr><td class="when">rev ${esc(h.revision)}<br>${esc(new Date(h.at).toISOString().slice(11, 23))}${h.sinceMs !== undefined ? `<br>+${esc(duration(h.sinceMs))}` : ''}</td>
        <td>${badge(h.state, h.tags)}</td>
        <td class="what">${esc(h.what)}${h.commands.length ? `<div class="commands">${h.commands.map((c) => `<code>${esc(c)}</code>`).join('<br>')}</div>` : ''}${
          h.error
            ? `<div class="error">${h.repeated ? 'the same error' : `error: ${esc(h.error)}`}</div>`
            : h.commands.length
              ? '<div class="ok-text">commands ok</div>'
              : ''
        }</td></tr>`,
    )
    .join('');
  const explanationHtml = (e) =>
    `<div class="explain ${e.up ? '' : 'open'}" data-verdict="${esc(e.verdict)}"><h4>spp explain: ${e.up ? 'up' : 'not up'} (${esc(e.verdict)})</h4><ul>${e.sentences
      .map((s) => `<li>${esc(s.text)}${s.facts.length ? `<ul class="facts">${s.facts.map((f) => `<li><code>${esc(f)}</code></li>`).join('')}</ul>` : ''}</li>`)
      .join('')}</ul></div>`;
  const why = row.whyNotUp.length
    ? `<ul>${row.whyNotUp.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>`
    : `<p>${row.phase === 'up' ? 'up, and spp_vf holds what etcd asks for' : 'nothing to explain'}</p>`;
  panel.innerHTML = `<article class="card port" data-panel-port="${esc(row.portId)}">
    <h3 id="port-heading">port ${esc(row.portId)} <span class="port-state" data-state="${esc(row.state)}">${portChip(row)}</span></h3>
    <p class="desired"><b>desired:</b> ${esc(row.intentText)}</p>
    <p>${row.vhostId !== undefined ? `vhost:${row.vhostId} on spp_vf ${row.secId} · ` : ''}${
      row.phase === 'retrying' ? 'trying since its first attempt, for' : `${esc(row.phase)} for`
    } <span class="age">${esc(duration(ageOf(row)))}</span> · machine state <code class="machine-state">${esc(row.state)}</code></p>
    ${row.attempts ? `<p class="attempts"><b>attempts:</b> ${row.attempts} failed in a row${row.phase === 'retrying' ? '; the agent tries again after a backoff' : ''}</p>` : ''}
    ${row.lastError ? `<p class="error last-error"><b>last error:</b> ${esc(row.lastError)}</p>` : ''}
    <div class="why ${row.whyNotUp.length ? 'open' : ''}"><h4>${row.phase === 'up' ? 'Is it as etcd asks?' : 'Why is it not up?'}</h4>${why}</div>
    ${row.explanation ? explanationHtml(row.explanation) : ''}
    <h4>Desired against observed</h4>
    ${cmp ? `<table class="compare"><thead><tr><th></th><th>desired (etcd)</th><th>observed (spp_vf)</th><th></th></tr></thead><tbody>${cmp}</tbody></table>` : '<p class="missing">nothing observed yet</p>'}
    <h4>Path: ${row.path.map(esc).join(' → ')}</h4>
    <div class="diagram">${diagram('port', row.state, row.path)}</div>
    <h4>Timeline</h4>
    <table class="timeline"><thead><tr><th>etcd rev, time, after</th><th>machine state</th><th>what happened, spp-ctl commands sent, result</th></tr></thead><tbody>${timeline}</tbody></table>
  </article>`;
}

/** A machine's diagram as SVG: the current state (and child) highlighted, and the states and transitions of `path`. */
function diagram(name, current, path) {
  const m = state.machines[name];
  if (!m) return '';
  const L = m.layout;
  const top = current ? String(current).split('.')[0] : undefined;
  const visited = new Set(path || []);
  const taken = new Set();
  for (let i = 1; i < (path || []).length; i++) taken.add(`${path[i - 1]}>${path[i]}`);
  const boxes = L.boxes
    .map((b) => {
      const cls = `box${b.id === top ? ' current' : ''}${visited.has(b.id) ? ' visited' : ''}`;
      const kids = b.children
        .map((c) => {
          const hit = current === c.id || String(current || '').startsWith(`${c.id}.`);
          return `<rect class="child${hit ? ' current' : ''}" x="${c.x}" y="${c.y}" width="${c.w}" height="${c.h}" rx="3"></rect>
            <text x="${c.x + 6}" y="${c.y + 13}" class="child-label">${esc(c.label)}</text>`;
        })
        .join('');
      const inv = b.invoke.map((t, i) => `<text x="${b.x + 8}" y="${b.y + 36 + i * 16}" class="invoke">${esc(t)}</text>`).join('');
      return `<g class="${cls}" data-state="${esc(b.id)}"><rect class="frame" x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="8"></rect>
        <text x="${b.x + 8}" y="${b.y + 18}" class="label">${esc(b.id)}</text>${inv}${kids}</g>`;
    })
    .join('');
  const edges = L.edges
    .map((e) => {
      const on = taken.has(`${e.from}>${e.to}`);
      const lines = e.labels.map((l, i) => `<tspan x="${e.labelX}" dy="${i === 0 ? 0 : 12}">${esc(l)}</tspan>`).join('');
      return `<g class="edge${on ? ' taken' : ''}" data-from="${esc(e.from)}" data-to="${esc(e.to)}"><path d="${e.path}" marker-end="url(#arrow-${on ? 'on' : 'off'})"></path><text x="${e.labelX}" y="${e.labelY}" class="edge-label">${lines}</text></g>`;
    })
    .join('');
  const any = L.fromAnyState.length ? `<p class="any">from any state: ${L.fromAnyState.map(esc).join('; ')}</p>` : '';
  return `<svg class="machine" data-machine="${esc(name)}" viewBox="0 0 ${L.width} ${L.height}" width="${L.width}" height="${L.height}">
    <defs>
      <marker id="arrow-off" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"></path></marker>
      <marker id="arrow-on" class="on" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"></path></marker>
    </defs>
    ${edges}${boxes}</svg>${any}`;
}

function renderHost(v) {
  if (!v) return;
  $('config').innerHTML = v.configurationErrors.length
    ? `<div class="error">configuration invalid:<ul>${v.configurationErrors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul></div>`
    : v.configuration === 'missing'
      ? '<p class="error">no host configuration in etcd yet</p>'
      : '';
  $('drawings').innerHTML =
    (v.drawings.map(renderDrawing).join('') || '<p class="missing">no NICs</p>') + (v.mirrorDrawing ? renderMirror(v.mirrorDrawing) : '');
  const taps = v.tapRows || [];
  $('taps').hidden = taps.length === 0 && !v.mirrorDrawing;
  $('tap-list').innerHTML = taps.map(renderTap).join('') || '<p class="missing">no tap flows</p>';
  renderList(v.rows);
  renderPanel(v);
  $('machines').innerHTML = Object.keys(state.machines)
    .map(
      (name) =>
        `<article class="card"><h3>${esc(name)} machine</h3><div class="diagram">${diagram(name, name === 'agent' ? v.agentState : undefined)}</div></article>`,
    )
    .join('');
}

/**
 * The agent's readiness as its /readyz says it, with the reason: the header's
 * colour. The agent machine's state is a detail beside it (its `running`
 * says nothing of spp-ctl).
 */
function readinessHtml(v) {
  if (!v.readiness) return v.agentState ? `agent <span id="agent-state">${badgeOf(agentClass(v.agentState), v.agentState)}</span> · ` : '';
  const r = v.readiness;
  const machine = v.agentState
    ? ` <span id="agent-state" class="detail" title="the agent machine's state">(agent <span class="state" data-state="${esc(v.agentState)}">${esc(v.agentState)}</span>)</span>`
    : '';
  return `<span id="readiness" class="state ${r.ready ? 'ok' : 'bad'}" data-ready="${r.ready}">${r.ready ? 'ready' : 'not ready'}</span>${
    r.ready ? '' : ` <span id="readiness-reason" class="reason">${esc(r.reason)}</span>`
  }${machine} · `;
}

/** `revision`: the one to show (a replay frame's step; the view's own is past it when the agent wrote during the step). */
function hostSummary(v, revision = v.revision) {
  const counts = {};
  for (const r of v.rows) counts[r.phase] = (counts[r.phase] || 0) + 1;
  const after =
    revision !== v.revision
      ? ` <span class="detail" title="etcd's revision after the agent's own writes during this step">(${esc(v.revision)} after the agent's writes)</span>`
      : '';
  return `${readinessHtml(v)}etcd revision <b id="revision">${esc(revision)}</b>${after} · configuration <span class="state ${v.configuration === 'valid' ? 'ok' : 'bad'}">${esc(v.configuration)}</span> · ${v.nics.length} NICs · ${v.ports.length} ports${v.tapRows?.length ? ` · <span id="tap-count">${v.tapRows.length} tap flow${v.tapRows.length === 1 ? '' : 's'}</span>` : ''} ${Object.entries(
    counts,
  )
    .map(([p, n]) => chip(p, `${n} ${p}`))
    .join(' ')}`;
}

function showHost(v, revision) {
  state.view = v;
  state.receivedAt = Date.now();
  $('host').textContent = v.host;
  $('summary').innerHTML = hostSummary(v, revision);
  $('summary').classList.toggle('not-ready', v.readiness?.ready === false);
  renderHost(v);
  stickyHeight();
  // live updates reflow the page (rows, the header's reason): a port just clicked or linked stays in view until the reader scrolls
  if (state.keepInView) revealPanel();
}

/** The page's address: `#port=ID` (and `#host=NAME&port=ID` in the cluster view), so a port can be linked to. */
function hashParams() {
  return new URLSearchParams(location.hash.replace(/^#/, ''));
}

function setHash(params) {
  const text = params.toString();
  history.replaceState(null, '', text ? `#${text}` : location.pathname + location.search);
}

/** The sticky bars' height, so that a heading scrolled to is not under them (scroll-margin-top in style.css). */
function stickyHeight() {
  const h = document.querySelector('header').getBoundingClientRect().height + ($('replay').hidden ? 0 : $('replay').getBoundingClientRect().height);
  document.documentElement.style.setProperty('--sticky-height', `${Math.ceil(h)}px`);
}

function selectPort(portId, scroll = true) {
  state.selectedPort = portId;
  const params = hashParams();
  if (portId) params.set('port', portId);
  else params.delete('port');
  setHash(params);
  if (state.view) {
    renderList(state.view.rows);
    renderPanel(state.view);
  }
  if (!scroll) return;
  state.keepInView = true;
  revealPanel();
}

function revealPanel() {
  stickyHeight();
  const heading = $('port-heading') || $('port-panel');
  heading.scrollIntoView({ block: 'start' });
}

// the reader's own scrolling ends keepInView: the page then moves only when they do
for (const event of ['wheel', 'touchmove', 'keydown']) {
  window.addEventListener(event, () => {
    state.keepInView = false;
  });
}

// ------------------------------------------------------------------ wiring

function showFrame(i) {
  const f = state.frames[i];
  if (!f) return;
  $('frame').value = String(i);
  $('frame-label').textContent = `frame ${i + 1}/${state.frames.length} · revision ${f.revision} · ${f.label}`;
  // the header names the step's revision, as the slider does
  showHost(f.view, f.revision);
}

async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}${res.headers.get('content-type')?.includes('json') ? `: ${(await res.json()).error}` : ''}`);
  return res.json();
}

function wire() {
  $('phase-filter').addEventListener('change', () => state.view && renderList(state.view.rows));
  $('port-search').addEventListener('input', () => state.view && renderList(state.view.rows));
  $('host-search').addEventListener('input', renderCluster);
  $('ports-table').addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-port-id]');
    if (!tr) return;
    ev.preventDefault();
    selectPort(tr.dataset.portId);
  });
  $('drawings').addEventListener('click', (ev) => {
    const g = ev.target.closest('g.vhost[data-owner]');
    if (g) selectPort(g.dataset.owner);
  });
  $('hosts-table').addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-host]');
    if (!tr) return;
    ev.preventDefault();
    selectHost(tr.dataset.host);
  });
  // another port's address typed or followed: select it
  window.addEventListener('hashchange', () => {
    const params = hashParams();
    if (state.source === 'cluster' && params.get('host') && params.get('host') !== state.selectedHost)
      selectHost(params.get('host'), params.get('port') || undefined);
    else if ((params.get('port') || undefined) !== state.selectedPort) selectPort(params.get('port') || undefined);
  });
  window.addEventListener('resize', stickyHeight);
  // ages keep counting between updates
  setInterval(() => {
    if (state.source === 'frames' || !state.view) return;
    for (const cell of document.querySelectorAll('#ports-table td.age')) {
      const ms = cell.dataset.age;
      if (ms !== '') cell.textContent = duration(Number(ms) + Date.now() - state.receivedAt);
    }
  }, 1000);
}

function follow(onData) {
  const events = new EventSource('api/events');
  events.onopen = () => {
    $('connection').textContent = 'live';
    $('connection').className = 'conn live';
  };
  events.onerror = () => {
    $('connection').textContent = 'disconnected (retrying)';
    $('connection').className = 'conn down';
  };
  events.onmessage = (msg) => onData(JSON.parse(msg.data));
}

async function start() {
  wire();
  // opened with a port's address: that port is selected once the view arrives
  state.selectedPort = hashParams().get('port') || undefined;
  let scrollPending = state.selectedPort !== undefined;
  const scrollOnce = () => {
    if (!scrollPending || !state.view?.rows.some((r) => r.portId === state.selectedPort)) return;
    scrollPending = false;
    selectPort(state.selectedPort);
  };
  const [info, machines] = await Promise.all([getJson('api/info'), getJson('api/machines')]);
  for (const m of machines.machines) state.machines[m.name] = m;
  state.source = info.source;
  if (info.source === 'frames') {
    state.frames = (await getJson('api/frames')).frames;
    $('replay').hidden = false;
    $('connection').textContent = `replay: ${state.frames.length} frames`;
    const slider = $('frame');
    slider.max = String(Math.max(0, state.frames.length - 1));
    slider.addEventListener('input', () => showFrame(Number(slider.value)));
    $('prev').addEventListener('click', () => showFrame(Math.max(0, Number(slider.value) - 1)));
    $('next').addEventListener('click', () => showFrame(Math.min(state.frames.length - 1, Number(slider.value) + 1)));
    showFrame(0);
    scrollOnce();
    return;
  }
  if (info.source === 'cluster') {
    document.body.classList.add('cluster-mode');
    $('title').textContent = 'spp cluster';
    $('cluster').hidden = false;
    $('agent-view').hidden = true;
    const wanted = hashParams().get('host');
    if (wanted) selectHost(wanted, state.selectedPort);
    follow((cv) => {
      state.cluster = cv;
      renderCluster();
      // the drilled-in host follows the watch too
      if (state.selectedHost) void loadHost();
    });
    // the agent's own view changes without an etcd event: refresh it while drilled in
    setInterval(() => state.selectedHost && state.hostDetail && state.hostDetail.agentUi && void loadHost(), 2000);
    return;
  }
  follow((v) => {
    showHost(v);
    scrollOnce();
  });
}

start().catch((err) => {
  $('connection').textContent = `error: ${err.message}`;
  $('connection').className = 'conn down';
});
