//! The lead form on the kiosk screen, without Bevy: its fields, the on-screen keyboard's
//! Vietnamese letters and tone marks, validation, and the lead it makes.
//!
//! Typing is done by [`LeadForm::press`] with [`Key`]s from the on-screen keyboard; the Bevy
//! screen only draws what [`LeadForm`] holds. Nothing typed survives [`LeadForm::clear`], which
//! the idle reset calls.

use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};
use protocol::record::{Consent, Contact, LeadBody, LeadSource};
use uuid::Uuid;

/// The consent text the form shows (a Fluent message id in `kiosk.ftl`). Its version is named
/// by its words ([`Consent::shown`]): changing the text in any language makes a new version.
pub const CONSENT_ID: &str = "kiosk-consent-text";
/// What a visitor agrees to on the badge screen: its question above the consent text.
pub const BADGE_CONSENT_ID: &str = "kiosk-badge-consent";

/// The words a visitor agrees to in `lang`, exactly as the screen shows them: the form's
/// consent text, or the badge screen's question above that text.
pub fn consent_words(i18n: &crate::i18n::Localiser, text_id: &str, lang: &str) -> String {
    match text_id {
        BADGE_CONSENT_ID => format!(
            "{}\n\n{}",
            i18n.t(lang, "badge-question"),
            i18n.t(lang, CONSENT_ID)
        ),
        id => i18n.t(lang, id),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Name,
    Organisation,
    Email,
    Phone,
    Country,
}

impl Field {
    pub const ALL: [Field; 5] = [
        Field::Name,
        Field::Organisation,
        Field::Email,
        Field::Phone,
        Field::Country,
    ];

    /// The Fluent id of the field's label.
    pub fn label_id(self) -> &'static str {
        match self {
            Field::Name => "form-name",
            Field::Organisation => "form-organisation",
            Field::Email => "form-email",
            Field::Phone => "form-phone",
            Field::Country => "form-country",
        }
    }

    /// The most characters the field takes; the keyboard ignores more.
    pub fn max_chars(self) -> usize {
        match self {
            Field::Name => 100,
            Field::Organisation => 120,
            Field::Email => 120,
            Field::Phone => 24,
            Field::Country => 60,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The five Vietnamese tones (the level tone has no mark).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// sắc: á
    Acute,
    /// huyền: à
    Grave,
    /// hỏi: ả
    Hook,
    /// ngã: ã
    Tilde,
    /// nặng: ạ
    Dot,
}

impl Tone {
    pub const ALL: [Tone; 5] = [Tone::Acute, Tone::Grave, Tone::Hook, Tone::Tilde, Tone::Dot];

    fn mark(self) -> char {
        match self {
            Tone::Acute => '\u{301}',
            Tone::Grave => '\u{300}',
            Tone::Hook => '\u{309}',
            Tone::Tilde => '\u{303}',
            Tone::Dot => '\u{323}',
        }
    }

    /// How the key is labelled: the tone on an `a`.
    pub fn key_label(self) -> &'static str {
        match self {
            Tone::Acute => "á",
            Tone::Grave => "à",
            Tone::Hook => "ả",
            Tone::Tilde => "ã",
            Tone::Dot => "ạ",
        }
    }
}

/// A key of the on-screen keyboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// Types the character (upper case when shift is on and the character has one).
    Char(char),
    /// Types a whole string, e.g. ".com".
    Text(&'static str),
    Space,
    Backspace,
    Shift,
    /// Puts a tone mark on the vowel of the word being typed, or replaces its tone.
    Tone(Tone),
    /// Moves to the next field.
    Next,
}

/// The keyboard's rows: Latin letters, digits, the Vietnamese letters and the tones.
pub fn keyboard_rows(field: Field) -> Vec<Vec<Key>> {
    let row = |s: &str| s.chars().map(Key::Char).collect::<Vec<_>>();
    let mut rows = vec![
        row("1234567890"),
        row("qwertyuiop"),
        row("asdfghjkl"),
        row("zxcvbnm"),
    ];
    match field {
        Field::Email => {
            rows[3].extend([
                Key::Char('@'),
                Key::Char('.'),
                Key::Char('-'),
                Key::Char('_'),
            ]);
            rows.push(vec![
                Key::Shift,
                Key::Text(".com"),
                Key::Backspace,
                Key::Next,
            ]);
        }
        Field::Phone => {
            rows[3].extend([
                Key::Char('+'),
                Key::Char('('),
                Key::Char(')'),
                Key::Char('-'),
            ]);
            rows.push(vec![Key::Space, Key::Backspace, Key::Next]);
        }
        _ => {
            rows[3].extend([
                Key::Char('.'),
                Key::Char(','),
                Key::Char('-'),
                Key::Char('&'),
            ]);
            rows.push("ăâđêôơư".chars().map(Key::Char).collect());
            let mut last: Vec<Key> = vec![Key::Shift];
            last.extend(Tone::ALL.map(Key::Tone));
            last.extend([Key::Space, Key::Backspace, Key::Next]);
            rows.push(last);
        }
    }
    rows
}

/// Why the form cannot be sent yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormError {
    NameMissing,
    ContactMissing,
    EmailInvalid,
    PhoneInvalid,
    ConsentMissing,
}

impl FormError {
    /// The Fluent id of the message shown to the visitor.
    pub fn message_id(self) -> &'static str {
        match self {
            FormError::NameMissing => "form-error-name",
            FormError::ContactMissing => "form-error-contact",
            FormError::EmailInvalid => "form-error-email",
            FormError::PhoneInvalid => "form-error-phone",
            FormError::ConsentMissing => "form-error-consent",
        }
    }

    /// The field the message belongs beside, if any.
    pub fn field(self) -> Option<Field> {
        match self {
            FormError::NameMissing => Some(Field::Name),
            FormError::ContactMissing | FormError::EmailInvalid => Some(Field::Email),
            FormError::PhoneInvalid => Some(Field::Phone),
            FormError::ConsentMissing => None,
        }
    }
}

/// What the visitor has typed and chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadForm {
    values: [String; 5],
    focus: Option<Field>,
    shift: bool,
    interests: Vec<String>,
    consent: bool,
}

impl Default for LeadForm {
    /// An empty form with the name field focused.
    fn default() -> Self {
        LeadForm {
            values: Default::default(),
            focus: Some(Field::Name),
            shift: false,
            interests: Vec::new(),
            consent: false,
        }
    }
}

impl LeadForm {
    pub fn new() -> Self {
        LeadForm::default()
    }

    /// Forgets everything typed (idle reset, a new visitor).
    pub fn clear(&mut self) {
        *self = LeadForm::new();
    }

    pub fn value(&self, field: Field) -> &str {
        &self.values[field.index()]
    }

    pub fn focus(&self) -> Option<Field> {
        self.focus
    }

    pub fn set_focus(&mut self, field: Field) {
        self.focus = Some(field);
    }

    /// No field takes the keys: the on-screen keyboard closes and what it covered shows.
    pub fn close_keyboard(&mut self) {
        self.focus = None;
    }

    pub fn shift(&self) -> bool {
        self.shift
    }

    pub fn consent(&self) -> bool {
        self.consent
    }

    pub fn set_consent(&mut self, yes: bool) {
        self.consent = yes;
    }

    pub fn interests(&self) -> &[String] {
        &self.interests
    }

    pub fn has_interest(&self, pillar: &str) -> bool {
        self.interests.iter().any(|p| p == pillar)
    }

    pub fn toggle_interest(&mut self, pillar: &str) {
        if let Some(i) = self.interests.iter().position(|p| p == pillar) {
            self.interests.remove(i);
        } else {
            self.interests.push(pillar.to_owned());
        }
    }

    /// Whether anything at all was entered (a form left half-filled is worth a countdown).
    pub fn is_blank(&self) -> bool {
        self.values.iter().all(String::is_empty) && self.interests.is_empty() && !self.consent
    }

    /// Applies a key of the on-screen keyboard to the focused field.
    pub fn press(&mut self, key: &Key) {
        let Some(field) = self.focus else { return };
        let max = field.max_chars();
        let value = &mut self.values[field.index()];
        let room = |v: &String, extra: usize| v.chars().count() + extra <= max;
        match key {
            Key::Char(c) => {
                if room(value, 1) {
                    if self.shift {
                        value.extend(c.to_uppercase());
                    } else {
                        value.push(*c);
                    }
                }
                self.shift = false;
            }
            Key::Text(s) => {
                if room(value, s.chars().count()) {
                    value.push_str(s);
                }
            }
            Key::Space => {
                if room(value, 1) && !value.is_empty() && !value.ends_with(' ') {
                    value.push(' ');
                }
            }
            Key::Backspace => {
                value.pop();
            }
            Key::Shift => self.shift = !self.shift,
            Key::Tone(t) => {
                apply_tone(value, *t);
            }
            Key::Next => {
                let i = field.index();
                self.focus = Field::ALL.get(i + 1).copied().or(Some(Field::ALL[0]));
            }
        }
    }

    /// Every reason the form cannot be sent, in the order of the fields.
    pub fn errors(&self) -> Vec<FormError> {
        let mut errors = Vec::new();
        let name = self.value(Field::Name).trim();
        let email = self.value(Field::Email).trim();
        let phone = self.value(Field::Phone).trim();
        if name.is_empty() {
            errors.push(FormError::NameMissing);
        }
        if email.is_empty() && phone.is_empty() {
            errors.push(FormError::ContactMissing);
        }
        if !email.is_empty() && !plausible_email(email) {
            errors.push(FormError::EmailInvalid);
        }
        if !phone.is_empty() && !plausible_phone(phone) {
            errors.push(FormError::PhoneInvalid);
        }
        if !self.consent {
            errors.push(FormError::ConsentMissing);
        }
        errors
    }

    /// The lead, when the form is valid. `consent` is the consent text's words as the form
    /// showed them ([`consent_words`]); `now_ms` is when consent was given (corrected time).
    pub fn lead(
        &self,
        lang: &str,
        item: Option<&str>,
        consent: &str,
        now_ms: i64,
    ) -> Result<LeadBody, Vec<FormError>> {
        let errors = self.errors();
        if !errors.is_empty() {
            return Err(errors);
        }
        let v = |f: Field| self.value(f).trim().to_owned();
        Ok(LeadBody {
            lead_id: Uuid::now_v7(),
            contact: Contact {
                name: v(Field::Name),
                organisation: v(Field::Organisation),
                email: v(Field::Email),
                phone: v(Field::Phone),
                country: v(Field::Country),
                title: String::new(),
            },
            interests: self.interests.clone(),
            source: LeadSource::KioskForm,
            consent: Some(Consent::shown(CONSENT_ID, lang, consent, now_ms)),
            item: item.map(str::to_owned),
            lang: Some(lang.to_owned()),
            redacted: false,
        })
    }
}

/// The lead a scanned badge makes once the visitor has said yes to `consent` (the badge
/// screen's words, [`consent_words`] of [`BADGE_CONSENT_ID`]). The same badge scanned again at
/// the same event gets the same lead id, so it updates its lead instead of adding one.
pub fn badge_lead(
    badge: &crate::badge::Badge,
    event: Option<&str>,
    lang: &str,
    item: Option<&str>,
    interests: &[String],
    consent: &str,
    now_ms: i64,
) -> LeadBody {
    let c = &badge.contact;
    let who = [
        c.email.as_str(),
        c.phone.as_str(),
        badge.code.as_deref().unwrap_or(""),
        c.name.as_str(),
    ]
    .into_iter()
    .find(|s| !s.is_empty())
    .unwrap_or("");
    let lead_id = protocol::contact::derived_lead_id(&["badge", event.unwrap_or(""), who]);
    LeadBody {
        lead_id,
        contact: badge.contact.clone(),
        interests: interests.to_vec(),
        source: LeadSource::Badge,
        consent: Some(Consent::shown(BADGE_CONSENT_ID, lang, consent, now_ms)),
        item: item.map(str::to_owned),
        lang: Some(lang.to_owned()),
        redacted: false,
    }
}

pub use protocol::contact::{plausible_email, plausible_phone};

const TONE_MARKS: [char; 5] = ['\u{301}', '\u{300}', '\u{309}', '\u{303}', '\u{323}'];

/// The base vowel of a character without its tone, e.g. `ệ` → `ê`, `Ố` → `Ô`; None when the
/// character is not a Vietnamese vowel.
fn untoned(c: char) -> Option<char> {
    let nfd: String = DecomposingNormalizerBorrowed::new_nfd()
        .normalize(c.encode_utf8(&mut [0; 4]))
        .chars()
        .filter(|m| !TONE_MARKS.contains(m))
        .collect();
    let base = ComposingNormalizerBorrowed::new_nfc().normalize(&nfd);
    let mut chars = base.chars();
    let b = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY".contains(b).then_some(b)
}

/// Puts `tone` on the vowel of the last word of `text`, following the modern rule: the vowel
/// with a diacritic (ê, ơ, â, ...) takes it; otherwise the last vowel when a consonant ends the
/// word, the second of `oa`, `oe`, `uy`, the middle of three, else the first. Pressing the tone
/// a word already has removes it. Returns false (and changes nothing) when the word has no vowel.
pub fn apply_tone(text: &mut String, tone: Tone) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let word_start = chars
        .iter()
        .rposition(|c| !c.is_alphabetic())
        .map_or(0, |i| i + 1);
    let word = &chars[word_start..];
    // The vowel cluster: the last run of vowels in the word.
    let is_vowel = |c: &char| untoned(*c).is_some();
    let Some(last_vowel) = word.iter().rposition(is_vowel) else {
        return false;
    };
    let mut first_vowel = last_vowel;
    while first_vowel > 0 && is_vowel(&word[first_vowel - 1]) {
        first_vowel -= 1;
    }
    // In "qu" and "gi" the u and i belong to the consonant (when a vowel follows).
    let lower = |i: usize| {
        untoned(word[i])
            .map(|c| c.to_lowercase().next().unwrap_or(c))
            .unwrap_or(word[i].to_lowercase().next().unwrap_or(word[i]))
    };
    if first_vowel < last_vowel && first_vowel > 0 {
        let before = word[first_vowel - 1].to_lowercase().next().unwrap_or(' ');
        let v = lower(first_vowel);
        if (before == 'q' && v == 'u') || (before == 'g' && v == 'i') {
            first_vowel += 1;
        }
    }
    let cluster: Vec<char> = (first_vowel..=last_vowel).map(lower).collect();
    let ends_in_consonant = last_vowel + 1 < word.len();
    let offset = if let Some(i) = cluster.iter().rposition(|c| "ăâêôơư".contains(*c)) {
        // ươ: the tone goes on ơ, the last marked vowel.
        i
    } else if ends_in_consonant {
        cluster.len() - 1
    } else {
        match cluster.as_slice() {
            ['o', 'a'] | ['o', 'e'] | ['u', 'y'] => 1,
            [_, _, _] => 1,
            _ => 0,
        }
    };
    let target = word_start + first_vowel + offset;
    // Remove any tone already on the word; if it was this tone, that is all.
    let mut had_same = false;
    let mut out: Vec<char> = chars.clone();
    for c in out.iter_mut().skip(word_start) {
        if let Some(base) = untoned(*c)
            && base != *c
        {
            had_same |= with_tone(base, tone) == *c;
            *c = base;
        }
    }
    if !had_same {
        out[target] = with_tone(out[target], tone);
    }
    *text = out.into_iter().collect();
    true
}

fn with_tone(base: char, tone: Tone) -> char {
    let mut s = String::new();
    s.push(base);
    s.push(tone.mark());
    let composed = ComposingNormalizerBorrowed::new_nfc().normalize(&s);
    let mut chars = composed.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => c,
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(keys: &str) -> String {
        let mut f = LeadForm::new();
        for c in keys.chars() {
            f.press(&Key::Char(c));
        }
        f.value(Field::Name).to_owned()
    }

    fn toned(word: &str, tone: Tone) -> String {
        let mut s = word.to_owned();
        apply_tone(&mut s, tone);
        s
    }

    #[test]
    fn tones_go_on_the_right_vowel() {
        assert_eq!(toned("Nguyen", Tone::Tilde), "Nguyẽn");
        assert_eq!(toned("Nguyên", Tone::Tilde), "Nguyễn");
        assert_eq!(toned("Hương", Tone::Dot), "Hượng");
        assert_eq!(toned("Thi", Tone::Dot), "Thị");
        assert_eq!(toned("hoa", Tone::Grave), "hoà");
        assert_eq!(toned("mua", Tone::Acute), "múa");
        assert_eq!(toned("quy", Tone::Acute), "quý");
        assert_eq!(toned("gia", Tone::Acute), "giá");
        assert_eq!(toned("Đông", Tone::Grave), "Đồng");
        assert_eq!(toned("hoai", Tone::Grave), "hoài");
        assert_eq!(toned("nguoi", Tone::Grave), "nguòi");
        assert_eq!(toned("ngươi", Tone::Grave), "người");
        assert_eq!(toned("Nam Đinh", Tone::Dot), "Nam Định");
        assert_eq!(toned("Trân", Tone::Grave), "Trần");
        assert_eq!(toned("Phuong", Tone::Grave), "Phuòng");
        assert_eq!(toned("Phương", Tone::Grave), "Phường");
        assert_eq!(toned("Ươ", Tone::Acute), "Ướ");
    }

    #[test]
    fn a_tone_replaces_the_previous_one_and_twice_removes_it() {
        assert_eq!(toned("Nguyễn", Tone::Acute), "Nguyến");
        assert_eq!(toned("Nguyễn", Tone::Tilde), "Nguyên");
        let mut s = "bcd".to_owned();
        assert!(
            !apply_tone(&mut s, Tone::Acute),
            "no vowel: nothing changes"
        );
        assert_eq!(s, "bcd");
        let mut empty = String::new();
        assert!(!apply_tone(&mut empty, Tone::Hook));
    }

    #[test]
    fn the_keyboard_types_vietnamese_with_shift_and_tones() {
        let mut f = LeadForm::new();
        f.press(&Key::Shift);
        for c in "nguyên".chars() {
            f.press(&Key::Char(c));
        }
        f.press(&Key::Tone(Tone::Tilde));
        f.press(&Key::Space);
        f.press(&Key::Space);
        f.press(&Key::Shift);
        f.press(&Key::Char('h'));
        for c in "ương".chars() {
            f.press(&Key::Char(c));
        }
        f.press(&Key::Tone(Tone::Grave));
        assert_eq!(f.value(Field::Name), "Nguyễn Hường");
        f.press(&Key::Backspace);
        assert_eq!(f.value(Field::Name), "Nguyễn Hườn");
        assert_eq!(typed("đ"), "đ");
    }

    #[test]
    fn fields_stop_at_their_length() {
        let mut f = LeadForm::new();
        f.set_focus(Field::Phone);
        for _ in 0..100 {
            f.press(&Key::Char('9'));
        }
        assert_eq!(f.value(Field::Phone).len(), Field::Phone.max_chars());
        f.press(&Key::Next);
        assert_eq!(f.focus(), Some(Field::Country));
        f.press(&Key::Next);
        assert_eq!(f.focus(), Some(Field::Name), "wraps to the first field");
    }

    #[test]
    fn validation_names_every_problem() {
        let f = LeadForm::new();
        assert_eq!(
            f.errors(),
            vec![
                FormError::NameMissing,
                FormError::ContactMissing,
                FormError::ConsentMissing
            ]
        );
        let mut f = LeadForm::new();
        for c in "Kim".chars() {
            f.press(&Key::Char(c));
        }
        f.set_focus(Field::Email);
        for c in "kim@example".chars() {
            f.press(&Key::Char(c));
        }
        f.set_focus(Field::Phone);
        for c in "12-34".chars() {
            f.press(&Key::Char(c));
        }
        assert_eq!(
            f.errors(),
            vec![
                FormError::EmailInvalid,
                FormError::PhoneInvalid,
                FormError::ConsentMissing
            ]
        );
        assert!(f.lead("en", None, "I agree", 0).is_err());
    }

    #[test]
    fn a_valid_form_makes_a_lead_with_its_consent() {
        let mut f = LeadForm::new();
        for c in "Kim".chars() {
            f.press(&Key::Char(c));
        }
        f.set_focus(Field::Email);
        for c in "kim@example".chars() {
            f.press(&Key::Char(c));
        }
        f.press(&Key::Text(".com"));
        f.toggle_interest("invest");
        f.toggle_interest("tourism");
        f.toggle_interest("tourism");
        assert!(!f.is_blank());
        f.set_consent(true);
        let lead = f
            .lead("ko", Some("amata"), "동의합니다", 1_800_000_000_000)
            .expect("valid");
        assert_eq!(lead.contact.name, "Kim");
        assert_eq!(lead.contact.email, "kim@example.com");
        assert_eq!(lead.interests, vec!["invest".to_owned()]);
        assert_eq!(lead.source, LeadSource::KioskForm);
        let consent = lead.consent.expect("consent");
        assert_eq!(consent.text_id, CONSENT_ID);
        assert_eq!(consent.verified_text(), Some("동의합니다"));
        assert_eq!(consent.lang, "ko");
        assert_eq!(lead.item.as_deref(), Some("amata"));
        f.clear();
        assert!(f.is_blank());
        assert_eq!(f.value(Field::Email), "");
    }

    #[test]
    fn the_same_badge_at_the_same_event_keeps_its_lead_id() {
        let crate::badge::Scan::Badge(a) =
            crate::badge::parse("MECARD:N:Kim,Minjun;EMAIL:kim@example.kr;;")
        else {
            panic!("parses")
        };
        let one = badge_lead(&a, Some("ev"), "ko", None, &[], "공유할까요?", 1);
        let again = badge_lead(&a, Some("ev"), "ko", Some("amata"), &[], "공유할까요?", 2);
        let elsewhere = badge_lead(&a, Some("other"), "ko", None, &[], "공유할까요?", 3);
        assert_eq!(one.lead_id, again.lead_id);
        assert_ne!(one.lead_id, elsewhere.lead_id);
        assert_eq!(one.source, LeadSource::Badge);
        assert_eq!(one.contact.email, "kim@example.kr");
        assert_eq!(one.consent.unwrap().text_id, BADGE_CONSENT_ID);
    }

    #[test]
    fn each_consent_is_the_words_its_screen_shows_and_a_changed_text_is_a_new_version() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| {
            std::fs::create_dir_all(dir.path().join("ko")).unwrap();
            std::fs::write(
                dir.path().join("ko/kiosk.ftl"),
                format!("badge-question = 공유할까요?\nkiosk-consent-text = {text}\n"),
            )
            .unwrap();
            crate::i18n::Localiser::load(dir.path()).unwrap()
        };
        let before = write("동의합니다.");
        let form = consent_words(&before, CONSENT_ID, "ko");
        let badge = consent_words(&before, BADGE_CONSENT_ID, "ko");
        assert_eq!(form, "동의합니다.");
        assert_eq!(badge, "공유할까요?\n\n동의합니다.");
        let after = write("동의합니다. 언제든지 삭제를 요청할 수 있습니다.");
        let changed = consent_words(&after, CONSENT_ID, "ko");
        assert_ne!(
            Consent::shown(CONSENT_ID, "ko", &form, 0).digest,
            Consent::shown(CONSENT_ID, "ko", &changed, 0).digest,
            "editing the text in locales/ makes a new version, with no number to bump"
        );
    }

    #[test]
    fn every_field_has_a_keyboard_with_backspace() {
        for field in Field::ALL {
            let rows = keyboard_rows(field);
            assert!(rows.iter().flatten().any(|k| *k == Key::Backspace));
            assert!(
                rows.iter().all(|r| r.len() <= 12),
                "{field:?}: rows fit the screen"
            );
        }
        let vi = keyboard_rows(Field::Name);
        for c in "ăâđêôơư".chars() {
            assert!(vi.iter().flatten().any(|k| *k == Key::Char(c)), "{c}");
        }
    }
}
