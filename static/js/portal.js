/* Progressive enhancement only: every page works without this file. No inline scripts anywhere;
   pages configure what happens here through data- attributes. */
(function () {
  "use strict";

  var PREFIX = "ccop:unsaved:";

  function getStorage() {
    try {
      var s = window.localStorage;
      s.setItem(PREFIX + "probe", "1");
      s.removeItem(PREFIX + "probe");
      return s;
    } catch (e) {
      return null;
    }
  }

  function $(selector) {
    return selector ? document.querySelector(selector) : null;
  }

  /* ------------------------------------------------------------------ announcements */

  function announce(form, text) {
    var region = $(form.dataset.status);
    if (!region || !text) return;
    region.textContent = "";
    // A short delay so screen readers notice the change of a live region.
    window.setTimeout(function () { region.textContent = text; }, 60);
  }

  function showOffer(form, text, buttons) {
    var box = $(form.dataset.offer);
    if (!box) return;
    box.querySelector("[data-offer-text]").textContent = text;
    var accept = box.querySelector("[data-offer-accept]");
    var discard = box.querySelector("[data-offer-discard]");
    accept.hidden = !buttons.accept;
    discard.hidden = !buttons.discard;
    accept.textContent = form.dataset.msgAccept || "";
    discard.textContent = form.dataset.msgDiscard || "";
    accept.onclick = function () { box.hidden = true; buttons.accept(); };
    discard.onclick = function () { box.hidden = true; buttons.discard(); };
    box.hidden = false;
  }

  /* ------------------------------------------------------------------ form values */

  function kept(el) {
    if (!el.name || el.disabled || el.name === "csrfmiddlewaretoken" || el.name === "revision") return false;
    if (el.type === "hidden") return !/-TOTAL_FORMS$/.test(el.name) && /-id$/.test(el.name);
    return ["submit", "button", "reset", "file", "password"].indexOf(el.type) === -1;
  }

  function keyOf(el) {
    return el.type === "checkbox" || el.type === "radio" ? el.name + "=" + el.value : el.name;
  }

  function read(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked;
    if (el.tagName === "SELECT" && el.multiple) {
      return Array.prototype.filter.call(el.options, function (o) { return o.selected; })
        .map(function (o) { return o.value; });
    }
    return el.value;
  }

  function write(el, value) {
    if (el.type === "checkbox" || el.type === "radio") {
      if (el.checked === value) return false;
      el.checked = value;
      return true;
    }
    if (el.tagName === "SELECT" && el.multiple) {
      var changed = false;
      Array.prototype.forEach.call(el.options, function (o) {
        var want = value.indexOf(o.value) !== -1;
        if (o.selected !== want) { o.selected = want; changed = true; }
      });
      return changed;
    }
    if (el.value === value) return false;
    el.value = value;
    return true;
  }

  /* Every kept field of the form: {key: value}; a checkbox or radio is keyed "name=value". */
  function collect(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (kept(el)) values[keyOf(el)] = read(el);
    });
    return values;
  }

  /* "lines-3-quantity" -> {prefix: "lines", index: "3", field: "quantity", suffix: ""} */
  function parseKey(key) {
    var m = /^([a-z_]+)-(\d+)-([^=]+)(=.*)?$/.exec(key);
    return m ? { prefix: m[1], index: m[2], field: m[3], suffix: m[4] || "" } : null;
  }

  function setKey(form, key, value) {
    var eq = key.indexOf("=");
    var name = eq === -1 ? key : key.slice(0, eq);
    var selector = '[name="' + CSS.escape(name) + '"]' +
      (eq === -1 ? "" : '[value="' + CSS.escape(key.slice(eq + 1)) + '"]');
    var el = form.querySelector(selector);
    return el ? write(el, value) : false;
  }

  /* Add an empty row from the page's <template id="PREFIX-empty-row"> (no network needed);
     returns its index, or null. */
  function addRowLocally(form, prefix) {
    var total = form.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    var template = document.getElementById(prefix + "-empty-row");
    var rows = form.querySelector('[data-rows="' + prefix + '"]');
    if (!total || !template || !rows) return null;
    var index = parseInt(total.value, 10) || 0;
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index)).trim();
    rows.appendChild(holder.firstElementChild);
    total.value = String(index + 1);
    return String(index);
  }

  function has(object, key) {
    return Object.prototype.hasOwnProperty.call(object, key);
  }

  /* Put back what was typed: only the fields the person changed, each row found again by its
     database id (rows may have moved if someone else saved since); rows the person added, or
     that were removed since, come back as new rows. Returns how many fields changed. */
  function apply(form, stored) {
    var base = stored.base || {};
    var changed = stored.changed || {};
    var ids = {};
    form.querySelectorAll('input[type=hidden][name$="-id"]').forEach(function (el) {
      var k = parseKey(el.name);
      if (k && el.value) (ids[k.prefix] = ids[k.prefix] || {})[el.value] = k.index;
    });
    var slots = {};
    function slotFor(prefix, index) {
      var slot = prefix + "-" + index;
      if (has(slots, slot)) return slots[slot];
      var id = has(changed, slot + "-id") ? changed[slot + "-id"] : base[slot + "-id"];
      var now = id && ids[prefix] ? ids[prefix][id] : undefined;
      if (now === undefined) {
        now = addRowLocally(form, prefix);
        if (now !== null && id) {
          // A row removed since: bring all of it back, as a new row.
          Object.keys(base).forEach(function (key) {
            var k = parseKey(key);
            if (k && k.prefix === prefix && k.index === String(index) && k.field !== "id") {
              setKey(form, prefix + "-" + now + "-" + k.field + k.suffix, base[key]);
            }
          });
        }
      }
      slots[slot] = now;
      return now;
    }
    var count = 0;
    Object.keys(changed).forEach(function (key) {
      var k = parseKey(key);
      var target = key;
      if (k) {
        if (k.field === "id") return;
        var index = slotFor(k.prefix, k.index);
        if (index === null) return;
        target = k.prefix + "-" + index + "-" + k.field + k.suffix;
      }
      if (setKey(form, target, changed[key])) count++;
    });
    form.dispatchEvent(new CustomEvent("ccop:refresh", { bubbles: true }));
    return count;
  }

  /* ------------------------------------------------------------------ keep typed input */

  function keepInput(form, storage) {
    var key = PREFIX + form.dataset.keepInput;
    var revision = String(form.dataset.revision);
    var timer = null;
    var stored = null;
    try { stored = JSON.parse(storage.getItem(key) || "null"); } catch (e) { stored = null; }
    form.querySelectorAll("[data-kept-note]").forEach(function (note) { note.hidden = false; });

    // What the server gave for this revision: typed input is what differs from it. A page that
    // echoes a refused save shows the person's own input, so its base is the one kept before.
    var base;
    if (!form.dataset.inputEchoed) base = collect(form);
    else if (stored && String(stored.revision) === revision && stored.base) base = stored.base;
    else base = {};

    function remember() {
      var now = collect(form);
      var changed = {};
      var any = false;
      Object.keys(now).forEach(function (k) {
        if (!has(base, k) || JSON.stringify(base[k]) !== JSON.stringify(now[k])) {
          changed[k] = now[k];
          any = true;
        }
      });
      try {
        if (any) {
          storage.setItem(key, JSON.stringify({ revision: revision, at: Date.now(), base: base, changed: changed }));
        } else {
          storage.removeItem(key);
        }
      } catch (e) {
        // Storage full or refused: the page still works, it just keeps nothing.
      }
    }

    function forget() {
      storage.removeItem(key);
    }

    var hasTyped = Boolean(stored && stored.changed && Object.keys(stored.changed).length);
    if (form.dataset.savedRevision) {
      // 1. The server confirmed a save: what was kept is in the database now.
      forget();
      var url = new URL(window.location.href);
      if (url.searchParams.has("saved")) {
        url.searchParams.delete("saved");
        window.history.replaceState(null, "", url.pathname + url.search + url.hash);
      }
    } else if (form.dataset.inputEchoed) {
      // 2. The server refused the save and shows the person's own input: keep it.
      remember();
    } else if (hasTyped && String(stored.revision) === revision) {
      // 3. Typed on this very version but not saved (session expired, connection lost...).
      apply(form, stored);
      remember();
      announce(form, form.dataset.msgRestored);
      showOffer(form, form.dataset.msgRestored, {
        accept: null,
        discard: function () { forget(); window.location.reload(); },
      });
    } else if (hasTyped) {
      // 4. Typed on an older version that someone else has saved over since: offer, not impose.
      announce(form, form.dataset.msgOffer);
      showOffer(form, form.dataset.msgOffer, {
        accept: function () {
          apply(form, stored);
          remember();
          announce(form, form.dataset.msgRestored);
        },
        discard: function () { forget(); announce(form, form.dataset.msgDiscarded); },
      });
    }

    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(remember, 300);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    // Also right before submitting or leaving, so nothing typed in the last instant is lost.
    form.addEventListener("submit", remember);
    window.addEventListener("pagehide", function () { if (timer) remember(); });
    form.addEventListener("htmx:afterSettle", later);
  }

  /* ------------------------------------------------------------------ formset rows with htmx */

  function focusFirstField(row) {
    var field = row.querySelector("input:not([type=hidden]), select, textarea");
    if (field) field.focus();
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.hasAttribute("data-rows")) return;
    var row = target.lastElementChild;
    if (!row) return;
    focusFirstField(row);
    var form = target.closest("form");
    if (form && row.dataset.addedMessage) announce(form, row.dataset.addedMessage);
  });

  // No connection: add the row from the page's template instead, so work can go on offline.
  document.addEventListener("htmx:sendError", function (event) {
    var button = event.detail.elt;
    if (!button || button.name !== "add") return;
    var form = button.closest("form");
    var index = form ? addRowLocally(form, button.value) : null;
    var row = index === null ? null : document.getElementById(button.value + "-" + index + "-row");
    if (row) focusFirstField(row);
  });

  function init() {
    // A refused save: take the keyboard (and the screen reader) to the list of what to fix.
    var alert = document.querySelector("[data-focus-on-load]");
    if (alert) alert.focus();
    var storage = getStorage();
    if (!storage) return;
    document.querySelectorAll("form[data-keep-input]").forEach(function (form) {
      keepInput(form, storage);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
