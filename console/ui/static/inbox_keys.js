// Parvis inbox: Enter or Space on the focused row of the message list opens it (issue #17; docs/accessibility.md).
// Streamlit's data grid selects a row with Shift+Space only: a plain Enter or Space in the list is turned into
// that keystroke on the same element. Installed once per window; only the inbox list (.st-key-inbox_table) reacts.
// Where the detail pane is under the list (screens under 1 800 px: console/ui/inbox/table.py), a row opened from
// the list (a click, Enter or Space) brings the new message's detail to the top of the screen and moves the focus
// to its heading; « Retour à la liste » goes back to the list (decision 0293). An action in the open message (a
// click, Enter or Space there) redraws the list and the detail: the detail pane is kept where it was on the screen
// and the control used keeps the focus (decision 0310); a refusal's message is brought into view instead.
(function () {
  var w = window.parent && window.parent.document ? window.parent : window;
  if (w.__parvisInboxKeys) { return; }
  w.__parvisInboxKeys = true;
  var doc = w.document;
  var LIST = ".st-key-inbox_table";
  var STACKED = "(max-width: 1799px)";  // table.SIDE_BY_SIDE_MIN_PX - 1, as the layout's CSS
  var OPEN = "[class*='st-key-inbox_msg_']";  // the open message's container, keyed by the message
  var WAIT_MS = 20000;  // how long a click or a key in the list waits for its message to open
  var armed = null;
  var observer = null;

  function openToken() {
    var el = doc.querySelector(OPEN);
    var m = el ? /(?:^|\s)st-key-inbox_msg_(\w+)/.exec(el.className) : null;
    return m ? [el, m[1]] : [null, ""];
  }

  function disarm() {
    armed = null;
    if (observer) { observer.disconnect(); observer = null; }
  }

  var PIN_MS = 3000;  // the rest of the detail is still being drawn: it stays at the top meanwhile
  var pin = null;

  function unpin() {
    if (pin) { w.clearInterval(pin); pin = null; }
  }

  function focusHeading(el) {  // the heading, once drawn; the detail's container until then
    var heading = el.querySelector(".st-key-inbox_heading");
    var target = heading || el;
    target.setAttribute("tabindex", "-1");
    target.focus({preventScroll: true});
    return !!heading;
  }

  function keepAtTop(el, onTick) {  // until the page is long enough to scroll that far, or the user moves
    var margin = parseFloat(w.getComputedStyle(el).scrollMarginTop) || 0;
    var until = Date.now() + PIN_MS;
    el.scrollIntoView({block: "start"});
    unpin();
    pin = w.setInterval(function () {
      if (Date.now() > until || !el.isConnected) { unpin(); return; }
      if (onTick) { onTick(); }
      if (Math.abs(el.getBoundingClientRect().top - margin) > 2) { el.scrollIntoView({block: "start"}); }
    }, 100);
  }

  function bringDetail(el) {
    var focused = focusHeading(el);
    keepAtTop(el, function () { if (!focused && doc.activeElement === el) { focused = focusHeading(el); } });
  }

  ["wheel", "touchstart", "keydown", "pointerdown"].forEach(function (type) {
    doc.addEventListener(type, unpin, {capture: true, passive: true});
  });

  function check() {
    if (!armed) { return; }
    if (Date.now() > armed.until) { disarm(); return; }
    var open = openToken();
    if (!open[1] || open[1] === armed.from) { return; }
    disarm();
    if (w.matchMedia(STACKED).matches) { bringDetail(open[0]); }
  }

  function arm() {  // a row may be opening: watch for another message in the detail pane
    armed = {from: openToken()[1], until: Date.now() + WAIT_MS};
    if (!observer) {
      observer = new w.MutationObserver(check);
      observer.observe(doc.body, {childList: true, subtree: true, attributes: true, attributeFilter: ["class"]});
    }
  }

  doc.addEventListener("pointerdown", function (ev) {
    if (ev.target && ev.target.closest && ev.target.closest(LIST)) { arm(); }
  }, true);

  // An action in the detail pane reruns the list-and-detail fragment; its message becomes the fragment's first
  // element, so Streamlit draws the list and the detail again and the page briefly loses its height (decision 0310).
  // Where the pane is under the list, from a click, Enter or Space in it until the redraw is over, its top is kept
  // where it was by scrolling its scroller (never scrollIntoView), and a control whose focus the redraw took gets
  // it back.
  // A move of the pane with no change to the page (the user, a key or a script scrolled) ends it, as does any
  // pointer, wheel, touch or key outside the pane: a row opened from the list is never held back.
  var PANE = "[data-testid='stHorizontalBlock'] > [data-testid='stColumn']";
  var POPUP = "[data-baseweb='popover']";  // a select box's options, drawn outside the pane
  var KEEP_WAIT_MS = 20000;  // how long an action waits for its rerun
  var SETTLE_MS = 400;  // done once nothing was moved back for this long and nothing is left to redraw
  var keep = null;
  var keepObserver = null;
  var settleTimer = 0;
  var dirty = false;
  var frame = 0;

  function pane() {  // the detail pane: the layout's second column (the open message, or the hint when none is)
    var layout = doc.querySelector(".st-key-inbox_layout");
    var cols = layout ? layout.querySelectorAll(PANE) : [];
    return cols.length > 1 && cols[1].parentElement === cols[0].parentElement ? cols[1] : null;
  }

  function scrollerOf(el) {
    for (var n = el.parentElement; n; n = n.parentElement) {
      var overflow = w.getComputedStyle(n).overflowY;
      if ((overflow === "auto" || overflow === "scroll") && n.scrollHeight > n.clientHeight) { return n; }
    }
    return doc.scrollingElement || doc.documentElement;
  }

  function controlOf(el) {  // a focusable control's keyed container (its st-key- class) and its tag
    var controls = "button, input, textarea, select";
    var control = el && el.closest ? el.closest(controls) || el.querySelector(controls) : null;
    var box = control ? control.closest("[class*='st-key-']") : null;
    var m = box ? /(?:^|\s)(st-key-[\w-]+)/.exec(box.className) : null;
    if (!m || m[1].indexOf("st-key-inbox_") === 0) { return null; }  // not one of the message's own controls
    return "." + w.CSS.escape(m[1]) + " " + control.tagName.toLowerCase();
  }

  // A refusal (an error or a warning: role "alert", unlike a success's "status") is drawn above the list, out of
  // sight once the pane is kept: when the redraw is over, a new one out of view is brought to the screen's middle.
  var ALERT = "[data-testid='stAlertContainer'][role='alert']";

  function alertTexts() {
    return Array.prototype.map.call(doc.querySelectorAll(ALERT), function (a) { return a.innerText; });
  }

  function newRefusal() {  // an alert whose text was not on the page when the action started
    var alerts = doc.querySelectorAll(ALERT);
    for (var i = 0; i < alerts.length; i++) {
      if (keep.alerts.indexOf(alerts[i].innerText) < 0) { return alerts[i]; }
    }
    return null;
  }

  function showRefusal() {
    var alert = newRefusal();
    if (!alert) { return; }
    var box = alert.getBoundingClientRect();
    if (box.bottom < 0 || box.top > w.innerHeight) { alert.scrollIntoView({block: "center"}); }
  }

  function stopKeeping() {
    keep = null;
    if (settleTimer) { w.clearTimeout(settleTimer); settleTimer = 0; }
    if (keepObserver) { keepObserver.disconnect(); keepObserver = null; }
    if (frame) { w.cancelAnimationFrame(frame); frame = 0; }
  }

  function restoreFocus(el) {  // only when the redraw took it: never from the user
    var active = doc.activeElement;
    if (!keep.control || (active && active !== doc.body && active.isConnected)) { return; }
    var control = el.querySelector(keep.control);
    if (control) { control.focus({preventScroll: true}); }
  }

  function keepCheck() {
    frame = 0;
    if (!keep) { return; }
    var el = pane();
    var now = Date.now();
    var redrawing = !!doc.querySelector(".st-key-inbox_layout [data-stale='true']");
    if (keep.fixed && now - keep.fixed > SETTLE_MS && !redrawing) { showRefusal(); stopKeeping(); return; }
    // a refusal may leave the pane where it was: then the page's last change settles it
    if (keep.refused && now - keep.changed > SETTLE_MS && !redrawing) { showRefusal(); stopKeeping(); return; }
    if (now > keep.until) { stopKeeping(); return; }
    if (!keep.refused && newRefusal()) { keep.refused = true; }
    if (!dirty && Math.abs(keep.scroller.scrollTop - keep.at) > 1) { stopKeeping(); return; }  // scrolled
    if (el && el.isConnected) {
      var moved = el.getBoundingClientRect().top - keep.top;
      if (Math.abs(moved) > 2) {
        keep.scroller.scrollTop += moved;
        keep.fixed = now;
      }
      restoreFocus(el);
    }
    keep.at = keep.scroller.scrollTop;
    dirty = false;
    if (settleTimer) { w.clearTimeout(settleTimer); }
    settleTimer = w.setTimeout(scheduleCheck, SETTLE_MS + 50);  // looked at again once the page is quiet
  }

  function scheduleCheck() {
    if (keep && !frame) { frame = w.requestAnimationFrame(keepCheck); }
  }

  function keepPane(target) {  // an action may be starting in the pane: keep the pane where it is now
    var el = pane();
    if (!el || !w.matchMedia(STACKED).matches) { stopKeeping(); return; }  // beside the list: the page stays
    var scroller = scrollerOf(el);
    keep = {top: el.getBoundingClientRect().top, scroller: scroller, at: scroller.scrollTop, fixed: 0,
            until: Date.now() + KEEP_WAIT_MS, control: controlOf(target), alerts: alertTexts(), refused: false,
            changed: 0};
    dirty = false;
    if (!keepObserver) {
      keepObserver = new w.MutationObserver(function () {
        dirty = true;
        if (keep) { keep.changed = Date.now(); }
        scheduleCheck();
      });
      keepObserver.observe(doc.body, {childList: true, subtree: true, attributes: true, characterData: true});
    }
  }

  function inPane(target) {
    var el = pane();
    return !!(el && target && target.closest && el.contains(target) && !target.closest(".parvis-inbox-back"));
  }

  function inPopup(target) {
    return !!(target && target.closest && target.closest(POPUP));
  }

  doc.addEventListener("scroll", scheduleCheck, {capture: true, passive: true});
  doc.addEventListener("pointerdown", function (ev) {
    if (inPane(ev.target)) { keepPane(ev.target); return; }
    var el = pane();
    var open = el ? el.querySelector("[aria-expanded='true']") : null;  // a select box of the pane, open
    if (inPopup(ev.target) && open) { keepPane(open); return; }
    stopKeeping();
  }, true);
  doc.addEventListener("keydown", function (ev) {
    if (inPane(ev.target)) {
      if (ev.key === "Enter" || ev.key === " ") { keepPane(ev.target); }
      return;
    }
    if (!inPopup(ev.target)) { stopKeeping(); }
  }, true);
  ["wheel", "touchstart"].forEach(function (type) {
    doc.addEventListener(type, function (ev) { if (!inPopup(ev.target)) { stopKeeping(); } },
                         {capture: true, passive: true});
  });

  doc.addEventListener("click", function (ev) {
    var back = ev.target && ev.target.closest ? ev.target.closest(".parvis-inbox-back") : null;
    if (!back) { return; }
    ev.preventDefault();
    var list = doc.querySelector(LIST);
    if (!list) { return; }
    var grid = list.querySelector("[data-testid='data-grid-canvas']");
    if (grid) { grid.focus({preventScroll: true}); }
    keepAtTop(doc.querySelector(".st-key-inbox_layout") || list);
  }, true);

  doc.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.altKey || ev.metaKey || ev.isComposing) { return; }
    if (ev.key !== "Enter" && ev.key !== " ") { return; }
    var target = ev.target;
    if (!target || !target.closest || !target.closest(LIST)) { return; }
    // the grid itself (its canvas holds the focus), not the toolbar's buttons nor the search box
    if (!target.closest("[data-testid='data-grid-canvas'], .dvn-scroller")) { return; }
    arm();
    if (ev.shiftKey) { return; }  // the grid's own Shift+Space
    ev.preventDefault();
    ev.stopImmediatePropagation();
    target.dispatchEvent(new KeyboardEvent("keydown", {key: " ", code: "Space", keyCode: 32, which: 32,
                                                      shiftKey: true, bubbles: true, cancelable: true}));
  }, true);
})();
