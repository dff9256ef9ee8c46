//! Content packs: the document staff write as `pack.toml`, and the manifest the server
//! publishes for kiosks (the same document plus each media file's sha256 and size).
//!
//! Like every wire type, these ignore fields they do not know, so that a kiosk of an older
//! build still plays a manifest a newer server writes; `content validate` is where an unknown
//! key in a pack (a misspelt one) is an error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Text per language tag (`vi`, `en`, `ko`, `ja`, `zh-Hans`, ...).
pub type Localised = BTreeMap<String, String>;

/// The five pillars of the city's image that every pack is organised by.
pub const PILLARS: [&str; 5] = ["invest", "tourism", "culture", "products", "events"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pack {
    pub id: String,
    pub version: String,
    pub default_language: String,
    pub languages: Vec<String>,
    #[serde(default)]
    pub title: Localised,
    #[serde(default)]
    pub pillars: Vec<Pillar>,
    #[serde(default)]
    pub items: Vec<Item>,
    #[serde(default)]
    pub playlists: Vec<Playlist>,
    #[serde(default)]
    pub events: Vec<Event>,
    /// Foreign delegations the city receives, each with the deck its host presents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delegations: Vec<Delegation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decks: Vec<Deck>,
    /// Who made each media file and under which licence, by its path in the pack.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub credits: BTreeMap<String, Credit>,
}

/// The rights information of one media file (the plan's content bank needs it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    /// Who made it: a photographer, an agency, a department.
    pub credit: String,
    /// Under which terms it may be shown: `CC-BY-4.0`, `owned by the city`, ...
    pub licence: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pillar {
    pub id: String,
    #[serde(default)]
    pub icon: Option<String>,
    #[serde(default)]
    pub color: Option<String>,
    pub title: Localised,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub pillar: String,
    #[serde(default)]
    pub media: Vec<String>,
    /// An external page for "more", shown on the phone page.
    #[serde(default)]
    pub link: Option<String>,
    /// The first day (or day and time) it shows, Vietnam time: `2026-11-20` or
    /// `2026-11-20 08:00`. Absent: from publication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shows_from: Option<String>,
    /// The last day it shows (included), or the day and time it stops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shows_until: Option<String>,
    /// The hours of each day it shows, `HH:MM-HH:MM` Vietnam time (a morning programme).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily: Option<String>,
    pub text: BTreeMap<String, ItemText>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemText {
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub facts: Vec<String>,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Playlist {
    pub id: String,
    #[serde(default = "default_seconds")]
    pub seconds_per_item: f32,
    pub items: Vec<String>,
}

fn default_seconds() -> f32 {
    8.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub playlist: String,
    /// The kiosk's languages at this event, main language first.
    pub languages: Vec<String>,
    #[serde(default)]
    pub name: Localised,
    #[serde(default)]
    pub venue: Option<String>,
    #[serde(default)]
    pub starts: Option<String>,
    #[serde(default)]
    pub ends: Option<String>,
}

/// A visiting foreign delegation. Its id is also the event id its records and leads carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delegation {
    pub id: String,
    #[serde(default)]
    pub name: Localised,
    /// ISO 3166-1 alpha-2 code of the delegation's country.
    pub country: String,
    /// The delegation's languages; the first is shown beside Vietnamese on the slides.
    pub languages: Vec<String>,
    /// The day of the visit, `YYYY-MM-DD` (Vietnam time).
    pub date: String,
    /// The host from the Department of Foreign Affairs who presents.
    #[serde(default)]
    pub host: String,
    /// The organising unit (its staff see the delegation's leads and visits).
    pub org: String,
    /// The deck presented to this delegation.
    pub deck: String,
    /// The members as the host was given them. Kept on the server: a published manifest
    /// carries only [`Delegation::member_count`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
    #[serde(default)]
    pub member_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub organisation: String,
}

/// An ordered presentation made of content items; a closing slide with a QR code for the
/// members' contacts follows the last one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deck {
    pub id: String,
    #[serde(default)]
    pub title: Localised,
    pub slides: Vec<Slide>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slide {
    /// The content item shown (its first picture, its title as the caption).
    pub item: String,
    /// Which of the item's pictures (0 = the first).
    #[serde(default)]
    pub media: usize,
    /// What the host says, per language (Vietnamese first); shown only to the host.
    #[serde(default)]
    pub notes: Localised,
}

impl Delegation {
    /// The language shown beside Vietnamese (Vietnamese itself if the delegation reads it).
    pub fn caption_language(&self) -> &str {
        self.languages
            .iter()
            .find(|l| l.as_str() != "vi")
            .or(self.languages.first())
            .map_or("en", |l| l.as_str())
    }

    /// How many members the delegation has (from the list where there is one).
    pub fn member_total(&self) -> u32 {
        self.member_count.max(self.members.len() as u32)
    }

    /// The same delegation without its members' names, as kiosks receive it.
    pub fn for_kiosks(&self) -> Delegation {
        Delegation {
            members: Vec::new(),
            member_count: self.member_total(),
            ..self.clone()
        }
    }
}

impl Pack {
    pub fn delegation(&self, id: &str) -> Option<&Delegation> {
        self.delegations.iter().find(|d| d.id == id)
    }
    pub fn deck(&self, id: &str) -> Option<&Deck> {
        self.decks.iter().find(|d| d.id == id)
    }
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }
    pub fn event(&self, id: &str) -> Option<&Event> {
        self.events.iter().find(|e| e.id == id)
    }
    pub fn playlist(&self, id: &str) -> Option<&Playlist> {
        self.playlists.iter().find(|p| p.id == id)
    }
    /// Every media path the pack references, in order, without repeats.
    pub fn media_paths(&self) -> Vec<&str> {
        let mut seen = std::collections::BTreeSet::new();
        let icons = self.pillars.iter().filter_map(|p| p.icon.as_deref());
        let media = self
            .items
            .iter()
            .flat_map(|i| i.media.iter().map(|m| m.as_str()));
        icons.chain(media).filter(|m| seen.insert(*m)).collect()
    }
}

/// A media file of a published version, addressed by content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaEntry {
    /// The path the pack uses for it.
    pub path: String,
    /// Lower-case hex sha256 of the bytes; the file is served at `/api/v1/media/<sha256>`.
    pub sha256: String,
    pub size: u64,
}

/// `GET /api/v1/content/current` answer: what a kiosk should play.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Content version id, unique per publication (e.g. `dong-nai-demo@2026.11.26#3`).
    pub version: String,
    pub pack: Pack,
    pub media: Vec<MediaEntry>,
}

impl Manifest {
    pub fn total_bytes(&self) -> u64 {
        self.media.iter().map(|m| m.size).sum()
    }
}

/// The size a PNG's header claims, read from its first 24 bytes, before any decoder runs: a
/// file that claims 100000×100000 pixels is refused without touching the rest of it.
pub fn png_dimensions(header: &[u8]) -> Option<(u32, u32)> {
    if header.len() < 24 || &header[..8] != b"\x89PNG\r\n\x1a\n" || &header[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(header[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(header[20..24].try_into().ok()?);
    Some((w, h))
}

/// Reads the first bytes of a file and returns the PNG size it claims, if it is a PNG.
pub fn png_file_dimensions(path: &std::path::Path) -> Option<(u32, u32)> {
    use std::io::Read;
    let mut head = [0u8; 24];
    std::fs::File::open(path).ok()?.read_exact(&mut head).ok()?;
    png_dimensions(&head)
}
