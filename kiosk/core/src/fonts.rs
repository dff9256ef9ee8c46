//! Which face of the font draws each language. Noto Sans CJK is one collection (`.ttc`) with a
//! face per region, because Han characters are drawn differently in Japan, China, Taiwan and
//! Korea; the Korean face also covers Latin with every Vietnamese letter.

/// The family name of the face that draws `lang`.
pub fn family(lang: &str) -> &'static str {
    match lang {
        "ja" => "Noto Sans CJK JP",
        "zh-Hans" | "zh" => "Noto Sans CJK SC",
        "zh-Hant" => "Noto Sans CJK TC",
        _ => "Noto Sans CJK KR",
    }
}
