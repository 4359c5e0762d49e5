/* Repairs to widgets of Django's admin, so that every control has an accessible name (WCAG 2.1
   4.1.2) for screen-reader users. Django's own templates and scripts leave three gaps, all found
   by the accessibility sweep (tests/browser/test_sweep.py):
   - autocomplete selects (select2): the combobox is named after the selected value only, so an
     empty one has no name; it is now labelled by the field's label and its value;
   - date and time inputs of a date-time field: "Date:" and "Time:" are plain text; they become
     <label>s of their inputs;
   - the help icons of the two-list selector carry aria-label on a <span> with no role; they get
     role="img", which allows it.
   Runs on load and again when the admin adds rows (inline formsets) or select2 draws a widget. */
(function () {
  "use strict";

  function labelOf(control) {
    if (!control.id) return null;
    var label = document.querySelector('label[for="' + CSS.escape(control.id) + '"]');
    if (label && !label.id) label.id = control.id + "-label";
    return label;
  }

  function nameAutocompletes(root) {
    root.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var container = select.nextElementSibling;
      var label = labelOf(select);
      if (!label || !container || !container.classList.contains("select2")) return;
      var rendered = container.querySelector(".select2-selection__rendered");
      var combobox = container.querySelector('.select2-selection[role="combobox"]');
      if (combobox) {
        combobox.setAttribute("aria-labelledby", label.id + (rendered && rendered.id ? " " + rendered.id : ""));
      }
      if (rendered) rendered.setAttribute("aria-labelledby", label.id);
    });
  }

  function labelDateTimeParts(root) {
    root.querySelectorAll("p.datetime").forEach(function (paragraph) {
      paragraph.querySelectorAll("input.vDateField, input.vTimeField").forEach(function (input) {
        var text = input.previousSibling;
        if (!input.id || labelledInside(paragraph, input)) return;
        if (text && text.nodeType === Node.TEXT_NODE && text.textContent.trim()) {
          var label = document.createElement("label");
          label.htmlFor = input.id;
          label.textContent = text.textContent.trim();
          paragraph.replaceChild(label, text);
          paragraph.insertBefore(document.createTextNode(" "), input);
        }
      });
    });
  }

  function labelledInside(paragraph, input) {
    return paragraph.querySelector('label[for="' + CSS.escape(input.id) + '"]') !== null;
  }

  function giveTooltipsARole(root) {
    root.querySelectorAll("span.help-tooltip[aria-label]:not([role])").forEach(function (span) {
      span.setAttribute("role", "img");
    });
  }

  function repair(root) {
    nameAutocompletes(root);
    labelDateTimeParts(root);
    giveTooltipsARole(root);
  }

  function start() {
    repair(document);
    var pending = false;
    new MutationObserver(function () {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(function () {
        pending = false;
        repair(document);
      });
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      window.setTimeout(start, 0); // after the admin's own ready handlers have drawn the widgets
    });
  } else {
    start();
  }
})();
