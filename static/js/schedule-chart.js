// Draws the principal/interest chart of a repayment schedule from the JSON in
// #schedule-chart-data; redraws after htmx swaps a new result in.
(function () {
  let chart = null;
  function draw() {
    const canvas = document.getElementById("schedule-chart");
    const source = document.getElementById("schedule-chart-data");
    if (!canvas || !source || typeof Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    if (chart) chart.destroy();
    const num = (list) => list.map(Number);
    chart = new Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          { type: "bar", label: "Principal", data: num(data.principal), backgroundColor: "#0f5d8c", stack: "pay" },
          { type: "bar", label: "Interest", data: num(data.interest), backgroundColor: "#f59e0b", stack: "pay" },
          { type: "line", label: "Balance", data: num(data.balance), borderColor: "#6b7280", pointRadius: 0, yAxisID: "balance" },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, title: { display: true, text: "Payment" } },
          y: { stacked: true, title: { display: true, text: "Payment ($)" } },
          balance: { position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "Balance ($)" } },
        },
      },
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
