// The Outbox shows each message's spool state live: every 2 s it asks for the rows still on their way and
// rewrites their state; a row whose recipients are all settled says so and links to Sent.
(function () {
  "use strict";
  const table = document.getElementById("outbox");
  if (!table) return;
  const url = table.dataset.statusUrl;
  const EVERY = 2000;

  function waiting() {
    return Array.from(table.querySelectorAll("tr[data-outbox][data-settled='0']"));
  }

  function render(row, state) {
    const status = row.querySelector(".status");
    status.className = "status status-" + state.status;
    status.textContent = state.text;
    let detail = row.querySelector(".status-detail");
    const refused = state.recipients.filter(function (r) { return r.status !== "sent" && r.text; });
    if (!detail) {
      detail = document.createElement("span");
      detail.className = "snippet status-detail";
      status.after(detail);
    }
    detail.textContent = refused.map(function (r) { return r.address + ": " + r.text; }).join("; ");
    if (state.settled) {
      row.dataset.settled = "1";
      const link = document.createElement("a");
      link.href = "?view=sent";
      link.textContent = table.dataset.textMoved;  // (from the template: the reader's language)
      detail.replaceChildren(link);
    }
  }

  async function tick() {
    const rows = waiting();
    if (!rows.length) return;
    try {
      const ids = rows.map(function (r) { return r.dataset.outbox; }).join(",");
      const response = await fetch(url + "?ids=" + ids, {credentials: "same-origin", headers: {"Accept": "application/json"}});
      if (response.ok) {
        const data = await response.json();
        data.messages.forEach(function (state) {
          const row = table.querySelector("tr[data-outbox='" + state.id + "']");
          if (row) render(row, state);
        });
      }
    } catch (error) { /* the next tick tries again */ }
    setTimeout(tick, EVERY);
  }
  setTimeout(tick, EVERY);
})();
