// The visualizer page: renders the agent's view (live over Server-Sent
// Events, or a replay's frames with a slider) and draws each machine's
// diagram from the layout the server computed from the machine definitions.
'use strict';

const state = { machines: {}, view: undefined, frames: [], source: 'live' };

const esc = (v) =>
  String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const $ = (id) => document.getElementById(id);

/** A CSS class for a machine state: the top-level name decides the colour. */
function stateClass(s) {
  const top = String(s || '').split('.')[0];
  if (top === 'plugged' || top === 'ready' || top === 'running' || top === 'removed') return 'ok';
  if (top === 'failed' || top === 'degraded' || top === 'refused') return 'bad';
  if (top === 'backoff' || top === 'retryWait') return 'warn';
  return 'busy';
}

const badge = (s) => `<span class="state ${stateClass(s)}" data-state="${esc(s)}">${esc(s)}</span>`;

function describeIntent(i) {
  switch (i.kind) {
    case 'idle':
      return `idle (${i.note})`;
    case 'plug':
      return `plug vhost ${i.place.vhostId} on spp_vf ${i.place.secId}: mac ${i.rule.mac}${i.rule.vlan !== undefined ? `, vlan ${i.rule.vlan}` : ''}`;
    case 'unplug':
      return i.place ? `unplug vhost ${i.place.vhostId} on spp_vf ${i.place.secId}` : 'unplug (no usable bind_port: keys only)';
    case 'invalid':
      return `invalid: ${i.reason}`;
    default:
      return JSON.stringify(i);
  }
}

const vhostOf = (p) => (p.intent.kind === 'plug' || p.intent.kind === 'unplug' ? p.intent.place : undefined);

function vlanText(v) {
  if (!v) return '';
  return v.operation === 'add' ? ` (vlan add ${v.id})` : v.operation === 'del' ? ' (vlan del)' : '';
}

function renderNic(nic, ports, claims) {
  const layout = nic.layout;
  const observed = new Map();
  for (const c of nic.status ? nic.status.components : []) if (c.type !== 'unuse') observed.set(c.name, c);
  const rows = layout.components
    .map((c) => {
      const o = observed.get(c.name);
      const list = (a) => (a || []).map((p) => esc(p.port + vlanText(p.vlan))).join(', ');
      const obs = o
        ? `<td>${list(o.rx_port)}</td><td>${list(o.tx_port)}</td>`
        : `<td colspan="2" class="missing">${nic.status ? 'not running' : 'status not read yet'}</td>`;
      return `<tr><td>${esc(c.name)}</td><td>${esc(c.type)}</td><td>${esc(c.core)}</td>${obs}</tr>`;
    })
    .join('');
  const vhosts = layout.vhostIds
    .map((v) => {
      const users = ports.filter((p) => vhostOf(p)?.vhostId === v);
      const claim = (claims || []).find((c) => c.vhostId === v);
      const key = claim
        ? claim.error
          ? ` <span class="error">vhost key: ${esc(claim.error)}</span>`
          : claim.owner
            ? ` <span class="claim">claimed by ${esc(claim.owner)}</span>`
            : ' <span class="free">key: None</span>'
        : ' <span class="missing">no vhost key</span>';
      const who = users.length ? users.map((p) => `<a href="#port-${esc(p.portId)}">${esc(p.portId)}</a> ${badge(p.state)}`).join('; ') : '<span class="free">no port</span>';
      return `<li data-vhost="${v}">vhost:${v} → ${who};${key}</li>`;
    })
    .join('');
  const entries = nic.status ? nic.status.classifier_table.map((e) => `<li>${esc(e.type)} ${esc(e.value)} → ${esc(e.port)}</li>`).join('') : '';
  return `<article class="card nic" data-sec-id="${nic.secId}">
    <h3>spp_vf ${nic.secId} ${badge(nic.state)}</h3>
    <p>NIC ${esc(layout.nic.pci_address)} (phy:${layout.index}, ${esc(layout.nic.physical_network ?? '')}), master core ${layout.masterCore},
       worker cores ${layout.components.map((c) => c.core).join(', ')}</p>
    ${nic.lastError ? `<p class="error">last error: ${esc(nic.lastError)}</p>` : ''}
    <div class="cols">
      <div>
        <table><thead><tr><th>component</th><th>type</th><th>core</th><th>rx (observed)</th><th>tx (observed)</th></tr></thead><tbody>${rows}</tbody></table>
        <h4>vhosts</h4><ul class="vhosts">${vhosts}</ul>
        <h4>classifier table</h4><ul>${entries || '<li class="missing">empty</li>'}</ul>
      </div>
      <div class="diagram">${diagram('nic', nic.state)}</div>
    </div>
  </article>`;
}

function renderPort(p, compare) {
  const rows = (compare || [])
    .map((r) => `<tr class="${r.same ? 'same' : 'differs'}"><td>${esc(r.field)}</td><td>${esc(r.desired)}</td><td>${esc(r.observed)}</td><td>${r.same ? '=' : '≠'}</td></tr>`)
    .join('');
  const history = [...p.history]
    .reverse()
    .map(
      (h) => `<tr><td>${esc(h.revision)}</td><td>${esc(new Date(h.at).toISOString().slice(11, 23))}</td><td>${esc(h.what)}</td><td>${badge(h.state)}</td>
        <td>${(h.commands || []).map((c) => `<code>${esc(c)}</code>`).join('<br>')}${h.error ? `<div class="error">${esc(h.error)}</div>` : ''}</td></tr>`,
    )
    .join('');
  const place = vhostOf(p);
  return `<article class="card port" id="port-${esc(p.portId)}" data-port-id="${esc(p.portId)}">
    <h3>port ${esc(p.portId)} <span class="port-state">${badge(p.state)}</span></h3>
    <p>${place ? `vhost:${place.vhostId} on spp_vf ${place.secId}, ` : ''}etcd revision ${esc(p.revision)}</p>
    <p class="desired"><b>desired:</b> ${esc(describeIntent(p.intent))}</p>
    ${p.lastError ? `<p class="error last-error"><b>last error:</b> ${esc(p.lastError)}</p>` : ''}
    <div class="cols">
      <div>
        ${rows ? `<table class="compare"><thead><tr><th></th><th>desired (intent)</th><th>observed (spp_vf)</th><th></th></tr></thead><tbody>${rows}</tbody></table>` : '<p class="missing">nothing observed yet</p>'}
        <h4>history</h4>
        <table class="history"><thead><tr><th>rev</th><th>time</th><th>what</th><th>state</th><th>spp-ctl commands / error</th></tr></thead><tbody>${history}</tbody></table>
      </div>
      <div class="diagram">${diagram('port', p.state)}</div>
    </div>
  </article>`;
}

/** The machine's diagram as SVG, with the current state (and its child) highlighted. */
function diagram(name, current) {
  const m = state.machines[name];
  if (!m) return '';
  const L = m.layout;
  const top = current ? String(current).split('.')[0] : undefined;
  const boxes = L.boxes
    .map((b) => {
      const on = b.id === top ? ' current' : '';
      const kids = b.children
        .map((c) => {
          const hit = current === c.id || String(current || '').startsWith(`${c.id}.`);
          return `<rect class="child${hit ? ' current' : ''}" x="${c.x}" y="${c.y}" width="${c.w}" height="${c.h}" rx="3"></rect>
            <text x="${c.x + 6}" y="${c.y + 13}" class="child-label">${esc(c.label)}</text>`;
        })
        .join('');
      const inv = b.invoke.map((t, i) => `<text x="${b.x + 8}" y="${b.y + 36 + i * 16}" class="invoke">${esc(t)}</text>`).join('');
      return `<g class="box${on}" data-state="${esc(b.id)}"><rect class="frame" x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="8"></rect>
        <text x="${b.x + 8}" y="${b.y + 18}" class="label">${esc(b.id)}</text>${inv}${kids}</g>`;
    })
    .join('');
  const edges = L.edges
    .map((e) => {
      const lines = e.labels.map((l, i) => `<tspan x="${e.labelX}" dy="${i === 0 ? 0 : 12}">${esc(l)}</tspan>`).join('');
      return `<g class="edge"><path d="${e.path}" marker-end="url(#arrow)"></path><text x="${e.labelX}" y="${e.labelY}" class="edge-label">${lines}</text></g>`;
    })
    .join('');
  const any = L.fromAnyState.length ? `<p class="any">from any state: ${L.fromAnyState.map(esc).join('; ')}</p>` : '';
  return `<svg class="machine" data-machine="${esc(name)}" viewBox="0 0 ${L.width} ${L.height}" width="${L.width}" height="${L.height}">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"></path></marker></defs>
    ${edges}${boxes}</svg>${any}`;
}

function render() {
  const v = state.view;
  if (!v) return;
  $('host').textContent = v.host;
  $('summary').innerHTML = `${v.agentState ? `agent <span id="agent-state">${badge(v.agentState)}</span> · ` : ''}etcd revision <b id="revision">${esc(v.revision)}</b> · configuration <span class="state ${v.configuration === 'valid' ? 'ok' : 'bad'}">${esc(v.configuration)}</span> · ${v.nics.length} NICs · ${v.ports.length} ports`;
  $('config').innerHTML = v.configurationErrors.length
    ? `<div class="error">configuration invalid:<ul>${v.configurationErrors.map((e) => `<li>${esc(e)}</li>`).join('')}</ul></div>`
    : v.configuration === 'missing'
      ? '<p class="error">no host configuration in etcd yet</p>'
      : '';
  $('nics').innerHTML = v.nics.map((n) => renderNic(n, v.ports, v.vhosts)).join('') || '<p class="missing">no NICs</p>';
  $('ports').innerHTML = v.ports.map((p) => renderPort(p, v.compare && v.compare[p.portId])).join('') || '<p class="missing">no ports</p>';
  $('machines').innerHTML = Object.keys(state.machines)
    .map((name) => `<article class="card"><h3>${esc(name)} machine</h3><div class="diagram">${diagram(name, name === 'agent' ? v.agentState : undefined)}</div></article>`)
    .join('');
}

function showFrame(i) {
  const f = state.frames[i];
  if (!f) return;
  $('frame').value = String(i);
  $('frame-label').textContent = `frame ${i + 1}/${state.frames.length} · revision ${f.revision} · ${f.label}`;
  state.view = f.view;
  render();
}

async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

async function start() {
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
    return;
  }
  const events = new EventSource('api/events');
  events.onopen = () => {
    $('connection').textContent = 'live';
    $('connection').className = 'conn live';
  };
  events.onerror = () => {
    $('connection').textContent = 'disconnected (retrying)';
    $('connection').className = 'conn down';
  };
  events.onmessage = (msg) => {
    state.view = JSON.parse(msg.data);
    render();
  };
}

start().catch((err) => {
  $('connection').textContent = `error: ${err.message}`;
  $('connection').className = 'conn down';
});
