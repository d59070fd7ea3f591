// "Check now" without leaving the page: post the form, then watch the account status for a while.
(function () {
  "use strict";
  const form = document.getElementById("check-now");
  const list = document.getElementById("account-status");
  if (!form || !list) return;

  function render(data) {
    list.replaceChildren(...data.accounts.map(function (a) {
      const li = document.createElement("li");
      li.textContent = a.address + " — " + (a.last_poll_error ? a.last_poll_error :
        a.last_polled_at ? "checked at " + new Date(a.last_polled_at).toLocaleTimeString() + ", " + a.last_poll_fetched + " new" :
        "not checked yet");
      if (a.last_poll_error) li.className = "error";
      return li;
    }));
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    const before = await (await fetch(list.dataset.statusUrl, {credentials: "same-origin"})).json();
    await fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {"Accept": "application/json"}});
    for (let i = 0; i < 20; i++) {
      await new Promise(function (r) { setTimeout(r, 1500); });
      const now = await (await fetch(list.dataset.statusUrl, {credentials: "same-origin"})).json();
      render(now);
      if (now.messages !== before.messages) { window.location.reload(); return; }
      const changed = now.accounts.some(function (a, k) {
        return (before.accounts[k] || {}).last_polled_at !== a.last_polled_at;
      });
      if (changed) break;
    }
    button.disabled = false;
  });
})();
