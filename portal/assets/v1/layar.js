// The waiting-room display: GET /api/v1/display every second, the newest
// call large and the ones before it in a list (queue number, service,
// loket: the API gives no name and no code). A new call rings a chime
// (WebAudio) and is spoken in Indonesian (speechSynthesis, id-ID) once the
// sound was allowed by a press of "Aktifkan suara" (browsers play nothing
// before a gesture). When the API cannot be reached the last calls stay on
// the screen, a quiet line says it reconnects, and polling goes on.

const POLL_MS = 1000;
const TIMEOUT_MS = 3000;
const $ = (id) => document.getElementById(id);
const office = new URLSearchParams(location.search).get("office") || "mpp";
const DAYS = ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"];
const MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
                "Agustus", "September", "Oktober", "November", "Desember"];

let seen = null;         // keys of the calls shown (null before the first answer)
let skew = 0;            // the server's clock minus this TV's
let sound = false;       // allowed by a press of the button
let audio = null;        // the AudioContext, when the browser has one
let voice = null;

const key = (c) => [c.called_at, c.queue_number, c.service, c.counter, c.calls].join("|");

function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
}

function tick() {
    const d = new Date(Date.now() + skew + 7 * 3600e3);
    $("tanggal").textContent = DAYS[d.getUTCDay()] + ", " + d.getUTCDate() + " " +
        MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear();
    $("jam").textContent = String(d.getUTCHours()).padStart(2, "0") + "." +
        String(d.getUTCMinutes()).padStart(2, "0") + " WIB";
}

function render(data) {
    if (data.office_name) {
        $("kantor").textContent = data.office_name;
        document.title = "Layar antrean " + data.office_name;
    }
    const calls = Array.isArray(data.calls) ? data.calls : [];
    const now = $("sekarang");
    if (!calls.length) {
        now.replaceChildren(el("p", "kosong", "Belum ada panggilan hari ini."));
    } else {
        const c = calls[0];
        if (now.dataset.key !== key(c)) {
            now.replaceChildren(el("span", "label", "Nomor antrean"),
                el("span", "nomor", String(c.queue_number)),
                el("span", "layanan", c.service_name || c.service),
                el("span", "loket", "Loket " + c.counter));
            now.dataset.key = key(c);
        }
    }
    $("sebelumnya").replaceChildren(...calls.slice(1, 9).map((c) => {
        const li = el("li");
        li.append(el("span", "n", String(c.queue_number)), el("span", "l", "Loket " + c.counter),
            el("span", "s", c.service_name || c.service));
        return li;
    }));
}

function chime() {
    if (!audio) return;
    const t = audio.currentTime;
    [[784, 0], [659, 0.45]].forEach(([hz, at]) => {
        const o = audio.createOscillator();
        const g = audio.createGain();
        o.type = "sine";
        o.frequency.value = hz;
        g.gain.setValueAtTime(0.0001, t + at);
        g.gain.exponentialRampToValueAtTime(0.4, t + at + 0.03);
        g.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.9);
        o.connect(g).connect(audio.destination);
        o.start(t + at);
        o.stop(t + at + 1);
    });
}

// "Nomor antrean 37, layanan KTP-el, silakan menuju loket 2"
export function sentence(c) {
    return "Nomor antrean " + c.queue_number + ", layanan " + (c.service_name || c.service) +
        ", silakan menuju loket " + c.counter;
}

function speak(c) {
    if (!sound || !("speechSynthesis" in window)) return;
    const u = new SpeechSynthesisUtterance(sentence(c));
    u.lang = "id-ID";
    if (voice) u.voice = voice;
    u.rate = 0.9;
    speechSynthesis.speak(u);
}

function announce(fresh) {
    const now = $("sekarang");
    now.classList.remove("baru");
    void now.offsetWidth;              // restart the animation
    now.classList.add("baru");
    if (!sound) return;
    chime();
    // oldest first, as they were called; at most the last 3
    setTimeout(() => fresh.slice(0, 3).reverse().forEach(speak), 1200);
}

function connected(ok, why) {
    const line = $("sambungan");
    line.classList.toggle("putus", !ok);
    line.textContent = ok ? "" : why || "Menghubungkan ulang\u2026";
}

async function poll() {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
        const res = await fetch("/api/v1/display?office=" + encodeURIComponent(office), {
            cache: "no-store", headers: { Accept: "application/json" }, signal: abort.signal,
        });
        if (res.status === 422) {
            // a display set up with a wrong ?office=: said, not retried as
            // a lost connection
            connected(false, "Kantor \"" + office + "\" tidak dikenal. Periksa alamat layar ini.");
            return;
        }
        if (!res.ok) throw new Error("HTTP " + res.status);
        const data = await res.json();
        if (data.now) skew = new Date(data.now).getTime() - Date.now();
        const calls = Array.isArray(data.calls) ? data.calls : [];
        const fresh = seen ? calls.filter((c) => !seen.has(key(c))) : [];
        seen = new Set(calls.map(key));
        render(data);
        if (fresh.length) announce(fresh);
        connected(true);
    } catch (e) {
        connected(false);
    } finally {
        clearTimeout(timer);
        setTimeout(poll, POLL_MS);
    }
}

function pickVoice() {
    const all = speechSynthesis.getVoices();
    voice = all.find((v) => v.lang === "id-ID") || all.find((v) => /^id/i.test(v.lang)) || null;
}

$("suara").addEventListener("click", () => {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !audio) audio = new Ctx();
    if (audio) audio.resume();
    if ("speechSynthesis" in window) {
        pickVoice();
        speechSynthesis.onvoiceschanged = pickVoice;
    }
    sound = true;
    $("suara").hidden = true;
    chime();
});

if (!window.AudioContext && !window.webkitAudioContext && !("speechSynthesis" in window))
    $("suara").hidden = true;
tick();
setInterval(tick, 1000);
poll();
