// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Live countdown to the end of a seat hold.
  document.querySelectorAll("[data-countdown]").forEach(function (el) {
    var end = Date.now() + Number(el.getAttribute("data-countdown")) * 1000;
    var text = document.querySelector("[data-countdown-text]");
    function tick() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      if (text) text.textContent = Math.floor(left / 60) + " min " + (left % 60) + " s";
      // The hold ran out: show the booking as it is now (a GET, never a re-posted form).
      if (left === 0) { window.location.assign(window.location.pathname.replace(/\/(pay|cancel)$/, "")); return; }
      setTimeout(tick, 1000);
    }
    tick();
  });

  // Selects that apply at once (sort order, passenger count).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Seat map: never more seats than passengers; the oldest choice gives way.
  document.querySelectorAll("form[data-seat-limit]").forEach(function (form) {
    var limit = Number(form.getAttribute("data-seat-limit"));
    var order = Array.prototype.filter.call(form.querySelectorAll("input[name=seat]"), function (i) { return i.checked; });
    form.addEventListener("change", function (event) {
      var box = event.target;
      if (box.name !== "seat") return;
      if (box.checked) {
        order.push(box);
        while (order.length > limit) order.shift().checked = false;
      } else {
        order = order.filter(function (i) { return i !== box; });
      }
    });
  });

  // Ask before deleting catalog entries.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // A print button where a script can print (hidden without one).
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
