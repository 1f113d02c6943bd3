// respite's little script. Every page works without it; with it, a form's error summary takes
// the focus on load, so a screen reader announces it and a keyboard starts there.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  });
})();
