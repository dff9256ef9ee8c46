//! Paints the placeholder artwork of the demo content pack.
//!
//! `pack.toml` names a 256x256 icon for every pillar and two 1920x1080 images for every item,
//! but no photographs ship with the repository. This tool paints every referenced PNG instead:
//! calm abstract compositions (colour fields, hills, a river, a lake, a runway, fruit, festival
//! lights) built on the pillar's colour. Each composition is seeded from the item id, so every
//! run writes byte-identical files, and each keeps a darker gradient towards the bottom-left so
//! white title text stays legible on top of it.
//!
//! Staff can replace any of these files with photographs of the same name (ideally of the same
//! size); nothing else has to change. Running the tool again overwrites every referenced image,
//! so keep the originals of such photographs elsewhere.
//!
//! Usage: `cargo run --release -p e2e --bin gen_demo_art -- [PACK_DIR]`, where `PACK_DIR`
//! defaults to `assets/demo-pack`.

use std::f32::consts::{PI, TAU};
use std::fs;
use std::num::NonZeroUsize;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::thread;

use anyhow::{Context, Result, bail};
use image::{Rgb, RgbImage, Rgba, RgbaImage};

const W: u32 = 1920;
const H: u32 = 1080;
const WF: f32 = W as f32;
const HF: f32 = H as f32;
const ICON: u32 = 256;
/// An empty column of a [`Shape::Span`].
const NONE: (f32, f32) = (f32::INFINITY, f32::INFINITY);
const BAYER: [[f32; 4]; 4] = [
    [0.0, 8.0, 2.0, 10.0],
    [12.0, 4.0, 14.0, 6.0],
    [3.0, 11.0, 1.0, 9.0],
    [15.0, 7.0, 13.0, 5.0],
];

type Rgbf = [f32; 3];
/// Paints one composition into a scene.
type Paint = fn(&mut Scene, &Palette, &mut Rng);

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_demo_art: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let mut args = std::env::args_os().skip(1);
    let dir = args
        .next()
        .map_or_else(|| PathBuf::from("assets/demo-pack"), PathBuf::from);
    if args.next().is_some() {
        bail!("usage: gen_demo_art [PACK_DIR]");
    }
    let manifest = dir.join("pack.toml");
    let text = fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let (pillars, items) =
        parse_pack(&text).with_context(|| format!("in {}", manifest.display()))?;
    let jobs = plan(&dir, &pillars, &items)?;
    for parent in jobs.iter().filter_map(|job| job.out.parent()) {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    // Images are independent: spread them over the cores, then report in manifest order.
    let threads = thread::available_parallelism()
        .map_or(1, NonZeroUsize::get)
        .min(jobs.len())
        .max(1);
    let mut results: Vec<(usize, Result<()>)> = thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|k| {
                let jobs = &jobs;
                scope.spawn(move || {
                    let mine = jobs.iter().enumerate().skip(k).step_by(threads);
                    mine.map(|(i, job)| (i, job.write())).collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    results.sort_by_key(|&(i, _)| i);
    let mut failed = 0;
    for (i, result) in results {
        match result {
            Ok(()) => println!("wrote {}", jobs[i].out.display()),
            Err(e) => {
                eprintln!("gen_demo_art: {e:#}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} images could not be written", jobs.len());
    }
    println!("{} images generated under {}", jobs.len(), dir.display());
    Ok(())
}

// ───────────────────────────── pack.toml ─────────────────────────────

#[derive(Default)]
struct Pillar {
    id: String,
    icon: String,
    color: String,
}

#[derive(Default)]
struct Item {
    id: String,
    pillar: String,
    media: Vec<String>,
}

#[derive(Clone, Copy)]
enum Section {
    Pillar,
    Item,
    Other,
}

/// Reads only the keys this tool needs (`toml` is not a dependency of this package): `id`,
/// `icon`, `color` of each `[[pillars]]` and `id`, `pillar`, `media` of each `[[items]]`,
/// up to the block's first sub-table such as `[pillars.title]` or `[items.text.vi]`.
fn parse_pack(text: &str) -> Result<(Vec<Pillar>, Vec<Item>)> {
    let (mut pillars, mut items) = (Vec::<Pillar>::new(), Vec::<Item>::new());
    let mut section = Section::Other;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            section = match line {
                "[[pillars]]" => {
                    pillars.push(Pillar::default());
                    Section::Pillar
                }
                "[[items]]" => {
                    items.push(Item::default());
                    Section::Item
                }
                _ => Section::Other,
            };
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let at = || format!("line {}: `{key}`", n + 1);
        match (section, key, pillars.last_mut(), items.last_mut()) {
            (Section::Pillar, "id", Some(p), _) => p.id = quoted(value).with_context(at)?,
            (Section::Pillar, "icon", Some(p), _) => p.icon = quoted(value).with_context(at)?,
            (Section::Pillar, "color", Some(p), _) => p.color = quoted(value).with_context(at)?,
            (Section::Item, "id", _, Some(i)) => i.id = quoted(value).with_context(at)?,
            (Section::Item, "pillar", _, Some(i)) => i.pillar = quoted(value).with_context(at)?,
            (Section::Item, "media", _, Some(i)) => {
                if !(value.starts_with('[') && value.ends_with(']')) {
                    bail!("{}: expected a one-line array of paths", at());
                }
                i.media = value
                    .split('"')
                    .skip(1)
                    .step_by(2)
                    .map(str::to_owned)
                    .collect();
            }
            _ => {}
        }
    }
    if let Some(p) = pillars
        .iter()
        .find(|p| p.id.is_empty() || p.icon.is_empty() || p.color.is_empty())
    {
        bail!("pillar {:?} needs `id`, `icon` and `color`", p.id);
    }
    if let Some(i) = items
        .iter()
        .find(|i| i.id.is_empty() || i.pillar.is_empty())
    {
        bail!("item {:?} needs `id` and `pillar`", i.id);
    }
    Ok((pillars, items))
}

fn quoted(value: &str) -> Result<String> {
    let inner = value.strip_prefix('"').and_then(|v| v.split_once('"'));
    inner
        .map(|(s, _)| s.to_owned())
        .context("expected a double-quoted string")
}

fn parse_color(s: &str) -> Result<Rgbf> {
    let hex = s.strip_prefix('#').filter(|h| h.len() == 6);
    let channel = |i: usize| {
        let digits = hex.and_then(|h| h.get(i..i + 2))?;
        u8::from_str_radix(digits, 16)
            .ok()
            .map(|v| f32::from(v) / 255.0)
    };
    match (channel(0), channel(2), channel(4)) {
        (Some(r), Some(g), Some(b)) => Ok([r, g, b]),
        _ => bail!("colour {s:?} is not of the form #RRGGBB"),
    }
}

// ───────────────────────────── jobs ─────────────────────────────

/// One image to write; `variant` is `None` for a pillar icon, else the item's media index.
struct Job {
    out: PathBuf,
    id: String,
    pillar: String,
    color: Rgbf,
    variant: Option<usize>,
}

impl Job {
    fn write(&self) -> Result<()> {
        let saved = match self.variant {
            None => render_icon(&self.id, self.color).save(&self.out),
            Some(v) => render_item(&self.id, &self.pillar, self.color, v).save(&self.out),
        };
        saved.with_context(|| format!("cannot write {}", self.out.display()))
    }
}

fn plan(dir: &Path, pillars: &[Pillar], items: &[Item]) -> Result<Vec<Job>> {
    let mut jobs: Vec<Job> = Vec::new();
    let mut add = |rel: &str, id: &str, pillar: &Pillar, variant: Option<usize>| -> Result<()> {
        let path = Path::new(rel);
        let inside = path.components().all(|c| matches!(c, Component::Normal(_)));
        if !inside || path.extension().is_none_or(|e| e != "png") {
            bail!("{rel:?} must be a relative path to a .png file inside the pack");
        }
        let color =
            parse_color(&pillar.color).with_context(|| format!("pillar {:?}", pillar.id))?;
        let out = dir.join(path);
        if !jobs.iter().any(|job| job.out == out) {
            let (id, pillar) = (id.to_owned(), pillar.id.clone());
            jobs.push(Job {
                out,
                id,
                pillar,
                color,
                variant,
            });
        }
        Ok(())
    };
    for p in pillars {
        add(&p.icon, &p.id, p, None)?;
    }
    for item in items {
        let pillar = pillars.iter().find(|p| p.id == item.pillar);
        let pillar = pillar
            .with_context(|| format!("item {:?}: unknown pillar {:?}", item.id, item.pillar))?;
        for (v, rel) in item.media.iter().enumerate() {
            add(rel, &item.id, pillar, Some(v))?;
        }
    }
    Ok(jobs)
}

// ───────────────────────────── colour and randomness ─────────────────────────────

/// splitmix64, seeded with the FNV-1a hash of an id.
struct Rng(u64);

impl Rng {
    fn new(id: &str, salt: u64) -> Self {
        let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        Rng(hash ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let z = (self.0 ^ (self.0 >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next_u64() >> 40) as f32 / 16_777_216.0)
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next_u64() % items.len() as u64) as usize]
    }
}

fn mix(a: Rgbf, b: Rgbf, t: f32) -> Rgbf {
    std::array::from_fn(|i| a[i] + (b[i] - a[i]) * t)
}

fn smooth(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

/// Hue in degrees, saturation and lightness in 0..1.
fn to_hsl([r, g, b]: Rgbf) -> (f32, f32, f32) {
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    let (d, l) = (max - min, 0.5 * (max + min));
    if d < 1e-6 {
        return (0.0, 0.0, l);
    }
    let h = if max == r {
        ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        (b - r) / d + 2.0
    } else {
        (r - g) / d + 4.0
    };
    (60.0 * h, d / (1.0 - (2.0 * l - 1.0).abs()), l)
}

fn hsl(h: f32, s: f32, l: f32) -> Rgbf {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let h = h.rem_euclid(360.0) / 60.0;
    let x = c * (1.0 - (h.rem_euclid(2.0) - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - 0.5 * c;
    [r + m, g + m, b + m]
}

/// Harmonious colours around a pillar colour, from near-black to near-white.
struct Palette {
    deep: Rgbf,
    dark: Rgbf,
    base: Rgbf,
    soft: Rgbf,
    light: Rgbf,
    pale: Rgbf,
    accent: Rgbf,
    warm: Rgbf,
}

fn palette(color: Rgbf, rng: &mut Rng) -> Palette {
    let (h, s, l) = to_hsl(color);
    let (s, drift) = (s.clamp(0.3, 0.65), rng.range(-14.0, 14.0));
    Palette {
        deep: hsl(h + drift, s * 0.6, 0.09),
        dark: hsl(h + drift, s * 0.7, 0.2),
        base: hsl(h, s, l.clamp(0.3, 0.48)),
        soft: hsl(h - drift, s * 0.55, 0.5),
        light: hsl(h + 10.0, s * 0.4, 0.72),
        pale: hsl(h + 18.0, s * 0.3, 0.88),
        accent: hsl(h + 40.0_f32.copysign(drift), s * 0.85, 0.52),
        warm: hsl(36.0 + 0.5 * drift, 0.7, 0.75),
    }
}

// ───────────────────────────── shapes and scenes ─────────────────────────────

enum Shape {
    /// Per column, the covered rows `top..bottom` (hills, skylines, roofs, lines).
    Span(Vec<(f32, f32)>),
    /// Per row from `top`, a centre and half-width (a river in perspective, vases).
    Rows { top: f32, rows: Vec<(f32, f32)> },
    /// An ellipse, or only its outline of half-thickness `ring` when that is positive.
    Ellipse {
        c: (f32, f32),
        r: (f32, f32),
        rot: f32,
        ring: f32,
    },
    Rect {
        c: (f32, f32),
        half: (f32, f32),
        rot: f32,
        round: f32,
    },
    /// Alternating wedges around `c`, below `top` only (sunbursts, plantation rows).
    Rays {
        c: (f32, f32),
        count: f32,
        duty: f32,
        top: f32,
    },
}

/// Rotates an offset into a shape's own axes.
fn local(dx: f32, dy: f32, rot: f32) -> (f32, f32) {
    let (s, c) = rot.sin_cos();
    (dx * c + dy * s, dy * c - dx * s)
}

impl Shape {
    /// Approximate signed distance in pixels, negative inside, at `(x, y)` in column `col`.
    fn dist(&self, x: f32, y: f32, col: usize) -> f32 {
        match self {
            Shape::Span(cols) => (cols[col].0 - y).max(y - cols[col].1),
            Shape::Rows { top, rows } => {
                let (c, half) = rows[((y - top).max(0.0) as usize).min(rows.len() - 1)];
                ((x - c).abs() - half)
                    .max(top - y)
                    .max(y - top - rows.len() as f32)
            }
            Shape::Ellipse { c, r, rot, ring } => {
                let (lx, ly) = local(x - c.0, y - c.1, *rot);
                let k = (lx / r.0).hypot(ly / r.1);
                let d = (k - 1.0) * k / (lx / (r.0 * r.0)).hypot(ly / (r.1 * r.1)).max(1e-9);
                if *ring > 0.0 { d.abs() - ring } else { d }
            }
            Shape::Rect {
                c,
                half,
                rot,
                round,
            } => {
                let (lx, ly) = local(x - c.0, y - c.1, *rot);
                let round = round.min(half.0).min(half.1);
                let (qx, qy) = (lx.abs() - half.0 + round, ly.abs() - half.1 + round);
                qx.max(0.0).hypot(qy.max(0.0)) + qx.max(qy).min(0.0) - round
            }
            Shape::Rays {
                c,
                count,
                duty,
                top,
            } => {
                let (dx, dy) = (x - c.0, y - c.1);
                let period = TAU / count;
                let off = (dy.atan2(dx).rem_euclid(period) - 0.5 * period).abs();
                ((off - 0.5 * duty * period) * dx.hypot(dy)).max(top - y)
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Fill {
    Flat(Rgbf),
    /// From the first colour at the first y to the second colour at the second y.
    Vertical(f32, f32, Rgbf, Rgbf),
    /// From the inner colour at the centre to the outer colour at the radius.
    Radial((f32, f32), f32, Rgbf, Rgbf),
}

impl Fill {
    fn at(self, x: f32, y: f32) -> Rgbf {
        match self {
            Fill::Flat(c) => c,
            Fill::Vertical(y0, y1, a, b) => mix(a, b, ((y - y0) / (y1 - y0)).clamp(0.0, 1.0)),
            Fill::Radial((cx, cy), r, a, b) => {
                mix(a, b, ((x - cx).hypot(y - cy) / r).clamp(0.0, 1.0))
            }
        }
    }
}

struct Layer {
    shape: Shape,
    fill: Fill,
    alpha: f32,
    /// Width of the anti-aliased edge in pixels; large values give soft glows.
    soft: f32,
    /// `[x0, y0, x1, y1]` outside which the layer cannot contribute.
    bbox: [f32; 4],
}

/// A vertical background gradient with layers painted over it in order.
struct Scene {
    w: u32,
    h: u32,
    top: Rgbf,
    bottom: Rgbf,
    /// Colour of the legibility gradient towards the bottom-left, if any.
    shade: Option<Rgbf>,
    layers: Vec<Layer>,
}

impl Scene {
    fn add(&mut self, shape: Shape, fill: Fill, alpha: f32, soft: f32) {
        let around = |c: &(f32, f32), e: f32| [c.0 - e, c.1 - e, c.0 + e, c.1 + e];
        let bbox = match &shape {
            Shape::Ellipse { c, r, ring, .. } => around(c, r.0.max(r.1) + ring + soft + 2.0),
            Shape::Rect { c, half, .. } => around(c, half.0.hypot(half.1) + soft + 2.0),
            _ => [
                f32::NEG_INFINITY,
                f32::NEG_INFINITY,
                f32::INFINITY,
                f32::INFINITY,
            ],
        };
        self.layers.push(Layer {
            shape,
            fill,
            alpha,
            soft,
            bbox,
        });
    }

    fn put(&mut self, shape: Shape, color: Rgbf) {
        self.add(shape, Fill::Flat(color), 1.0, 1.0);
    }

    fn render(&self) -> RgbImage {
        let mut img = RgbImage::new(self.w, self.h);
        for y in 0..self.h {
            let (fy, v) = (y as f32 + 0.5, (y as f32 + 0.5) / self.h as f32);
            let row: Vec<&Layer> = self
                .layers
                .iter()
                .filter(|l| (l.bbox[1]..=l.bbox[3]).contains(&fy))
                .collect();
            for x in 0..self.w {
                let (fx, u) = (x as f32 + 0.5, (x as f32 + 0.5) / self.w as f32);
                let mut c = mix(self.top, self.bottom, v);
                for l in row.iter().filter(|l| (l.bbox[0]..=l.bbox[2]).contains(&fx)) {
                    let t = (0.5 - l.shape.dist(fx, fy, x as usize) / l.soft).clamp(0.0, 1.0);
                    if t > 0.0 {
                        c = mix(c, l.fill.at(fx, fy), l.alpha * smooth(t));
                    }
                }
                if let Some(deep) = self.shade {
                    let k = smooth(((v - 0.2) / 0.7).clamp(0.0, 1.0)) * (1.0 - 0.6 * u);
                    let vignette = 1.0 - 0.3 * ((u - 0.5).powi(2) + (v - 0.5).powi(2));
                    c = mix(c, deep, 0.8 * k).map(|ch| ch * vignette);
                }
                // Ordered dithering keeps the wide gradients free of banding.
                let dither = (BAYER[(y % 4) as usize][(x % 4) as usize] + 0.5) / 16.0;
                img.put_pixel(
                    x,
                    y,
                    Rgb(c.map(|ch| (ch * 255.0 + dither).clamp(0.0, 255.0) as u8)),
                );
            }
        }
        img
    }
}

fn ell(c: (f32, f32), r: (f32, f32), rot: f32) -> Shape {
    Shape::Ellipse {
        c,
        r,
        rot,
        ring: 0.0,
    }
}

fn disc(x: f32, y: f32, r: f32) -> Shape {
    ell((x, y), (r, r), 0.0)
}

fn bar(x0: f32, y0: f32, x1: f32, y1: f32) -> Shape {
    let (c, half) = (
        (0.5 * (x0 + x1), 0.5 * (y0 + y1)),
        (0.5 * (x1 - x0), 0.5 * (y1 - y0)),
    );
    Shape::Rect {
        c,
        half,
        rot: 0.0,
        round: 0.0,
    }
}

/// Everything below the curve `y = f(x)`.
fn below(w: u32, f: impl Fn(f32) -> f32) -> Shape {
    Shape::Span((0..w).map(|x| (f(x as f32 + 0.5), f32::INFINITY)).collect())
}

/// A line of constant thickness along `y = f(x)`.
fn band(f: impl Fn(f32) -> f32, half: f32) -> Shape {
    let column = |x: f32| {
        let y = f(x);
        let h = half * (f(x + 1.0) - y).hypot(1.0);
        (y - h, y + h)
    };
    Shape::Span((0..W).map(|x| column(x as f32 + 0.5)).collect())
}

/// A roof with up-turned eaves, `half` wide on each side of `cx` and `th` thick.
fn roof(w: u32, cx: f32, half: f32, top: f32, th: f32) -> Shape {
    let column = |x: f32| {
        let t = (x - cx).abs() / half;
        let curl = th * 1.2 * ((t - 0.8) / 0.2).max(0.0).powi(2);
        if t > 1.0 {
            NONE
        } else {
            (top + 0.9 * th * t * t - curl, top + th - 1.1 * curl)
        }
    };
    Shape::Span((0..w).map(|x| column(x as f32 + 0.5)).collect())
}

// ───────────────────────────── compositions ─────────────────────────────

/// Two compositions (image 1, image 2) per keyword in an item id; see [`painters`].
const BY_KEYWORD: &[(&str, [Paint; 2])] = &[
    ("airport", [runway, skyline]),
    ("industrial", [skyline, map]),
    ("port", [harbor, map]),
    ("expressway", [roads, chart]),
    ("economy", [chart, skyline]),
    ("border", [roads, rolling]),
    ("cat-tien", [forest, river]),
    ("lake", [lake, map]),
    ("buu-long", [lake, mountains]),
    ("mountain", [mountains, forest]),
    ("war-zone", [forest, map]),
    ("bom-bo", [forest, festival]),
    ("pottery", [pottery, river]),
    ("cu-lao", [river, map]),
    ("van-mieu", [gate, burst]),
    ("tran-bien", [gate, river]),
    ("cho-ro", [forest, festival]),
    ("chua-ong", [gate, festival]),
    ("rubber", [plantation, forest]),
    ("fruit-festival", [fruit, festival]),
    ("spring", [burst, festival]),
];

fn painters(id: &str, pillar: &str) -> [Paint; 2] {
    if let Some((_, paint)) = BY_KEYWORD.iter().find(|(key, _)| id.contains(key)) {
        return *paint;
    }
    match pillar {
        "invest" => [skyline, chart],
        "tourism" => [rolling, lake],
        "culture" => [gate, pottery],
        "products" => [fruit, plantation],
        "events" => [festival, burst],
        _ => [rolling, map],
    }
}

fn render_item(id: &str, pillar: &str, color: Rgbf, variant: usize) -> RgbImage {
    let mut rng = Rng::new(id, variant as u64);
    let p = palette(color, &mut rng);
    let layers = Vec::new();
    let mut scene = Scene {
        w: W,
        h: H,
        top: p.light,
        bottom: p.pale,
        shade: Some(p.deep),
        layers,
    };
    painters(id, pillar)[variant % 2](&mut scene, &p, &mut rng);
    scene.render()
}

fn sun(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    let (x, y, r) = (
        rng.range(0.55, 0.85) * WF,
        rng.range(0.14, 0.32) * HF,
        rng.range(50.0, 85.0),
    );
    s.add(disc(x, y, 5.0 * r), Fill::Flat(p.warm), 0.45, 10.0 * r);
    s.add(
        disc(x, y, r),
        Fill::Flat(mix(p.warm, [1.0; 3], 0.5)),
        0.9,
        2.0,
    );
}

/// Ridges from the back to the front, at `bases` (fractions of the height).
fn hills(s: &mut Scene, p: &Palette, rng: &mut Rng, bases: &[f32], peaks: bool, trees: bool) {
    for (i, &base) in bases.iter().enumerate() {
        let (t, base) = (i as f32 / (bases.len() - 1).max(1) as f32, base * HF);
        let waves: Vec<[f32; 3]> = (1..4)
            .map(|k| {
                let k = k as f32;
                let freq = rng.range(0.6, 1.4) * k * (1.0 + t) * TAU / WF;
                [freq, rng.range(0.0, TAU), rng.range(20.0, 55.0) / k]
            })
            .collect();
        let (px, ph, pw) = (
            rng.range(0.2, 0.85) * WF,
            rng.range(150.0, 300.0) * (1.0 - t),
            rng.range(300.0, 600.0),
        );
        let tree = rng.range(20.0, 34.0) * (1.0 + t);
        let shape = below(W, |x| {
            let mut y = base
                + waves
                    .iter()
                    .map(|[f, o, a]| a * (x * f + o).sin())
                    .sum::<f32>();
            if peaks {
                y -= ph * (1.0 - (x - px).abs() / pw).max(0.0).powf(1.5);
            }
            if trees {
                y -= 0.7 * tree * (x * PI / tree).sin().abs().sqrt();
            }
            y
        });
        let col = mix(mix(p.light, p.pale, 0.3), p.dark, 0.1 + 0.8 * t);
        s.add(
            shape,
            Fill::Vertical(base - 100.0, HF, col, mix(col, p.deep, 0.4)),
            1.0,
            1.5,
        );
    }
}

fn rolling(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    sun(s, p, rng);
    hills(s, p, rng, &[0.46, 0.56, 0.67, 0.8], false, false);
}

fn mountains(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    sun(s, p, rng);
    hills(s, p, rng, &[0.42, 0.55, 0.7, 0.82], true, false);
}

fn forest(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    sun(s, p, rng);
    hills(s, p, rng, &[0.48, 0.6, 0.72, 0.84], false, true);
}

fn lake(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    sun(s, p, rng);
    hills(s, p, rng, &[0.42, 0.5, 0.6], true, false);
    let (cx, cy, rx, ry) = (
        rng.range(0.48, 0.6) * WF,
        rng.range(0.74, 0.8) * HF,
        0.45 * WF,
        0.14 * HF,
    );
    let water = Fill::Vertical(cy - ry, cy + ry, p.pale, p.soft);
    s.add(
        ell((cx, cy), (rx, ry), rng.range(-0.04, 0.04)),
        water,
        1.0,
        2.0,
    );
    for k in 0..4 {
        let (x, y) = (
            cx + rng.range(-250.0, 250.0),
            cy - 0.5 * ry + 30.0 * k as f32,
        );
        s.add(
            bar(x - 220.0, y, x + 220.0, y + 3.0),
            Fill::Flat(p.pale),
            0.4,
            3.0,
        );
    }
    let ph = rng.range(0.0, TAU);
    s.put(
        below(W, |x| 0.9 * HF + 60.0 * (x * 0.002 + ph).sin()),
        p.dark,
    );
}

/// A river winding towards the viewer, with a small island.
fn river(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    sun(s, p, rng);
    hills(s, p, rng, &[0.42, 0.5], false, true);
    let hz = 0.56 * HF;
    s.add(
        below(W, |_| hz),
        Fill::Vertical(hz, HF, mix(p.soft, p.base, 0.5), p.dark),
        1.0,
        1.0,
    );
    let (cx, ph) = (rng.range(0.45, 0.65) * WF, rng.range(0.0, TAU));
    let rows: Vec<(f32, f32)> = (0..(HF - hz) as usize)
        .map(|r| {
            let t = r as f32 / (HF - hz);
            (
                cx + 380.0 * t * (5.0 * t + ph).sin(),
                5.0 + 300.0 * t.powf(1.4),
            )
        })
        .collect();
    let (ix, iw) = rows[rows.len() * 3 / 5];
    s.add(
        Shape::Rows { top: hz, rows },
        Fill::Vertical(hz, HF, p.pale, p.light),
        1.0,
        1.5,
    );
    s.put(
        ell((ix, hz + 0.6 * (HF - hz)), (0.5 * iw, 20.0), 0.0),
        mix(p.base, p.dark, 0.3),
    );
}

/// A top-down patchwork of fields, the ground of the map-like compositions.
fn fields(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    (s.top, s.bottom) = (mix(p.soft, p.light, 0.4), mix(p.soft, p.base, 0.3));
    let (rot, cell) = (rng.range(-0.35, 0.35), rng.range(150.0, 230.0));
    let (sn, cs) = rot.sin_cos();
    let tones = [
        p.soft,
        p.light,
        mix(p.base, p.soft, 0.5),
        mix(p.light, p.pale, 0.5),
    ];
    for i in -6..18 {
        for j in -8..15 {
            let (gx, gy) = (i as f32 * cell, j as f32 * cell);
            let c = (gx * cs - gy * sn, gx * sn + gy * cs);
            if (-cell..WF + cell).contains(&c.0) && (-cell..HF + cell).contains(&c.1) {
                let half = (cell * rng.range(0.36, 0.47), cell * rng.range(0.36, 0.47));
                s.add(
                    Shape::Rect {
                        c,
                        half,
                        rot,
                        round: 8.0,
                    },
                    Fill::Flat(rng.pick(&tones)),
                    0.75,
                    1.0,
                );
            }
        }
    }
}

fn road(s: &mut Scene, p: &Palette, f: impl Fn(f32) -> f32, half: f32) {
    s.put(band(&f, half + 4.0), mix(p.dark, p.base, 0.4));
    s.put(band(&f, half), p.pale);
}

fn map(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    fields(s, p, rng);
    let water = Fill::Flat(mix(p.pale, p.light, 0.4));
    let (y0, amp, ph) = (
        rng.range(0.3, 0.6) * HF,
        rng.range(90.0, 200.0),
        rng.range(0.0, TAU),
    );
    s.add(
        band(
            |x| y0 + amp * (x * 0.0035 + ph).sin(),
            rng.range(40.0, 70.0),
        ),
        water,
        1.0,
        1.5,
    );
    let c = (rng.range(0.6, 0.85) * WF, rng.range(0.15, 0.35) * HF);
    s.add(
        ell(
            c,
            (rng.range(120.0, 220.0), rng.range(70.0, 120.0)),
            rng.range(-0.5, 0.5),
        ),
        water,
        1.0,
        1.5,
    );
    road(
        s,
        p,
        |x| 0.75 * HF - 0.3 * x + 40.0 * (x * 0.004).sin(),
        9.0,
    );
}

/// A ring road crossed by two expressways.
fn roads(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    fields(s, p, rng);
    let c = (rng.range(0.5, 0.65) * WF, rng.range(0.4, 0.55) * HF);
    let (r, rot) = (
        (rng.range(480.0, 640.0), rng.range(280.0, 360.0)),
        rng.range(-0.2, 0.2),
    );
    s.put(
        Shape::Ellipse {
            c,
            r,
            rot,
            ring: 16.0,
        },
        mix(p.dark, p.base, 0.4),
    );
    s.put(
        Shape::Ellipse {
            c,
            r,
            rot,
            ring: 11.0,
        },
        p.pale,
    );
    for _ in 0..2 {
        let (y0, k) = (rng.range(0.2, 0.8) * HF, rng.range(-0.3, 0.3));
        let (amp, ph) = (rng.range(40.0, 120.0), rng.range(0.0, TAU));
        road(
            s,
            p,
            |x| y0 + k * (x - 0.5 * WF) + amp * (x * 0.003 + ph).sin(),
            rng.range(8.0, 13.0),
        );
    }
}

/// Two parallel runways with centre-line marks, a taxiway and a terminal.
fn runway(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    fields(s, p, rng);
    let (rot, cx, cy) = (
        rng.range(-0.3, 0.3),
        rng.range(0.5, 0.6) * WF,
        rng.range(0.38, 0.5) * HF,
    );
    let (sn, cs) = rot.sin_cos();
    let at =
        |along: f32, across: f32| (cx + along * cs - across * sn, cy + along * sn + across * cs);
    let strip = |c, half| Shape::Rect {
        c,
        half,
        rot,
        round: 4.0,
    };
    s.put(
        strip(at(0.0, 20.0), (700.0, 10.0)),
        mix(p.dark, p.soft, 0.5),
    );
    for across in [-150.0, 170.0] {
        s.put(
            strip(at(0.0, across), (760.0, 32.0)),
            mix(p.deep, p.soft, 0.3),
        );
        for k in -13..=13 {
            s.put(strip(at(56.0 * k as f32, across), (16.0, 2.5)), p.pale);
        }
    }
    s.put(
        strip(at(rng.range(-300.0, 300.0), 90.0), (240.0, 36.0)),
        mix(p.light, p.pale, 0.5),
    );
}

/// City blocks or, with `saw` > 0, factory sheds with saw-tooth roofs, standing on `ground`.
fn blocks(rng: &mut Rng, ground: f32, width: (f32, f32), height: (f32, f32), saw: f32) -> Shape {
    let mut cols = Vec::with_capacity(W as usize);
    while cols.len() < W as usize {
        let (w, h) = (
            rng.range(width.0, width.1) as usize,
            rng.range(height.0, height.1),
        );
        let gap = rng.range(0.0, 1.0) < 0.15;
        cols.extend((0..w).map(|i| {
            (
                if gap {
                    ground
                } else {
                    ground - h - saw * (i % 48) as f32
                },
                f32::INFINITY,
            )
        }));
    }
    cols.truncate(W as usize);
    Shape::Span(cols)
}

fn skyline(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    s.bottom = mix(p.pale, p.warm, 0.35);
    sun(s, p, rng);
    let ground = 0.8 * HF;
    s.put(
        blocks(rng, ground, (50.0, 140.0), (160.0, 420.0), 0.0),
        mix(p.light, p.soft, 0.55),
    );
    for _ in 0..3 {
        let (x, top) = (rng.range(0.35, 0.95) * WF, ground - rng.range(280.0, 400.0));
        s.put(bar(x - 9.0, top, x + 9.0, ground), mix(p.soft, p.dark, 0.5));
    }
    s.put(
        blocks(rng, ground, (140.0, 300.0), (50.0, 130.0), 0.9),
        mix(p.soft, p.dark, 0.6),
    );
    s.add(
        below(W, |_| ground),
        Fill::Vertical(ground, HF, p.dark, p.deep),
        1.0,
        1.0,
    );
}

/// Rising bars joined by a growth line, on a dark colour field.
fn chart(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    (s.top, s.bottom) = (mix(p.base, p.dark, 0.35), mix(p.dark, p.deep, 0.5));
    s.add(
        disc(0.8 * WF, 0.2 * HF, 260.0),
        Fill::Flat(p.accent),
        0.35,
        700.0,
    );
    s.add(
        disc(0.25 * WF, 0.1 * HF, 200.0),
        Fill::Flat(p.soft),
        0.25,
        600.0,
    );
    let (n, x0, floor) = (rng.pick(&[5_usize, 6, 7]), 0.42 * WF, 0.82 * HF);
    let step = 0.5 * WF / n as f32;
    let tops: Vec<(f32, f32)> = (0..n)
        .map(|i| {
            let t = (i + 1) as f32 / n as f32;
            (
                x0 + step * (i as f32 + 0.5),
                floor - HF * (0.1 + 0.5 * t) * rng.range(0.85, 1.05),
            )
        })
        .collect();
    for &(x, top) in &tops {
        let (c, half) = ((x, 0.5 * (top + floor)), (0.32 * step, 0.5 * (floor - top)));
        let fill = Fill::Vertical(top, floor, p.light, p.soft);
        s.add(
            Shape::Rect {
                c,
                half,
                rot: 0.0,
                round: 10.0,
            },
            fill,
            0.85,
            1.0,
        );
    }
    let line = |x: f32| {
        let i = ((x - x0) / step - 0.5).max(0.0) as usize;
        if i + 1 >= n || x < tops[0].0 {
            return NONE;
        }
        let ((xa, ya), (xb, yb)) = (tops[i], tops[i + 1]);
        let y = ya - 40.0 + (yb - ya) * (x - xa) / (xb - xa);
        (y - 3.0, y + 3.0)
    };
    s.add(
        Shape::Span((0..W).map(|x| line(x as f32 + 0.5)).collect()),
        Fill::Flat(p.pale),
        0.9,
        1.0,
    );
    for &(x, top) in &tops {
        s.put(disc(x, top - 40.0, 9.0), p.pale);
    }
}

/// Cranes on a quay and a container ship on calm water.
fn harbor(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    s.bottom = mix(p.pale, p.warm, 0.3);
    sun(s, p, rng);
    let sea = rng.range(0.56, 0.62) * HF;
    hills(s, p, rng, &[sea / HF - 0.05], false, true);
    s.add(
        below(W, |_| sea),
        Fill::Vertical(sea, HF, p.light, p.base),
        1.0,
        1.0,
    );
    for _ in 0..8 {
        let (x, y) = (rng.range(0.0, WF), rng.range(sea + 20.0, HF));
        s.add(
            bar(x - 120.0, y, x + 120.0, y + 2.5),
            Fill::Flat(p.pale),
            0.3,
            2.0,
        );
    }
    let (quay, steel) = (rng.range(0.5, 0.6) * WF, mix(p.dark, p.deep, 0.3));
    s.put(
        bar(quay, sea - 24.0, WF + 8.0, sea + 16.0),
        mix(p.soft, p.dark, 0.5),
    );
    for k in 0..3 {
        let (x, top) = (
            quay + 160.0 + 200.0 * k as f32,
            sea - rng.range(250.0, 330.0),
        );
        s.put(bar(x - 9.0, top, x + 9.0, sea - 24.0), steel);
        s.put(bar(x - 200.0, top - 4.0, x + 70.0, top + 10.0), steel);
        s.put(bar(x - 24.0, top + 10.0, x + 24.0, top + 40.0), steel);
    }
    let (hx, hy) = (quay + 330.0, sea + 60.0);
    s.put(
        Shape::Rect {
            c: (hx, hy),
            half: (400.0, 26.0),
            rot: 0.0,
            round: 10.0,
        },
        steel,
    );
    let boxes = [p.accent, p.soft, p.light, p.base];
    for i in 0..14 {
        for level in 0..rng.pick(&[1, 2, 3]) {
            let c = (
                hx - 364.0 + 56.0 * i as f32,
                hy - 39.0 - 27.0 * level as f32,
            );
            s.put(
                Shape::Rect {
                    c,
                    half: (26.0, 13.0),
                    rot: 0.0,
                    round: 2.0,
                },
                rng.pick(&boxes),
            );
        }
    }
}

/// A three-door temple gate with up-turned roofs against a low sun.
fn gate(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    (s.top, s.bottom) = (mix(p.light, p.warm, 0.25), mix(p.pale, p.warm, 0.55));
    let (cx, ground, u) = (rng.range(0.56, 0.68) * WF, 0.8 * HF, rng.range(90.0, 110.0));
    let sun_x = cx + rng.range(-150.0, 150.0);
    s.add(
        disc(sun_x, 0.34 * HF, 520.0),
        Fill::Flat(p.warm),
        0.3,
        900.0,
    );
    s.add(disc(sun_x, 0.34 * HF, 170.0), Fill::Flat(p.warm), 0.75, 3.0);
    hills(s, p, rng, &[0.64], false, true);
    let (wall, tiles) = (mix(p.dark, p.base, 0.35), mix(p.deep, p.dark, 0.5));
    for side in [-1.0, 1.0] {
        let x = cx + side * 3.1 * u;
        s.put(
            bar(x - 1.3 * u, ground - 2.8 * u, x + 1.3 * u, ground),
            wall,
        );
        s.put(roof(W, x, 1.75 * u, ground - 3.3 * u, 0.55 * u), tiles);
        s.put(
            bar(x - 0.45 * u, ground - 1.6 * u, x + 0.45 * u, ground),
            tiles,
        );
    }
    s.put(
        bar(cx - 1.9 * u, ground - 3.9 * u, cx + 1.9 * u, ground),
        wall,
    );
    s.put(roof(W, cx, 2.6 * u, ground - 4.5 * u, 0.7 * u), tiles);
    s.put(
        bar(
            cx - 1.2 * u,
            ground - 5.4 * u,
            cx + 1.2 * u,
            ground - 4.4 * u,
        ),
        wall,
    );
    s.put(roof(W, cx, 1.9 * u, ground - 6.0 * u, 0.6 * u), tiles);
    s.put(
        bar(cx - 0.7 * u, ground - 2.4 * u, cx + 0.7 * u, ground),
        tiles,
    );
    s.put(disc(cx, ground - 2.4 * u, 0.7 * u), tiles);
    s.add(
        below(W, |_| ground),
        Fill::Vertical(ground, HF, p.dark, p.deep),
        1.0,
        1.0,
    );
}

/// A glazed vase standing on `floor`, with a decorative band.
fn vase(s: &mut Scene, p: &Palette, rng: &mut Rng, cx: f32, floor: f32) {
    let (height, body) = (rng.range(280.0, 460.0), rng.range(90.0, 150.0));
    let (neck, top) = (body * rng.range(0.3, 0.45), floor - height);
    let rows: Vec<(f32, f32)> = (0..height as usize)
        .map(|r| {
            let b = r as f32 / height;
            let w = if b < 0.05 {
                1.3 * neck
            } else {
                neck + (body - neck) * (PI * b.powf(0.7)).sin().max(0.0)
            };
            (cx, w.max(0.55 * body * b))
        })
        .collect();
    let (a, b) = (rows.len() * 2 / 5, rows.len() / 2);
    let stripe = Shape::Rows {
        top: top + a as f32,
        rows: rows[a..b].to_vec(),
    };
    let glaze = rng.pick(&[p.base, p.accent, p.dark, p.soft]);
    let shine = Fill::Radial(
        (cx - 0.35 * body, top + 0.42 * height),
        1.5 * body,
        mix(glaze, p.pale, 0.55),
        mix(glaze, p.deep, 0.35),
    );
    s.add(
        ell((cx, floor), (1.1 * body, 14.0), 0.0),
        Fill::Flat(p.deep),
        0.35,
        12.0,
    );
    s.add(Shape::Rows { top, rows }, shine, 1.0, 1.5);
    s.add(stripe, Fill::Flat(mix(p.pale, p.warm, 0.4)), 0.45, 1.5);
}

fn pottery(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    (s.top, s.bottom) = (mix(p.pale, p.warm, 0.35), mix(p.light, p.soft, 0.3));
    s.add(
        disc(0.7 * WF, 0.3 * HF, 300.0),
        Fill::Flat(p.warm),
        0.3,
        700.0,
    );
    let floor = 0.8 * HF;
    let table = Fill::Vertical(floor - 40.0, HF, mix(p.soft, p.base, 0.4), p.dark);
    s.add(below(W, |_| floor - 40.0), table, 1.0, 1.0);
    for i in 0..rng.pick(&[2, 3]) {
        let (cx, y) = (
            WF * (0.5 + 0.15 * i as f32) + rng.range(-40.0, 40.0),
            floor + rng.range(-10.0, 30.0),
        );
        vase(s, p, rng, cx, y);
    }
}

/// Shaded fruit with leaves, large (pomelo, durian) or small (rambutan, pepper).
fn fruit(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    (s.top, s.bottom) = (mix(p.pale, p.warm, 0.25), mix(p.light, p.warm, 0.3));
    s.add(
        disc(0.65 * WF, 0.4 * HF, 380.0),
        Fill::Flat(p.pale),
        0.5,
        800.0,
    );
    let leaf = mix(hsl(105.0, 0.38, 0.34), p.base, 0.2);
    let (n, size) = rng.pick(&[(5, (120.0, 200.0)), (11, (60.0, 110.0))]);
    let mut all: Vec<(f32, f32, f32)> = (0..n)
        .map(|_| {
            (
                rng.range(0.42, 0.92) * WF,
                rng.range(0.3, 0.8) * HF,
                rng.range(size.0, size.1),
            )
        })
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1));
    for (x, y, r) in all {
        let a = rng.range(-2.4, -0.7);
        s.put(
            ell(
                (x + 0.9 * r * a.cos(), y + 0.9 * r * a.sin()),
                (0.75 * r, 0.28 * r),
                a,
            ),
            leaf,
        );
        s.add(
            ell((x + 0.15 * r, y + 0.9 * r), (0.95 * r, 0.22 * r), 0.0),
            Fill::Flat(p.deep),
            0.25,
            0.4 * r,
        );
        let skin = rng.pick(&[
            p.base,
            p.accent,
            mix(p.base, p.warm, 0.5),
            mix(p.accent, leaf, 0.4),
        ]);
        let shine = Fill::Radial(
            (x - 0.35 * r, y - 0.4 * r),
            1.5 * r,
            mix(skin, p.pale, 0.6),
            mix(skin, p.deep, 0.35),
        );
        s.add(disc(x, y, r), shine, 1.0, 1.5);
    }
}

/// Rows of a plantation running towards the hills.
fn plantation(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    s.bottom = mix(p.pale, p.warm, 0.3);
    sun(s, p, rng);
    let hz = rng.range(0.42, 0.5) * HF;
    hills(s, p, rng, &[hz / HF - 0.04], false, true);
    let ground = Fill::Vertical(hz, HF, mix(p.soft, p.light, 0.3), mix(p.base, p.dark, 0.5));
    s.add(below(W, |_| hz), ground, 1.0, 1.0);
    let rows = Shape::Rays {
        c: (rng.range(0.45, 0.75) * WF, hz - 160.0),
        count: rng.range(110.0, 150.0),
        duty: 0.42,
        top: hz + 6.0,
    };
    s.add(rows, Fill::Vertical(hz, HF, p.soft, p.dark), 0.6, 1.0);
}

/// Soft out-of-focus lights and a string of lanterns on a dark field.
fn festival(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    (s.top, s.bottom) = (mix(p.dark, p.base, 0.3), p.deep);
    s.add(
        disc(0.75 * WF, 0.35 * HF, 300.0),
        Fill::Flat(p.accent),
        0.45,
        800.0,
    );
    s.add(
        disc(0.3 * WF, 0.15 * HF, 240.0),
        Fill::Flat(p.base),
        0.4,
        600.0,
    );
    let lights = [p.warm, p.accent, p.light, p.pale];
    for _ in 0..34 {
        let (x, y, r) = (
            rng.range(0.0, 1.0).powf(0.7) * WF,
            rng.range(0.0, 0.85) * HF,
            rng.range(14.0, 110.0),
        );
        let (blur, alpha) = (rng.range(1.0, 0.6 * r), rng.range(0.15, 0.45));
        s.add(disc(x, y, r), Fill::Flat(rng.pick(&lights)), alpha, blur);
    }
    let (y0, sag) = (rng.range(0.08, 0.18) * HF, rng.range(60.0, 140.0));
    let string = |x: f32| y0 + sag * (PI * x / WF).sin();
    s.add(band(string, 1.5), Fill::Flat(p.light), 0.5, 1.0);
    for i in 0..14 {
        let x = (i as f32 + 0.5) * WF / 14.0;
        s.add(
            disc(x, string(x) + 22.0, 40.0),
            Fill::Flat(p.warm),
            0.25,
            60.0,
        );
        s.add(
            disc(x, string(x) + 22.0, 16.0),
            Fill::Flat(p.warm),
            0.9,
            2.0,
        );
    }
}

/// A sunburst with rings and confetti.
fn burst(s: &mut Scene, p: &Palette, rng: &mut Rng) {
    (s.top, s.bottom) = (mix(p.base, p.light, 0.2), mix(p.dark, p.deep, 0.3));
    let c = (rng.range(0.6, 0.78) * WF, rng.range(0.28, 0.42) * HF);
    let count = rng.pick(&[24.0, 32.0, 40.0]);
    let rays = Shape::Rays {
        c,
        count,
        duty: 0.5,
        top: f32::NEG_INFINITY,
    };
    s.add(rays, Fill::Radial(c, 0.6 * WF, p.pale, p.base), 0.16, 1.5);
    for k in 1..5 {
        let r = 120.0 * k as f32;
        s.add(
            Shape::Ellipse {
                c,
                r: (r, r),
                rot: 0.0,
                ring: 2.0,
            },
            Fill::Flat(p.pale),
            0.22,
            1.5,
        );
    }
    s.add(disc(c.0, c.1, 200.0), Fill::Flat(p.warm), 0.5, 400.0);
    s.add(
        disc(c.0, c.1, 70.0),
        Fill::Flat(mix(p.warm, p.pale, 0.5)),
        0.95,
        2.0,
    );
    for _ in 0..40 {
        let (a, d) = (rng.range(0.0, TAU), rng.range(150.0, 700.0));
        let at = (c.0 + d * a.cos(), c.1 + 0.8 * d * a.sin());
        let (half, rot) = (
            (rng.range(6.0, 14.0), rng.range(3.0, 6.0)),
            rng.range(0.0, PI),
        );
        let color = rng.pick(&[p.warm, p.accent, p.pale, p.light]);
        s.add(
            Shape::Rect {
                c: at,
                half,
                rot,
                round: 2.0,
            },
            Fill::Flat(color),
            0.8,
            1.0,
        );
    }
}

// ───────────────────────────── pillar icons ─────────────────────────────

/// A flat white symbol on a rounded square in the pillar colour, with transparent corners.
fn render_icon(id: &str, color: Rgbf) -> RgbaImage {
    let (ink, tint, shadow) = (
        [0.97, 0.96, 0.93],
        mix(color, [1.0; 3], 0.5),
        mix(color, [0.0; 3], 0.35),
    );
    let (top, bottom) = (mix(color, [1.0; 3], 0.12), mix(color, [0.0; 3], 0.1));
    let mut s = Scene {
        w: ICON,
        h: ICON,
        top,
        bottom,
        shade: None,
        layers: Vec::new(),
    };
    let rounded = |x: f32, y: f32, hw: f32, hh: f32, round: f32| Shape::Rect {
        c: (x, y),
        half: (hw, hh),
        rot: 0.0,
        round,
    };
    match id {
        "invest" => {
            for i in 0..4 {
                let h = 44.0 + 32.0 * i as f32;
                s.put(
                    rounded(66.0 + 42.0 * i as f32, 196.0 - 0.5 * h, 14.0, 0.5 * h, 5.0),
                    ink,
                );
            }
            s.put(bar(46.0, 202.0, 210.0, 210.0), tint);
        }
        "tourism" => {
            s.put(disc(180.0, 74.0, 22.0), tint);
            let peaks =
                |x: f32| (72.0 + 1.9 * (x - 98.0).abs()).min(112.0 + 1.7 * (x - 168.0).abs());
            s.put(
                Shape::Span((0..ICON).map(|x| (peaks(x as f32 + 0.5), 200.0)).collect()),
                ink,
            );
        }
        "culture" => {
            s.put(roof(ICON, 128.0, 100.0, 66.0, 30.0), ink);
            s.put(bar(60.0, 116.0, 196.0, 128.0), ink);
            for x in [84.0, 172.0] {
                s.put(bar(x - 8.0, 116.0, x + 8.0, 194.0), ink);
            }
            s.put(bar(48.0, 194.0, 208.0, 204.0), tint);
        }
        "products" => {
            s.put(ell((160.0, 78.0), (38.0, 15.0), -0.6), tint);
            s.put(
                Shape::Rect {
                    c: (130.0, 86.0),
                    half: (4.0, 14.0),
                    rot: 0.15,
                    round: 2.0,
                },
                ink,
            );
            s.put(disc(128.0, 148.0, 60.0), ink);
            s.add(disc(108.0, 128.0, 14.0), Fill::Flat(tint), 0.7, 1.0);
        }
        _ => {
            // events, and any pillar added later: a calendar page
            s.put(rounded(128.0, 140.0, 80.0, 70.0, 14.0), ink);
            s.put(rounded(128.0, 92.0, 80.0, 22.0, 14.0), shadow);
            s.put(bar(48.0, 96.0, 208.0, 112.0), shadow);
            for x in [92.0, 164.0] {
                s.put(rounded(x, 72.0, 7.0, 18.0, 4.0), tint);
            }
            for (i, j) in [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)] {
                let day = if (i, j) == (2, 1) { shadow } else { tint };
                s.put(
                    rounded(
                        88.0 + 40.0 * i as f32,
                        140.0 + 34.0 * j as f32,
                        11.0,
                        11.0,
                        3.0,
                    ),
                    day,
                );
            }
        }
    }
    let rgb = s.render();
    let frame = Shape::Rect {
        c: (128.0, 128.0),
        half: (120.0, 120.0),
        rot: 0.0,
        round: 44.0,
    };
    RgbaImage::from_fn(ICON, ICON, |x, y| {
        let [r, g, b] = rgb.get_pixel(x, y).0;
        let d = frame.dist(x as f32 + 0.5, y as f32 + 0.5, x as usize);
        Rgba([r, g, b, ((0.5 - d).clamp(0.0, 1.0) * 255.0).round() as u8])
    })
}
