// The console's few conveniences; every page works without them.
// - A stock opinion (同意, 已阅) fills the text box it stands above.
// - 打印 prints the card alone (the print stylesheet leaves out navigation and forms).
// - A picker's search box hides the units or people whose names do not contain it.
// - 全选 on the 待办 ticks every row that may be taken in a batch (or unticks them all).
"use strict";
document.addEventListener("click", function (e) {
  if (e.target.closest("button[data-print]")) {
    window.print();
    return;
  }
  if (e.target.closest("button#pick-all")) {
    var boxes = document.querySelectorAll("input[name=pick][form=batch]");
    var all = Array.prototype.every.call(boxes, function (b) { return b.checked; });
    boxes.forEach(function (b) { b.checked = !all; });
    return;
  }
  var b = e.target.closest("button[data-fill]");
  if (!b) return;
  var box = b.closest("label").querySelector("textarea");
  if (box) {
    box.value = b.getAttribute("data-fill");
    box.focus();
  }
});
document.addEventListener("input", function (e) {
  var f = e.target;
  if (!f.matches("input[data-filter]")) return;
  var words = f.value.trim();
  f.closest("[data-picks]").querySelectorAll("label.pick").forEach(function (l) {
    var group = l.closest("[data-group]");
    var text = l.textContent + (group ? group.getAttribute("data-group") : "");
    l.hidden = words !== "" && text.indexOf(words) < 0;
  });
});
