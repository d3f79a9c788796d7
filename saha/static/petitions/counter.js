// Petitions: keeps the counter live. Every 10 s, while the page is in view, it asks
// count.json (cached by the server for a few seconds) and updates the number and the
// progress bar. Without this script the number is simply the one the page came with.
(function () {
  "use strict";
  var PERIOD_MS = 10000;
  var boxes = document.querySelectorAll("[data-count-url]");
  if (!boxes.length || !window.fetch) return;
  var lang = document.documentElement.lang || undefined;
  var format;
  try {
    format = new Intl.NumberFormat(lang, { numberingSystem: "latn" });
  } catch (error) {
    format = { format: String };
  }

  function show(box, data) {
    var count = box.querySelector("[data-count]");
    if (!count || typeof data.count !== "number") return;
    if (count.getAttribute("data-count") !== String(data.count)) {
      count.setAttribute("data-count", String(data.count));
      count.textContent = format.format(data.count);
    }
    var progress = box.querySelector("[data-progress]");
    if (progress && data.goal) {
      progress.max = data.goal;
      progress.value = Math.min(data.count, data.goal);
    }
  }

  function poll(box) {
    if (document.hidden) return;
    fetch(box.getAttribute("data-count-url"), { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) show(box, data); })
      .catch(function () { /* offline for a moment: the next round tries again */ });
  }

  Array.prototype.forEach.call(boxes, function (box) {
    setInterval(function () { poll(box); }, PERIOD_MS);
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) Array.prototype.forEach.call(boxes, poll);
  });
})();
