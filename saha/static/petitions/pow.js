// Petitions: the proof of work asked of browsers while a flood is going on (no third-party
// CAPTCHA). The page's form carries a seed and a difficulty; this finds a nonce such that
// SHA-256(seed + ":" + nonce) starts with `difficulty` zero bits, puts it in the form's
// hidden fields and marks the form as solved by script. Work starts when the page loads,
// in a Web Worker (this same file) so the page stays responsive, else in small chunks on
// the page itself. A press on "Sign" before the answer is found waits for it and shows
// "Checking your browser…". Where Web Crypto is missing (a plain-http site), nothing is
// marked: the server then treats the form as sent without JavaScript, which it accepts.
(function () {
  "use strict";
  var CHUNK = 256;

  function zeroBits(bytes) {
    var bits = 0;
    for (var i = 0; i < bytes.length; i++) {
      var byte = bytes[i];
      if (byte === 0) { bits += 8; continue; }
      while ((byte & 0x80) === 0) { bits += 1; byte <<= 1; }
      return bits;
    }
    return bits;
  }

  // One chunk of nonces from `start`, hashed at once; the first that meets the
  // difficulty, or -1.
  function tryChunk(encoder, task, start) {
    var hashes = [];
    for (var i = 0; i < CHUNK; i++) {
      hashes.push(crypto.subtle.digest("SHA-256", encoder.encode(task.seed + ":" + (start + i))));
    }
    return Promise.all(hashes).then(function (digests) {
      for (var i = 0; i < digests.length; i++) {
        if (zeroBits(new Uint8Array(digests[i])) >= task.difficulty) {
          return start + i;
        }
      }
      return -1;
    });
  }

  // task: {seed, difficulty}; `pause` lets the page breathe between chunks.
  function solve(task, pause) {
    var encoder = new TextEncoder();
    return new Promise(function (resolve, reject) {
      function step(start) {
        tryChunk(encoder, task, start).then(function (found) {
          if (found >= 0) resolve(String(found));
          else pause(function () { step(start + CHUNK); });
        }, reject);
      }
      step(0);
    });
  }

  if (typeof document === "undefined") {
    // Inside the worker: solve what the page asks, answer with the nonce.
    self.onmessage = function (event) {
      solve(event.data, function (next) { next(); }).then(
        function (nonce) { self.postMessage({ nonce: nonce }); },
        function () { self.postMessage({ nonce: null }); }
      );
    };
    return;
  }

  var form = document.querySelector("form[data-pow-seed]");
  if (!form || !window.crypto || !crypto.subtle || !window.TextEncoder) return;
  var seed = form.getAttribute("data-pow-seed");
  var difficulty = parseInt(form.getAttribute("data-pow-difficulty"), 10);
  var script = document.currentScript && document.currentScript.src;

  // One worker: several were no faster here (Web Crypto's digests share one queue).
  function inWorker() {
    return new Promise(function (resolve, reject) {
      var worker = new Worker(script);
      worker.onmessage = function (event) {
        worker.terminate();
        if (event.data.nonce === null) reject(new Error("no answer"));
        else resolve(event.data.nonce);
      };
      worker.onerror = function (event) {
        event.preventDefault();
        worker.terminate();
        reject(new Error("worker failed"));
      };
      worker.postMessage({ seed: seed, difficulty: difficulty });
    });
  }

  function onPage() {
    var task = { seed: seed, difficulty: difficulty };
    return solve(task, function (next) { setTimeout(next, 0); });
  }

  var answer = (window.Worker && script ? inWorker().catch(onPage) : onPage()).then(
    function (nonce) {
      form.querySelector("input[name=pow_nonce]").value = nonce;
      form.querySelector("input[name=pow_js]").value = "1";
      return true;
    },
    function () { return false; } // sent as without JavaScript: the server accepts that too
  );

  var sending = false;
  form.addEventListener("submit", function (event) {
    if (form.querySelector("input[name=pow_js]").value === "1") return;
    event.preventDefault();
    if (sending) return;
    sending = true;
    var status = form.querySelector("[data-pow-status]");
    if (status) status.hidden = false;
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    answer.then(function () {
      if (!form.checkValidity || form.checkValidity()) form.submit();
      else { sending = false; if (button) button.disabled = false; if (status) status.hidden = true; }
    });
  });
})();
