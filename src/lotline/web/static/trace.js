// Trace view graph: cytoscape + dagre, drawn from the JSON embedded in the page; a click on a lot
// opens it, a click on a group (lots or customers) asks the server for the graph with it expanded.
(function () {
  "use strict";
  var box = document.getElementById("graph");
  var status = document.getElementById("graph-status");
  if (!box || typeof cytoscape === "undefined") { return; }
  cytoscape.use(cytoscapeDagre);
  var expanded = [];
  var style = [
    { selector: "node", style: { "label": "data(label)", "font-size": 10, "text-valign": "bottom", "text-margin-y": 3,
      "width": 16, "height": 16, "background-color": "#4a6fa5", "text-wrap": "ellipsis", "text-max-width": 110 } },
    { selector: "node[role = 'target']", style: { "shape": "rectangle", "background-color": "#a4161a", "width": 22, "height": 22 } },
    { selector: "node[kind = 'group']", style: { "shape": "diamond", "background-color": "#8a5a00", "width": 24, "height": 24 } },
    { selector: "node[kind = 'customer'], node[kind = 'customers']", style: { "shape": "triangle", "background-color": "#1d6b35" } },
    { selector: "node[kind = 'customers']", style: { "width": 24, "height": 24 } },
    { selector: "node[status = 'blocked'], node[status = 'quarantine']", style: { "border-width": 3, "border-color": "#000" } },
    { selector: "edge", style: { "width": 1, "line-color": "#9aa5b1", "target-arrow-shape": "triangle",
      "target-arrow-color": "#9aa5b1", "curve-style": "bezier", "arrow-scale": 0.7 } }
  ];
  var cy = cytoscape({ container: box, style: style, wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 4 });
  window.lotlineGraph = cy;  // for tests and the benchmark (time to a drawn graph)

  function draw(data) {
    cy.elements().remove();
    cy.add(data.elements);
    var small = data.nodes <= 40;
    var layout = cy.layout({ name: "dagre", rankDir: "LR", nodeSep: small ? 40 : 8, rankSep: small ? 120 : 60, animate: false });
    layout.one("layoutstop", function () {
      cy.fit(undefined, 20);
      if (cy.zoom() > 1.5) { cy.zoom(1.5); cy.center(); }  // a few nodes: readable, not giant
      box.setAttribute("data-drawn", String(Date.now()));
      status.textContent = data.nodes + " nodes shown for " + data.lots + " lots and " + data.customers + " customers" +
        (data.collapsed ? " (grouped by item and depth above " + 200 + " nodes; click a ◆ group to expand it)" : "") + ".";
    });
    layout.run();
  }

  cy.on("tap", "node", function (evt) {
    var d = evt.target.data();
    if (d.kind === "lot") { window.location.href = "/lots/" + d.lot_id; return; }
    if (d.kind === "group" || d.kind === "customers") {
      expanded.push(d.id);
      status.textContent = "Expanding…";
      var url = box.getAttribute("data-url") + expanded.map(function (e) { return "&expand=" + encodeURIComponent(e); }).join("");
      fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { throw new Error("the server answered " + r.status); }
        return r.json();
      }).then(draw).catch(function (err) { status.textContent = "Could not expand: " + err.message; });
    }
  });
  draw(JSON.parse(document.getElementById("graph-data").textContent));
})();
