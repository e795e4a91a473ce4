// The visualizer page's cluster view (`spp viz --etcd-endpoints`): the hosts
// in etcd, and a drill-in per host with its agent's live view. Loaded before
// app.js, whose helpers (state, $, esc, chip, renderHost, getJson, setHash)
// it uses when called.

function renderCluster() {
  const cv = state.cluster;
  if (!cv) return;
  $('host').textContent = '';
  const alive = cv.hosts.filter((h) => h.agentAlive).length;
  const ports = cv.hosts.reduce((n, h) => n + h.ports.length, 0);
  $('summary').innerHTML = `etcd revision <b id="revision">${esc(cv.revision)}</b> · ${cv.hosts.length} hosts (${alive} with a live agent) · ${ports} ports`;
  $('connection').textContent = cv.connected ? 'live (etcd watch)' : `etcd: ${cv.reason}`;
  $('connection').className = `conn ${cv.connected ? 'live' : 'down'}`;
  const q = $('host-search').value.trim().toLowerCase();
  const shown = cv.hosts.filter((h) => q === '' || h.host.toLowerCase().includes(q));
  $('cluster-counts').textContent = `${shown.length} of ${cv.hosts.length} hosts`;
  $('hosts-table').tBodies[0].innerHTML =
    shown
      .map((h) => {
        const byPhase = ['failed', 'plugging', 'unplugging', 'up', 'free']
          .filter((p) => h.counts[p] > 0)
          .map((p) => chip(p, `${h.counts[p]} ${p}`))
          .join(' ');
        return `<tr data-host="${esc(h.host)}" data-alive="${h.agentAlive}" class="${h.host === state.selectedHost ? 'selected' : ''}">
          <td><a href="#host=${esc(h.host)}">${esc(h.host)}</a></td>
          <td>${h.agentAlive ? '<span class="state ok">alive</span>' : '<span class="state bad">no agent</span>'}${h.agentUi ? ' <span class="ui-flag" title="serves --ui">ui</span>' : ''}</td>
          <td><span class="state ${h.configuration === 'valid' ? 'ok' : 'bad'}">${esc(h.configuration)}</span></td>
          <td>${h.nics.map((n) => `${esc(n.pci)} (${esc(n.phys)}, ${n.vhosts} vhosts)`).join('<br>')}</td>
          <td>${byPhase || '<span class="missing">no ports</span>'}</td>
          <td>${h.problems.length ? `<span class="error">${h.problems.length}</span>` : ''}</td></tr>`;
      })
      .join('') || '<tr><td colspan="6" class="missing">no host in etcd</td></tr>';
}

function renderHostDetail() {
  const d = state.hostDetail;
  const box = $('host-detail');
  if (!state.selectedHost) {
    box.hidden = true;
    $('agent-view').hidden = true;
    return;
  }
  box.hidden = false;
  if (!d) {
    box.innerHTML = `<p class="missing">reading ${esc(state.selectedHost)}…</p>`;
    return;
  }
  if (d.error) {
    box.innerHTML = `<p class="error">${esc(d.error)}</p>`;
    $('agent-view').hidden = true;
    return;
  }
  const e = d.etcd;
  const entry = (x) => (!x ? '<span class="missing">none</span>' : x.ok ? esc(x.raw) : `<span class="error">${esc(x.raw)}: ${esc(x.error)}</span>`);
  const problems = [...e.vhosts.flatMap((v) => v.problems), ...e.ports.flatMap((p) => p.problems), ...e.strayKeys.map((s) => `${s.key}: ${s.error}`)];
  box.innerHTML = `<article class="card host-facts" data-host="${esc(d.host)}">
    <h3>${esc(d.host)} in etcd ${e.agentAlive ? '<span class="state ok">agent alive</span>' : '<span class="state bad">no live agent</span>'}</h3>
    <p>liveness key: ${entry(e.agent)}</p>
    ${
      d.agent?.readiness
        ? `<p class="agent-readiness">agent readiness: ${
            d.agent.readiness.ready ? '<span class="state ok">ready</span>' : `<span class="state bad">not ready</span> ${esc(d.agent.readiness.reason)}`
          }</p>`
        : ''
    }
    <p>configuration: ${entry(e.configuration)}</p>
    ${problems.length ? `<ul class="error">${problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : ''}
    <div class="cols">
      <table class="list"><thead><tr><th>vhost key</th><th>owner</th></tr></thead><tbody>${e.vhosts.map((v) => `<tr><td>${esc(v.key)}</td><td>${entry(v.owner)}</td></tr>`).join('')}</tbody></table>
      <table class="list"><thead><tr><th>port</th><th>bind_port</th><th>action</th><th>port_status</th></tr></thead><tbody>${
        e.ports
          .map(
            (p) =>
              `<tr data-etcd-port="${esc(p.portId)}"><td>${esc(p.portId)}</td><td>${entry(p.bindPort)}</td><td>${entry(p.action)}</td><td>${entry(p.portStatus)}</td></tr>`,
          )
          .join('') || '<tr><td colspan="4" class="missing">no ports</td></tr>'
      }</tbody></table>
    </div>
    <p class="agent-ui">${
      d.agentUi
        ? d.agentError
          ? `<span class="error">the agent's page at ${esc(d.agentUi)} does not answer: ${esc(d.agentError)}</span>`
          : `the agent's live view, from <a href="${esc(d.agentUi)}">${esc(d.agentUi)}</a>:`
        : '<span class="missing">no agent page known for this host (give spp viz --agent-ui HOST=URL)</span>'
    }</p>
  </article>`;
  $('agent-view').hidden = !d.agent;
  if (d.agent) {
    state.view = d.agent;
    state.receivedAt = Date.now();
    renderHost(d.agent);
  }
}

async function loadHost() {
  const name = state.selectedHost;
  if (!name) return;
  try {
    const d = await getJson(`api/hosts/${encodeURIComponent(name)}`);
    if (state.selectedHost === name) state.hostDetail = d;
  } catch (err) {
    if (state.selectedHost === name) state.hostDetail = { error: err.message };
  }
  renderHostDetail();
}

// biome-ignore lint/correctness/noUnusedVariables: app.js calls it (the two scripts share the global scope)
function selectHost(name, portId) {
  state.selectedHost = name;
  state.hostDetail = undefined;
  state.selectedPort = portId;
  const params = new URLSearchParams();
  if (name) params.set('host', name);
  if (portId) params.set('port', portId);
  setHash(params);
  renderCluster();
  renderHostDetail();
  void loadHost();
}
