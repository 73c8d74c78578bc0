/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";
  // Error summary links: focus the field and bring its question (legend or label) into view.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (!link) { return; }
    var input = document.getElementById(link.getAttribute("href").slice(1));
    if (!input || !input.focus) { return; }
    var group = input.closest(".form-group");
    var heading = group && group.querySelector("legend, label");
    event.preventDefault();
    (heading || input).scrollIntoView();
    input.focus({ preventScroll: true });
  });
  // "None of these" (data-exclusive): ticking it clears the other boxes, ticking another clears it.
  // Captured first, so the "Other" box below syncs with the boxes as they end up; nothing is announced.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.checked || box.type !== "checkbox" || !box.closest) { return; }
    var group = box.closest(".choices");
    if (!group || !group.querySelector("input[data-exclusive]")) { return; }
    var exclusive = box.hasAttribute("data-exclusive");
    group.querySelectorAll("input[type=checkbox]:checked").forEach(function (other) {
      if (other !== box && (exclusive || other.hasAttribute("data-exclusive"))) { other.checked = false; }
    });
  }, true);
  // "Other – please specify": show the text box only while Other is chosen (always shown without JS).
  var others = document.querySelectorAll(".conditional");
  function sync(box) {
    var choice = box.previousElementSibling && box.previousElementSibling.querySelector("input");
    var input = box.querySelector("input");
    if (!choice || !input) { return; }
    box.hidden = !choice.checked && !input.value && !box.closest(".form-group-error");
  }
  others.forEach(function (box) {
    sync(box);
    var group = box.closest("fieldset");
    if (group) { group.addEventListener("change", function () { sync(box); }); }
  });
}());
