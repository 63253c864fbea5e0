// The dashboard's live escalations: each one that fires after the page's moment, added at the top, the
// unit and stage named as the page names them (the server sends the names with each event).
(() => {
  const body = document.querySelector('#escalations tbody');
  const since = document.currentScript.dataset.since;
  const source = new EventSource('/dashboard/events?since=' + encodeURIComponent(since));
  source.addEventListener('escalation', (message) => {
    const e = JSON.parse(message.data);
    const row = document.createElement('tr');
    row.className = 'new';
    const cell = (value) => { const td = document.createElement('td'); td.textContent = value; row.appendChild(td); return td; };
    cell(`L${e.level}`);
    const link = document.createElement('a');
    link.href = '/cases/' + encodeURIComponent(e.ticket_id);
    link.textContent = e.ticket_id;
    cell('').appendChild(link);
    cell(e.unit_name || e.unit || '');
    cell(`${e.stage_name || e.stage} ${e.fired_at}`).className = 'muted';
    body.prepend(row);
  });
})();
