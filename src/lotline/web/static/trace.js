// Trace view graph: cytoscape + dagre, drawn from the JSON embedded in the page; a click on a lot
// opens it, a click on a group (lots or customers) asks the server for the graph with it expanded.
(function () {
  "use strict";
  performance.mark("lotline:scripts-ready");
  var box = document.getElementById("graph");
  var status = document.getElementById("graph-status");
  if (!box || typeof cytoscape === "undefined") { return; }
  cytoscape.use(cytoscapeDagre);
  var expanded = [];
  var style = [
    { selector: "node", style: { "label": "data(label)", "font-size": 10, "text-valign": "bottom", "text-margin-y": 3,
      "width": 16, "height": 16, "background-color": "#4a6fa5" } },
    { selector: "node[role = 'target']", style: { "shape": "rectangle", "background-color": "#a4161a", "width": 22, "height": 22 } },
    { selector: "node[kind = 'group']", style: { "shape": "diamond", "background-color": "#8a5a00", "width": 24, "height": 24 } },
    { selector: "node[kind = 'customer'], node[kind = 'customers']", style: { "shape": "triangle", "background-color": "#1d6b35" } },
    { selector: "node[kind = 'customers']", style: { "width": 24, "height": 24 } },
    { selector: "node[status = 'blocked'], node[status = 'quarantine']", style: { "border-width": 3, "border-color": "#000" } },
    { selector: "edge", style: { "width": 1, "line-color": "#9aa5b1", "target-arrow-shape": "triangle",
      "target-arrow-color": "#9aa5b1", "curve-style": "straight", "arrow-scale": 0.7 } }
  ];
  var cy = cytoscape({ container: box, style: style, wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 4 });
  window.lotlineGraph = cy;  // for tests and the benchmark (time to a drawn graph)

  // Fit without measuring labels (cy.fit does, ~0.1 s on 155 labelled nodes): the nodes' own box,
  // padded for the labels under them; a few nodes stay readable, not giant.
  function fitNodes() {
    var bb = cy.nodes().boundingBox({ includeLabels: false, includeOverlays: false });
    var w = box.clientWidth, h = box.clientHeight, pad = 40;
    var zoom = Math.min((w - 2 * pad) / Math.max(bb.w, 1), (h - 2 * pad) / Math.max(bb.h, 1), 1.5);
    zoom = Math.max(zoom, cy.minZoom());
    cy.viewport({ zoom: zoom, pan: { x: (w - zoom * (bb.x1 + bb.x2)) / 2, y: (h - zoom * (bb.y1 + bb.y2)) / 2 } });
  }

  function draw(data) {
    performance.mark("lotline:draw-start");
    cy.elements().remove();
    cy.add(data.elements);
    // big graphs come laid out by the server (a position on every node): dagre took ~0.4 s on them
    var layout = data.positioned ? cy.layout({ name: "preset", fit: false, animate: false }) :
      cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 40, rankSep: 120, animate: false, fit: false });
    layout.one("layoutstop", function () {
      performance.mark("lotline:laid-out");
      cy.one("render", function () {  // the canvas shows the graph: what the tests and the benchmark wait for
        performance.mark("lotline:drawn");
        box.setAttribute("data-drawn", String(Date.now()));
      });
      fitNodes();
      status.textContent = data.nodes + " nodes shown for " + data.lots + " lots and " + data.customers + " customers" +
        (data.collapsed ? " (grouped by item and depth above " + data.budget + " nodes; click a ◆ group to expand it)" : "") + ".";
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
