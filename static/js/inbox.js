// The inbox stays current without reloading: it watches the account status (slowly, or quickly after
// "Check now" and while a poll runs) and swaps in the server-rendered rows when a new message was stored.
(function () {
  "use strict";
  const form = document.getElementById("check-now");
  const list = document.getElementById("account-status");
  if (!list) return;
  const statusUrl = list.dataset.statusUrl;
  const SLOW = 20000, FAST = 1000, CHECK_FOR = 60000;
  let fastUntil = 0, timer = null, busy = false, checkedFrom = null;

  async function getJSON(url) {
    const response = await fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}});
    if (!response.ok) throw new Error("status " + response.status);
    return response.json();
  }

  function renderStatus(data) {
    if (!data.accounts.length) return;
    list.replaceChildren(...data.accounts.map(function (a) {
      const li = document.createElement("li");
      li.className = "state-" + a.state;
      li.dataset.account = a.id;
      const text = document.createElement("span");
      text.className = "status-text";
      text.textContent = a.text;
      li.append(a.address + " — ", text);
      return li;
    }));
  }

  async function refreshRows() {
    const rows = document.getElementById("message-rows");
    const url = new URL(rows.dataset.rowsUrl, window.location.href);
    new URLSearchParams(window.location.search).forEach(function (value, name) { url.searchParams.set(name, value); });
    const response = await fetch(url, {credentials: "same-origin"});
    if (!response.ok) return;
    const template = document.createElement("template");
    template.innerHTML = (await response.text()).trim();
    const fresh = template.content.querySelector("#message-rows");
    if (fresh) rows.replaceWith(fresh);
    const pager = document.getElementById("inbox-pager");
    const freshPager = template.content.querySelector("#inbox-pager");
    if (pager && freshPager) pager.replaceWith(freshPager);
  }

  async function tick() {
    if (busy) return;
    busy = true;
    let polling = false;
    try {
      const data = await getJSON(statusUrl);
      renderStatus(data);
      polling = data.accounts.some(function (a) { return a.polling; });
      if (checkedFrom && !polling && data.accounts.every(function (a) {
        return a.last_polled_at !== checkedFrom[a.id];
      })) {
        fastUntil = 0;  // every account was polled since "Check now": back to the slow pace
        checkedFrom = null;
      }
      const rows = document.getElementById("message-rows");
      // New mail shows on the list's first page; an older page keeps what it shows.
      if (rows && rows.dataset.first === "1" && String(data.latest) !== rows.dataset.latest) await refreshRows();
    } catch (error) {
      // The next tick tries again; the page keeps what it shows.
    } finally {
      busy = false;
      schedule(polling || Date.now() < fastUntil ? FAST : SLOW);
    }
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(tick, delay);
  }

  if (form) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const before = await getJSON(statusUrl);
        checkedFrom = {};
        before.accounts.forEach(function (a) { checkedFrom[a.id] = a.last_polled_at; });
        const answer = await fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
          headers: {"Accept": "application/json"}});
        if (answer.status === 429) {  // asked too often: the server's words, nothing was queued
          const note = document.getElementById("check-now-note") || document.createElement("p");
          note.id = "check-now-note";
          note.className = "flash flash-error";
          note.setAttribute("role", "status");
          note.textContent = (await answer.json()).message;
          form.after(note);
          return;
        }
        fastUntil = Date.now() + CHECK_FOR;
        await tick();
      } finally {
        setTimeout(function () { button.disabled = false; }, 2000);
      }
    });
  }
  schedule(SLOW);
})();
