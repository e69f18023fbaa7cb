// Statistik: the day's figures of GET /api/v1/ops/stats (30 days up to today
// by default), as bar charts drawn here in SVG (no library), a table of the
// same numbers, and the CSV of the API.

import { addDays, values } from "../api.js";
import {
    busyWhile, call, el, fillOptions, loadServices, longDate, number, opsMessage, say, table,
    wibToday,
} from "./ops.js";

const $ = (id) => document.getElementById(id);
const form = $("form-saring");
const box = $("pesan");
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
}

// the step of the scale's 4 lines: a whole 1, 2 or 5 times a power of ten
function tick(x) {
    const p = Math.pow(10, Math.floor(Math.log10(Math.max(x, 1))));
    const m = x / p;
    return Math.max(1, (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p);
}

const short = (date) => date.slice(8, 10) + "/" + date.slice(5, 7);

// A chart of one bar per day, the series stacked: series [{key, label, cls}]
function bars(title, days, series, unit = "") {
    const W = 1100, H = 300, left = 56, right = 12, top = 16, bottom = 44;
    const total = (d) => series.reduce((a, s) => a + (Number(d[s.key]) || 0), 0);
    const ceil = 4 * tick(Math.max(1, ...days.map(total)) / 4);
    const y = (v) => top + (H - top - bottom) * (1 - v / ceil);
    const slot = (W - left - right) / Math.max(1, days.length);
    const g = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img" });
    g.append(svg("title", {}, title));
    for (let i = 0; i <= 4; i++) {
        const v = ceil * i / 4;
        g.append(svg("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "garis-bantu" }),
            svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, number(Math.round(v)) + unit));
    }
    days.forEach((d, i) => {
        let base = 0;
        const x = left + i * slot + slot * 0.15;
        for (const s of series) {
            const v = Number(d[s.key]) || 0;
            if (v > 0) {
                const r = svg("rect", { x, y: y(base + v), width: slot * 0.7,
                    height: y(base) - y(base + v), class: s.cls });
                r.append(svg("title", {}, longDate(d.date) + ": " + s.label.toLowerCase() + " " + number(v) + unit));
                g.append(r);
            }
            base += v;
        }
        if (days.length <= 31 && (i % Math.ceil(days.length / 15) === 0))
            g.append(svg("text", { x: x + slot * 0.35, y: H - bottom + 16, "text-anchor": "middle" }, short(d.date)));
    });
    g.append(svg("line", { x1: left, x2: W - right, y1: y(0), y2: y(0), class: "sumbu" }));
    return el("figure", { class: "grafik" },
        el("figcaption", {}, el("h2", {}, title)),
        el("ul", { class: "legenda" }, ...series.map((s) => el("li", {}, el("span", { class: s.cls }), s.label))),
        g);
}

// the offices' figures of a date added up (office: all)
function perDay(from, to, rows) {
    const byDate = {};
    for (let d = from; d <= to; d = addDays(d, 1))
        byDate[d] = { date: d, booked: 0, checked_in: 0, served: 0, no_show: 0, cancelled: 0, quota: 0,
            wait: [], wait90: [] };
    for (const r of rows) {
        const t = byDate[r.date];
        if (!t) continue;
        for (const k of ["booked", "checked_in", "served", "no_show", "cancelled", "quota"])
            t[k] += Number(r[k]) || 0;
        if (r.wait_median_seconds != null) t.wait.push(r.wait_median_seconds);
        if (r.wait_p90_seconds != null) t.wait90.push(r.wait_p90_seconds);
    }
    return Object.values(byDate).map((t) => ({ ...t,
        wait_median: t.wait.length ? Math.round(Math.max(...t.wait) / 60) : 0,
        wait_p90: t.wait90.length ? Math.round(Math.max(...t.wait90) / 60) : 0,
        other: Math.max(0, t.booked - t.served - t.no_show - t.cancelled) }));
}

async function show() {
    const v = values(form);
    const q = new URLSearchParams({ from: v.from, to: v.to });
    if (v.office) q.set("office", v.office);
    history.replaceState(null, "", "?" + q);
    const csv = new URLSearchParams(q);
    csv.set("format", "csv");
    $("unduh").href = "/api/v1/ops/stats?" + csv;
    const a = await busyWhile(call("GET", "/api/v1/ops/stats?" + q));
    if (a.status !== 200) {
        $("grafik").replaceChildren();
        $("tabel").replaceChildren();
        return say(box, "gagal", opsMessage(a));
    }
    box.hidden = true;
    const from = a.data.from || v.from, to = a.data.to || v.to;
    const days = perDay(from, to, a.data.days || []);
    $("grafik").replaceChildren(
        bars("Janji temu per hari", days, [
            { key: "served", label: "Dilayani", cls: "b2" },
            { key: "no_show", label: "Tidak hadir", cls: "b3" },
            { key: "cancelled", label: "Dibatalkan", cls: "b4" },
            { key: "other", label: "Lainnya (terjadwal, hadir)", cls: "b1" }]),
        bars("Waktu tunggu dari check-in sampai dipanggil (menit)", days, [
            { key: "wait_median", label: "Median (kantor terlama)", cls: "b1" }], ""),
        bars("Pengiriman PT Pos per hari", (a.data.deliveries || []).map((d) => ({ ...d })), [
            { key: "delivered", label: "Diterima", cls: "b2" },
            { key: "batched", label: "Masuk kiriman", cls: "b1" },
            { key: "failed", label: "Gagal", cls: "b3" },
            { key: "returned", label: "Dikembalikan", cls: "b4" }]));
    $("tabel").replaceChildren(table("Angka per hari, " + longDate(from) + " sampai " + longDate(to), [
        { label: "Tanggal", value: (d) => longDate(d.date) },
        { label: "Janji temu", num: true, value: (d) => number(d.booked) },
        { label: "Hadir", num: true, value: (d) => number(d.checked_in) },
        { label: "Dilayani", num: true, value: (d) => number(d.served) },
        { label: "Tidak hadir", num: true, value: (d) => number(d.no_show) },
        { label: "Dibatalkan", num: true, value: (d) => number(d.cancelled) },
        { label: "Kuota", num: true, value: (d) => number(d.quota) },
        { label: "Kuota terisi", num: true, value: (d) => d.quota
            ? Math.round(Math.max(0, d.booked - d.cancelled) * 100 / d.quota) + "%" : "" },
        { label: "Tunggu median (menit)", num: true, value: (d) => number(d.wait_median) },
        { label: "Tunggu p90 (menit)", num: true, value: (d) => number(d.wait_p90) },
    ], days.slice().reverse()));
}

form.addEventListener("submit", (ev) => { ev.preventDefault(); show(); });

const data = await busyWhile(loadServices());
fillOptions(form.elements.office, data.offices, "Semua kantor");
const asked = new URLSearchParams(location.search);
form.elements.office.value = asked.get("office") || "";
form.elements.to.value = asked.get("to") || wibToday();
form.elements.from.value = asked.get("from") || addDays(form.elements.to.value, -29);
await show();
