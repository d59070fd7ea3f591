// Keyboard shortcuts of the lists and the message page (Gmail's keys). None fires while typing in a field or
// with a modifier held. A key with a button on the page clicks that button (data-key), so a shortcut does
// exactly what the button does, and nothing more.
(function () {
  "use strict";
  const rows = function () { return Array.from(document.querySelectorAll("#message-rows tr[data-message]")); };
  let current = -1, pendingG = false;

  // A text field, a list box or an editable region takes the keys; a checkbox or a button does not (the list
  // focuses the current row's checkbox).
  const NOT_TYPING = ["checkbox", "radio", "button", "submit", "reset"];
  function typing(target) {
    if (target.tagName === "INPUT") return !NOT_TYPING.includes(target.type);
    return target.closest("textarea, select, [contenteditable=''], [contenteditable='true']") !== null;
  }

  function select(index) {
    const list = rows();
    if (!list.length) return;
    current = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (row, i) { row.classList.toggle("current", i === current); });
    list[current].scrollIntoView({block: "nearest"});
    const box = list[current].querySelector("input[name=ids]");
    if (box) box.focus({preventScroll: true});
  }

  function currentRow() { return rows()[current] || null; }

  function press(key) {
    const button = document.querySelector("[data-key='" + key + "']");
    if (!button) return false;
    const row = currentRow();
    if (row && button.form && button.form.id === "list-form") {
      // In a list, a toolbar key acts on the ticked rows, or on the current one when none is ticked.
      const ticked = document.querySelectorAll("#message-rows input[name=ids]:checked");
      if (!ticked.length) row.querySelector("input[name=ids]").checked = true;
    }
    button.click();
    return true;
  }

  function toggleHelp() {
    const help = document.getElementById("shortcut-help");
    if (help) help.hidden = !help.hidden;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "i") { window.location.href = "/"; event.preventDefault(); }
      return;
    }
    let done = true;
    switch (key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "o": case "Enter": {
        const row = currentRow();
        // The row's link: preview.js shows it beside the list on a wide screen, else it opens its page.
        const link = row && row.querySelector("td.subject a");
        if (link && event.target.tagName !== "A" && event.target.tagName !== "BUTTON") link.click();
        else done = false;
        break;
      }
      case "u": {
        const back = document.querySelector(".message-actions input[name=next]");
        if (back) window.location.href = back.value; else done = false;
        break;
      }
      case "c": window.location.href = "/compose/"; break;
      case "/": {
        const search = document.querySelector("input[name=q]");
        if (search) search.focus(); else done = false;
        break;
      }
      case "g": pendingG = true; break;
      case "?": toggleHelp(); break;
      case "Escape": { const help = document.getElementById("shortcut-help"); if (help && !help.hidden) help.hidden = true; else done = false; break; }
      case "s": {
        const row = currentRow();
        const star = row ? row.querySelector("button.star") : null;
        if (star) star.click(); else done = press("s");
        break;
      }
      default: done = ["r", "a", "f", "e", "#"].includes(key) && press(key);
    }
    if (done) event.preventDefault();
  });

  const all = document.getElementById("select-all");
  if (all) all.addEventListener("change", function () {
    document.querySelectorAll("#message-rows input[name=ids]").forEach(function (box) { box.checked = all.checked; });
  });
})();
