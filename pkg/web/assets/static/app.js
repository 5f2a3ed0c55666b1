// cyberbrain dashboard: local times and live updates. Pages work without it.
"use strict";
(function () {
  function localTimes(root) {
    root.querySelectorAll("time[data-local]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) { t.textContent = d.toLocaleString(); t.title = t.getAttribute("datetime"); }
    });
  }
  window.cyberbrain = { localTimes: localTimes, csrf: function () {
    var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : "";
  } };

  // Live sections carry data-live-refresh: "*" (any run) or run ids
  // separated by spaces. A matching event re-fetches this page and swaps
  // the sections in (at most once a second).
  // An event that arrives while a refresh is in flight asks for another
  // one after it: the fetch in flight may have read the page before that
  // change was committed.
  var pending = false, again = false, last = 0;
  function wants(el, ev) {
    var v = el.getAttribute("data-live-refresh");
    if (ev.all || v === "*") { return true; }
    var ids = v.split(/\s+/);
    return ev.runs.some(function (r) { return ids.indexOf(String(r.id)) >= 0; });
  }
  function done() {
    pending = false;
    if (again) { again = false; refresh(); }
  }
  function refresh() {
    if (pending) { again = true; return; }
    pending = true;
    var wait = Math.max(0, 1000 - (Date.now() - last));
    setTimeout(function () {
      last = Date.now();
      fetch(location.href, { headers: { "X-Live": "1" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { done(); return; }
          var doc = new DOMParser().parseFromString(html, "text/html");
          document.querySelectorAll("[data-live-refresh][id]").forEach(function (el) {
            var fresh = doc.getElementById(el.id);
            if (fresh) { el.replaceWith(fresh); localTimes(fresh); }
          });
          document.dispatchEvent(new Event("cyberbrain:refreshed"));
          done();
        })
        .catch(done);
    }, wait);
  }
  function apply(ev) {
    (ev.runs || []).forEach(function (r) {
      document.querySelectorAll('[data-run-status="' + r.id + '"]').forEach(function (b) {
        b.textContent = r.status; b.className = "badge s-" + r.status;
      });
    });
    var live = document.querySelectorAll("[data-live-refresh]");
    for (var i = 0; i < live.length; i++) { if (wants(live[i], ev)) { refresh(); break; } }
  }
  function connect() {
    var state = document.getElementById("live-state");
    var es = new EventSource("/events");
    es.addEventListener("ready", function () {
      if (state) { state.textContent = "live"; state.dataset.state = "live"; }
      document.body.dataset.live = "ready";
      if (document.querySelector("[data-live-refresh]")) { refresh(); }
    });
    es.addEventListener("runs", function (m) { apply(JSON.parse(m.data)); });
    es.onerror = function () {
      if (state) { state.textContent = "reconnecting…"; state.dataset.state = "offline"; }
    };
  }
  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    if (document.querySelector("[data-live-refresh], [data-run-status]")) { connect(); }
  });
})();
