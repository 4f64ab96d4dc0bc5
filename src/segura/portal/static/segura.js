// The map's tooltip: follows the pointer (or the keyboard focus) over a municipality.
// Everything works without this script: each shape has a <title> and is a link.
(function () {
  "use strict";
  var tip = document.getElementById("tip");
  if (!tip) { return; }
  function show(area, x, y) {
    tip.textContent = area.getAttribute("aria-label");
    tip.hidden = false;
    tip.style.left = (x + 12) + "px";
    tip.style.top = (y + 12) + "px";
  }
  function hide() { tip.hidden = true; }
  document.querySelectorAll("svg.map a.area").forEach(function (area) {
    area.addEventListener("mousemove", function (e) { show(area, e.clientX, e.clientY); });
    area.addEventListener("mouseleave", hide);
    area.addEventListener("focus", function () {
      var r = area.getBoundingClientRect();
      show(area, r.left + r.width / 2, r.top + r.height / 2);
    });
    area.addEventListener("blur", hide);
  });
})();
