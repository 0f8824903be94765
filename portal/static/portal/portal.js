// Small progressive enhancements; every flow works without JavaScript.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Copy buttons (the new API token page): shown only where the clipboard API exists.
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (!target || !navigator.clipboard) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(target.value).then(function () {
          button.textContent = button.getAttribute("data-copied-label") || button.textContent;
        });
      });
    });
    // Bars sized from data attributes (a percentage): the Content-Security-Policy allows no inline style.
    document.querySelectorAll("[data-width]").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, Number(bar.getAttribute("data-width")) || 0)) + "%";
    });
    document.querySelectorAll("[data-left]").forEach(function (mark) {
      mark.style.left = Math.max(0, Math.min(100, Number(mark.getAttribute("data-left")) || 0)) + "%";
    });
    document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
    // Close the user menu with Escape and give focus back to its toggle.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
        menu.open = false;
        menu.querySelector("summary").focus();
      });
    });
  });
})();
