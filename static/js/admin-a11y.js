/* Repairs to widgets of Django's admin, so that every control has an accessible name (WCAG 2.1
   4.1.2) for screen-reader users. Django's own templates and scripts leave three gaps, all found
   by the accessibility sweep (tests/browser/test_sweep.py):
   - autocomplete selects (select2): the combobox is named after the selected value only, so an
     empty one has no name; it is now labelled by the field's label and its value;
   - date and time inputs of a date-time field: "Date:" and "Time:" are plain text; they become
     <label>s of their inputs;
   - the help icons of the two-list selector carry aria-label on a <span> with no role; they get
     role="img", which allows it;
   - fields in table cells (list_editable columns, tabular inlines) have their label only in the
     column's header; each gets the header's words and its row's name as its aria-label;
   - a tabular inline wider than a phone scrolls sideways; when it holds nothing focusable (read
     only), it becomes a focusable, named region, so keyboard users can scroll it.
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

  function columnHeader(cell) {
    var table = cell.closest("table");
    var head = table && table.tHead && table.tHead.rows[0];
    if (!head) return "";
    var position = 0;
    for (var i = 0; i < cell.parentNode.children.length; i++) {
      if (cell.parentNode.children[i] === cell) break;
      position += cell.parentNode.children[i].colSpan || 1;
    }
    var column = 0;
    for (var j = 0; j < head.cells.length; j++) {
      column += head.cells[j].colSpan || 1;
      if (column > position) return head.cells[j].textContent.trim();
    }
    return "";
  }

  function rowName(row) {
    var named = row && row.querySelector("th, td.original p");
    return named ? named.textContent.trim() : "";
  }

  function nameTableControls(root) {
    root.querySelectorAll("#result_list td, .inline-group .tabular td").forEach(function (cell) {
      cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (control) {
        if ((control.labels && control.labels.length) || control.hasAttribute("aria-label")) return;
        var name = [columnHeader(cell), rowName(cell.parentNode)].filter(Boolean).join(" – ");
        if (name) control.setAttribute("aria-label", name);
      });
    });
  }

  function focusableScrollRegions(root) {
    root.querySelectorAll(".inline-group").forEach(function (region) {
      if (!region.querySelector("table") || region.hasAttribute("tabindex")) return;
      if (region.querySelector("a[href], button, input:not([type=hidden]), select, textarea, [tabindex]")) return;
      region.tabIndex = 0;
      region.setAttribute("role", "region");
      var heading = region.querySelector("h2");
      if (heading) {
        if (!heading.id) heading.id = region.id + "-heading";
        region.setAttribute("aria-labelledby", heading.id);
      }
    });
  }

  function repair(root) {
    nameAutocompletes(root);
    labelDateTimeParts(root);
    giveTooltipsARole(root);
    nameTableControls(root);
    focusableScrollRegions(root);
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
