/*
 * The directory's small behaviours, without a server: the index filter (name, status,
 * region, language, attention; `?q=` from the home page's "find a State" box and
 * `?attention=any` from its counts), the local time of
 * each State (Intl.DateTimeFormat with the IANA zone given on the page) and the print button.
 * Plain DOM, no library, nothing loaded from anywhere.
 */
(function () {
  "use strict";

  function fold(text) {
    return (text || "").normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().trim();
  }

  function setUpFilter() {
    const form = document.getElementById("d247-filter");
    const table = document.getElementById("d247-directory");
    if (!form || !table) {
      return;
    }
    const rows = Array.from(table.tBodies[0].rows);
    rows.forEach(function (row) { row.dataset.folded = fold(row.dataset.name); });
    const query = document.getElementById("d247-q");
    const status = document.getElementById("d247-status");
    const region = document.getElementById("d247-region");
    const language = document.getElementById("d247-language");
    const attention = document.getElementById("d247-attention");
    const count = document.getElementById("d247-count");
    const empty = document.getElementById("d247-empty");

    // "any": the row needs attention for any reason; otherwise the one reason chosen.
    function needs(row) {
      const chosen = attention ? attention.value : "";
      const words = (row.dataset.attention || "").split(" ").filter(Boolean);
      return !chosen || (chosen === "any" ? words.length > 0 : words.includes(chosen));
    }

    function apply() {
      const words = fold(query.value).split(/\s+/).filter(Boolean);
      let shown = 0;
      rows.forEach(function (row) {
        const match = words.every(function (w) { return row.dataset.folded.includes(w); })
          && (!status.value || row.dataset.status === status.value)
          && (!region.value || row.dataset.region === region.value)
          && (!language.value || row.dataset.languages.split(" ").includes(language.value))
          && needs(row);
        row.hidden = !match;
        if (match) {
          shown += 1;
        }
      });
      count.textContent = shown === rows.length ? rows.length + " States" : shown + " of " + rows.length + " States";
      if (empty) {
        empty.hidden = shown !== 0;
      }
    }

    const params = new URLSearchParams(location.search);
    const initial = params.get("q");
    if (initial) {
      query.value = initial;
    }
    const wanted = params.get("attention");
    if (attention && wanted && Array.from(attention.options).some(function (o) { return o.value === wanted; })) {
      attention.value = wanted;
    }
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
    apply();
  }

  function setUpLocalTimes() {
    const clocks = Array.from(document.querySelectorAll(".d247-localtime[data-tz]"));
    if (!clocks.length) {
      return;
    }
    function tick() {
      const now = new Date();
      clocks.forEach(function (clock) {
        try {
          clock.textContent = new Intl.DateTimeFormat("en-GB", {
            timeZone: clock.dataset.tz, weekday: "short", hour: "2-digit", minute: "2-digit",
            timeZoneName: "short"
          }).format(now);
        } catch (error) {
          clock.textContent = "unknown";
        }
      });
    }
    tick();
    window.setInterval(tick, 30000);
  }

  function setUpPrint() {
    const button = document.getElementById("d247-print");
    if (button) {
      button.addEventListener("click", function () { window.print(); });
    }
  }

  function start() {
    setUpFilter();
    setUpLocalTimes();
    setUpPrint();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
