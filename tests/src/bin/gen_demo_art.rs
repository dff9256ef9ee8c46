//! Paints the artwork of the demo content pack: every image `pack.toml` names.
//!
//! No photographs can ship with the repository, so each item gets two calm landscapes in its
//! pillar's colour (sky gradient, a sun, layered hills, a river or bands), seeded from the
//! item's id so that every run writes the same bytes, darker towards the bottom-left where the
//! kiosk prints titles. Each pillar gets a flat icon. Staff replace any file with a photograph
//! of the same name; nothing else changes.
//!
//! `gen_demo_art [PACK_DIR]` (default `assets/demo-pack`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use image::{Rgb, RgbImage, Rgba, RgbaImage};
use kiosk_core::content::LoadedPack;

const W: u32 = 1280;
const H: u32 = 720;

/// A small deterministic generator (splitmix64) seeded from a string.
struct Rng(u64);

impl Rng {
    fn new(seed: &str) -> Rng {
        // FNV-1a of the seed.
        let h = seed.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        });
        Rng(h)
    }
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    }
    fn range(&mut self, a: f32, b: f32) -> f32 {
        a + (b - a) * self.next()
    }
}

type Col = [f32; 3];

fn hex(s: &str) -> Col {
    let v = u32::from_str_radix(s.trim_start_matches('#'), 16).unwrap_or(0x1f6f8b);
    [
        ((v >> 16) & 255) as f32 / 255.0,
        ((v >> 8) & 255) as f32 / 255.0,
        (v & 255) as f32 / 255.0,
    ]
}

fn mix(a: Col, b: Col, t: f32) -> Col {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn scale(a: Col, k: f32) -> Col {
    [a[0] * k, a[1] * k, a[2] * k]
}

fn smooth(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

fn to_rgb(c: Col) -> Rgb<u8> {
    Rgb(c.map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8))
}

/// A landscape: sky, sun, three ridges, and a river (variant 0) or light bands (variant 1).
fn landscape(id: &str, variant: u32, base: Col) -> RgbImage {
    let mut rng = Rng::new(&format!("{id}/{variant}"));
    let sky_top = mix(base, [1.0, 1.0, 1.0], rng.range(0.45, 0.7));
    let sky_low = mix(base, [1.0, 0.92, 0.8], rng.range(0.55, 0.8));
    let sun = (
        rng.range(0.55, 0.9),
        rng.range(0.15, 0.35),
        rng.range(0.05, 0.09),
    );
    let ridges: Vec<(f32, f32, f32, f32, f32)> = (0..3)
        .map(|i| {
            let y = 0.45 + 0.14 * i as f32 + rng.range(-0.04, 0.04);
            (
                y,
                rng.range(0.03, 0.08),
                rng.range(2.0, 6.0),
                rng.range(0.0, std::f32::consts::TAU),
                rng.range(7.0, 13.0),
            )
        })
        .collect();
    let river = (
        rng.range(0.2, 0.6),
        rng.range(0.1, 0.25),
        rng.range(1.0, 2.5),
    );
    let band_angle = rng.range(-0.6, 0.6);
    RgbImage::from_fn(W, H, |px, py| {
        let (x, y) = (px as f32 / W as f32, py as f32 / H as f32);
        let mut c = mix(sky_top, sky_low, y / 0.6);
        let d = ((x - sun.0).powi(2) + ((y - sun.1) * H as f32 / W as f32 * 1.0).powi(2)).sqrt();
        c = mix(
            c,
            [1.0, 0.97, 0.88],
            1.0 - smooth(sun.2 * 0.9, sun.2 * 1.6, d),
        );
        for (i, (ry, amp, f1, ph, f2)) in ridges.iter().enumerate() {
            let top = ry + amp * (x * f1 + ph).sin() + amp * 0.35 * (x * f2 + ph * 2.0).sin();
            if y > top {
                let shade = 0.85 - 0.2 * i as f32;
                c = mix(
                    scale(base, shade),
                    scale(base, shade * 0.8),
                    (y - top) * 3.0,
                );
            }
        }
        if variant == 0 {
            let centre = river.0 + river.1 * (y * river.2 * std::f32::consts::TAU).sin();
            let half = 0.01 + 0.08 * (y - 0.55).max(0.0);
            if y > 0.55 && (x - centre).abs() < half {
                c = mix(c, mix(sky_low, [0.8, 0.9, 1.0], 0.4), 0.75);
            }
        } else {
            let u = x * band_angle.cos() + y * band_angle.sin();
            if (u * 9.0).fract() < 0.18 && y > 0.3 {
                c = mix(c, [1.0, 1.0, 1.0], 0.08);
            }
        }
        // Darker towards the bottom-left, where titles are printed.
        let dark = smooth(0.2, 1.2, (1.0 - x) * 0.6 + y * 0.8);
        to_rgb(scale(c, 1.0 - 0.45 * dark))
    })
}

/// A flat icon: a rounded square in the pillar's colour with a white symbol.
fn icon(pillar: &str, base: Col) -> RgbaImage {
    const S: f32 = 256.0;
    RgbaImage::from_fn(256, 256, |px, py| {
        let (x, y) = (px as f32 + 0.5, py as f32 + 0.5);
        // Rounded square, radius 48.
        let (qx, qy) = (
            (x - S / 2.0).abs() - (S / 2.0 - 48.0),
            (y - S / 2.0).abs() - (S / 2.0 - 48.0),
        );
        let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt() - 48.0;
        if outside > 0.0 {
            return Rgba([0, 0, 0, 0]);
        }
        let inside = |x0: f32, y0: f32, x1: f32, y1: f32| x >= x0 && x <= x1 && y >= y0 && y <= y1;
        let circle = |cx: f32, cy: f32, r: f32| (x - cx).powi(2) + (y - cy).powi(2) <= r * r;
        let white = match pillar {
            "invest" => {
                inside(60.0, 150.0, 95.0, 196.0)
                    || inside(110.0, 110.0, 145.0, 196.0)
                    || inside(160.0, 64.0, 195.0, 196.0)
            }
            "tourism" => {
                ((90.0..=190.0).contains(&y) && (x - 110.0).abs() <= (y - 90.0) * 0.8)
                    || circle(180.0, 80.0, 22.0)
            }
            "culture" => {
                ((64.0..=100.0).contains(&y) && (x - 128.0).abs() <= 40.0 + (y - 64.0) * 1.6)
                    || inside(60.0, 186.0, 196.0, 200.0)
                    || inside(80.0, 100.0, 100.0, 186.0)
                    || inside(156.0, 100.0, 176.0, 186.0)
            }
            "products" => {
                circle(120.0, 145.0, 52.0)
                    || ((x - 165.0) / 34.0).powi(2) + ((y - 80.0) / 16.0).powi(2) <= 1.0
            }
            _ => {
                inside(64.0, 72.0, 192.0, 196.0)
                    && !(inside(76.0, 108.0, 180.0, 184.0)
                        && !inside(96.0, 124.0, 120.0, 148.0)
                        && !inside(136.0, 124.0, 160.0, 148.0))
            }
        };
        let shade = mix(base, scale(base, 0.75), y / S);
        let c = if white { [1.0, 1.0, 1.0] } else { shade };
        let alpha = (-outside).clamp(0.0, 1.0);
        let Rgb([r, g, b]) = to_rgb(c);
        Rgba([r, g, b, (alpha * 255.0) as u8])
    })
}

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "assets/demo-pack".into()),
    );
    let pack = LoadedPack::from_dir(&dir)?;
    let mut written = 0;
    let save = |rel: &str, f: &dyn Fn(&Path) -> image::ImageResult<()>| -> anyhow::Result<()> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        f(&path).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
        Ok(())
    };
    for p in &pack.pack.pillars {
        let base = hex(p.color.as_deref().unwrap_or("#1F6F8B"));
        if let Some(rel) = &p.icon {
            save(rel, &|path| icon(&p.id, base).save(path))?;
            written += 1;
        }
    }
    for item in &pack.pack.items {
        let color = pack
            .pack
            .pillars
            .iter()
            .find(|p| p.id == item.pillar)
            .and_then(|p| p.color.clone());
        let base = hex(color.as_deref().unwrap_or("#1F6F8B"));
        for (n, rel) in item.media.iter().enumerate() {
            save(rel, &|path| {
                landscape(&item.id, n as u32 % 2, base).save(path)
            })?;
            written += 1;
        }
    }
    println!("{written} images written");
    Ok(())
}
