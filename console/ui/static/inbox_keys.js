// Parvis inbox: Enter or Space on the focused row of the message list opens it (issue #17; docs/accessibility.md).
// Streamlit's data grid selects a row with Shift+Space only: a plain Enter or Space in the list is turned into
// that keystroke on the same element. Installed once per window; only the inbox list (.st-key-inbox_table) reacts.
// Where the detail pane is under the list (screens under 1 800 px: console/ui/inbox/table.py), a row opened from
// the list (a click, Enter or Space) brings the new message's detail to the top of the screen and moves the focus
// to its heading; « Retour à la liste » goes back to the list (decision 0293). Nothing moves otherwise.
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
