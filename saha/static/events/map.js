/* Saha, events' public pages: a map when the visitor asks for one, and the phone's
   share sheet. Both are extras: without this script the pages have links to
   OpenStreetMap, to the phone's maps app and to each messaging app.

   Privacy: nothing is requested from the tile server until "Show map" is
   pressed. Leaflet itself is ours (static/vendor/leaflet), fetched on that
   press too, so a visitor who never wants the map never downloads it. */
(function () {
  "use strict";

  var leaflet = null; // one load per page, however often the button is pressed

  function load(tag, attributes) {
    return new Promise(function (resolve, reject) {
      var element = document.createElement(tag);
      Object.keys(attributes).forEach(function (name) {
        element.setAttribute(name, attributes[name]);
      });
      element.addEventListener("load", resolve);
      element.addEventListener("error", reject);
      document.head.appendChild(element);
    });
  }

  function loadLeaflet(box) {
    if (!leaflet) {
      leaflet = Promise.all([
        // The stylesheet too: Leaflet finds its marker images through it.
        load("link", { rel: "stylesheet", href: box.dataset.leafletCss }),
        load("script", { src: box.dataset.leafletJs }),
      ]).then(function () {
        return window.L;
      });
    }
    return leaflet;
  }

  function points() {
    var found = [];
    document.querySelectorAll("[data-map-point]").forEach(function (element) {
      var lat = parseFloat(element.dataset.lat);
      var lon = parseFloat(element.dataset.lon);
      if (isFinite(lat) && isFinite(lon)) {
        found.push({ lat: lat, lon: lon, title: element.dataset.title || "", href: element.dataset.href || "" });
      }
    });
    return found;
  }

  function popup(point) {
    // Built from text nodes, never HTML: titles are the organization's words.
    var paragraph = document.createElement("p");
    paragraph.className = "map-popup";
    paragraph.dir = document.documentElement.dir || "auto";
    var label = point.href ? document.createElement("a") : document.createElement("strong");
    if (point.href) {
      label.href = point.href;
    }
    label.textContent = point.title;
    paragraph.appendChild(label);
    return paragraph;
  }

  function useOurMarkerImages(L, box) {
    // Leaflet guesses its images' folder from its stylesheet's address, which
    // fails once collectstatic adds a hash to every name: name each one.
    L.Icon.Default.imagePath = "";
    L.Icon.Default.mergeOptions({
      iconUrl: box.dataset.markerIcon,
      iconRetinaUrl: box.dataset.markerIcon2x,
      shadowUrl: box.dataset.markerShadow,
    });
  }

  function draw(L, box, canvas) {
    var found = points();
    useOurMarkerImages(L, box);
    var map = L.map(canvas, { scrollWheelZoom: false });
    L.tileLayer(box.dataset.tiles, {
      attribution: box.dataset.attribution || "",
      maxZoom: 19,
      // The tile server learns which site asked, never which event page.
      referrerPolicy: "strict-origin",
    }).addTo(map);
    var markers = found.map(function (point) {
      return L.marker([point.lat, point.lon], { title: point.title, alt: point.title })
        .bindPopup(popup(point))
        .addTo(map);
    });
    if (markers.length === 1) {
      map.setView([found[0].lat, found[0].lon], 16);
    } else {
      map.fitBounds(L.featureGroup(markers).getBounds(), { padding: [24, 24], maxZoom: 15 });
    }
    return map;
  }

  function showMap(box, button) {
    var canvas = box.querySelector(".map-canvas");
    button.disabled = true;
    loadLeaflet(box)
      .then(function (L) {
        canvas.hidden = false;
        box.querySelector(".map-note").hidden = true;
        button.hidden = true;
        draw(L, box, canvas);
      })
      .catch(function () {
        leaflet = null; // offline for a moment: let the next press try again
        button.disabled = false;
        box.querySelector(".map-error").hidden = false;
      });
  }

  function setUpMaps() {
    if (!points().length) {
      return;
    }
    document.querySelectorAll("[data-map]").forEach(function (box) {
      var button = box.querySelector("[data-show-map]");
      if (!button) {
        return;
      }
      button.hidden = false;
      box.querySelector(".map-note").hidden = false;
      button.addEventListener("click", function () {
        showMap(box, button);
      });
    });
  }

  function setUpSharing() {
    if (typeof navigator.share !== "function") {
      return; // the plain links are there already
    }
    document.querySelectorAll("[data-share]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.share({ title: button.dataset.title, url: button.dataset.url }).catch(function () {
          // Closing the share sheet rejects too; the links stay on the page.
        });
      });
    });
  }

  setUpMaps();
  setUpSharing();
})();
