// Pengiriman PT Pos: the period's delivery budget (used, left) and the
// batches with their manifests' status.

import { busyWhile, call, el, longDate, number, opsMessage, say, table } from "./ops.js";

const $ = (id) => document.getElementById(id);

const MANIFEST = {
    pending: "Belum dibuat", written: "Sudah dibuat", sent: "Terkirim ke PT Pos",
    acknowledged: "Diterima PT Pos",
    failed: "Gagal dikirim", retrying: "Dikirim ulang",
};

const rupiah = (n) => "Rp" + number(n ?? 0);
const day = (at) => at ? longDate(String(at).slice(0, 10)) : "";

const a = await busyWhile(call("GET", "/api/v1/ops/delivery"));
if (a.status !== 200) {
    say($("pesan"), "gagal", opsMessage(a));
} else {
    const d = a.data;
    const budget = Number(d.budget) || 0;
    const used = Number(d.used) || 0;
    const share = budget ? Math.min(100, Math.round(used * 100 / budget)) : 100;
    const meter = el("div", { class: "meter" + (d.left <= 0 ? " habis" : ""), role: "img",
        "aria-label": "Terpakai " + share + " persen dari anggaran" });
    const fill = el("span");
    fill.style.width = share + "%";   // CSSOM, not a style attribute: the CSP allows it
    meter.append(fill);
    $("anggaran").replaceChildren(
        el("p", {}, "Periode " + (d.period ? day(d.period.from) + " sampai " + day(d.period.to) : "ini") + "."),
        meter,
        el("dl", { class: "rincian" },
            el("div", {}, el("dt", {}, "Anggaran"), el("dd", { id: "anggaran-total" }, rupiah(d.budget))),
            el("div", {}, el("dt", {}, "Terpakai"), el("dd", { id: "anggaran-terpakai" }, rupiah(d.used))),
            el("div", {}, el("dt", {}, "Sisa"), el("dd", { id: "anggaran-sisa" }, rupiah(d.left)))),
        d.left <= 0 ? el("p", { class: "pesan gagal" },
            "Anggaran periode ini sudah habis: warga hanya dapat memilih diambil di kantor.") : null);
    const batches = d.batches || [];
    $("kiriman").replaceChildren(batches.length ? table("Kiriman periode ini", [
        { label: "Nomor", num: true, value: (b) => String(b.id) },
        { label: "Dibuat", value: (b) => day(b.created_at) },
        { label: "Jumlah dokumen", num: true, value: (b) => number(b.item_count ?? 0) },
        { label: "Biaya", num: true, value: (b) => rupiah(b.cost) },
        { label: "Manifes", value: (b) => {
            const m = b.manifest;
            const s = m && typeof m === "object" ? m.status : m;
            return MANIFEST[s] || s || "";
        } },
    ], batches) : el("p", {}, "Belum ada kiriman pada periode ini."));
}
