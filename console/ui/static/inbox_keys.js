// Parvis inbox: Enter or Space on the focused row of the message list opens it (issue #17; docs/accessibility.md).
// Streamlit's data grid selects a row with Shift+Space only: a plain Enter or Space in the list is turned into
// that keystroke on the same element. Installed once per window; only the inbox list (.st-key-inbox_table) reacts.
(function () {
  var w = window.parent && window.parent.document ? window.parent : window;
  if (w.__parvisInboxKeys) { return; }
  w.__parvisInboxKeys = true;
  w.document.addEventListener("keydown", function (ev) {
    if (ev.shiftKey || ev.ctrlKey || ev.altKey || ev.metaKey || ev.isComposing) { return; }
    if (ev.key !== "Enter" && ev.key !== " ") { return; }
    var target = ev.target;
    if (!target || !target.closest || !target.closest(".st-key-inbox_table")) { return; }
    // the grid itself (its canvas holds the focus), not the toolbar's buttons nor the search box
    if (!target.closest("[data-testid='data-grid-canvas'], .dvn-scroller")) { return; }
    ev.preventDefault();
    ev.stopImmediatePropagation();
    target.dispatchEvent(new KeyboardEvent("keydown", {key: " ", code: "Space", keyCode: 32, which: 32,
                                                      shiftKey: true, bubbles: true, cancelable: true}));
  }, true);
})();
