// The operator's intake form. As the request is typed (debounced): where it would go, asked of the router
// the worker uses (/intake/preview); the gazetteer's completion of district → street → community
// (/intake/areas); and, once the phone is filled and for who may look a phone up, the caller's open and
// recent requests with the one a new request would be linked to (/intake/caller). Phones are only ever
// posted, never put in a URL. Served as a file: the pages run no inline script.
(() => {
  const data = document.currentScript.dataset;
  const w = JSON.parse(data.words);
  const form = document.getElementById('intake-form');
  const previewBox = document.getElementById('preview-body');
  const callerBox = data.callerUrl ? document.getElementById('caller-body') : null;
  const field = (name) => form.elements.namedItem(name);
  const value = (name) => (field(name) ? field(name).value.trim() : '');
  const FACTS = ['description', 'district', 'street', 'community', 'address', 'kind', 'channel', 'urgency', 'category'];

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function facts() {
    const out = {};
    for (const name of FACTS) if (value(name)) out[name] = value(name);
    out.groups = [...form.querySelectorAll('input[name="groups"]:checked')].map((box) => box.value);
    return out;
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': data.csrf },
      body: JSON.stringify(body),
    });
    let answer = null;
    try { answer = await response.json(); } catch (error) { answer = null; }
    return { ok: response.ok, answer };
  }

  const named = (item) => (item ? item.name || item.id : '');
  const percent = (x) => `${Math.round(x * 100)}%`;
  const categoryText = (c) => `${c.path.length ? c.path.join(' › ') : c.name} (${c.code})`;
  const when = (moment) => new Date(moment).toLocaleString(document.documentElement.lang || 'zh-CN', {
    timeZone: 'Asia/Shanghai', dateStyle: 'short', timeStyle: 'short',
  });

  // ---- where it would go ----

  function showPreview(p) {
    const parts = [];
    if (p.emergency) parts.push(el('p', w.emergency_note, 'breach'));
    if (p.triage) parts.push(el('p', w.triage_note, 'warning'));
    const list = el('dl');
    const row = (term, text) => { if (text) list.append(el('dt', term), el('dd', text)); };
    const category = p.category || p.proposed;
    const confidence = p.confidence === null ? '' : ` · ${w.confidence} ${percent(p.confidence)}`;
    row(w.category, category ? categoryText(category) + confidence : '—');
    row(w.urgency, w[`urgency_${p.urgency}`] || p.urgency);
    row(w.unit, p.unit ? named(p.unit) : `${w.queued_in} ${p.queue || ''}`);
    row(w.post, named(p.post));
    if (p.unit) row(w.person, p.person ? named(p.person) : w.nobody_on_duty);
    row(w.co_handlers, p.co_handlers.map(named).join('、'));
    row(w.place_found, [p.district, p.street, p.community].filter(Boolean).map((a) => a.name).join(' '));
    parts.push(list);
    const likely = p.proposals.filter((proposal, index) => index === 0 || proposal.probability >= 0.01);
    if (likely.length) {
      const choices = el('p', `${w.proposals}: `, 'muted');
      for (const proposal of likely) {
        const choose = el('button', `${proposal.name} (${proposal.code}) ${percent(proposal.probability)}`, 'secondary');
        choose.type = 'button';
        choose.dataset.code = proposal.code;
        choose.style.margin = '0 .3rem .3rem 0';
        choices.append(choose);
      }
      parts.push(choices);
    }
    const was = previewBox.querySelector('details');
    const why = el('details');
    why.open = Boolean(was && was.open);
    why.append(el('summary', w.explain), el('p', p.reason));
    if (p.classification) why.append(el('p', p.classification, 'muted'));
    for (const note of p.place_notes) why.append(el('p', note, 'muted'));
    if (p.rule) why.append(el('p', `${p.rule} · ${p.catalog_version || ''}`, 'muted'));
    parts.push(why);
    previewBox.replaceChildren(...parts);
  }

  // a proposed category, clicked: chosen for the request
  previewBox.addEventListener('click', (event) => {
    const code = event.target.dataset && event.target.dataset.code;
    if (!code) return;
    field('category').value = code;
    later();
  });

  // ---- the caller's requests ----

  function showCaller(c) {
    const parts = [];
    if (c.repeat_of) parts.push(el('p', `${w.repeat_of} ${c.repeat_of.ticket_id}`, 'warning'));
    else if (c.repeat_elsewhere) parts.push(el('p', w.repeat_elsewhere, 'warning'));
    if (!c.requests.length) parts.push(el('p', w.caller_none, 'muted'));
    else {
      const table = el('table');
      const head = el('tr');
      for (const title of [w.ticket, w.state, w.received, w.category, w.unit]) head.append(el('th', title));
      table.append(head);
      for (const r of c.requests) {
        const line = el('tr', null, c.repeat_of && r.ticket_id === c.repeat_of.ticket_id ? 'warning' : '');
        const link = el('a', r.ticket_id);
        link.href = `/cases/${encodeURIComponent(r.ticket_id)}`;
        const ticket = el('td');
        ticket.append(link);
        line.append(
          ticket,
          el('td', (r.open ? `${w.open_case} · ` : '') + (w[`state_${r.state}`] || r.state)),
          el('td', when(r.received_at)),
          el('td', r.category ? named(r.category) : ''),
          el('td', r.unit ? named(r.unit) : r.queue || ''),
        );
        line.title = r.description;
        table.append(line);
      }
      parts.push(table);
    }
    callerBox.replaceChildren(...parts);
  }

  // ---- asked as the form changes: the newest answer wins ----

  let asked = 0;
  let previewed = '';
  let looked = '';

  async function refresh() {
    const mine = ++asked;
    const body = facts();
    const key = JSON.stringify(body);
    if (!body.description) {
      previewed = '';
      previewBox.replaceChildren(el('p', w.preview_hint, 'muted'));
    } else if (key !== previewed) {
      try {
        const { ok, answer } = await post(data.previewUrl, body);
        if (mine !== asked) return;
        previewed = ok ? key : '';
        if (ok) showPreview(answer);
        else previewBox.replaceChildren(el('p', `${w.preview_failed}: ${(answer && answer.detail) || ''}`, 'warning'));
      } catch (error) {
        if (mine === asked) previewBox.replaceChildren(el('p', w.preview_failed, 'warning'));
      }
    }
    if (callerBox) await refreshCaller(mine, body);
  }

  async function refreshCaller(mine, body) {
    const phone = value('phone');
    if (phone.replace(/\D/g, '').length < 5) {
      looked = '';
      callerBox.replaceChildren(el('p', w.caller_hint, 'muted'));
      return;
    }
    const key = JSON.stringify({ ...body, phone });
    if (key === looked) return;
    try {
      const { ok, answer } = await post(data.callerUrl, { ...body, phone });
      if (mine !== asked) return;
      looked = ok ? key : '';
      if (ok) showCaller(answer);
      else callerBox.replaceChildren(el('p', (answer && answer.detail) || w.preview_failed, 'warning'));
    } catch (error) {
      if (mine === asked) callerBox.replaceChildren(el('p', w.preview_failed, 'warning'));
    }
  }

  let timer = 0;
  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  }
  form.addEventListener('input', later);
  form.addEventListener('change', later);

  // ---- the gazetteer: district → street → community ----

  const codes = { district: new Map(), street: new Map() };  // name → code of what the lists offer
  const districtNames = new Map();  // code → name
  let district = null;
  let street = null;

  async function areas(params) {
    const response = await fetch(`${data.areasUrl}?${new URLSearchParams(params)}`, { credentials: 'same-origin' });
    return response.ok ? response.json() : [];
  }

  function fill(id, found, label) {
    const options = found.map((area) => {
      const option = el('option');
      option.value = area.name;
      if (label) option.label = `${area.name} · ${label(area)}`;
      return option;
    });
    document.getElementById(id).replaceChildren(...options);
  }

  async function districtChanged() {
    const code = codes.district.get(value('district')) || null;
    if (code === district) return;
    district = code;
    street = null;
    codes.street = new Map();
    fill('communities', []);
    const found = code ? await areas({ parent: code, limit: 1000 }) : [];
    codes.street = new Map(found.map((area) => [area.name, area.code]));
    fill('streets', found);
    await streetChanged();
  }

  async function streetChanged() {
    const name = value('street');
    let code = codes.street.get(name) || null;
    if (!code && name && !district) {  // no district yet: the street looked up in the whole city
      const found = await areas({ level: 'street', q: name, limit: 50 });
      fill('streets', found, (area) => districtNames.get(area.parent) || '');
      const exact = found.filter((area) => area.name === name);
      if (exact.length === 1) code = exact[0].code;
    }
    if (code === street) return;
    street = code;
    fill('communities', code ? await areas({ parent: code, limit: 1000 }) : []);
  }

  async function start() {
    const found = await areas({});
    for (const area of found) {
      codes.district.set(area.name, area.code);
      districtNames.set(area.code, area.name);
    }
    fill('districts', found);
    await districtChanged();
    await streetChanged();
  }

  field('district').addEventListener('input', districtChanged);
  field('street').addEventListener('input', streetChanged);
  start();
  if (value('description') || value('phone')) refresh();  // the form shown again with what was typed
})();
