// The dashboard's live escalations: each one that fires after the page's moment, added at the top.
(() => {
  const body = document.querySelector('#escalations tbody');
  const since = document.currentScript.dataset.since;
  const source = new EventSource('/dashboard/events?since=' + encodeURIComponent(since));
  source.addEventListener('escalation', (message) => {
    const e = JSON.parse(message.data);
    const row = document.createElement('tr');
    row.className = 'new';
    const cells = [`L${e.level}`, e.ticket_id, e.unit || '', `${e.stage} ${e.fired_at}`];
    for (const value of cells) { const td = document.createElement('td'); td.textContent = value; row.appendChild(td); }
    body.prepend(row);
  });
})();
