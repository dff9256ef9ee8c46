//! QR codes the kiosk shows: the URL, signed offline, and its image.

use protocol::token::QrToken;

/// The phone page URL of an item ("take this with you") or the lead form ("I'm interested").
pub fn url(public_url: &str, purpose: protocol::QrPurpose, token: &str) -> String {
    let base = public_url.trim_end_matches('/');
    match purpose {
        protocol::QrPurpose::TakeAway => format!("{base}/p/{token}"),
        protocol::QrPurpose::Interest | protocol::QrPurpose::Other(_) => {
            format!("{base}/i/{token}")
        }
    }
}

/// Signs a token for the current screen.
pub fn token(
    key: &[u8],
    kiosk_id: uuid::Uuid,
    corrected_ms: i64,
    clock_ok: bool,
    event: &str,
    item: &str,
    lang: &str,
) -> (QrToken, String) {
    let t = QrToken {
        kiosk_id,
        issued_s: (corrected_ms.max(0) / 1000) as u32,
        clock_ok,
        nonce: rand::random(),
        event: event.chars().take(64).collect(),
        item: item.chars().take(64).collect(),
        lang: lang.chars().take(16).collect(),
    };
    let s = t.sign(key).expect("fields are capped to fit");
    (t, s)
}

/// The QR image: `module_px` pixels a module, a 4-module quiet zone, black on white.
pub fn image(data: &str, module_px: u32) -> Result<image::GrayImage, qrcode::types::QrError> {
    let code = qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)?;
    Ok(code
        .render::<image::Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(module_px, module_px)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_url_round_trips() {
        let key = [7u8; 32];
        let id = uuid::Uuid::now_v7();
        let (t, s) = token(&key, id, 1_790_000_000_000, true, "ev", "item", "ko");
        let u = url("https://x.example/", protocol::QrPurpose::Interest, &s);
        assert!(u.starts_with("https://x.example/i/"));
        let back = QrToken::verify(u.rsplit('/').next().unwrap(), &key).unwrap();
        assert_eq!(back, t);
        let img = image(&u, 8).unwrap();
        assert!(img.width() >= 8 * (21 + 8));
    }
}
