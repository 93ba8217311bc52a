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
      if (results.dataset.scans !== scans.join(",")) {
        // Links to the scans the check recorded (built as elements: only numbers go in).
        const links = document.getElementById("scan-links");
        links.replaceChildren(...scans.map((no) => {
          const a = document.createElement("a");
          a.href = `/scans/${Number(no)}`;
          a.textContent = `${links.dataset.label} #${Number(no)}`;
          return a;
        }));
      }
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

/* ---- read-only pages (pages/machine.rs, pages/scan.rs) ------------------------------------------------
 * Live rows without a page reload: the server sends HTML fragments it rendered (and escaped) itself.
 * - This machine: tbody#alerts[data-poll] asks `/machine/alerts?after=CURSOR` every 2 s; new alert rows
 *   (oldest first, each with its data-cursor) go on top.
 * - A running scan (div#hosts[data-running]) on its last page asks `/scans/N/hosts?after=SEQ` every 2 s and
 *   appends the hosts recorded since; it stops when the scan's page is reloaded as finished.
 */
(function () {
  function rowsOf(html, tag) {
    var t = document.createElement("template");
    t.innerHTML = html;
    return Array.prototype.filter.call(t.content.children, function (el) {
      return el.tagName === tag;
    });
  }

  function poll(url, each) {
    var busy = false;
    setInterval(function () {
      if (busy || document.hidden) return;
      busy = true;
      fetch(url(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { if (html.trim()) each(html); })
        .catch(function () {})
        .then(function () { busy = false; });
    }, 2000);
  }

  function alerts() {
    var body = document.getElementById("alerts");
    if (!body || !body.dataset.poll) return;
    poll(function () {
      var after = body.dataset.after;
      return body.dataset.poll + (after ? "?after=" + encodeURIComponent(after) : "");
    }, function (html) {
      var rows = rowsOf(html, "TR");
      rows.forEach(function (row) {
        body.insertBefore(row, body.firstChild);
        row.classList.add("new");
        body.dataset.after = row.dataset.cursor;
      });
      var none = document.getElementById("no-alerts");
      if (none && rows.length) none.remove();
    });
  }

  function runningScan() {
    var hosts = document.getElementById("hosts");
    if (!hosts || !hosts.dataset.running || document.querySelector("a[rel=next]")) return;
    poll(function () {
      var after = hosts.dataset.after || "-1";
      return "/scans/" + hosts.dataset.scan + "/hosts?after=" + encodeURIComponent(after);
    }, function (html) {
      rowsOf(html, "SECTION").forEach(function (section) {
        hosts.appendChild(section);
        hosts.dataset.after = section.dataset.seq;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    alerts();
    runningScan();
  });
})();
