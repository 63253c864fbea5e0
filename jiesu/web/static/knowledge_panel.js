// The intake page's 知识库 panel: searches the knowledge base with the description as it is typed (after a
// pause) and shows the answers found. For a consultation the operator chooses one ("use this answer") and
// answers at once (直接办结): the control beside the form's submit button then files the request through
// the direct-close route with the entry chosen. Values come from data- attributes; every text is set as
// text, never as HTML.
(() => {
  const w = document.currentScript.dataset;
  const description = document.querySelector('textarea[name="description"]');
  const list = document.getElementById('knowledge-matches');
  const hint = document.getElementById('knowledge-hint');
  if (!description || !list || !hint) return;
  const form = description.form;
  const submitter = document.getElementById('knowledge-submit');
  const chosenField = document.getElementById('knowledge-entry');
  const control = document.getElementById('knowledge-direct');
  const canClose = w.canClose === '1' && form && submitter && chosenField;
  if (canClose) {  // the submitter sits outside the form (after its own submit button): tie it to the form
    if (!form.id) form.id = 'intake-form';
    submitter.setAttribute('form', form.id);
  }
  let timer = null;
  let asked = '';
  let shown = [];
  let chosen = null;

  function element(tag, text, className) {
    const el = document.createElement(tag);
    if (text !== undefined) el.textContent = text;
    if (className) el.className = className;
    return el;
  }
  function consultation() {  // no kind on the form: the operator who answers directly files a consultation
    const field = form ? form.elements.namedItem('kind') : null;
    return !(field && 'value' in field && field.value) || field.value === 'consultation';
  }
  function answerDirectly() {
    if (!chosen || !consultation()) return;
    chosenField.value = chosen.id;
    form.requestSubmit(submitter);  // the form's own checks first (a description is required)
  }
  function directButton() {
    const button = element('button', w.answerDirectly, 'direct-close');
    button.type = 'button';
    button.addEventListener('click', answerDirectly);
    return button;
  }
  function item(match) {
    const li = element('li');
    li.dataset.entry = match.id;
    li.append(element('strong', match.question), element('p', match.answer),
      element('p', `${w.source}: ${match.source || '—'}`, 'muted'));
    if (!canClose) return li;
    if (!consultation()) {
      li.append(element('p', w.onlyConsultation, 'muted'));
    } else if (chosen && chosen.id === match.id) {
      li.className = 'chosen';
      if (!control) li.append(directButton());  // no control beside the submit button: answer from here
    } else {
      const choose = element('button', w.choose, 'secondary choose');
      choose.type = 'button';
      choose.addEventListener('click', () => { chosen = match; show(shown); });
      li.append(choose);
    }
    return li;
  }
  function show(matches) {
    shown = matches;
    if (chosen && !matches.some((match) => match.id === chosen.id)) chosen = null;
    list.replaceChildren(...matches.map(item));
    hint.textContent = matches.length ? '' : (asked.length >= 2 ? w.none : w.hint);
    if (chosenField) chosenField.value = chosen && consultation() ? chosen.id : '';
    if (control) {
      control.hidden = !(canClose && chosen && consultation());
      const label = document.getElementById('knowledge-chosen');
      if (label) label.textContent = chosen ? `${w.chosen}: ${chosen.question}` : '';
    }
  }
  async function search() {
    const q = description.value.trim();
    if (q === asked) return;
    asked = q;
    if (q.length < 2) { show([]); return; }
    const body = new URLSearchParams({ csrf: w.csrf, q });
    try {
      const answer = await fetch(w.suggestUrl, { method: 'POST', body, credentials: 'same-origin' });
      if (!answer.ok) return;
      const found = await answer.json();
      if (q === asked) show(found.matches);
    } catch (error) {
      // a help, not a step: a search that fails leaves the panel as it was
    }
  }
  const direct = document.getElementById('answer-directly');
  if (direct) direct.addEventListener('click', answerDirectly);
  description.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(search, 400); });
  if (form) form.addEventListener('change', (event) => { if (event.target.name === 'kind') show(shown); });
  if (description.value.trim()) search();
})();
