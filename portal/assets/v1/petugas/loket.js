// Loket: the counter's office, number and services are kept in this
// browser (localStorage: no citizen's data there). "Panggil berikutnya"
// calls the lowest number checked in for those services; "Panggil ulang"
// puts the citizen back in the queue and calls again at this counter (the
// third unanswered call makes a no-show); "Selesai" and "Tidak hadir"
// close the call. Each button has a key of its own.

import { showErrors, clearErrors, values } from "../api.js";
import {
    busyWhile, call, el, fillOptions, loadServices, officeName, opsMessage, say,
    serviceName, step, clock,
} from "./ops.js";

const $ = (id) => document.getElementById(id);
const KEY = "dukcapil.petugas.loket";
const form = $("form-loket");
const box = $("pesan");
let data = { offices: [], services: [] };
let desk = null;        // {office, counter, services}
let current = null;     // the appointment called at this counter

function saved() {
    try {
        const d = JSON.parse(localStorage.getItem(KEY) || "null");
        if (d && d.office && d.counter && Array.isArray(d.services) && d.services.length) return d;
    } catch (e) { /* nothing kept */ }
    return null;
}

function setup() {
    fillOptions(form.elements.office, data.offices, null);
    $("daftar-layanan").replaceChildren(...data.services.map((s) => el("div", { class: "pilihan" },
        el("label", {}, el("input", { type: "checkbox", name: "services", value: s.code,
            id: "layanan-" + s.code }), s.name))));
    const d = desk || saved();
    if (d) {
        form.elements.office.value = d.office;
        form.elements.counter.value = d.counter;
        for (const c of form.querySelectorAll("input[name=services]")) c.checked = d.services.includes(c.value);
    }
}

function showSection(id) {
    $("atur").hidden = id !== "atur";
    $("layani").hidden = id !== "layani";
    document.title = (id === "atur" ? "Loket" : "Loket " + desk.counter) + " - Petugas Disdukcapil Pekanbaru";
}

function buttons() {
    $("panggil").disabled = !!current;
    $("ulang").disabled = !current;
    $("selesai").disabled = !current;
    $("absen").disabled = !current;
}

function showCurrent() {
    $("warga").hidden = !current;
    if (current) {
        $("warga-nomor").textContent = String(current.queue_number);
        $("warga-layanan").textContent = current.service_name || serviceName(data, current.service);
        $("warga-nama").textContent = current.name || "";
        $("warga-nik").textContent = current.nik_masked || "";
        $("warga-panggilan").textContent = (current.calls || 1) + " kali" +
            (current.called_at ? ", pertama pukul " + clock(current.called_at) + " WIB" : "");
        $("warga-kode").textContent = current.code;
    }
    buttons();
}

async function waiting() {
    const a = await call("GET", "/api/v1/ops/appointments?office=" + encodeURIComponent(desk.office) +
        "&status=checked_in");
    if (a.status !== 200) { $("menunggu").textContent = ""; return; }
    const n = a.data.appointments.filter((x) => desk.services.includes(x.service)).length;
    $("menunggu").textContent = n ? "Menunggu untuk layanan loket ini: " + n + " warga."
        : "Tidak ada warga yang menunggu untuk layanan loket ini.";
}

// after a reload: the citizen this counter called and has not closed yet
async function restore() {
    const a = await call("GET", "/api/v1/ops/appointments?office=" + encodeURIComponent(desk.office) +
        "&status=called");
    if (a.status !== 200) return;
    current = a.data.appointments.find((x) => x.counter === desk.counter) || null;
}

async function start() {
    $("judul-loket").textContent = "Loket " + desk.counter;
    $("loket-keterangan").textContent = officeName(data, desk.office) + ". Layanan: " +
        desk.services.map((s) => serviceName(data, s)).join(", ") + ".";
    box.hidden = true;
    showSection("layani");
    await busyWhile(Promise.all([restore(), waiting()]));
    showCurrent();
    (current ? $("selesai") : $("panggil")).focus();
}

form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = values(form);
    const services = Array.from(form.querySelectorAll("input[name=services]:checked"), (c) => c.value);
    const errors = [];
    if (!v.office) errors.push({ field: "office", text: "Pilih kantor layanan." });
    if (!/^[0-9A-Za-z-]{1,16}$/.test(v.counter || ""))
        errors.push({ field: "counter", text: "Masukkan nomor loket: angka, huruf, atau tanda hubung, paling banyak 16." });
    if (!services.length) errors.push({ field: "services", text: "Pilih paling sedikit satu layanan." });
    if (errors.length) return showErrors(form, errors);
    clearErrors(form);
    desk = { office: v.office, counter: v.counter, services };
    localStorage.setItem(KEY, JSON.stringify(desk));
    current = null;
    start();
});

async function callNext(before) {
    const a = await step("/api/v1/ops/counters/" + encodeURIComponent(desk.counter) + "/call",
        { office: desk.office, services: desk.services });
    if (a.status === 200) {
        current = a.data;
        say(box, "berhasil", ...(before || []), "Memanggil nomor " + current.queue_number + ", " +
            (current.service_name || serviceName(data, current.service)) + ".");
        showCurrent();
        $("selesai").focus();
    } else {
        current = null;
        say(box, a.data.error === "queue_empty" ? "" : "gagal", ...(before || []), opsMessage(a));
        showCurrent();
        $("panggil").focus();
    }
}

async function act(what) {
    if (document.body.hasAttribute("aria-busy")) return;
    if (what !== "panggil" && !current) return;
    await busyWhile((async () => {
        if (what === "panggil") {
            if (current) {
                say(box, "gagal", "Selesaikan dulu nomor " + current.queue_number +
                    ": pilih Selesai atau Tidak hadir.");
                $("selesai").focus();
                return;
            }
            await callNext();
        } else if (what === "ulang") {
            const was = current;
            const r = await step("/api/v1/ops/appointments/" + encodeURIComponent(was.code) + "/recall",
                {}, undefined, was.code);
            if (r.status !== 200) return say(box, "gagal", opsMessage(r));
            current = null;
            const note = r.data.status === "no_show"
                ? ["Nomor " + was.queue_number + " sudah dipanggil 3 kali dan dicatat tidak hadir."] : [];
            await callNext(note);
        } else {
            const path = what === "selesai" ? "/served" : "/absent";
            const was = current;
            const r = await step("/api/v1/ops/appointments/" + encodeURIComponent(was.code) + path,
                {}, undefined, was.code);
            if (r.status !== 200) return say(box, "gagal", opsMessage(r));
            current = null;
            showCurrent();
            say(box, "berhasil", "Nomor " + was.queue_number + (what === "selesai"
                ? " selesai dilayani." : " dicatat tidak hadir."));
            $("panggil").focus();
        }
        await waiting();
    })());
}

for (const id of ["panggil", "ulang", "selesai", "absen"])
    $(id).addEventListener("click", () => act(id));

document.addEventListener("keydown", (ev) => {
    if ($("layani").hidden || ev.ctrlKey || ev.altKey || ev.metaKey) return;
    if (ev.target.closest("input, select, textarea")) return;
    const id = { p: "panggil", u: "ulang", s: "selesai", t: "absen" }[ev.key.toLowerCase()];
    if (!id || $(id).disabled) return;
    ev.preventDefault();
    act(id);
});

$("ubah-loket").addEventListener("click", () => {
    setup();
    showSection("atur");
    form.elements.office.focus();
});

// the queue grows while the operator serves: its length looked at again
setInterval(() => {
    if (desk && !$("layani").hidden && !document.body.hasAttribute("aria-busy")) waiting();
}, 15000);

data = await busyWhile(loadServices());
desk = saved();
setup();
if (desk) start();
else { showSection("atur"); form.elements.office.focus(); }
