// The compose page: the draft is saved every few seconds while it changes and when the page is left (so nothing
// typed is lost), the signature follows the account chosen, and files can be dropped onto the form.
// Without JavaScript the form works the same, only without autosave.
(function () {
  "use strict";
  const form = document.getElementById("compose-form");
  if (!form) return;
  const url = form.dataset.draftUrl;
  const status = document.getElementById("draft-status");
  const EVERY = 5000;
  // The page's words come from the template (data-text-*), in the reader's language.
  const TEXT = {saved: form.dataset.textSaved, failed: form.dataset.textFailed, offline: form.dataset.textOffline};
  let saved = snapshot(), sending = false, busy = false;

  function fields() {
    const data = new FormData(form);
    data.delete("attachments");  // drafts keep the text; files are chosen again
    return data;
  }

  function snapshot() {
    const data = fields();
    data.delete("draft");
    data.delete("csrfmiddlewaretoken");
    return JSON.stringify(Array.from(data.entries()));
  }

  async function save() {
    const now = snapshot();
    if (sending || busy || now === saved) return;
    busy = true;
    try {
      const response = await fetch(url, {method: "POST", body: fields(), credentials: "same-origin",
                                         keepalive: true, headers: {"Accept": "application/json"}});
      const answer = await response.json();
      if (response.ok) {
        form.elements.draft.value = answer.id;
        saved = now;
        if (status) status.textContent = TEXT.saved;
      } else if (status) {
        status.textContent = answer.error || TEXT.failed;
      }
    } catch (error) {
      if (status) status.textContent = TEXT.offline;
    } finally {
      busy = false;
    }
  }

  setInterval(save, EVERY);
  form.addEventListener("submit", function () { sending = true; });
  // Leaving the page: a beacon carries the fields and the CSRF token in the form data.
  window.addEventListener("pagehide", function () {
    if (!sending && snapshot() !== saved && navigator.sendBeacon(url, fields())) saved = snapshot();
  });

  // The signature under the text follows the account, as long as the user left it as it was.
  const signatures = JSON.parse((document.getElementById("account-signatures") || {}).textContent || "{}");
  const account = form.elements.account, text = form.elements.text;
  if (account && text && account.tagName === "SELECT") {
    let previous = account.value;
    account.addEventListener("change", function () {
      const old = signatures[previous] ? "-- \n" + signatures[previous] : "";
      const fresh = signatures[account.value] ? "-- \n" + signatures[account.value] : "";
      if (old && text.value.includes(old)) text.value = text.value.replace(old, fresh);
      else if (!old && fresh && !text.value.includes("\n-- \n")) text.value = text.value.replace(/\n*$/, "") + "\n\n" + fresh + "\n";
      previous = account.value;
    });
  }

  // Files dropped anywhere on the form join those already chosen.
  const input = form.elements.attachments;
  if (input && window.DataTransfer) {
    form.addEventListener("dragover", function (event) { event.preventDefault(); form.classList.add("dropping"); });
    form.addEventListener("dragleave", function () { form.classList.remove("dropping"); });
    form.addEventListener("drop", function (event) {
      event.preventDefault();
      form.classList.remove("dropping");
      const all = new DataTransfer();
      for (const file of input.files) all.items.add(file);
      for (const file of event.dataTransfer.files) all.items.add(file);
      input.files = all.files;
    });
  }
})();

// Contacts as suggestions for each address of a list: a datalist suggests whole values, so each suggestion is
// what is typed before the last comma followed by a contact's address.
(function () {
  "use strict";
  const list = document.getElementById("contact-addresses");
  if (!list) return;
  const addresses = Array.from(list.options, function (option) { return option.value; });
  const MAX = 20;
  document.querySelectorAll('input[list="contact-addresses"]').forEach(function (input) {
    input.addEventListener("input", function () {
      const cut = Math.max(input.value.lastIndexOf(","), input.value.lastIndexOf(";"));
      const head = cut >= 0 ? input.value.slice(0, cut + 1) + " " : "";
      const typed = input.value.slice(cut + 1).trim().toLowerCase();
      const found = typed ? addresses.filter(function (a) { return a.toLowerCase().includes(typed); }) : addresses;
      list.replaceChildren(...found.slice(0, MAX).map(function (address) {
        const option = document.createElement("option");
        option.value = head + address;
        return option;
      }));
    });
  });
})();
