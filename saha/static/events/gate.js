/* The gate page, enhanced: scan tickets with the phone's camera, and send every
   check-in with fetch, retried on a weak network without ever counting twice.

   Without this script the page works: the code and the search are plain forms.

   The scanner. The browser's own BarcodeDetector is used where it reads QR
   codes (Chrome on Android, Safari on macOS...). Elsewhere (iPhones, desktop
   Linux, Firefox) we load `barcode-detector` (npm, by Sec-ant, MIT), a
   maintained ponyfill of that same standard API on top of zxing-wasm (the
   ZXing C++ reader compiled to WebAssembly), so one code path drives both.
   Chosen over html5-qrcode (unmaintained since 2023, wraps the old ZXing JS
   port) and jsQR (unmaintained, QR only on a slow pure-JS decoder). It is
   vendored in static/vendor/ (manifest.json); its .wasm is loaded from our
   own static files through `locateFile`, never from its default CDN. Both are
   fetched only when the camera is started, so a phone that types codes never
   downloads the 1 MB decoder.

   Every check-in carries a nonce made here, one per press or scan, and the
   same nonce on each retry: the server answers a repeated nonce with its first
   answer, so a request that got through before the network dropped is never a
   second check-in. */
(function () {
  "use strict";

  var result = document.getElementById("gate-result");
  var counts = document.getElementById("gate-counts");
  var scan = document.getElementById("gate-scan");
  if (!result || !counts) return;

  var RETRY_DELAYS = [1000, 2000, 4000, 8000, 8000];
  var TIMEOUT_MS = 12000;
  var COUNTS_EVERY_MS = 15000;
  var SAME_TICKET_PAUSE_MS = 4000;
  var SCAN_EVERY_MS = 200;
  var texts = scan ? scan.dataset : {};
  var note = scan && scan.querySelector("[data-gate-note]");
  var codeForm = document.querySelector("form.gate-code");
  var codeInput = codeForm && codeForm.querySelector("input[name=code]");

  // --- nonces and sending -------------------------------------------------

  function newNonce() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID();
    if (c && typeof c.getRandomValues === "function") {
      // randomUUID needs a secure context; a gate on a plain-HTTP LAN has only this.
      var bytes = c.getRandomValues(new Uint8Array(16));
      return Array.prototype.map.call(bytes, function (b) {
        return (b + 256).toString(16).slice(1);
      }).join("");
    }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function retryable(message) {
    var error = new Error(message);
    error.retryable = true;
    return error;
  }

  function wait(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function fetchOnce(url, data) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller && setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") !== -1;
      if (response.status >= 500) throw retryable("server " + response.status);
      // Not JSON: the sign-in page after a redirect, or a refusal page.
      if (!json) throw new Error("signed-out");
      return response.json();
    }, function () {
      throw retryable("network");
    }).finally(function () { clearTimeout(timer); });
  }

  function send(url, data, onRetry) {
    var attempt = 0;
    function again() {
      return fetchOnce(url, data).catch(function (error) {
        if (!error.retryable || attempt >= RETRY_DELAYS.length) throw error;
        onRetry(attempt);
        return wait(RETRY_DELAYS[attempt++]).then(again);
      });
    }
    return again();
  }

  // --- showing what happened ---------------------------------------------

  function say(text) {
    if (!note) return;
    note.textContent = text || "";
    note.hidden = !text;
  }

  function showBanner(body) {
    result.innerHTML = body.banner;
    if (body.counts_html) counts.innerHTML = body.counts_html;
    if (navigator.vibrate) navigator.vibrate(body.code === "admitted" ? 80 : [80, 60, 80]);
  }

  function markRow(form, body) {
    var row = form.closest(".gate-row");
    var title = result.querySelector(".gate-banner-title");
    if (!row || !body.ok) return;
    var done = document.createElement("p");
    done.className = "gate-row-note";
    done.textContent = title ? title.textContent : "";
    row.classList.add("is-in");
    form.replaceWith(done);
  }

  function checkIn(form, data) {
    var banner = result.firstElementChild;
    if (banner) banner.classList.add("is-stale");
    result.setAttribute("aria-busy", "true");
    say(texts.msgSending);
    data.set("nonce", newNonce()); // one per press; kept by every retry of it
    return send(form.action, data, function () { say(texts.msgRetrying); })
      .then(function (body) {
        if (!body.banner) { // refused before the gate: signed out, or no longer on the team
          if (banner) banner.classList.remove("is-stale");
          say(body.message || texts.msgSignedOut);
          return body;
        }
        say("");
        showBanner(body);
        if (data.has("token")) return body; // scanned: the keyboard stays down
        if (form === codeForm && codeInput) {
          if (body.ok) codeInput.value = "";
          else codeInput.select();
        } else {
          markRow(form, body);
        }
        return body;
      }, function (error) {
        if (banner) banner.classList.remove("is-stale");
        say(error.retryable ? texts.msgOffline : texts.msgSignedOut);
      })
      .finally(function () { result.removeAttribute("aria-busy"); });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-gate-check-in]")) return;
    event.preventDefault();
    if (form.dataset.busy) return; // a second tap while the first is on its way
    form.dataset.busy = "1";
    checkIn(form, new FormData(form)).finally(function () { delete form.dataset.busy; });
  });

  // --- counts ---------------------------------------------------------------

  function refreshCounts() {
    if (document.hidden) return;
    fetch(counts.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body) counts.innerHTML = body.counts_html; })
      .catch(function () { /* the next round will do */ });
  }
  setInterval(refreshCounts, COUNTS_EVERY_MS);
  document.addEventListener("visibilitychange", refreshCounts);

  // --- the camera -------------------------------------------------------------

  if (!scan || !codeForm) return;
  var startButton = scan.querySelector("[data-gate-start]");
  var stopButton = scan.querySelector("[data-gate-stop]");
  var camera = scan.querySelector("[data-gate-camera]");
  var video = camera.querySelector("video");
  var detector = null;
  var stream = null;
  var scanning = false;
  var sending = false;
  var last = { value: "", at: 0 };
  scan.hidden = false;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    startButton.hidden = true; // no camera API (an old browser, or not HTTPS): type the code
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("scanner not loaded")); };
      document.head.appendChild(script);
    });
  }

  function ponyfill() {
    var ready = window.BarcodeDetectionAPI ? Promise.resolve() : loadScript(texts.scannerSrc);
    return ready.then(function () {
      var api = window.BarcodeDetectionAPI;
      return api.prepareZXingModule({
        overrides: {
          locateFile: function (path, prefix) {
            return /\.wasm$/.test(path) ? texts.wasmSrc : prefix + path;
          }
        },
        fireImmediately: true
      }).then(function () {
        return new api.BarcodeDetector({ formats: ["qr_code"] });
      });
    });
  }

  function makeDetector() {
    if (detector) return Promise.resolve(detector);
    var native = window.BarcodeDetector;
    var found = native && native.getSupportedFormats
      ? native.getSupportedFormats().then(function (formats) {
        return formats.indexOf("qr_code") !== -1 ? new native({ formats: ["qr_code"] }) : ponyfill();
      }, ponyfill)
      : ponyfill();
    return found.then(function (made) { detector = made; return made; });
  }

  function stopCamera() {
    scanning = false;
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.srcObject = null;
    camera.hidden = true;
    stopButton.hidden = true;
    startButton.hidden = false;
  }

  function cameraFailed(error) {
    stopCamera();
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError") say(texts.msgDenied);
    else if (name === "NotFoundError" || name === "OverconstrainedError" || name === "NotReadableError") say(texts.msgNoCamera);
    else say(texts.msgFailed);
    codeInput.focus();
  }

  function startCamera() {
    say("");
    startButton.disabled = true;
    // Ask for the camera at once (the press is what allows it); load the decoder meanwhile.
    var camera$ = navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: "environment" } }
    });
    Promise.all([camera$, makeDetector()]).then(function (got) {
      stream = got[0];
      video.srcObject = stream;
      camera.hidden = false;
      return video.play();
    }).then(function () {
      scanning = true;
      startButton.hidden = true;
      stopButton.hidden = false;
      tick();
    }).catch(function (error) {
      camera$.then(function (s) { s.getTracks().forEach(function (t) { t.stop(); }); }, function () {});
      cameraFailed(error);
    }).finally(function () { startButton.disabled = false; });
  }

  function scanned(value) {
    var now = Date.now();
    // The same ticket is still in front of the lens: one check-in, not one per frame.
    if (value === last.value && now - last.at < SAME_TICKET_PAUSE_MS) return Promise.resolve();
    last = { value: value, at: now };
    var data = new FormData(codeForm);
    data.delete("code");
    data.set("token", value);
    sending = true;
    return checkIn(codeForm, data).finally(function () {
      sending = false;
      last.at = Date.now(); // count the pause from the answer, not the scan
    });
  }

  function tick() {
    if (!scanning) return;
    var next = function () { if (scanning) setTimeout(tick, SCAN_EVERY_MS); };
    if (sending || video.readyState < 2) return next();
    detector.detect(video).then(function (codes) {
      var value = codes.length ? String(codes[0].rawValue || "").trim() : "";
      return value ? scanned(value) : null;
    }).catch(function () { /* a frame that could not be read */ }).then(next);
  }

  startButton.addEventListener("click", startCamera);
  stopButton.addEventListener("click", function () { stopCamera(); codeInput.focus(); });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden && scanning) stopCamera(); // the camera is not left on in a pocket
  });
})();
