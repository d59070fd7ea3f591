// Three panes on a wide screen: a message chosen in the list shows in the pane beside it (the reading pane of
// its own page, fetched from the server, which marks it read) instead of replacing the list. On a narrower
// screen, with a modifier key, or without JavaScript, the link opens the message page as usual.
(function () {
  "use strict";
  const pane = document.getElementById("preview-pane");
  if (!pane) return;
  const wide = window.matchMedia("(min-width: 80rem)");
  let shown = null;

  async function show(link) {
    const row = link.closest("tr");
    const response = await fetch(link.href, {credentials: "same-origin"});
    const reading = response.ok
      ? new DOMParser().parseFromString(await response.text(), "text/html").querySelector(".reading-pane") : null;
    if (!reading) { window.location.href = link.href; return; }
    pane.replaceChildren(...Array.from(reading.childNodes, function (node) { return document.importNode(node, true); }));
    // Its own page's links ("?remote=1", "?headers=1") lead to that page, not to this list.
    pane.querySelectorAll("a[href^='?']").forEach(function (a) { a.href = link.pathname + a.getAttribute("href"); });
    // The message's buttons come back to this list page, as it is now.
    pane.querySelectorAll("input[name=next]").forEach(function (input) {
      input.value = window.location.pathname + window.location.search;
    });
    if (shown) shown.classList.remove("previewed");
    shown = row;
    if (row) { row.classList.add("previewed"); row.classList.remove("unseen"); }
    pane.scrollTop = 0;
  }

  document.addEventListener("click", function (event) {
    const link = event.target.closest("#message-rows td.subject a");
    if (!link || !wide.matches || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    show(link).catch(function () { window.location.href = link.href; });
  });
})();
