"use strict";
// tojimari serve: the little JavaScript the pages use. Everything it inserts into the page is HTML the
// server rendered (and escaped), or text set with textContent.

// The language selector submits itself.
document.addEventListener("change", (e) => {
  if (e.target.matches("select[data-autosubmit]")) e.target.form.submit();
});

// A check's page: progress from the server's events, hosts from the store as they are recorded.
(function checkProgress() {
  const box = document.getElementById("progress");
  if (!box) return;
  const status = document.getElementById("status");
  const bar = document.getElementById("bar");
  const numbers = document.getElementById("numbers");
  const results = document.getElementById("results");
  const hosts = document.getElementById("hosts");
  let fetching = false;
  async function refreshHosts(scans) {
    if (fetching || !scans || scans.length === 0) return;
    fetching = true;
    try {
      const parts = [];
      for (const no of scans) {
        const r = await fetch(`/scans/${no}/hosts`, { credentials: "same-origin" });
        if (r.ok) parts.push(await r.text());
      }
      hosts.innerHTML = parts.join("");
      results.dataset.scans = scans.join(",");
    } finally {
      fetching = false;
    }
  }
  function update(e) {
    const d = JSON.parse(e.data);
    status.textContent = d.status;
    if (d.percent !== null) bar.value = d.percent;
    numbers.textContent = d.numbers;
    refreshHosts(d.scans);
    if (d.over) box.dataset.over = "1";
  }
  const initial = (results.dataset.scans || "").split(",").filter((s) => s);
  if (box.dataset.over) {
    refreshHosts(initial);
    return;
  }
  const events = new EventSource(box.dataset.events);
  events.addEventListener("progress", update);
  events.addEventListener("done", (e) => {
    update(e);
    events.close();
  });
})();
