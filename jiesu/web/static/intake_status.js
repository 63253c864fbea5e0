// Where a filed request went: asked once a second until it is dispatched or queued.
(() => {
  const w = document.currentScript.dataset;
  const box = document.getElementById('status');
  function text(tag, value) { const el = document.createElement(tag); el.textContent = value; return el; }
  async function poll() {
    const answer = await (await fetch(w.statusUrl)).json();
    if (!answer.found) { setTimeout(poll, 1000); return; }
    box.replaceChildren(
      text('p', answer.knowledge_entry
        ? `${w.direct} (${answer.knowledge_entry})`
        : answer.unit
        ? `${w.to} ${answer.unit_name || answer.unit} / ${answer.post_name || answer.post} / ${answer.person_name || answer.person || '—'}`
        : `${w.queued} ${answer.queue || ''}`),
      text('p', `${w.why}: ${answer.why || ''}`));
    box.id = 'decision';
  }
  poll();
})();
