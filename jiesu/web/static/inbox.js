// The inbox's countdowns (the stage's time left, or how long it is overdue), counted on the server's clock,
// in the page's words. Served as a file: the pages run no inline script.
(() => {
  const data = document.currentScript.dataset;
  const skew = new Date(data.now) - new Date();  // the server's clock counts
  function tick() {
    for (const el of document.querySelectorAll('.countdown')) {
      const left = (new Date(el.dataset.due) - (new Date().getTime() + skew)) / 60000;
      const h = Math.floor(Math.abs(left) / 60), m = Math.floor(Math.abs(left) % 60);
      const span = `${h}${data.hours}${m}${data.minutes}`;
      el.textContent = left < 0 ? `${data.overdue} ${span}` : `${data.dueIn} ${span}`;
    }
  }
  tick(); setInterval(tick, 30000);
})();
