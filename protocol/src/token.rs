//! QR tokens: signed offline by a kiosk, verified by the server when a phone opens the URL.
//!
//! Compact binary, base64url without padding, so that the QR code stays small:
//! `1 | kiosk_id(16) | issued_s(u32 BE) | flags(1) | nonce(8) | len+event | len+item | len+lang |
//! hmac_sha256(key, all before)[..16]`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

const VERSION: u8 = 1;
const MAC_LEN: usize = 16;
const FLAG_CLOCK_OK: u8 = 1;

/// What a kiosk vouches for in a QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrToken {
    pub kiosk_id: Uuid,
    /// Unix seconds when the code was shown (the kiosk's best estimate).
    pub issued_s: u32,
    /// Whether the kiosk knew its clock to be right when it issued the token.
    pub clock_ok: bool,
    /// Random, unique per code shown; also in the kiosk's `qr_shown` record.
    pub nonce: [u8; 8],
    pub event: String,
    pub item: String,
    pub lang: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the code is not a promo-kiosk token (bad encoding)")]
    Encoding,
    #[error("the token is truncated or malformed")]
    Malformed,
    #[error("the token's signature does not match: it was altered or not made by this kiosk")]
    Signature,
    #[error("a field is too long to encode")]
    TooLong,
}

impl QrToken {
    pub fn nonce_hex(&self) -> String {
        self.nonce.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Encodes and signs the token with the kiosk's token key.
    pub fn sign(&self, key: &[u8]) -> Result<String, TokenError> {
        let mut buf = Vec::with_capacity(64);
        buf.push(VERSION);
        buf.extend_from_slice(self.kiosk_id.as_bytes());
        buf.extend_from_slice(&self.issued_s.to_be_bytes());
        buf.push(if self.clock_ok { FLAG_CLOCK_OK } else { 0 });
        buf.extend_from_slice(&self.nonce);
        for s in [&self.event, &self.item, &self.lang] {
            let len = u8::try_from(s.len()).map_err(|_| TokenError::TooLong)?;
            buf.push(len);
            buf.extend_from_slice(s.as_bytes());
        }
        let mac = mac(key, &buf);
        buf.extend_from_slice(&mac[..MAC_LEN]);
        Ok(URL_SAFE_NO_PAD.encode(buf))
    }

    /// Reads the token without checking the signature (to find which kiosk's key to use).
    pub fn peek(token: &str) -> Result<QrToken, TokenError> {
        let buf = decode(token)?;
        parse(&buf[..buf.len() - MAC_LEN])
    }

    /// Decodes and verifies a token with the kiosk's key.
    pub fn verify(token: &str, key: &[u8]) -> Result<QrToken, TokenError> {
        let buf = decode(token)?;
        let (body, tag) = buf.split_at(buf.len() - MAC_LEN);
        let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        m.update(body);
        m.verify_truncated_left(tag)
            .map_err(|_| TokenError::Signature)?;
        parse(body)
    }
}

fn mac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().into()
}

fn decode(token: &str) -> Result<Vec<u8>, TokenError> {
    if token.len() > 400 {
        return Err(TokenError::Malformed);
    }
    let buf = URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| TokenError::Encoding)?;
    if buf.len() < 1 + 16 + 4 + 1 + 8 + 3 + MAC_LEN || buf[0] != VERSION {
        return Err(TokenError::Malformed);
    }
    Ok(buf)
}

fn parse(body: &[u8]) -> Result<QrToken, TokenError> {
    let mut p = 1;
    let take = |p: &mut usize, n: usize| -> Result<&[u8], TokenError> {
        let s = body.get(*p..*p + n).ok_or(TokenError::Malformed)?;
        *p += n;
        Ok(s)
    };
    let kiosk_id = Uuid::from_slice(take(&mut p, 16)?).map_err(|_| TokenError::Malformed)?;
    let issued_s = u32::from_be_bytes(take(&mut p, 4)?.try_into().expect("4 bytes"));
    let flags = take(&mut p, 1)?[0];
    let nonce: [u8; 8] = take(&mut p, 8)?.try_into().expect("8 bytes");
    let mut strings = Vec::with_capacity(3);
    for _ in 0..3 {
        let len = take(&mut p, 1)?[0] as usize;
        let s = std::str::from_utf8(take(&mut p, len)?).map_err(|_| TokenError::Malformed)?;
        strings.push(s.to_owned());
    }
    if p != body.len() {
        return Err(TokenError::Malformed);
    }
    let lang = strings.pop().expect("3");
    let item = strings.pop().expect("3");
    let event = strings.pop().expect("3");
    Ok(QrToken {
        kiosk_id,
        issued_s,
        clock_ok: flags & FLAG_CLOCK_OK != 0,
        nonce,
        event,
        item,
        lang,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> QrToken {
        QrToken {
            kiosk_id: Uuid::now_v7(),
            issued_s: 1_790_000_000,
            clock_ok: true,
            nonce: [1, 2, 3, 4, 5, 6, 7, 8],
            event: "korea-investment-2026".into(),
            item: "long-thanh-airport".into(),
            lang: "ko".into(),
        }
    }

    #[test]
    fn signs_and_verifies() {
        let t = token();
        let s = t.sign(b"key").unwrap();
        assert!(s.len() < 130, "{} chars", s.len());
        assert_eq!(QrToken::verify(&s, b"key").unwrap(), t);
        assert_eq!(QrToken::peek(&s).unwrap(), t);
    }

    #[test]
    fn rejects_tampering_wrong_key_and_garbage() {
        let s = token().sign(b"key").unwrap();
        assert_eq!(
            QrToken::verify(&s, b"other").unwrap_err(),
            TokenError::Signature
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&s).unwrap();
        let n = bytes.len();
        bytes[n - MAC_LEN - 1] ^= 1; // flip a bit of the language
        let tampered = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(
            QrToken::verify(&tampered, b"key").unwrap_err(),
            TokenError::Signature
        );
        assert!(QrToken::verify("%%%", b"key").is_err());
        assert!(QrToken::verify("", b"key").is_err());
        assert!(QrToken::verify(&"A".repeat(10_000), b"key").is_err());
        assert!(QrToken::peek(&s[..20]).is_err());
    }
}
