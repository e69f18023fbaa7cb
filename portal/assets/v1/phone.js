// The verification of a phone (POST /api/v1/phone-verifications, then its
// confirm): shared by the booking and the application pages. The phone's
// token is kept in memory only, for the phone it was made for.

import { call, message } from "./api.js";

const RESEND_SECONDS = 60;

export function normalPhone(phone) {
    const v = String(phone).replace(/[\s.-]/g, "").replace(/^\+/, "");
    return "+62" + v.replace(/^(62|0)/, "");
}

export class PhoneCheck {
    constructor(resendButton) {
        this.resend = resendButton;
        this.id = null;
        this.phone = null;      // E.164 of the code sent
        this.token = null;
        this.tokenPhone = null;
        this.timer = null;
    }

    hasToken(phone) {
        return this.token && this.tokenPhone === normalPhone(phone);
    }

    // sends a code; answers null when sent, else {field, text}
    async send(phone) {
        const a = await call("POST", "/api/v1/phone-verifications", { body: { phone } });
        if (a.status === 201) {
            this.id = a.data.id;
            this.phone = a.data.phone;
            this.countdown(a.data.resend_after || RESEND_SECONDS);
            return null;
        }
        const field = ["invalid_phone", "too_many_codes"].includes(a.data.error) ? "phone" : null;
        return { field, text: message(a), answer: a };
    }

    countdown(seconds) {
        clearInterval(this.timer);
        let left = seconds;
        const b = this.resend;
        b.disabled = true;
        const show = () => {
            b.textContent = left > 0 ? "Kirim ulang kode (dalam " + left + " detik)" : "Kirim ulang kode";
            b.disabled = left > 0;
        };
        show();
        this.timer = setInterval(() => {
            left -= 1;
            show();
            if (left <= 0) clearInterval(this.timer);
        }, 1000);
    }

    // confirms the code; answers null when the phone has its token
    async confirm(code) {
        const v = String(code || "").replace(/\s/g, "");
        if (!/^\d{6}$/.test(v)) return { field: "otp", text: "Masukkan 6 angka kode verifikasi yang kami kirim." };
        const a = await call("POST", "/api/v1/phone-verifications/" + encodeURIComponent(this.id) + "/confirm",
                             { body: { code: v } });
        if (a.status === 200) {
            this.token = a.data.phone_token;
            this.tokenPhone = a.data.phone;
            return null;
        }
        if (a.data.error === "otp_locked" || a.data.error === "otp_expired") {
            clearInterval(this.timer);
            this.resend.disabled = false;
            this.resend.textContent = "Kirim ulang kode";
        }
        const field = ["invalid_otp", "otp_locked", "otp_expired"].includes(a.data.error) ? "otp" : null;
        return { field, text: message(a), answer: a };
    }
}
