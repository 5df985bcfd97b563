// orgd console: the only script. Everything works without it; it adds
// "Copy" buttons next to values an administrator pastes elsewhere.
(function () {
  "use strict";
  if (!navigator.clipboard) { return; }
  document.querySelectorAll("button.copy[data-copy]").forEach(function (btn) {
    var target = document.getElementById(btn.getAttribute("data-copy"));
    if (!target) { return; }
    btn.hidden = false;
    btn.setAttribute("aria-label", "Copy " + (target.textContent || "").trim().slice(0, 40));
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText((target.textContent || "").trim()).then(function () {
        btn.textContent = "Copied";
        setTimeout(function () { btn.textContent = "Copy"; }, 1500);
      });
    });
  });
})();
