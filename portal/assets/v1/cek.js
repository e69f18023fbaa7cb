// Cek / batalkan janji temu: code + NIK (in X-NIK) -> the appointment;
// cancelling asks once more before the DELETE.

import {
    SERVICE_NAMES, busy, call, clearErrors, codeProblem, digits, loadServices,
    longDate, message, nikProblem, showErrors, showStep, values,
} from "./api.js";

const sections = document.querySelectorAll("main > section");
const $ = (id) => document.getElementById(id);
const form = $("form-cari");
const STATUS = {
    booked: "Terjadwal", cancelled: "Dibatalkan", cancelled_by_office: "Dibatalkan oleh kantor layanan",
    checked_in: "Sudah hadir", called: "Sedang dipanggil", served: "Selesai dilayani",
    no_show: "Tidak hadir",
};
let current = null;        // {code, nik} of the appointment shown, in memory only
let data = { offices: [], services: [] };

for (const b of document.querySelectorAll("[data-kembali]"))
    b.addEventListener("click", () => showStep(sections, b.dataset.kembali));

function summaryError(section, text) {
    const s = section.querySelector(".ringkasan-salah");
    s.replaceChildren();
    const h = document.createElement("h2");
    h.textContent = "Ada yang perlu diperbaiki";
    const p = document.createElement("p");
    p.textContent = text;
    s.append(h, p);
    s.hidden = false;
    s.focus();
}

function show(a) {
    const name = (list, code) => (list.find((x) => x.code === code) || {}).name;
    $("janji-kode").textContent = a.code;
    const st = $("janji-status");
    st.textContent = STATUS[a.status] || a.status;
    st.className = "status" + (a.status.startsWith("cancelled") || a.status === "no_show" ? " batal"
        : a.status === "served" ? " selesai" : "");
    $("janji-antrean").textContent = String(a.queue_number);
    $("janji-layanan").textContent = name(data.services, a.service) || SERVICE_NAMES[a.service] || a.service;
    $("janji-tanggal").textContent = longDate(a.date);
    $("janji-kantor").textContent = name(data.offices, a.office) || a.office;
    const why = $("janji-alasan");
    why.hidden = !a.reason;
    why.textContent = a.reason ? "Alasan pembatalan oleh kantor: " + a.reason + "." : "";
    $("mau-batal").hidden = a.status !== "booked";
    $("yakin-keterangan").textContent = "Janji temu " + $("janji-layanan").textContent + " pada " +
        longDate(a.date) + " di " + $("janji-kantor").textContent + ", nomor antrean " + a.queue_number + ".";
    $("langkah-janji").querySelector(".ringkasan-salah").hidden = true;
    showStep(sections, "langkah-janji");
}

form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = values(form);
    const errors = [];
    const c = codeProblem(v.code, "A", "kode janji temu");
    if (c) errors.push({ field: "code", text: c });
    const n = nikProblem(v.nik);
    if (n) errors.push({ field: "nik", text: n });
    if (errors.length) return showErrors(form, errors);
    busy(form, true);
    const nik = digits(v.nik);
    const a = await call("GET", "/api/v1/appointments/" + encodeURIComponent(v.code.toUpperCase()), { nik });
    busy(form, false);
    if (a.status !== 200) {
        const field = a.data.error === "not_found" ? "code" : a.data.field === "X-NIK" ? "nik" : null;
        return showErrors(form, [{ field, text: message(a) }]);
    }
    clearErrors(form);
    current = { code: a.data.code, nik };
    show(a.data);
});

$("mau-batal").addEventListener("click", () => {
    $("langkah-yakin").querySelector(".ringkasan-salah").hidden = true;
    showStep(sections, "langkah-yakin");
});

$("ya-batal").addEventListener("click", async (ev) => {
    const b = ev.currentTarget;
    if (b.disabled) return;
    b.disabled = true;
    const a = await call("DELETE", "/api/v1/appointments/" + encodeURIComponent(current.code), { nik: current.nik });
    b.disabled = false;
    if (a.status === 200) {
        $("batal-kode").textContent = "Kode janji temu: " + current.code;
        form.reset();
        current = null;
        return showStep(sections, "langkah-batal");
    }
    summaryError($("langkah-yakin"), message(a));
});

data = await loadServices();
