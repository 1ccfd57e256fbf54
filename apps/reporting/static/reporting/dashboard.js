// The reports dashboard: reads /api/v1/reports/* with the admin session, draws Chart.js charts.
(function () {
  "use strict";
  const API = "/api/v1/reports/";
  const names = JSON.parse(document.getElementById("property-names").textContent);
  const charts = {};
  const status = document.getElementById("report-status");

  function query(extra) {
    const form = new FormData(document.getElementById("report-picker"));
    const params = new URLSearchParams();
    for (const [key, value] of form.entries()) if (value) params.set(key, value);
    for (const [key, value] of Object.entries(extra || {})) params.set(key, value);
    return params.toString();
  }

  async function report(name, extra) {
    const response = await fetch(`${API}${name}/?${query(extra)}`, { credentials: "same-origin",
      headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`${name}: ${response.status} ${await response.text()}`);
    return response.json();
  }

  function sumBy(rows, key, value) {
    const sums = new Map();
    for (const row of rows) sums.set(row[key], (sums.get(row[key]) || 0) + value(row));
    return sums;
  }

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart(document.getElementById(id), config);
  }

  const periodsOf = (rows) => [...new Set(rows.map((r) => r.period))].sort();
  const hours = (seconds) => Math.round((seconds / 3600) * 10) / 10;

  async function refresh() {
    status.textContent = "Loading…";
    try {
      const [repairs, complaints, visitors, assets, amenities, parcels, moves] = await Promise.all([
        report("repairs"), report("complaints"), report("visitors"), report("assets"),
        report("amenities"), report("parcels"), report("moves")]);
      const periods = periodsOf(repairs);
      const opened = sumBy(repairs, "period", (r) => r.opened);
      const resolved = sumBy(repairs, "period", (r) => r.resolved);
      draw("chart-repairs", { type: "line", data: { labels: periods, datasets: [
        { label: "Opened", data: periods.map((p) => opened.get(p) || 0) },
        { label: "Resolved", data: periods.map((p) => resolved.get(p) || 0) }] } });

      const properties = [...new Set(repairs.map((r) => r.property_id))].sort((a, b) => a - b);
      draw("chart-backlog", { type: "line", data: { labels: periods, datasets: properties.map((id) => {
        const backlog = sumBy(repairs.filter((r) => r.property_id === id), "period", (r) => r.backlog);
        return { label: names[id] || `#${id}`, data: periods.map((p) => backlog.get(p) || 0) };
      }) } });

      const timed = repairs.filter((r) => r.resolutions);
      const count = sumBy(timed, "category", (r) => r.resolutions);
      const total = sumBy(timed, "category", (r) => r.resolutions * r.resolve_avg_seconds);
      const categories = [...count.keys()].sort();
      draw("chart-resolve", { type: "bar", data: { labels: categories, datasets: [
        { label: "Average hours to resolve", data: categories.map((c) => hours(total.get(c) / count.get(c))) }] } });

      const arrivals = sumBy(visitors, "hour", (r) => r.arrivals);
      const dayHours = [...Array(24).keys()];
      draw("chart-visitors", { type: "bar", data: { labels: dayHours.map((h) => `${h}:00`), datasets: [
        { label: "Arrivals", data: dayHours.map((h) => arrivals.get(h) || 0) }] } });

      const complaintPeriods = periodsOf(complaints);
      const filed = sumBy(complaints, "period", (r) => r.filed);
      const closed = sumBy(complaints, "period", (r) => r.resolved);
      const rated = sumBy(complaints, "period", (r) => r.rated);
      const stars = sumBy(complaints, "period", (r) => r.rated * (r.rating_avg || 0));
      draw("chart-complaints", { data: { labels: complaintPeriods, datasets: [
        { type: "bar", label: "Filed", data: complaintPeriods.map((p) => filed.get(p) || 0) },
        { type: "bar", label: "Resolved", data: complaintPeriods.map((p) => closed.get(p) || 0) },
        { type: "line", label: "Average rating", yAxisID: "rating",
          data: complaintPeriods.map((p) => (rated.get(p) ? stars.get(p) / rated.get(p) : null)) }] },
        options: { scales: { rating: { position: "right", min: 1, max: 5 } } } });

      const value = sumBy(assets, "category", (r) => Number(r.total_cost));
      const assetCategories = [...value.keys()].sort();
      draw("chart-assets", { type: "bar", data: { labels: assetCategories, datasets: [
        { label: "Total value", data: assetCategories.map((c) => value.get(c)) }] } });

      const amenityName = (r) => `${r.amenity} (${names[r.property_id] || `#${r.property_id}`})`;
      const amenityNames = [...new Set(amenities.map(amenityName))].sort();
      const sumAmenity = (value) => sumBy(amenities.map((r) => ({ ...r, name: amenityName(r) })), "name", value);
      const [booked, cancelled, noShows, bookedHours, openHours] = [
        (r) => r.bookings, (r) => r.cancellations, (r) => r.no_shows, (r) => r.booked_hours,
        (r) => r.open_hours].map(sumAmenity);
      draw("chart-amenities", { data: { labels: amenityNames, datasets: [
        { type: "bar", label: "Bookings", data: amenityNames.map((a) => booked.get(a)) },
        { type: "bar", label: "Cancellations", data: amenityNames.map((a) => cancelled.get(a)) },
        { type: "bar", label: "No-shows", data: amenityNames.map((a) => noShows.get(a)) },
        { type: "line", label: "Utilisation %", yAxisID: "share",
          data: amenityNames.map((a) => (openHours.get(a) ? Math.round((1000 * bookedHours.get(a)) / openHours.get(a)) / 10 : null)) }] },
        options: { scales: { share: { position: "right", min: 0, max: 100 } } } });
      const parcelPeriods = periodsOf(parcels);
      const received = sumBy(parcels, "period", (r) => r.received);
      const pickedUp = sumBy(parcels, "period", (r) => r.picked_up);
      const returned = sumBy(parcels, "period", (r) => r.returned);
      // Percentiles do not add up across properties: the slowest property's is shown.
      const slowest = (key) => new Map(parcelPeriods.map((p) => [
        p, Math.max(0, ...parcels.filter((r) => r.period === p && r[key] !== null).map((r) => r[key]))]));
      const median = slowest("pickup_median_seconds");
      const p90 = slowest("pickup_p90_seconds");
      draw("chart-parcels", { data: { labels: parcelPeriods, datasets: [
        { type: "bar", label: "Received", data: parcelPeriods.map((p) => received.get(p) || 0) },
        { type: "bar", label: "Picked up", data: parcelPeriods.map((p) => pickedUp.get(p) || 0) },
        { type: "bar", label: "Returned", data: parcelPeriods.map((p) => returned.get(p) || 0) },
        { type: "line", label: "Median hours to pickup", yAxisID: "hours",
          data: parcelPeriods.map((p) => hours(median.get(p))) },
        { type: "line", label: "90th percentile hours to pickup", yAxisID: "hours",
          data: parcelPeriods.map((p) => hours(p90.get(p))) }] },
        options: { scales: { hours: { position: "right", min: 0 } } } });
      const movePeriods = periodsOf(moves);
      const movedIn = sumBy(moves, "period", (r) => r.moved_in);
      const movedOut = sumBy(moves, "period", (r) => r.moved_out);
      draw("chart-moves", { type: "bar", data: { labels: movePeriods, datasets: [
        { label: "Moved in", data: movePeriods.map((p) => movedIn.get(p) || 0) },
        { label: "Moved out", data: movePeriods.map((p) => movedOut.get(p) || 0) }] } });
      status.textContent = "";
      document.body.dataset.reportsLoaded = "true";
    } catch (error) {
      status.textContent = `Could not load the reports: ${error.message}`;
    }
  }

  document.getElementById("report-picker").addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  refresh();
})();
