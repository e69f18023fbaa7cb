// Lacak permohonan: code + NIK (in X-NIK) -> the status, the delivery with
// PT Pos's receipt number once known, and the history, newest first.

import {
    SERVICE_NAMES, busy, call, clearErrors, codeProblem, digits, el,
    longTime, message, nikProblem, showErrors, showStep, values,
} from "./api.js";

const sections = document.querySelectorAll("main > section");
const $ = (id) => document.getElementById(id);
const form = $("form-cari");
export const STATUS = {
    submitted: "Diajukan", verified: "Diverifikasi", processing: "Sedang diproses",
    completed: "Dokumen selesai dicetak", rejected: "Ditolak",
    batched: "Masuk daftar kiriman PT Pos", in_transit: "Dalam pengiriman PT Pos",
    delivered: "Sudah diterima", returned: "Dikembalikan oleh PT Pos",
    awaiting_pickup: "Siap diambil di kantor", picked_up: "Sudah diambil",
};

for (const b of document.querySelectorAll("[data-kembali]"))
    b.addEventListener("click", () => showStep(sections, b.dataset.kembali));

function show(p) {
    $("status-kode").textContent = p.code;
    $("status-layanan").textContent = SERVICE_NAMES[p.service] || p.service;
    const st = $("status-sekarang");
    st.textContent = STATUS[p.status] || p.status;
    st.className = "status" + (p.status === "rejected" || p.status === "returned" ? " batal"
        : ["delivered", "picked_up"].includes(p.status) ? " selesai" : "");
    const d = p.delivery;
    $("status-kirim").textContent = d.method === "post"
        ? "Dikirim melalui PT Pos" + (d.kecamatan ? " (Kecamatan " + d.kecamatan + ")" : "") +
          (d.office_name ? ". Kini diambil di " + d.office_name : "")
        : "Diambil di kantor" + (d.office_name ? ": " + d.office_name : "");
    $("baris-resi").hidden = !d.tracking_number;
    $("status-resi").textContent = d.tracking_number || "";
    $("riwayat").replaceChildren(...p.history.slice().reverse().map((h) =>
        el("li", {}, el("span", { class: "waktu" }, longTime(h.at)),
           el("strong", {}, STATUS[h.status] || h.status),
           h.note ? el("span", {}, h.note) : null)));
    showStep(sections, "langkah-status");
}

form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = values(form);
    const errors = [];
    const c = codeProblem(v.code, "P", "kode permohonan");
    if (c) errors.push({ field: "code", text: c });
    const n = nikProblem(v.nik);
    if (n) errors.push({ field: "nik", text: n });
    if (errors.length) return showErrors(form, errors);
    busy(form, true);
    const a = await call("GET", "/api/v1/applications/" + encodeURIComponent(v.code.toUpperCase()),
                         { nik: digits(v.nik) });
    busy(form, false);
    if (a.status !== 200) {
        const text = a.data.error === "not_found"
            ? "Kode permohonan dan NIK ini tidak cocok dengan data kami. Periksa kembali kode dan NIK Anda."
            : message(a);
        const field = a.data.error === "not_found" ? "code" : a.data.field === "X-NIK" ? "nik" : null;
        return showErrors(form, [{ field, text }]);
    }
    clearErrors(form);
    show(a.data);
});
