// Keyboard shortcuts for the review pages. Everything here also works with the mouse or plain forms:
// a shortcut only clicks a button or moves the focus. Shortcuts are off while a field has the focus
// (Esc leaves it); "?" opens the help overlay.
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function visible(el) {
    return el && !el.disabled && !el.closest("[hidden]") && el.offsetParent !== null;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var help = document.getElementById("shortcut-help");
    var comment = document.getElementById("id_comment");
    var hint = document.getElementById("reason-hint");
    var form = document.getElementById("decision-form");
    var editedHint = document.getElementById("edited-hint");
    var fieldInputs = form ? Array.prototype.slice.call(form.querySelectorAll("[data-field-index]")) : [];
    var pending = null; // a first digit, for fields 10 and beyond ("1" then "2" reaches field 12)

    function focusField(field) {
      if (!visible(field)) return false;
      field.focus();
      if (field.select && field.tagName.toLowerCase() === "input") field.select();
      field.scrollIntoView({block: "nearest"});
      return true;
    }

    function edited() {
      return form ? form.querySelectorAll(".field-changed").length > 0 : false;
    }

    document.querySelectorAll("[data-help-open]").forEach(function (button) {
      if (!help || typeof help.showModal !== "function") return;
      button.hidden = false;
      button.addEventListener("click", function () { help.showModal(); });
    });

    // "As suggested" means nothing was changed: with changed values, point at "save corrections".
    document.querySelectorAll("[data-unedited-only]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (edited()) {
          event.preventDefault();
          if (editedHint) editedHint.hidden = false;
        }
      });
    });

    // A decision that needs a reason: without one, point at the comment instead of a round trip.
    document.querySelectorAll("[data-needs-reason]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (comment && !comment.value.trim()) {
          event.preventDefault();
          if (hint) hint.hidden = false;
          comment.focus();
        }
      });
    });

    // Changed fields are marked, so the clerk sees what they corrected before saving.
    if (form) {
      form.querySelectorAll("[data-field]").forEach(function (row) {
        var input = row.querySelector("input, select, textarea");
        if (!input) return;
        var mark = function () {
          row.classList.toggle("field-changed", input.value.trim() !== (row.getAttribute("data-original") || "").trim());
        };
        input.addEventListener("input", mark);
        input.addEventListener("change", mark);
      });
      // The first visible field gets the focus only when asked (keys 1-9), never on load: the page
      // opens ready for shortcuts.
      var submitting = false;
      form.addEventListener("submit", function (event) {
        if (submitting) { event.preventDefault(); return; }
        submitting = true;
      });
    }

    // Where a field's value was read: its boxes on the page image light up while the field is pointed at
    // or has the focus, and the first one scrolls into view when the field gets the focus.
    document.querySelectorAll(".field-row[data-field]").forEach(function (row) {
      var name = row.getAttribute("data-field");
      var marks = document.querySelectorAll('.value-mark[data-mark-field="' + name + '"]');
      if (!marks.length) return;
      var show = function (on) { marks.forEach(function (m) { m.classList.toggle("active", on); }); };
      row.addEventListener("mouseenter", function () { show(true); });
      row.addEventListener("mouseleave", function () { if (!row.contains(document.activeElement)) show(false); });
      row.addEventListener("focusin", function () {
        show(true);
        if (marks[0].scrollIntoView) marks[0].scrollIntoView({block: "nearest"});
      });
      row.addEventListener("focusout", function () { show(false); });
    });

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      if (help && help.open) return; // the dialog handles Esc itself
      // The second digit of a field number arrives while the first field already has the focus.
      if (pending && /^[0-9]$/.test(event.key) && Date.now() - pending.at < 700) {
        var two = form && form.querySelector('[data-field-index="' + pending.digit + event.key + '"]');
        pending = null;
        if (two && focusField(two)) { event.preventDefault(); return; }
      }
      pending = null;
      if (event.key === "Escape") {
        if (typing(event.target)) { event.target.blur(); event.preventDefault(); }
        return;
      }
      // Up and down between fields, from a field too (a select keeps its own arrows).
      if ((event.key === "ArrowDown" || event.key === "ArrowUp") && fieldInputs.length
          && (!typing(event.target) || (event.target.hasAttribute("data-field-index")
              && event.target.tagName.toLowerCase() === "input"))) {
        var at = fieldInputs.indexOf(event.target);
        var next = event.key === "ArrowDown" ? at + 1 : (at < 0 ? fieldInputs.length - 1 : at - 1);
        if (next >= 0 && next < fieldInputs.length && focusField(fieldInputs[next])) event.preventDefault();
        return;
      }
      if (typing(event.target)) return;
      if (event.key === "?") {
        if (help && typeof help.showModal === "function") { help.showModal(); event.preventDefault(); }
        return;
      }
      if (/^[1-9]$/.test(event.key) && form) {
        var field = form.querySelector('[data-field-index="' + event.key + '"]');
        if (form.querySelector('[data-field-index="' + event.key + '0"]')) pending = {digit: event.key, at: Date.now()};
        if (focusField(field)) event.preventDefault();
        return;
      }
      if (event.key === "g" && visible(comment)) { comment.focus(); event.preventDefault(); return; }
      var focusTarget = document.querySelector('[data-shortcut-focus="' + event.key + '"]');
      if (visible(focusTarget)) { focusTarget.focus(); event.preventDefault(); return; }
      var button = document.querySelector('[data-shortcut="' + event.key.toLowerCase() + '"]');
      if (event.key.length === 1 && event.key === event.key.toLowerCase() && visible(button)) {
        event.preventDefault();
        button.click();
      }
    });
  });
})();
