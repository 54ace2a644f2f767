// The dashboard: a hash-routed page over /dashboard/api. Charts are small hand-written SVG (no library).
const api = '/dashboard/api';
const $ = (sel, root = document) => root.querySelector(sel);
const nf = new Intl.NumberFormat();
const sf = new Intl.NumberFormat(undefined, { maximumSignificantDigits: 4 });
const pf = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });
const df = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const fmtTime = (iso) => (iso ? df.format(new Date(iso)) : '');
let session = null;
let timer = null;

// Builds an element: h('td', { class: 'num' }, 'text', child, ...). Text is never parsed as HTML.
function h(tag, attrs = {}, ...children) {
  const el = document.createElementNS(tag === 'svg' || attrs.svg ? 'http://www.w3.org/2000/svg' : 'http://www.w3.org/1999/xhtml', tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'svg' || v === undefined || v === null || v === false) continue;
    // Styles through the CSSOM: the content security policy refuses inline style attributes.
    if (k === 'style') el.style.cssText = v; else if (k.startsWith('on')) el.addEventListener(k.slice(2), v); else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

// Replaces an element's children, leaving out absent ones (replaceChildren would print them as "null").
const fill = (el, ...kids) => el.replaceChildren(...kids.filter((k) => k !== null && k !== undefined));

async function call(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if ((options.method || 'GET') === 'POST' && session) headers['X-CSRF-Token'] = session.csrf;
  const r = await fetch(api + path, { ...options, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), credentials: 'same-origin' });
  if (r.status === 401) { showSignIn(); throw new Error('signed out'); }
  if (!r.ok) { const p = await r.json().catch(() => ({})); throw new Error(p.detail || r.statusText); }
  return r.status === 204 ? null : r.json();
}

function showSignIn() {
  session = null;
  clearInterval(timer);
  $('#nav').hidden = true;
  $('#view').replaceChildren();
  $('#signin').hidden = false;
  $('#key').focus();
}

function signedIn(s) {
  session = s;
  $('#signin').hidden = true;
  $('#nav').hidden = false;
  $('#who').textContent = `${s.name} (${s.admin ? 'admin' : 'read'})`;
  $('#nav-trials').hidden = !s.project;
  route();
}

// A bar chart: values with labels, drawn as SVG rectangles scaled to the largest value.
function barChart(title, labels, values, format = (v) => nf.format(v)) {
  const w = 480, hgt = 180, pad = 28, bw = (w - pad) / Math.max(values.length, 1);
  const max = Math.max(1, ...values);
  const svg = h('svg', { viewBox: `0 0 ${w} ${hgt + 44}`, role: 'img', 'aria-label': title, width: '100%' });
  values.forEach((v, i) => {
    const bh = (v / max) * hgt;
    const x = pad + i * bw;
    svg.append(h('rect', { svg: true, x: x + 2, y: hgt - bh + 20, width: bw - 4, height: bh, fill: '#0b5cad' }, h('title', { svg: true }, `${labels[i]}: ${format(v)}`)));
    svg.append(h('text', { svg: true, x: x + bw / 2, y: hgt + 36, 'text-anchor': 'middle' }, labels[i]));
    if (v > 0) svg.append(h('text', { svg: true, x: x + bw / 2, y: hgt - bh + 14, 'text-anchor': 'middle' }, format(v)));
  });
  svg.append(h('line', { svg: true, x1: pad, x2: w, y1: hgt + 20, y2: hgt + 20, stroke: '#555d66' }));
  return svg;
}

async function overview(view) {
  const hours = Number(sessionStorage.getItem('hours') || 24);
  const range = h('select', { id: 'range', onchange: (e) => { sessionStorage.setItem('hours', e.target.value); route(); } },
    [[1, 'Last hour'], [8, 'Last 8 hours'], [24, 'Last 24 hours'], [168, 'Last 7 days'], [720, 'Last 30 days']]
      .map(([v, t]) => h('option', { value: v, selected: v === hours }, t)));
  const body = h('div');
  view.replaceChildren(h('h2', {}, 'Line overview'),
    h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() }, h('div', {}, h('label', { for: 'range' }, 'Time range'), range),
      h('p', { class: 'muted' }, 'Updates every 5 seconds.')), body);
  const draw = async () => {
    const o = await call(`/overview?hours=${hours}`);
    const rows = o.groups.map((g) => h('tr', {},
      h('td', {}, g.line || '—'), h('td', {}, g.camera || '—'),
      h('td', { class: 'num', 'data-field': 'total' }, nf.format(g.total)),
      h('td', { class: 'num', 'data-field': 'anomalies' }, nf.format(g.anomalies)),
      h('td', { class: 'num' }, nf.format(g.invalid)), h('td', { class: 'num' }, nf.format(g.pending)),
      h('td', { class: 'num' }, pf.format(g.anomaly_rate))));
    const table = h('table', { id: 'groups' },
      h('caption', { class: 'skip' }, 'Counts per line and camera'),
      h('thead', {}, h('tr', {}, ['Line', 'Camera'].map((t) => h('th', { scope: 'col' }, t)),
        ['Processed', 'Anomalous', 'Invalid', 'Waiting', 'Anomaly rate'].map((t) => h('th', { scope: 'col', class: 'num' }, t)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 7 }, 'No images in this time range.'))));
    const alarms = o.alarms.length
      ? h('ul', {}, o.alarms.map((a) => h('li', {}, h('span', { class: a.state }, a.state === 'fired' ? 'FIRED' : 'clear'), ` ${a.rule} — ${a.scope} ${a.value} (threshold ${nf.format(a.threshold)})`)))
      : h('p', {}, 'No alarm rules are configured.');
    const bins = o.confidence_histogram.map((_, i) => `${(i / 10).toFixed(1)}`);
    body.replaceChildren(
      h('div', { class: 'card' }, h('h3', {}, 'Per line and camera'), table, o.truncated ? h('p', {}, 'Only the newest 20,000 images are counted.') : null),
      h('div', { class: 'grid' },
        h('div', { class: 'card' }, h('h3', {}, 'Anomaly rate per line and camera'),
          barChart('Anomaly rate per line and camera', o.groups.map((g) => `${g.line}/${g.camera}`), o.groups.map((g) => g.anomaly_rate), (v) => pf.format(v))),
        h('div', { class: 'card' }, h('h3', {}, 'Confidence that an image is a defect'),
          barChart('Histogram of confidences, bins of 0.1 from 0 to 1', bins, o.confidence_histogram)),
        h('div', { class: 'card' }, h('h3', {}, 'Alarms'), alarms)));
  };
  await draw();
  timer = setInterval(() => draw().catch(() => {}), 5000);
}

async function images(view, params) {
  const q = new URLSearchParams(params);
  const field = (name, label, input) => h('div', {}, h('label', { for: `f-${name}` }, label), input);
  const text = (name) => h('input', { id: `f-${name}`, name, value: q.get(name) || '' });
  const verdict = h('select', { id: 'f-verdict', name: 'verdict' }, ['', 'normal', 'anomaly', 'invalid', 'pending'].map((v) => h('option', { value: v, selected: q.get('verdict') === v }, v || 'any')));
  const local = (iso) => (iso ? new Date(new Date(iso).getTime() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16) : '');
  const time = (name) => h('input', { id: `f-${name}`, name, type: 'datetime-local', value: local(q.get(name)) });
  const form = h('form', { class: 'filters', onsubmit: (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) p.set(k, k === 'from' || k === 'to' ? new Date(v).toISOString() : v);
    location.hash = `#/images?${p}`;
  } }, field('line', 'Line', text('line')), field('camera', 'Camera', text('camera')), field('verdict', 'Verdict', verdict),
  field('from', 'From', time('from')), field('to', 'To', time('to')), field('model', 'Model version', text('model')), h('button', { type: 'submit' }, 'Filter'));
  const list = await call(`/results?${q}`);
  const rows = list.items.map((r) => h('tr', {},
    h('td', {}, h('a', { href: `#/image/${r.id}` }, fmtTime(r.captured_at || r.received_at))),
    h('td', {}, r.line || ''), h('td', {}, r.camera || ''), h('td', { class: r.verdict }, r.verdict),
    h('td', { class: 'num' }, r.prediction ? sf.format(r.prediction.score) : ''), h('td', {}, r.model_version || '')));
  fill(view, h('h2', {}, 'Images'), form, h('table', { id: 'results' },
    h('thead', {}, h('tr', {}, ['Time', 'Line', 'Camera', 'Verdict'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col', class: 'num' }, 'Score'), h('th', { scope: 'col' }, 'Model'))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: 6 }, 'No images match.')))),
  list.next_cursor ? h('p', {}, h('a', { href: `#/images?${new URLSearchParams({ ...Object.fromEntries(q), cursor: list.next_cursor })}` }, 'Older images')) : null);
}

async function detail(view, id) {
  const { result: r, verification: v } = await call(`/results/${encodeURIComponent(id)}`);
  const p = r.prediction;
  let zoom = 1;
  const img = h('img', { id: 'overlay', alt: `Image ${r.id} with the anomaly map, mask contours and defect boxes drawn over it`,
    src: `${api}/results/${encodeURIComponent(id)}/${p ? 'overlay.png' : 'image'}` });
  const setZoom = (z) => { zoom = Math.min(8, Math.max(0.25, z)); img.style.width = `${zoom * (img.naturalWidth || 0)}px`; $('#zoom-level').textContent = pf.format(zoom); };
  // Fit the width at first (small images are enlarged, large ones shrunk); the buttons and +/- keys zoom from there.
  img.addEventListener('load', () => setZoom(($('.viewer').clientWidth || 600) / img.naturalWidth));
  // The overlay is drawn only by the version that judged the image: after another was activated, the plain image.
  const overlayNote = h('p', { id: 'overlay-note', class: 'muted', hidden: true },
    `No overlay: ${r.model_version} judged this image and another version is served now; the image is shown as it was sent.`);
  img.addEventListener('error', () => {
    if (!img.src.endsWith('/overlay.png')) return;
    overlayNote.hidden = false;
    img.src = `${api}/results/${encodeURIComponent(id)}/image`;
  });
  const viewer = h('div', { class: 'viewer', tabindex: 0, 'aria-label': 'Image viewer; plus and minus keys zoom',
    onkeydown: (e) => { if (e.key === '+' || e.key === '=') setZoom(zoom * 1.25); if (e.key === '-') setZoom(zoom / 1.25); } }, img);
  const zoomBar = h('div', { role: 'group', 'aria-label': 'Zoom' },
    h('button', { type: 'button', class: 'secondary', onclick: () => setZoom(zoom / 1.25) }, 'Zoom out'), ' ',
    h('span', { id: 'zoom-level' }, '100%'), ' ',
    h('button', { type: 'button', class: 'secondary', onclick: () => setZoom(zoom * 1.25) }, 'Zoom in'), ' ',
    h('a', { href: `${api}/results/${encodeURIComponent(id)}/image` }, 'Original image'));
  const meter = p && p.threshold != null
    ? h('div', {}, h('p', {}, `Score ${sf.format(p.score)} against threshold ${sf.format(p.threshold)}`),
        h('div', { class: 'meter', role: 'img', 'aria-label': `Score ${sf.format(p.score)}, threshold ${sf.format(p.threshold)}` },
          h('span', { style: `width:${Math.min(100, (50 * p.score) / p.threshold)}%` }), h('i', { style: 'left:50%' })))
    : null;
  const meta = h('dl', {}, [['Verdict', h('span', { class: r.verdict, id: 'verdict' }, r.verdict)], ['Confidence', p ? pf.format(p.confidence) : ''],
    ['Defects located', p ? nf.format((p.defects || []).length) : ''], ['Line', r.line], ['Camera', r.camera], ['Facility', r.facility], ['Part', r.part_id],
    ['Captured', fmtTime(r.captured_at)], ['Received', fmtTime(r.received_at)], ['Judged', fmtTime(r.completed_at)], ['Model', r.model_version], ['Error', r.error]]
    .filter(([, x]) => x).map(([k, x]) => [h('dt', {}, k), h('dd', {}, x)]));
  const status = h('p', { id: 'verify-status', role: 'status' }, v ? `Verified ${v.correct ? 'correct' : 'wrong'} (true label ${v.true_label}) by ${v.verified_by}, ${fmtTime(v.verified_at)}` : 'Not verified yet.');
  const verify = r.status === 'done' ? h('form', { id: 'verify', onsubmit: async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      await call(`/results/${encodeURIComponent(id)}/verification`, { method: 'POST', body: { correct: f.get('correct') === 'yes', true_label: f.get('label'), add_to_training_set: f.get('train') === 'on' } });
      status.textContent = 'Verification recorded.';
    } catch (err) { status.textContent = `Not recorded: ${err.message}`; }
  } }, h('fieldset', {}, h('legend', {}, 'Is the verdict right?'),
    h('input', { type: 'radio', id: 'v-yes', name: 'correct', value: 'yes', checked: !v || v.correct }), h('label', { for: 'v-yes' }, 'Correct'),
    h('input', { type: 'radio', id: 'v-no', name: 'correct', value: 'no', checked: v && !v.correct }), h('label', { for: 'v-no' }, 'Wrong')),
  h('p', {}, h('label', { for: 'v-label' }, 'True label'), h('input', { id: 'v-label', name: 'label', list: 'labels', value: v ? v.true_label : r.verdict }),
    h('datalist', { id: 'labels' }, ['normal', 'anomaly'].map((x) => h('option', { value: x })))),
  h('p', {}, h('input', { type: 'checkbox', id: 'v-train', name: 'train' }), h('label', { for: 'v-train' }, 'Add to the training set')),
  h('button', { type: 'submit' }, 'Record verification'), status) : null;
  view.replaceChildren(h('h2', {}, `Image ${r.id}`), h('div', { class: 'detail' },
    h('div', {}, zoomBar, overlayNote, viewer), h('div', {}, meter, meta, verify)));
}

const metricNames = { accuracy: 'Accuracy', precision: 'Precision', recall: 'Recall', f1: 'F1', roc_auc: 'ROC AUC', label_accuracy: 'Label accuracy' };
const mf = new Intl.NumberFormat(undefined, { minimumFractionDigits: 3, maximumFractionDigits: 3 });
const secf = new Intl.NumberFormat(undefined, { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: 1 });
const dataTable = (id, caption, heads, rows, empty) => h('div', { class: 'table-wrap' }, h('table', { id },
  h('caption', { class: 'skip' }, caption),
  h('thead', {}, h('tr', {}, heads.map(([t, cls]) => h('th', { scope: 'col', class: cls }, t)))),
  h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: heads.length }, empty)))));

// A retraining's progress: running (stage, items, a progress bar), trained or failed.
function retrainState(r, active) {
  if (!r) return h('p', { id: 'retrain-state' }, 'No retraining started from this page since the service started.');
  const who = `started by ${r.requested_by} at ${fmtTime(r.started_at)}`;
  if (r.status === 'running') {
    const items = r.total ? ` (${nf.format(r.done)} of ${nf.format(r.total)})` : '';
    return h('div', { id: 'retrain-state' }, h('p', {}, `Training a new version, ${who}: ${r.stage}${items}, ${pf.format(r.fraction)}.`),
      h('progress', { max: 1, value: r.fraction, 'aria-label': `Training progress of the step ${r.stage}` }));
  }
  return r.status === 'trained'
    ? h('p', { id: 'retrain-state' }, `${r.version} trained (${who}, finished ${fmtTime(r.finished_at)}). ${r.version === active ? 'It is served now.' : 'Activate it below to serve it.'}`)
    : h('p', { id: 'retrain-state', role: 'alert' }, `Retraining failed (${who}): ${r.error}`);
}

async function models(view) {
  const msg = h('p', { role: 'status', id: 'model-status' });
  const body = h('div');
  let shown = '';
  const activate = async (version) => {
    try { await call('/models/activate', { method: 'POST', body: { version } }); msg.textContent = `${version} is served now.`; shown = ''; await refresh(); } catch (err) { msg.textContent = `Not activated: ${err.message}`; }
  };
  // Draws the page; the table only when it changed, so focus stays put while a retraining is polled.
  const draw = async () => {
    const { versions, project } = await call('/models');
    const names = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].sort((a, b) => Object.keys(metricNames).indexOf(a) - Object.keys(metricNames).indexOf(b));
    const running = project?.retraining?.status === 'running';
    const state = JSON.stringify([versions, running]);
    if (state !== shown) {
      shown = state;
      const cols = project ? [
        ['Status', (v) => [v.status, v.error ? h('div', { class: 'muted' }, v.error) : null]],
        ['Learner', (v) => v.learner || '—'],
        ['Training images', (v) => nf.format(v.train_images), 'num'],
        ['Test images', (v) => nf.format(v.test_images), 'num'],
        ...names.map((n) => [metricNames[n] || n, (v) => (n in v.metrics ? mf.format(v.metrics[n]) : '—'), 'num']),
        ['Training time', (v) => (v.training_seconds == null ? '—' : secf.format(v.training_seconds)), 'num'],
        ['Trained', (v) => fmtTime(v.finished_at) || '—'],
      ] : names.map((n) => [n, (v) => (n in v.metrics ? nf.format(v.metrics[n]) : '—'), 'num']);
      const rows = versions.map((v) => h('tr', {}, h('th', { scope: 'row' }, v.version), h('td', {}, v.active ? 'active' : ''),
        cols.map(([, f, cls]) => h('td', { class: cls }, f(v))),
        session.admin ? h('td', {}, v.active || !v.activatable ? '' : h('button', { type: 'button', 'data-version': v.version, onclick: () => activate(v.version) }, `Activate ${v.version}`)) : null));
      const heads = [['Version'], ['Active'], ...cols.map(([t, , cls]) => [t, cls]), ...(session.admin ? [['Action']] : [])];
      fill(body,
        project ? h('div', { class: 'card', id: 'retrain' }, h('h3', {}, `Project: ${project.name}`),
          h('p', {}, `Dataset: ${nf.format(project.train_images)} training images (${nf.format(project.verified_images)} verified by people), ${nf.format(project.test_images)} test images.`),
          session.admin ? h('button', { type: 'button', id: 'retrain-button', disabled: running, onclick: async () => {
            try {
              const started = await call('/models/retrain', { method: 'POST' });
              msg.textContent = 'Retraining started.';
              $('#retrain-button', body).disabled = true;
              $('#retrain-slot', body).replaceChildren(retrainState(started));
              await refresh();
            } catch (err) { msg.textContent = `Not started: ${err.message}`; }
          } }, 'Retrain on the current dataset') : null, h('div', { id: 'retrain-slot' })) : null,
        dataTable('models', 'Model versions and their test metrics', heads, rows, 'No versions yet.'));
    }
    if (project) $('#retrain-slot', body).replaceChildren(retrainState(project.retraining, versions.find((v) => v.active)?.version));
    return running;
  };
  // Polls every second while a retraining runs; stops when it ends or the page is left.
  const refresh = async () => {
    const running = await draw();
    if (!body.isConnected) return;
    clearInterval(timer);
    if (running) timer = setInterval(() => refresh().catch(() => {}), 1000);
  };
  view.replaceChildren(h('h2', {}, 'Model versions'), body, msg, h('p', { class: 'muted' }, session.project
    ? 'The project\'s versions with their metrics on the test split as it was when each was trained. Activating serves a version at once; images being judged finish on the previous one.'
    : 'Versions are the model served now and the .ddmodel files in the data folder\'s models/ folder; metrics come from a <file>.metrics.json beside each.'));
  await refresh();
}

async function trials(view) {
  const { trials: list } = await call('/trials');
  const rows = list.map((t) => h('tr', {}, h('th', { scope: 'row' }, h('a', { href: `#/trial/${t.number}` }, `Trial ${t.number}`)), h('td', {}, t.version),
    h('td', {}, t.status), h('td', {}, fmtTime(t.started_at)), [t.images, t.verified, t.accepted].map((x) => h('td', { class: 'num' }, nf.format(x)))));
  view.replaceChildren(h('h2', {}, 'Trial detections'),
    dataTable('trials', 'Trial detections', [['Trial'], ['Version'], ['Status'], ['Started'], ['Images', 'num'], ['Verified', 'num'], ['Accepted', 'num']], rows,
      'No trials yet: run one with defect trial run IMAGES.'),
    h('p', { class: 'muted' }, 'A trial is a model version run over new images (defect trial run). Open one to verify each verdict and add the verified images to the training set.'));
}

const verifiedText = (v) => (v ? `Verified ${v.correct ? 'correct' : 'wrong'}, true label ${v.true_label}, ${fmtTime(v.verified_at)}.` : 'Not verified yet.');

async function trial(view, number, note = '') {
  const t = await call(`/trials/${number}`);
  const base = `${api}/trials/${number}/results`;
  const summary = h('p', { id: 'trial-summary' });
  const sum = (x) => { summary.textContent = `${nf.format(x.images)} images judged by ${x.version} (${fmtTime(x.started_at)}): ${nf.format(x.verified)} verified, ${nf.format(x.accepted)} in the training set.`; };
  sum(t);
  const msg = h('p', { role: 'status', id: 'trial-status' }, note);
  const accept = session.admin ? h('button', { type: 'button', id: 'accept', onclick: async () => {
    try {
      const a = await call(`/trials/${number}/accept`, { method: 'POST' });
      await trial(view, number, `Added ${nf.format(a.added)} verified images to the training set${a.duplicates ? ` (${nf.format(a.duplicates)} were there already)` : ''}.`);
    } catch (err) { msg.textContent = `Not accepted: ${err.message}`; }
  } }, 'Accept verified images into the training set') : null;
  const card = (r) => {
    const id = `r${r.id}`;
    const status = h('p', { role: 'status', id: `${id}-status` }, verifiedText(r.verification), r.accepted ? ' In the training set.' : '');
    const form = h('form', { onsubmit: async (e) => {
      e.preventDefault();
      const f = new FormData(form);
      try {
        const done = await call(`/trials/${number}/results/${r.id}/verification`, { method: 'POST', body: { correct: f.get('correct') === 'yes', true_label: f.get('label') } });
        status.textContent = verifiedText(done.verification);
        sum(await call(`/trials/${number}`));
      } catch (err) { status.textContent = `Not recorded: ${err.message}`; }
    } }, h('fieldset', {}, h('legend', {}, 'Is the verdict right?'),
      h('input', { type: 'radio', id: `${id}-yes`, name: 'correct', value: 'yes', checked: !r.verification || r.verification.correct }), h('label', { for: `${id}-yes` }, 'Correct'),
      h('input', { type: 'radio', id: `${id}-no`, name: 'correct', value: 'no', checked: r.verification && !r.verification.correct }), h('label', { for: `${id}-no` }, 'Wrong')),
    h('p', {}, h('label', { for: `${id}-label` }, 'True label'), h('input', { id: `${id}-label`, name: 'label', list: 'trial-labels', size: 12, value: r.verification ? r.verification.true_label : r.label })),
    h('button', { type: 'submit' }, 'Record'));
    return h('li', { class: 'card', 'data-file': r.file }, h('h3', {}, r.file),
      h('a', { href: `${base}/${r.id}/image`, 'aria-label': `Original image ${r.file}` },
        h('img', { class: 'thumb', src: `${base}/${r.id}/${r.overlay ? 'overlay.png' : 'image'}`, alt: `${r.file} with the model's anomaly map and located defects drawn over it` })),
      h('p', {}, 'Model: ', h('span', { class: r.is_defect ? 'anomaly' : 'normal' }, r.label), ` — confidence ${pf.format(r.confidence)}, score ${sf.format(r.score)}, ${nf.format(r.defects)} defects located`),
      form, status);
  };
  fill(view, h('h2', {}, `Trial ${t.number}`), summary, accept, msg,
    h('datalist', { id: 'trial-labels' }, t.labels.map((x) => h('option', { value: x }))),
    t.results.length ? h('ul', { class: 'thumbs', id: 'trial-results' }, t.results.map(card)) : h('p', {}, t.error ? `The trial failed: ${t.error}` : 'This trial has no images.'));
}

async function route() {
  clearInterval(timer);
  if (!session) return;
  const [path, query] = (location.hash.slice(1) || '/overview').split('?');
  const page = path.startsWith('/image/') ? '/images' : path.startsWith('/trial/') ? '/trials' : path;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === `#${page}`) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const view = $('#view');
  try {
    if (path.startsWith('/image/')) await detail(view, decodeURIComponent(path.slice(7)));
    else if (path === '/images') await images(view, query || '');
    else if (path === '/models') await models(view);
    else if (path === '/trials' && session.project) await trials(view);
    else if (path.startsWith('/trial/') && session.project) await trial(view, Number(path.slice(7)));
    else await overview(view);
    const h2 = $('h2', view); if (h2) document.title = `${h2.textContent} — Defect inspection`;
  } catch (err) { if (session) view.replaceChildren(h('p', { role: 'alert' }, err.message)); }
}

$('#signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const r = await fetch(`${api}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ key: $('#key').value }) });
  $('#key').value = '';
  if (r.ok) signedIn(await r.json()); else $('#signin-error').textContent = (await r.json().catch(() => ({}))).detail || 'Sign-in failed.';
});
$('#signout').addEventListener('click', async () => { await call('/signout', { method: 'POST' }).catch(() => {}); showSignIn(); });
window.addEventListener('hashchange', route);
fetch(`${api}/session`).then((r) => (r.ok ? r.json().then(signedIn) : showSignIn()));
