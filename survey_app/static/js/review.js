/* Free-text review at the pace of reading: keyboard shortcuts over the bulk form. The page works without it. */
(function () {
  "use strict";
  var form = document.querySelector("[data-review-bulk]");
  var list = document.querySelector("[data-review-list]");
  if (!form || !list) { return; }
  var rows = Array.prototype.slice.call(list.querySelectorAll("tr[data-answer]"));
  var action = form.querySelector("select[name=action]");
  var category = form.querySelector("input[name=category]");
  var all = list.querySelector("[data-select-all]");
  var current = -1;
  function box(row) { return row.querySelector("input[name=answer]"); }
  function move(to) {
    if (!rows.length) { return; }
    if (current >= 0) { rows[current].classList.remove("review-current"); }
    current = Math.max(0, Math.min(rows.length - 1, to));
    rows[current].classList.add("review-current");
    box(rows[current]).focus();
  }
  function submit(value) {
    if (!rows.some(function (row) { return box(row).checked; })) { return; }
    action.value = value;
    form.requestSubmit ? form.requestSubmit() : form.submit();
  }
  if (all) {
    all.hidden = false;
    all.addEventListener("change", function () {
      rows.forEach(function (row) { box(row).checked = all.checked; });
    });
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (target.closest && target.closest("input:not([type=checkbox]), textarea, select")) { return; }
    var key = event.key.toLowerCase();
    if (key === "j") { move(current + 1); }
    else if (key === "k") { move(current - 1); }
    else if (key === "x" && current >= 0) { box(rows[current]).click(); }
    else if (key === "a") { submit("approve"); }
    else if (key === "r") { submit("reject"); }
    else if (key === "g") { submit("suggested"); }
    else if (key === "c") { action.value = "categorise"; category.focus(); }
    else { return; }
    event.preventDefault();
  });
}());
