// Pengiriman PT Pos: the period's delivery budget (counted in deliveries:
// used by the batches, pending for post applications not yet batched, what
// is left for new ones) and the period's batches, newest first, with their
// manifest's state and their deliveries by status.

import { busyWhile, call, clock, el, longDate, number, opsMessage, say, table } from "./ops.js";

const $ = (id) => document.getElementById(id);
const count = (n) => n === null || n === undefined ? "-" : number(n);

function budget(d) {
    if (d.budget === null || d.budget === undefined) {
        return [el("p", {}, "Belum ada periode anggaran pengiriman yang berlaku hari ini. " +
            "Periode dibuat oleh penjadwal malam.")];
    }
    const spent = d.used + d.pending;
    const share = d.budget ? Math.min(100, Math.round(spent * 100 / d.budget)) : 100;
    const meter = el("div", { class: "meter" + (d.left <= 0 ? " habis" : ""), role: "img",
        "aria-label": "Terpakai dan dipesan " + share + " persen dari anggaran" });
    const fill = el("span");
    fill.style.width = share + "%";   // CSSOM, not a style attribute: the CSP allows it
    meter.append(fill);
    return [
        el("p", {}, "Periode " + longDate(d.period.from) + " sampai " + longDate(d.period.to) + "."),
        meter,
        el("dl", { class: "rincian" },
            el("div", {}, el("dt", {}, "Anggaran"), el("dd", { id: "anggaran-total" }, count(d.budget) + " pengiriman")),
            el("div", {}, el("dt", {}, "Terpakai (sudah masuk kiriman)"),
                el("dd", { id: "anggaran-terpakai" }, count(d.used))),
            el("div", {}, el("dt", {}, "Menunggu (permohonan PT Pos belum dikirim)"),
                el("dd", { id: "anggaran-menunggu" }, count(d.pending))),
            el("div", {}, el("dt", {}, "Sisa untuk permohonan baru"),
                el("dd", { id: "anggaran-sisa" }, count(d.left)))),
        d.left <= 0 ? el("p", { class: "pesan gagal" },
            "Anggaran periode ini sudah habis: warga hanya dapat memilih diambil di kantor.") : null,
    ];
}

function manifest(b) {
    const m = b.manifest || {};
    return m.status === "written"
        ? "Sudah dibuat" + (m.written_at ? ", " + longDate(m.written_at.slice(0, 10)) + " " +
            clock(m.written_at) + " WIB" : "")
        : "Belum dibuat";
}

function deliveries(b) {
    const d = b.deliveries || {};
    return [["delivered", "diterima"], ["in_transit", "dalam perjalanan"], ["batched", "menunggu kurir"],
        ["returned", "dikembalikan"]].filter(([k]) => d[k]).map(([k, w]) => number(d[k]) + " " + w)
        .join(", ");
}

const a = await busyWhile(call("GET", "/api/v1/ops/delivery"));
if (a.status !== 200) {
    say($("pesan"), "gagal", opsMessage(a));
} else {
    const d = a.data;
    $("anggaran").replaceChildren(...budget(d).filter(Boolean));
    const batches = d.batches || [];
    $("kiriman").replaceChildren(batches.length ? table(
        "Kiriman periode ini" + (d.batch_count > batches.length
            ? " (" + number(batches.length) + " terbaru dari " + number(d.batch_count) + ")" : ""), [
            { label: "Kode kiriman", kode: true, value: (b) => b.code },
            { label: "Malam", value: (b) => longDate(b.night) },
            { label: "Kecamatan", value: (b) => b.kecamatan_name || b.kecamatan },
            { label: "Dokumen", num: true, value: (b) => number(b.item_count) },
            { label: "Manifes", value: manifest },
            { label: "Pengiriman", value: deliveries },
        ], batches) : el("p", {}, "Belum ada kiriman pada periode ini."));
}
