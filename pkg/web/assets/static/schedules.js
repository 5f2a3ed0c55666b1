// cyberbrain dashboard, new-schedule form: shows only the fields of the
// chosen kind and, as the user types, asks the server (the store's own
// validation and next-slot computation) for the schedule in words and its
// next five firing times, or for what is wrong. The form works without it.
"use strict";
(function () {
  var timing = ["schedule_type", "cron_expr", "timezone", "interval_minutes", "next_run_at"];

  function kind(form) {
    var r = form.querySelector('input[name="schedule_type"]:checked');
    return r ? r.value : "";
  }

  function showKind(form) {
    var k = kind(form);
    form.querySelectorAll("[data-kind]").forEach(function (el) {
      el.hidden = el.getAttribute("data-kind") !== k;
    });
  }

  function setError(field, msg) {
    var p = document.getElementById(field + "-error");
    if (p) { p.textContent = msg || ""; }
    var input = document.getElementById(field);
    if (input) {
      if (msg) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
    }
  }

  function render(answer) {
    var ok = !answer.error;
    var box = document.getElementById("schedule-preview");
    var desc = document.getElementById("preview-description");
    var list = document.getElementById("preview-next");
    timing.forEach(function (f) { setError(f, ok ? "" : (answer.fields || {})[f]); });
    if (!ok) {
      if (answer.field && !(answer.fields || {})[answer.field]) { setError(answer.field, answer.error); }
      box.hidden = true;
      desc.textContent = "";
      list.replaceChildren();
      return;
    }
    desc.textContent = answer.description || "";
    var items = (answer.next || []).map(function (iso) {
      var li = document.createElement("li");
      var t = document.createElement("time");
      var d = new Date(iso);
      t.setAttribute("datetime", iso);
      t.textContent = isNaN(d) ? iso : d.toLocaleString();
      t.title = iso;
      li.appendChild(t);
      return li;
    });
    list.replaceChildren.apply(list, items);
    box.hidden = false;
  }

  function setup(form) {
    var seq = 0, timer = null;
    function preview() {
      if (kind(form) === "cron" && form.elements.cron_expr.value.trim() === "") {
        // Nothing typed yet: no preview, and no "is required" before a
        // try (a refused submit's own message stays).
        seq++;
        document.getElementById("schedule-preview").hidden = true;
        return;
      }
      var q = new URLSearchParams();
      timing.forEach(function (f) {
        var v = f === "schedule_type" ? kind(form) : (form.elements[f] ? form.elements[f].value : "");
        q.set(f, v);
      });
      var mine = ++seq;
      fetch("/schedules/preview?" + q.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (answer) { if (mine === seq) { render(answer); } })
        .catch(function () { /* offline or logged out: the server checks on submit */ });
    }
    function later() {
      clearTimeout(timer);
      timer = setTimeout(preview, 250);
    }
    timing.forEach(function (f) {
      var els = form.querySelectorAll('[name="' + f + '"]');
      els.forEach(function (el) {
        el.addEventListener("input", later);
        el.addEventListener("change", function () { showKind(form); later(); });
      });
    });
    showKind(form);
    preview();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("schedule-form");
    if (form) { setup(form); }
  });
})();
