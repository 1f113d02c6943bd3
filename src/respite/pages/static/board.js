/* The board's grid by keyboard, as the WAI-ARIA grid pattern has it: the grid is one stop of
   Tab (a roving tabindex), arrow keys move between cells, Home and End go to the start and
   end of a row (with Ctrl, of the grid), Page Up and Page Down move ten rows, and Enter opens
   the cell's link (the browser's own action on a focused link). Loaded by the board page
   only. Without it the page works the same: every cell's link is reached by Tab. */
(function () {
  "use strict";
  var grid = document.querySelector("table[data-board]");
  if (!grid) return;
  var rows = grid.rows;
  var current = null;

  // What takes the focus in a cell: its link, or the cell itself (a header, a total).
  function target(cell) {
    return cell.querySelector("a[href]") || cell;
  }

  function focusAt(r, c) {
    r = Math.max(0, Math.min(rows.length - 1, r));
    var cells = rows[r].cells;
    c = Math.max(0, Math.min(cells.length - 1, c));
    var el = target(cells[c]);
    if (current && current !== el) current.tabIndex = -1;
    el.tabIndex = 0;
    current = el;
    el.focus();
  }

  var links = grid.querySelectorAll("a[href]");
  for (var i = 0; i < links.length; i++) links[i].tabIndex = -1;
  // The first bed's row, at today's night when it is shown.
  var today = rows[0].querySelector('[aria-current="date"]');
  var start = rows.length > 1 ? rows[1].cells[today ? today.cellIndex : 1] || rows[1].cells[0] : rows[0].cells[0];
  current = target(start);
  current.tabIndex = 0;
  // The keys work now: say so.
  var keys = document.querySelector("[data-board-keys]");
  if (keys) keys.hidden = false;

  grid.addEventListener("focusin", function (event) {
    var el = event.target;
    if (el === current || !el.closest) return;
    if (current) current.tabIndex = -1;
    el.tabIndex = 0;
    current = el;
  });

  grid.addEventListener("keydown", function (event) {
    var cell = event.target.closest && event.target.closest("th, td");
    if (!cell || event.altKey || event.metaKey) return;
    var r = cell.parentElement.rowIndex, c = cell.cellIndex;
    var last = rows[r].cells.length - 1;
    switch (event.key) {
      case "ArrowRight": focusAt(r, c + 1); break;
      case "ArrowLeft": focusAt(r, c - 1); break;
      case "ArrowDown": focusAt(r + 1, c); break;
      case "ArrowUp": focusAt(r - 1, c); break;
      case "PageDown": focusAt(r + 10, c); break;
      case "PageUp": focusAt(r - 10, c); break;
      case "Home": focusAt(event.ctrlKey ? 0 : r, 0); break;
      case "End": focusAt(event.ctrlKey ? rows.length - 1 : r, last); break;
      default: return;
    }
    event.preventDefault();
  });
})();
