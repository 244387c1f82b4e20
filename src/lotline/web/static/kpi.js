// KPI run page charts (Chart.js): top-N bars of one KPI across a dimension of this run, and the
// KPI's overall value over published runs. Data come from the console's JSON routes.
(function () {
  "use strict";
  var barsEl = document.getElementById("bars");
  if (!barsEl || typeof Chart === "undefined") { return; }
  var kpiSel = document.getElementById("chart-kpi"), bySel = document.getElementById("chart-by");
  var bars = null, series = null;
  function get(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("the server answered " + r.status); }
      return r.json();
    });
  }
  function draw() {
    var kpi = kpiSel.value;
    get("/kpi/runs/" + barsEl.dataset.run + "/bars.json?top=15&kpi=" + encodeURIComponent(kpi) + "&by=" + bySel.value).then(function (d) {
      if (bars) { bars.destroy(); }
      bars = new Chart(barsEl, { type: "bar", data: { labels: d.labels, datasets: [{ label: kpi + (d.units ? " (" + d.units + ")" : ""), data: d.values, backgroundColor: "#4a6fa5" }] },
        options: { indexAxis: "y", animation: false, maintainAspectRatio: false } });
      barsEl.setAttribute("data-drawn", String(d.values.length));
    });
    get("/kpi/series.json?kpi=" + encodeURIComponent(kpi)).then(function (d) {
      if (series) { series.destroy(); }
      series = new Chart(document.getElementById("series"), { type: "line", data: { labels: d.labels, datasets: [{ label: kpi + " overall", data: d.values, borderColor: "#a4161a", pointStyle: "rectRot", pointRadius: 5 }] },
        options: { animation: false, maintainAspectRatio: false, spanGaps: true } });
    });
  }
  kpiSel.addEventListener("change", draw);
  bySel.addEventListener("change", draw);
  draw();
})();
