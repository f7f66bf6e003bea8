// The KPI page's charts: the figures come in the page (#dashboard-charts, made by
// console/dashboard.py); ECharts draws them. Counts get whole-number axes, percentages 0-100.
(function () {
  "use strict";
  var charts = JSON.parse(document.getElementById("dashboard-charts").textContent);
  var colours = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd"];

  function option(chart) {
    var percent = chart.unit === "percent";
    var series = chart.series.map(function (line, i) {
      var drawn = {name: line.name, type: chart.kind, data: line.data, connectNulls: false,
                   itemStyle: {color: colours[i % colours.length]}};
      if (chart.goal !== null && i === 0) {
        drawn.markLine = {symbol: "none", silent: true, lineStyle: {color: "#d62728", type: "dashed"},
                          label: {formatter: chart.goal + " %", position: "insideEndTop"},
                          data: [{yAxis: chart.goal}]};
      }
      return drawn;
    });
    var values = percent
      ? {type: "value", min: 0, max: 100, axisLabel: {formatter: "{value} %"}}
      : {type: "value", min: 0, minInterval: 1};
    var categories = {type: "category", name: chart.axis, nameLocation: "middle", nameGap: 34,
                      data: chart.categories};
    // Named categories (dispositions) read best as horizontal bars, the largest on top:
    // every label has room. Days and weeks run left to right.
    var sideways = chart.id === "dispositions";
    if (sideways) {
      categories = {type: "category", data: chart.categories, inverse: true};
    }
    return {
      animation: false,
      tooltip: {trigger: "axis", valueFormatter: function (v) {
        return v === null || v === undefined ? "-" : (percent ? v + " %" : String(v));
      }},
      legend: {top: 0},
      grid: sideways ? {left: 8, right: 24, top: 36, bottom: 8, containLabel: true}
                     : {left: 48, right: 16, top: 36, bottom: 56},
      xAxis: sideways ? values : categories,
      yAxis: sideways ? categories : values,
      series: series
    };
  }

  var drawn = [];
  charts.forEach(function (chart) {
    var place = document.querySelector('[data-chart="' + chart.id + '"]');
    if (!place || chart.empty) return;
    var view = window.echarts.init(place, null, {renderer: "canvas"});
    view.setOption(option(chart));
    place.dataset.drawn = "yes";
    drawn.push(view);
  });
  window.addEventListener("resize", function () {
    drawn.forEach(function (view) { view.resize(); });
  });
})();
