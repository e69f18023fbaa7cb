// Beranda: today's situation (what is left of tomorrow's quota at the MPP,
// from the availability API) and the offices with their addresses.

import { call, el, loadServices, longDate, number, wibToday, addDays } from "./api.js";

async function situation(data) {
    const box = document.getElementById("situasi");
    const office = data.offices[0];
    if (!office) return;
    const from = wibToday(1);
    const a = await call("GET", "/api/v1/availability?office=" + office.code +
        "&from=" + from + "&to=" + addDays(from, 6));
    if (a.status !== 200) return;
    const day = a.data.days.find((d) => d.open);
    if (!day) return;
    const names = Object.fromEntries(data.services.map((s) => [s.code, s.name]));
    const when = day.date === from ? "besok" : longDate(day.date);
    const list = el("ul");
    for (const s of day.services) {
        list.append(el("li", {}, "Kuota " + (names[s.service] || s.service) +
            (day.date === from ? " besok" : "") + ": ",
            el("strong", {}, s.remaining > 0 ? number(s.remaining) + " tersisa" : "penuh")));
    }
    box.replaceChildren(
        el("p", {}, "Janji temu di " + office.name + " untuk " +
            (when === "besok" ? "besok, " + longDate(day.date) : when) + ":"),
        list,
        el("p", {}, el("a", { href: "/janji-temu" }, "Buat janji temu")));
}

function offices(data) {
    const list = document.getElementById("daftar-kantor");
    const ref = (data.ref && data.ref.kantor) || {};
    if (!data.offices.length) return;
    list.replaceChildren(...data.offices.map((o) => {
        const r = ref[o.code] || {};
        return el("li", {}, el("strong", {}, o.name),
            r.alamat ? el("br") : null, r.alamat ? r.alamat + ". " + (r.jam || "") + "." : null);
    }));
}

const data = await loadServices();
offices(data);
await situation(data);
