// The mail account form. Ports follow the protocol and security (the usual ones, from the server's table) unless
// the user typed a port of their own; fields that do not apply are hidden. "Test connection" posts the form as it
// is to the test URL, then asks for the result every second until the worker has it: no reload. Without this
// script the form still works (an empty port is the usual one) and the test button is not shown.
(function () {
  "use strict";
  const form = document.getElementById("account-form");
  if (!form) return;
  const ports = JSON.parse(document.getElementById("default-ports").textContent);
  const words = document.getElementById("test-words").dataset;
  const EVERY = 1000;
  const MAX_POLLS = 180;  // the server says "lost" long before; this only stops a page left open

  function field(name) { return form.querySelector("[data-field='" + name + "']"); }
  function value(name) {
    const checked = form.querySelector("[name='" + name + "']:checked");
    return checked ? checked.value : (form.elements[name] ? form.elements[name].value : "");
  }

  // --- presets: the usual port for the protocol and security ---------------------------------------------
  function presets(side) {
    const port = form.elements[side + "_port"];
    const usual = function () {
      const table = ports[side === "smtp" ? "smtp" : value("incoming_protocol")] || {};
      return table[value(side + "_security")];
    };
    let last = usual();
    if (!port.value.trim() && last) port.value = last;
    const follow = function () {
      const fresh = usual();
      // Typed by the user: a port that is not the usual one of the previous choice. Left alone.
      if (fresh && (!port.value.trim() || port.value.trim() === String(last))) port.value = fresh;
      port.placeholder = fresh || "";
      last = fresh;
    };
    const sources = [form.elements[side + "_security"]];
    if (side === "incoming") sources.push(form.elements.incoming_protocol);
    sources.forEach(function (el) { el.addEventListener("change", follow); });
  }
  presets("incoming");
  presets("smtp");

  // --- fields that apply -------------------------------------------------------------------------------------
  function applies() {
    field("imap_folders").hidden = value("incoming_protocol") !== "imap";
    field("delete_after_days").hidden = value("on_server") !== "days";
    const auth = value("smtp_auth") === "password";
    field("smtp_username").hidden = !auth;
    field("smtp_password").hidden = !auth;
  }
  form.addEventListener("change", applies);
  applies();

  // --- Test connection ---------------------------------------------------------------------------------------
  const box = document.getElementById("connection-test");
  const button = document.getElementById("test-connection");
  const results = {incoming: document.getElementById("test-incoming"), smtp: document.getElementById("test-smtp")};
  box.hidden = false;

  function show(side, text, state) {
    results[side].textContent = text;
    results[side].className = "test-result" + (state ? " test-" + state : "");
  }
  function showBoth(text, state) { show("incoming", text, state); show("smtp", text, state); }
  function fieldErrors(errors) {
    form.querySelectorAll(".field-errors.from-test").forEach(function (el) {
      el.replaceChildren();
      el.classList.remove("from-test");
    });
    Object.keys(errors || {}).forEach(function (name) {
      const place = document.getElementById(name + "-errors");
      if (!place) return;
      place.classList.add("from-test");
      place.replaceChildren.apply(place, errors[name].map(function (text) {
        const p = document.createElement("p");
        p.className = "error";
        p.textContent = text;
        return p;
      }));
    });
  }
  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  async function poll(url) {
    for (let i = 0; i < MAX_POLLS; i++) {
      await sleep(EVERY);
      let state;
      try {
        const response = await fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}});
        if (!response.ok) continue;
        state = await response.json();
      } catch (e) {
        continue;  // a network blip: ask again
      }
      if (state.state === "lost") return showBoth(words.lost, "bad");
      ["incoming", "smtp"].forEach(function (side) {
        if (state[side]) show(side, state[side].text, state[side].ok ? "ok" : "bad");
      });
      if (state.state === "done") return;
    }
    showBoth(words.lost, "bad");
  }

  button.addEventListener("click", async function () {
    button.disabled = true;
    box.dataset.state = "testing";
    fieldErrors({});
    showBoth(words.testing, "testing");
    try {
      const response = await fetch(box.dataset.url, {
        method: "POST", body: new FormData(form), credentials: "same-origin", headers: {"Accept": "application/json"},
      });
      const answer = await response.json().catch(function () { return {}; });
      if (response.status === 400) {
        fieldErrors(answer.errors);
        showBoth(words.invalid, "bad");
      } else if (response.status === 429 && answer.error) {
        showBoth(answer.error, "bad");
      } else if (!response.ok || !answer.status_url) {
        showBoth(words.failed, "bad");
      } else {
        await poll(answer.status_url);
      }
    } catch (e) {
      showBoth(words.failed, "bad");
    } finally {
      button.disabled = false;
      box.dataset.state = "done";
    }
  });
})();
