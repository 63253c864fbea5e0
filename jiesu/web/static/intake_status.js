// Where a filed request went: asked once a second until it is dispatched or queued.
(() => {
  const w = document.currentScript.dataset;
  const box = document.getElementById('status');
  function text(tag, value) { const el = document.createElement(tag); el.textContent = value; return el; }
  async function poll() {
    const answer = await (await fetch(w.statusUrl)).json();
    if (!answer.found) { setTimeout(poll, 1000); return; }
    box.replaceChildren(
      text('p', answer.unit ? `${w.to} ${answer.unit} / ${answer.post} / ${answer.person || '—'}` : `${w.queued} ${answer.queue || ''}`),
      text('p', `${w.why}: ${answer.why || ''}`));
    box.id = 'decision';
  }
  poll();
})();
