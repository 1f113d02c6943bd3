// respite's little script. Every page works without it; with it, a form's error summary takes
// the focus on load, so a screen reader announces it and a keyboard starts there; a hold's
// countdown ticks; and a form marked data-once is sent once (the server books once anyway).
(function () {
  "use strict";

  // The hold's countdown: from the seconds the server said were left when it rendered the
  // page (never the phone's own clock, which may be wrong), so a reload shows the true time.
  // The visible clock ticks every second; screen readers hear it politely once a minute, at
  // one minute left, and when the time is up.
  function countdown(box) {
    var left = parseInt(box.getAttribute("data-seconds-left"), 10);
    var clock = box.querySelector("[data-countdown-clock]");
    var say = box.querySelector("[data-countdown-say]");
    if (isNaN(left) || !clock || !say) {
      return;
    }
    var started = performance.now();
    var lastMinute = null;
    clock.hidden = false;

    function words(secondsLeft) {
      if (secondsLeft <= 0) {
        return box.getAttribute("data-say-over");
      }
      if (secondsLeft <= 60) {
        return box.getAttribute("data-say-last-minute");
      }
      var minutes = String(Math.ceil(secondsLeft / 60));
      return box.getAttribute("data-say-minutes").replace("{minutes}", minutes);
    }

    function tick() {
      var elapsed = Math.floor((performance.now() - started) / 1000);
      var now = Math.max(0, left - elapsed);
      var m = Math.floor(now / 60);
      var s = now % 60;
      clock.textContent = m + ":" + (s < 10 ? "0" : "") + s;
      // Announce when the minute shown changes (and the first time), not every second.
      var minute = now <= 0 ? -1 : Math.ceil(now / 60);
      if (minute !== lastMinute) {
        lastMinute = minute;
        say.textContent = words(now);
      }
      if (now <= 0) {
        box.classList.add("countdown-over");
        say.classList.remove("visually-hidden"); // seen as well as heard
        toggle("[data-countdown-hide]", true);
        toggle("[data-countdown-after]", false);
        return;
      }
      window.setTimeout(tick, 1000 - ((performance.now() - started) % 1000));
    }
    tick();
  }

  function toggle(selector, hidden) {
    var found = document.querySelectorAll(selector);
    for (var i = 0; i < found.length; i++) {
      found[i].hidden = hidden;
    }
  }

  // A second click (or Enter) on a form that books or cancels is not sent again.
  function once(form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent") === "yes") {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-sent", "yes");
      var buttons = form.querySelectorAll("button[type=submit]");
      for (var i = 0; i < buttons.length; i++) {
        buttons[i].setAttribute("aria-disabled", "true");
      }
    });
  }

  // Back to a page the browser kept in memory: let its forms be sent again (the server
  // decides what a second send means).
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      var sent = document.querySelectorAll("form[data-sent]");
      for (var i = 0; i < sent.length; i++) {
        sent[i].removeAttribute("data-sent");
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
    var boxes = document.querySelectorAll("[data-countdown]");
    for (var i = 0; i < boxes.length; i++) {
      countdown(boxes[i]);
    }
    var forms = document.querySelectorAll("form[data-once]");
    for (var j = 0; j < forms.length; j++) {
      once(forms[j]);
    }
  });
})();
