// Antrean hari ini: an office's appointments of a date (today by default),
// by service and queue number; filtered by status (the API) and by service
// (here). The choice is kept in the page's address, so a reload keeps it.

import { values } from "../api.js";
import {
    APPOINTMENT_STATUS, busyWhile, call, clock, el, fillOptions, loadServices, longDate, number,
    opsMessage, say, table, wibToday,
} from "./ops.js";

const $ = (id) => document.getElementById(id);
const form = $("form-saring");
const box = $("pesan");

async function show() {
    const v = values(form);
    const q = new URLSearchParams({ office: v.office, date: v.date || wibToday() });
    if (v.status) q.set("status", v.status);
    history.replaceState(null, "", "?" + new URLSearchParams(Object.entries(v).filter(([, x]) => x)));
    const a = await busyWhile(call("GET", "/api/v1/ops/appointments?" + q));
    if (a.status !== 200) {
        $("ringkasan").replaceChildren();
        $("daftar").replaceChildren();
        return say(box, "gagal", opsMessage(a));
    }
    box.hidden = true;
    const list = a.data.appointments.filter((x) => !v.service || x.service === v.service);
    const count = {};
    for (const x of list) count[x.status] = (count[x.status] || 0) + 1;
    $("ringkasan").replaceChildren(el("p", {}, number(list.length) + " janji temu" +
        (list.length ? ": " + Object.entries(count).map(([s, n]) =>
            (APPOINTMENT_STATUS[s] || s).toLowerCase() + " " + number(n)).join(", ") : "") + "."));
    $("daftar").replaceChildren(list.length ? table("Janji temu " + longDate(v.date || wibToday()), [
        { label: "Nomor antrean", num: true, value: (x) => el("strong", {}, String(x.queue_number)) },
        { label: "Layanan", value: (x) => x.service_name || x.service },
        { label: "Nama", value: (x) => x.name },
        { label: "NIK", kode: true, value: (x) => x.nik_masked },
        { label: "Status", value: (x) => el("span", { class: "status" +
            (x.status === "called" ? " panggil" : x.status === "served" ? " selesai"
                : x.status === "no_show" || x.status.startsWith("cancelled") ? " batal" : "") },
            APPOINTMENT_STATUS[x.status] || x.status) },
        { label: "Dipanggil", num: true, value: (x) => x.calls ? x.calls + "×" : "" },
        { label: "Loket", value: (x) => x.counter || "" },
        { label: "Hadir", value: (x) => clock(x.checked_in_at) },
        { label: "Panggilan pertama", value: (x) => clock(x.called_at) },
        { label: "Selesai", value: (x) => clock(x.finished_at) },
        { label: "Kode", kode: true, value: (x) => x.code },
    ], list) : el("p", {}, "Tidak ada janji temu yang cocok dengan pilihan ini."));
}

form.addEventListener("submit", (ev) => { ev.preventDefault(); show(); });

const data = await busyWhile(loadServices());
fillOptions(form.elements.office, data.offices, null);
fillOptions(form.elements.service, data.services, "Semua layanan");
const asked = new URLSearchParams(location.search);
for (const k of ["office", "date", "service", "status"])
    if (asked.get(k)) form.elements[k].value = asked.get(k);
if (!form.elements.date.value) form.elements.date.value = wibToday();
await show();
