// Kuota: one service's quota at one office on one date (PUT
// /api/v1/ops/quota, stored then applied at once), beside what citizens
// see for the week from that date (the public availability).

import { addDays, clearErrors, newKey, showErrors, values } from "../api.js";
import {
    busyWhile, call, el, fillOptions, loadServices, longDate, number, opsMessage, say,
    serviceName, table, wibToday,
} from "./ops.js";

const $ = (id) => document.getElementById(id);
const form = $("form-kuota");
const box = $("pesan");
let data = { offices: [], services: [] };

async function availability() {
    const v = values(form);
    const from = v.date || wibToday(1);
    const a = await call("GET", "/api/v1/availability?office=" + encodeURIComponent(v.office) +
        "&from=" + from + "&to=" + addDays(from, 6));
    if (a.status !== 200) {
        $("ketersediaan").replaceChildren(el("p", {}, opsMessage(a)));
        return;
    }
    const rows = [];
    for (const d of a.data.days) {
        for (const s of d.services) rows.push({ ...s, date: d.date, dayOpen: d.open, reason: d.reason });
    }
    $("ketersediaan").replaceChildren(table("Ketersediaan " + longDate(from) + " sampai " +
        longDate(addDays(from, 6)), [
        { label: "Tanggal", value: (r) => longDate(r.date) },
        { label: "Layanan", value: (r) => serviceName(data, r.service) },
        { label: "Kuota", num: true, value: (r) => number(r.quota ?? 0) },
        { label: "Terisi", num: true, value: (r) => number(r.booked ?? 0) },
        { label: "Sisa", num: true, value: (r) => number(r.remaining ?? 0) },
        { label: "Keterangan", value: (r) => !r.dayOpen ? (r.reason || "Tutup") :
            r.remaining <= 0 ? "Kuota penuh" : r.open ? "Dapat dipesan" : "Tidak dapat dipesan warga" },
    ], rows.filter((r) => !v.service || r.service === v.service)));
}

form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = values(form);
    const errors = [];
    if (!/^\d{4}-\d\d-\d\d$/.test(v.date || "") || v.date < wibToday())
        errors.push({ field: "date", text: "Pilih tanggal hari ini atau sesudahnya." });
    if (!/^\d{1,6}$/.test(v.quota || "") || Number(v.quota) > 100000)
        errors.push({ field: "quota", text: "Kuota harus berupa angka 0 sampai 100.000." });
    if (errors.length) return showErrors(form, errors);
    const body = { office: v.office, service: v.service, date: v.date, quota: Number(v.quota) };
    const a = await busyWhile(call("PUT", "/api/v1/ops/quota", { body, key: newKey() }));
    if (a.status !== 200) {
        const field = ["office", "service", "date", "quota"].includes(a.data.field) ? a.data.field : null;
        return showErrors(form, [{ field, text: opsMessage(a) }]);
    }
    clearErrors(form);
    say(box, "berhasil", "Kuota " + serviceName(data, a.data.service) + " pada " + longDate(a.data.date) +
        " sekarang " + number(a.data.quota) + ".");
    await busyWhile(availability());
});

for (const name of ["office", "service", "date"])
    form.elements[name].addEventListener("change", () => busyWhile(availability()));

data = await busyWhile(loadServices());
fillOptions(form.elements.office, data.offices, null);
fillOptions(form.elements.service, data.services, null);
form.elements.date.value = wibToday(1);
form.elements.date.min = wibToday();
await busyWhile(availability());
