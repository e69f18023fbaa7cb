// Ajukan permohonan: the delivery rules first, then the applicant, how the
// document reaches them (an office, or PT Pos to an address whose
// kelurahan list follows the kecamatan and fills the postal code), the
// verification code, and the submission (POST /api/v1/applications with
// the phone_token and an Idempotency-Key kept for its retries).

import {
    busy, call, clearErrors, digits, fillSelect, loadServices, message,
    newKey, nikProblem, phoneProblem, retryable, showErrors, showStep, values,
    SERVICE_NAMES,
} from "./api.js";
import { PhoneCheck } from "./phone.js";

const sections = document.querySelectorAll("main > section");
const $ = (id) => document.getElementById(id);
const forms = { data: $("form-data"), kirim: $("form-kirim"), kode: $("form-kode") };
const phoneCheck = new PhoneCheck($("kirim-ulang"));
const DATA_FIELDS = ["nik", "kk", "name", "phone", "service"];
const ADDRESS_FIELDS = ["street", "rt", "rw", "kelurahan", "kecamatan", "postal_code"];
let data = { offices: [], services: [] };
let alamat = null;
let attemptNow = null;
let sending = null;

for (const b of document.querySelectorAll("[data-kembali]"))
    b.addEventListener("click", () => showStep(sections, b.dataset.kembali));

// The "coba lagi" page: what failed on a busy or unreachable server is
// tried again, as it was (a submission with its own Idempotency-Key).
let retry = null;

function busyPage(answer, again) {
    retry = again;
    $("sibuk-pesan").textContent = message(answer).replace("Jika janji temu", "Jika permohonan");
    showStep(sections, "langkah-sibuk");
}

$("coba-lagi").addEventListener("click", () => { if (retry) retry(); });

$("mulai").addEventListener("click", () => showStep(sections, "langkah-data"));

// --- the applicant --------------------------------------------------------

forms.data.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = values(forms.data);
    const errors = [];
    if (!v.service) errors.push({ field: "service", text: "Pilih jenis dokumen." });
    const n = nikProblem(v.nik);
    if (n) errors.push({ field: "nik", text: n });
    if (!/^\d{16}$/.test(digits(v.kk))) errors.push({ field: "kk", text: v.kk
        ? "Nomor KK harus 16 angka, seperti tertulis di bagian atas Kartu Keluarga."
        : "Masukkan nomor Kartu Keluarga (KK) Anda." });
    if (!v.name) errors.push({ field: "name", text: "Masukkan nama lengkap Anda." });
    const p = phoneProblem(v.phone);
    if (p) errors.push({ field: "phone", text: p });
    if (errors.length) return showErrors(forms.data, errors);
    clearErrors(forms.data);
    showStep(sections, "langkah-kirim");
});

// --- how the document reaches the citizen ----------------------------------

async function loadAlamat() {
    if (!alamat) {
        try {
            alamat = await (await fetch("/assets/v1/alamat.json")).json();
        } catch (e) {
            alamat = { kecamatan: [] };
        }
        fillSelect(forms.kirim.elements.kecamatan,
                   alamat.kecamatan.map((k) => ({ code: k.name, name: k.name })), "Pilih kecamatan");
    }
}

function showMethod() {
    const m = values(forms.kirim).method;
    $("bagian-ambil").hidden = m !== "pickup";
    $("bagian-pos").hidden = m !== "post";
    if (m === "post") loadAlamat();
}
for (const r of forms.kirim.elements.method) r.addEventListener("change", showMethod);

forms.kirim.elements.kecamatan.addEventListener("change", () => {
    const k = alamat.kecamatan.find((x) => x.name === forms.kirim.elements.kecamatan.value);
    fillSelect(forms.kirim.elements.kelurahan,
               k ? k.kelurahan.map(([name]) => ({ code: name, name })) : [],
               k ? "Pilih kelurahan" : "Pilih kecamatan dulu");
    forms.kirim.elements.kelurahan.value = "";
});

forms.kirim.elements.kelurahan.addEventListener("change", () => {
    const k = alamat.kecamatan.find((x) => x.name === forms.kirim.elements.kecamatan.value);
    const kel = k && k.kelurahan.find(([name]) => name === forms.kirim.elements.kelurahan.value);
    if (kel) forms.kirim.elements.postal_code.value = kel[1];
});

function deliveryProblems(v) {
    const errors = [];
    if (!v.method) errors.push({ field: "method", text: "Pilih cara menerima dokumen." });
    if (v.method === "pickup" && !v.office) errors.push({ field: "office", text: "Pilih kantor pengambilan." });
    if (v.method === "post") {
        if (!v.street) errors.push({ field: "street", text: "Masukkan nama jalan dan nomor rumah." });
        if (!/^\d{1,3}$/.test(v.rt)) errors.push({ field: "rt", text: "Masukkan nomor RT (1 sampai 3 angka)." });
        if (!/^\d{1,3}$/.test(v.rw)) errors.push({ field: "rw", text: "Masukkan nomor RW (1 sampai 3 angka)." });
        if (!v.kecamatan) errors.push({ field: "kecamatan", text: "Pilih kecamatan." });
        if (!v.kelurahan) errors.push({ field: "kelurahan", text: "Pilih kelurahan." });
        if (!/^\d{5}$/.test(v.postal_code)) errors.push({ field: "postal_code", text: "Masukkan kode pos 5 angka." });
    }
    return errors;
}

forms.kirim.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (forms.kirim.getAttribute("aria-busy") === "true") return;
    const errors = deliveryProblems(values(forms.kirim));
    if (errors.length) return showErrors(forms.kirim, errors);
    clearErrors(forms.kirim);
    const phone = values(forms.data).phone;
    if (phoneCheck.hasToken(phone)) return submit();
    busy(forms.kirim, true);
    const problem = await phoneCheck.send(phone);
    busy(forms.kirim, false);
    if (problem && retryable(problem.answer))
        return busyPage(problem.answer, () => forms.kirim.requestSubmit());
    if (problem) {
        if (problem.field === "phone") {
            showStep(sections, "langkah-data");
            return showErrors(forms.data, [problem]);
        }
        return showErrors(forms.kirim, [problem]);
    }
    $("kode-terkirim").textContent = "Kami sudah mengirim kode 6 angka ke " + phone +
        " melalui WhatsApp atau SMS. Kode berlaku 5 menit.";
    forms.kode.reset();
    clearErrors(forms.kode);
    showStep(sections, "langkah-kode");
});

$("kirim-ulang").addEventListener("click", async () => {
    const problem = await phoneCheck.send(values(forms.data).phone);
    if (problem) showErrors(forms.kode, [{ field: null, text: problem.text }]);
    else clearErrors(forms.kode);
});

// --- the code, then the submission ---------------------------------------

forms.kode.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (forms.kode.getAttribute("aria-busy") === "true") return;
    busy(forms.kode, true);
    const problem = await phoneCheck.confirm(values(forms.kode).otp);
    busy(forms.kode, false);
    if (problem && problem.answer && retryable(problem.answer))
        return busyPage(problem.answer, () => forms.kode.requestSubmit());
    if (problem) return showErrors(forms.kode, [problem]);
    submit();
});

function attempt() {
    const d = values(forms.data);
    const k = values(forms.kirim);
    const delivery = { method: k.method };
    if (k.method === "pickup") delivery.office = k.office;
    else delivery.address = {
        street: k.street, rt: k.rt, rw: k.rw, kelurahan: k.kelurahan,
        kecamatan: k.kecamatan, postal_code: k.postal_code,
    };
    const body = {
        nik: digits(d.nik), kk: digits(d.kk), name: d.name, phone: d.phone,
        service: d.service, delivery, phone_token: phoneCheck.token,
    };
    const text = JSON.stringify(body);
    if (!attemptNow || attemptNow.text !== text) attemptNow = { body, text, key: newKey() };
    return attemptNow;
}

function submit() {
    if (!sending) sending = send().finally(() => { sending = null; });
    return sending;
}

async function send() {
    const at = attempt();
    const a = await call("POST", "/api/v1/applications", { body: at.body, key: at.key });
    if (a.status === 201) {
        attemptNow = null;
        return done(a.data, at.body);
    }
    if (retryable(a)) return busyPage(a, submit);
    attemptNow = null;
    const err = a.data.error;
    let text = message(a);
    if (err === "invalid_phone_token") phoneCheck.token = null;
    let field = a.data.field === "phone_token" ? "phone" : a.data.field;
    if (err === "delivery_budget_exhausted") {
        // pickup chosen for the citizen, at the office the API offers first
        field = "method";
        const offices = a.data.pickup_offices || [];
        if (offices.length) {
            text += " Kami pilihkan kantor terdekat: " + offices[0].name +
                ". Anda dapat memilih kantor lain.";
            forms.kirim.elements.method.value = "pickup";
            showMethod();
            forms.kirim.elements.office.value = offices[0].code;
        }
    }
    if (field === "delivery") field = "method";
    if (field === "address") field = "street";
    if (DATA_FIELDS.includes(field) || !field) {
        showStep(sections, "langkah-data");
        return showErrors(forms.data, [{ field: DATA_FIELDS.includes(field) ? field : null, text }]);
    }
    showStep(sections, "langkah-kirim");
    showErrors(forms.kirim, [{ field: ["method", "office", ...ADDRESS_FIELDS].includes(field) ? field : null, text }]);
}


function done(p, body) {
    $("hasil-kode").textContent = p.code;
    const svc = data.services.find((s) => s.code === body.service);
    $("hasil-layanan").textContent = (svc && svc.name) || SERVICE_NAMES[body.service];
    const office = data.offices.find((o) => o.code === body.delivery.office);
    const a = body.delivery.address;
    $("hasil-kirim").textContent = body.delivery.method === "pickup"
        ? "Diambil di " + ((office && office.name) || body.delivery.office)
        : "Dikirim melalui PT Pos ke " + a.street + ", RT " + a.rt + "/RW " + a.rw + ", " +
          a.kelurahan + ", " + a.kecamatan + ", Pekanbaru " + a.postal_code;
    forms.data.reset();
    forms.kode.reset();
    showStep(sections, "langkah-selesai");
}

$("cetak").addEventListener("click", () => window.print());

data = await loadServices();
const services = data.services.filter((s) => s.code !== "ambil");
if (services.length) fillSelect(forms.data.elements.service, services, "Pilih jenis dokumen");
if (data.offices.length) fillSelect(forms.kirim.elements.office, data.offices, "Pilih kantor pengambilan");
