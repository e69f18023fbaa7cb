// Buat janji temu: service and office, a date of the window with what is
// left, NIK, name and phone, the verification code, then the booking
// (POST /api/v1/appointments with the phone_token and an Idempotency-Key
// kept for the retries of the same booking) and its confirmation.

import {
    SERVICE_NAMES, addDays, busy, call, clearErrors, el,
    fillSelect, loadServices, longDate, message, newKey, nikProblem, number,
    phoneProblem, retryable, showErrors, showStep, values, wibToday, digits,
} from "./api.js";
import { PhoneCheck } from "./phone.js";

const WINDOW_DAYS = 14;
const sections = document.querySelectorAll("main > section");
const $ = (id) => document.getElementById(id);
const forms = {
    layanan: $("form-layanan"), tanggal: $("form-tanggal"),
    data: $("form-data"), kode: $("form-kode"),
};
const state = { service: "", office: "", date: "", days: [], attempt: null };
const phoneCheck = new PhoneCheck($("kirim-ulang"));
let data;

const serviceName = () => (data.services.find((s) => s.code === state.service) || {}).name ||
    SERVICE_NAMES[state.service] || state.service;
const officeName = () => (data.offices.find((o) => o.code === state.office) || {}).name || state.office;

for (const b of document.querySelectorAll("[data-kembali]"))
    b.addEventListener("click", () => showStep(sections, b.dataset.kembali));

// --- 1. service and office ---------------------------------------------

// The "coba lagi" page: what failed on a busy or unreachable server is
// tried again, as it was (a booking with its own Idempotency-Key).
let retry = null;

function busyPage(answer, again) {
    retry = again;
    $("sibuk-pesan").textContent = message(answer);
    showStep(sections, "langkah-sibuk");
}

$("coba-lagi").addEventListener("click", () => { if (retry) retry(); });

forms.layanan.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = values(forms.layanan);
    const errors = [];
    if (!v.service) errors.push({ field: "service", text: "Pilih jenis layanan." });
    if (!v.office) errors.push({ field: "office", text: "Pilih kantor layanan." });
    if (errors.length) return showErrors(forms.layanan, errors);
    state.service = v.service;
    state.office = v.office;
    busy(forms.layanan, true);
    const problem = await loadDates();
    busy(forms.layanan, false);
    if (problem) return showErrors(forms.layanan, [{ field: null, text: problem }]);
    clearErrors(forms.layanan);
    showStep(sections, "langkah-tanggal");
});

// --- 2. the dates of the window ------------------------------------------

async function loadDates() {
    const from = wibToday(1);
    const a = await call("GET", "/api/v1/availability?office=" + encodeURIComponent(state.office) +
        "&from=" + from + "&to=" + addDays(from, WINDOW_DAYS - 1));
    if (a.status !== 200) return message(a);
    state.days = a.data.days;
    renderDates();
    return null;
}

function dayState(day) {
    const s = day.services.find((x) => x.service === state.service);
    if (!day.open) return { ok: false, text: day.reason ? "Tutup: " + day.reason : "Tutup", cls: "" };
    if (!s || s.quota === 0) return { ok: false, text: "Tidak ada layanan ini", cls: "" };
    if (s.remaining <= 0) return { ok: false, text: "Kuota penuh", cls: "penuh" };
    return { ok: true, text: "Sisa kuota: " + number(s.remaining) + " dari " + number(s.quota), cls: "" };
}

function renderDates() {
    $("tanggal-keterangan").textContent = serviceName() + " di " + officeName() + ".";
    const list = $("daftar-tanggal");
    list.replaceChildren(...state.days.map((day) => {
        const st = dayState(day);
        const id = "date-" + day.date;
        const input = el("input", { type: "radio", name: "date", value: day.date, id });
        input.disabled = !st.ok;
        if (state.date === day.date && st.ok) input.checked = true;
        const label = el("label", { for: id, class: st.ok ? "" : "tidak-bisa" }, input,
            el("span", {}, longDate(day.date), el("span", { class: "sisa " + st.cls }, st.text)));
        return el("li", {}, el("div", { class: "pilihan" }, label));
    }));
    if (!state.days.some((d) => dayState(d).ok)) {
        list.append(el("li", {}, el("p", {}, "Semua tanggal dalam 14 hari ke depan sudah penuh atau tutup. " +
            "Coba kantor layanan lain, atau periksa lagi besok pagi.")));
    }
}

forms.tanggal.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = values(forms.tanggal);
    if (!v.date) return showErrors(forms.tanggal, [{ field: forms.tanggal.elements.date ? "date" : null,
                                                     text: "Pilih tanggal kunjungan." }]);
    state.date = v.date;
    clearErrors(forms.tanggal);
    $("data-keterangan").textContent = serviceName() + " di " + officeName() + ", " + longDate(state.date) + ".";
    showStep(sections, "langkah-data");
});

// --- 3. NIK, name, phone: a code is sent ----------------------------------

forms.data.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (forms.data.getAttribute("aria-busy") === "true") return;
    const v = values(forms.data);
    const errors = [];
    const nikP = nikProblem(v.nik);
    if (nikP) errors.push({ field: "nik", text: nikP });
    if (!v.name) errors.push({ field: "name", text: "Masukkan nama lengkap Anda." });
    const phoneP = phoneProblem(v.phone);
    if (phoneP) errors.push({ field: "phone", text: phoneP });
    if (errors.length) return showErrors(forms.data, errors);
    clearErrors(forms.data);
    if (phoneCheck.hasToken(v.phone)) return book();
    busy(forms.data, true);
    const problem = await phoneCheck.send(v.phone);
    busy(forms.data, false);
    if (problem && retryable(problem.answer))
        return busyPage(problem.answer, () => forms.data.requestSubmit());
    if (problem) return showErrors(forms.data, [problem]);
    $("kode-terkirim").textContent = "Kami sudah mengirim kode 6 angka ke " + v.phone +
        " melalui WhatsApp atau SMS. Kode berlaku 5 menit.";
    forms.kode.reset();
    clearErrors(forms.kode);
    showStep(sections, "langkah-kode");
});

$("kirim-ulang").addEventListener("click", async () => {
    const problem = await phoneCheck.send(values(forms.data).phone);
    if (problem) showErrors(forms.kode, [{ field: problem.field === "phone" ? null : problem.field, text: problem.text }]);
    else clearErrors(forms.kode);
});

// --- 4. the code confirmed, then the booking ---------------------------

forms.kode.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (forms.kode.getAttribute("aria-busy") === "true") return;
    busy(forms.kode, true);
    const problem = await phoneCheck.confirm(values(forms.kode).otp);
    busy(forms.kode, false);
    if (problem && problem.answer && retryable(problem.answer))
        return busyPage(problem.answer, () => forms.kode.requestSubmit());
    if (problem) return showErrors(forms.kode, [problem]);
    book();
});

// The booking's body, and its Idempotency-Key: the same body keeps its key
// until an answer settles it, so a second tap or a retry books once.
function attempt() {
    const v = values(forms.data);
    const body = {
        nik: digits(v.nik), name: v.name, phone: v.phone, service: state.service,
        office: state.office, date: state.date, phone_token: phoneCheck.token,
    };
    const text = JSON.stringify(body);
    if (!state.attempt || state.attempt.text !== text) state.attempt = { body, text, key: newKey() };
    return state.attempt;
}

let booking = null;

function book() {
    if (!booking) booking = sendBooking().finally(() => { booking = null; });
    return booking;
}

async function sendBooking() {
    const at = attempt();
    document.body.setAttribute("aria-busy", "true");
    const a = await call("POST", "/api/v1/appointments", { body: at.body, key: at.key });
    document.body.removeAttribute("aria-busy");
    if (a.status === 201) {
        state.attempt = null;
        return confirmation(a.data);
    }
    if (retryable(a)) return busyPage(a, book);
    state.attempt = null;
    const err = a.data.error;
    const text = message(a, { serviceName: serviceName(), date: state.date });
    if (err === "quota_full" || err === "invalid_date") {
        state.date = a.data.next_available || "";
        await loadDates();
        showStep(sections, "langkah-tanggal");
        return showErrors(forms.tanggal, [{ field: forms.tanggal.elements.date ? "date" : null, text }]);
    }
    if (err === "unknown_service" || err === "unknown_office") {
        showStep(sections, "langkah-layanan");
        return showErrors(forms.layanan, [{ field: a.data.field, text }]);
    }
    if (err === "invalid_phone_token") {
        phoneCheck.token = null;
    }
    const field = { already_booked: "nik", phone_limit: "phone", invalid_phone_token: "phone" }[err] ||
        (["nik", "name", "phone"].includes(a.data.field) ? a.data.field : null);
    showStep(sections, "langkah-data");
    showErrors(forms.data, [{ field, text }]);
}


// --- 5. the confirmation ------------------------------------------------

function confirmation(b) {
    const ref = (data.ref && data.ref.kantor && data.ref.kantor[b.office]) || {};
    const bring = (data.ref && data.ref.bawa && data.ref.bawa[b.service]) || [];
    $("hasil-kode").textContent = b.code;
    $("hasil-antrean").textContent = String(b.queue_number);
    $("hasil-layanan").textContent = serviceName();
    $("hasil-tanggal").textContent = longDate(b.date);
    $("hasil-kantor").textContent = officeName();
    $("hasil-alamat").textContent = ref.alamat || "Lihat daftar kantor di beranda.";
    $("hasil-jam").textContent = ref.jam || "08.00–15.00 WIB";
    $("hasil-bawa").replaceChildren(...bring.map((t) => el("li", {}, t)));
    const qr = "/api/v1/qr/" + encodeURIComponent(b.code) + ".svg";
    const img = $("hasil-qr");
    img.src = qr;
    img.alt = "Kode QR janji temu " + b.code;
    const save = $("simpan-qr");
    save.href = qr;
    save.setAttribute("download", "janji-temu-" + b.code + ".svg");
    state.booked = b;
    forms.data.reset();
    forms.kode.reset();
    showStep(sections, "langkah-selesai");
}

$("cetak").addEventListener("click", () => window.print());

// an .ics of the appointment, made here: nothing about it leaves the page
function ics(b) {
    const ref = (data.ref && data.ref.kantor && data.ref.kantor[b.office]) || {};
    const day = b.date.replace(/-/g, "");
    const next = addDays(b.date, 1).replace(/-/g, "");
    const stamp = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15) + "Z";
    const esc = (s) => String(s).replace(/[\\;,]/g, (c) => "\\" + c).replace(/\n/g, "\\n");
    return [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Disdukcapil Kota Pekanbaru//Janji Temu//ID",
        "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "BEGIN:VEVENT",
        "UID:" + b.code + "@disdukcapil.pekanbaru.go.id", "DTSTAMP:" + stamp,
        "DTSTART;VALUE=DATE:" + day, "DTEND;VALUE=DATE:" + next,
        "SUMMARY:" + esc("Janji temu " + serviceName() + " - antrean " + b.queue_number),
        "LOCATION:" + esc(officeName() + (ref.alamat ? ", " + ref.alamat : "")),
        "DESCRIPTION:" + esc("Kode janji temu: " + b.code + "\nNomor antrean: " + b.queue_number +
            "\nJam layanan: " + (ref.jam || "08.00-15.00 WIB") + "\nBawa KTP-el/KK asli."),
        "BEGIN:VALARM", "TRIGGER:-PT15H", "ACTION:DISPLAY", "DESCRIPTION:" + esc("Besok janji temu di " + officeName()),
        "END:VALARM", "END:VEVENT", "END:VCALENDAR", "",
    ].join("\r\n");
}

$("kalender").addEventListener("click", () => {
    const b = state.booked;
    const url = URL.createObjectURL(new Blob([ics(b)], { type: "text/calendar" }));
    const a = el("a", { href: url, download: "janji-temu-" + b.code + ".ics" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
});

// --- start ----------------------------------------------------------------

data = await loadServices();
if (data.services.length) fillSelect(forms.layanan.elements.service, data.services, "Pilih jenis layanan");
if (data.offices.length) fillSelect(forms.layanan.elements.office, data.offices, "Pilih kantor layanan");

