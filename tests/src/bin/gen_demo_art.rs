//! Paints the artwork of the demo content pack: every image `pack.toml` names.
//!
//! No photographs can ship with the repository, so each item gets two pictures of its own
//! subject (the airport's runway and aircraft, the port's cranes and containers, factories,
//! the expressway, the lake, the pagoda, the fruits, the pottery, the festival…) in its
//! pillar's colour, the second mirrored at dusk, drawn from shapes seeded by the item's id so
//! that every run writes the same bytes, darker towards the bottom-left where the kiosk prints
//! titles. Each pillar gets a flat icon. Staff replace any file with a photograph of the same
//! name; nothing else changes.
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

/// A picture being painted, in linear shares of its width (x) and height (y).
struct Canvas {
    px: Vec<Col>,
    /// Mirrored left to right (the second picture of an item).
    flip: bool,
}

const ASPECT: f32 = W as f32 / H as f32;

impl Canvas {
    fn new(flip: bool) -> Canvas {
        Canvas {
            px: vec![[0.0; 3]; (W * H) as usize],
            flip,
        }
    }

    /// Paints every pixel inside the box where `shade` says so (a colour and its opacity).
    fn paint(
        &mut self,
        (x0, y0, x1, y1): (f32, f32, f32, f32),
        shade: impl Fn(f32, f32) -> Option<(Col, f32)>,
    ) {
        let (px0, px1) = if self.flip {
            (1.0 - x1, 1.0 - x0)
        } else {
            (x0, x1)
        };
        let cx0 = ((px0.max(0.0)) * W as f32).floor() as u32;
        let cx1 = ((px1.min(1.0)) * W as f32).ceil().min(W as f32) as u32;
        let cy0 = ((y0.max(0.0)) * H as f32).floor() as u32;
        let cy1 = ((y1.min(1.0)) * H as f32).ceil().min(H as f32) as u32;
        for py in cy0..cy1 {
            for pxx in cx0..cx1 {
                let mut x = (pxx as f32 + 0.5) / W as f32;
                if self.flip {
                    x = 1.0 - x;
                }
                let y = (py as f32 + 0.5) / H as f32;
                if let Some((c, a)) = shade(x, y) {
                    let i = (py * W + pxx) as usize;
                    self.px[i] = mix(self.px[i], c, a);
                }
            }
        }
    }

    fn all(&mut self, shade: impl Fn(f32, f32) -> Col) {
        self.paint((0.0, 0.0, 1.0, 1.0), |x, y| Some((shade(x, y), 1.0)));
    }

    fn rect(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, c: Col) {
        self.paint((x0, y0, x1, y1), |_, _| Some((c, 1.0)));
    }

    /// A disc of radius `r` (in shares of the height), edges softened by a pixel.
    fn circle(&mut self, cx: f32, cy: f32, r: f32, c: Col) {
        self.ellipse(cx, cy, r / ASPECT, r, c);
    }

    fn ellipse(&mut self, cx: f32, cy: f32, rx: f32, ry: f32, c: Col) {
        self.paint(
            (
                cx - rx - 0.002,
                cy - ry - 0.003,
                cx + rx + 0.002,
                cy + ry + 0.003,
            ),
            |x, y| {
                let d = (((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2)).sqrt();
                let edge = 1.0 - smooth(1.0 - 1.5 / (ry * H as f32), 1.0, d);
                (edge > 0.0).then_some((c, edge))
            },
        );
    }

    fn poly(&mut self, pts: &[(f32, f32)], c: Col) {
        let (mut x0, mut y0, mut x1, mut y1) = (1.0f32, 1.0f32, 0.0f32, 0.0f32);
        for &(x, y) in pts {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        self.paint((x0, y0, x1, y1), |x, y| {
            let mut inside = false;
            let mut j = pts.len() - 1;
            for i in 0..pts.len() {
                let (xi, yi) = pts[i];
                let (xj, yj) = pts[j];
                if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                    inside = !inside;
                }
                j = i;
            }
            inside.then_some((c, 1.0))
        });
    }

    /// A disc of radius `r` stretched `tall` times in height, whose edge reaches out to
    /// `outline(angle)` times the radius, at most 1.3 (a rambutan's hairs, a durian's thorns).
    fn spiky(
        &mut self,
        (x, y): (f32, f32),
        r: f32,
        tall: f32,
        outline: impl Fn(f32) -> f32,
        c: Col,
    ) {
        let (rx, ry) = (r * 1.3 / ASPECT, r * 1.3 * tall);
        self.paint((x - rx, y - ry, x + rx, y + ry), |px, py| {
            let (dx, dy) = ((px - x) * ASPECT, (py - y) / tall);
            let a = dy.atan2(dx);
            let reach = r * outline(a);
            (dx.hypot(dy) < reach).then_some((c, 1.0))
        });
    }

    /// A straight stroke `w` wide (shares of the height).
    fn line(&mut self, (ax, ay): (f32, f32), (bx, by): (f32, f32), w: f32, c: Col) {
        let pad = w;
        self.paint(
            (
                ax.min(bx) - pad,
                ay.min(by) - pad,
                ax.max(bx) + pad,
                ay.max(by) + pad,
            ),
            |x, y| {
                let (dx, dy) = ((bx - ax) * ASPECT, by - ay);
                let (qx, qy) = ((x - ax) * ASPECT, y - ay);
                let t = ((qx * dx + qy * dy) / (dx * dx + dy * dy).max(1e-9)).clamp(0.0, 1.0);
                let d = ((qx - t * dx).powi(2) + (qy - t * dy).powi(2)).sqrt();
                (d <= w / 2.0).then_some((c, 1.0))
            },
        );
    }

    /// A sky from `top` to `low`, with a sun (or a moon) and its glow.
    fn sky(&mut self, top: Col, low: Col, sun: (f32, f32, f32), glow: Col) {
        self.all(|x, y| {
            let c = mix(top, low, y / 0.65);
            let d = ((x - sun.0) * ASPECT).hypot(y - sun.1);
            mix(c, glow, (1.0 - smooth(sun.2, sun.2 * 4.0, d)) * 0.55)
        });
        self.circle(sun.0, sun.1, sun.2, mix(glow, [1.0, 1.0, 1.0], 0.6));
    }

    /// Ground from the horizon down, darker towards the viewer.
    fn ground(&mut self, horizon: f32, far: Col, near: Col) {
        self.paint((0.0, horizon, 1.0, 1.0), |_, y| {
            Some((mix(far, near, (y - horizon) / (1.0 - horizon)), 1.0))
        });
    }

    /// Water from the horizon down, with light ripples.
    fn water(&mut self, horizon: f32, far: Col, near: Col, rng: &mut Rng) {
        self.ground(horizon, far, near);
        for _ in 0..60 {
            let y = rng.range(horizon + 0.01, 1.0);
            let x = rng.range(0.0, 1.0);
            let len = 0.02 + 0.08 * (y - horizon);
            self.line((x, y), (x + len, y), 0.003, mix(far, [1.0, 1.0, 1.0], 0.35));
        }
    }

    /// A tree: a trunk and a crown of three discs.
    fn tree(&mut self, x: f32, base: f32, size: f32, leaf: Col) {
        self.rect(
            x - size * 0.06,
            base - size * 0.5,
            x + size * 0.06,
            base,
            [0.3, 0.2, 0.12],
        );
        self.circle(x, base - size * 0.75, size * 0.35, leaf);
        self.circle(
            x - size * 0.14,
            base - size * 0.6,
            size * 0.28,
            scale(leaf, 0.9),
        );
        self.circle(
            x + size * 0.14,
            base - size * 0.62,
            size * 0.27,
            scale(leaf, 1.1),
        );
    }

    /// A roof that curves up at both ends, as on temples and pagodas.
    fn temple_roof(&mut self, cx: f32, y: f32, half: f32, h: f32, c: Col) {
        self.poly(
            &[
                (cx - half * 1.12, y - h * 0.35),
                (cx - half * 0.85, y),
                (cx + half * 0.85, y),
                (cx + half * 1.12, y - h * 0.35),
                (cx + half * 0.55, y - h),
                (cx - half * 0.55, y - h),
            ],
            c,
        );
    }

    /// Darker towards the bottom-left, where the kiosk prints titles.
    fn finish(self) -> RgbImage {
        RgbImage::from_fn(W, H, |px, py| {
            let (x, y) = (px as f32 / W as f32, py as f32 / H as f32);
            let dark = smooth(0.2, 1.2, (1.0 - x) * 0.6 + y * 0.8);
            to_rgb(scale(self.px[(py * W + px) as usize], 1.0 - 0.4 * dark))
        })
    }
}

const WHITE: Col = [1.0, 1.0, 1.0];
const RED: Col = [0.8, 0.16, 0.14];
const GOLD: Col = [0.98, 0.78, 0.25];
const GREEN: Col = [0.22, 0.5, 0.25];
const WATER: Col = [0.3, 0.55, 0.7];

/// An item's picture: its own subject (the airport's runway and aircraft, the port's cranes…)
/// in its pillar's colour; the second picture is the same place mirrored at another hour.
fn scene(id: &str, variant: u32, base: Col) -> RgbImage {
    let mut rng = Rng::new(&format!("{id}/{variant}"));
    let mut c = Canvas::new(variant == 1);
    let dusk = variant == 1;
    let (top, low, glow) = if dusk {
        (
            mix(base, [0.1, 0.1, 0.3], 0.6),
            [0.98, 0.62, 0.4],
            [1.0, 0.7, 0.35],
        )
    } else {
        (
            mix(base, WHITE, 0.35),
            mix(base, WHITE, 0.8),
            [1.0, 0.96, 0.82],
        )
    };
    let sun = (rng.range(0.6, 0.85), rng.range(0.14, 0.3), 0.06);
    c.sky(top, low, sun, glow);
    let land = mix(base, GREEN, 0.5);
    let far = mix(land, low, 0.35);
    let near = scale(land, 0.55);
    match id {
        "long-thanh-airport" => {
            c.ground(0.58, far, near);
            // The terminal's wave roof on the horizon, the runway to it, an aircraft taking off.
            c.rect(0.05, 0.5, 0.42, 0.58, mix(base, WHITE, 0.6));
            c.ellipse(0.235, 0.5, 0.2, 0.035, mix(base, WHITE, 0.85));
            for i in 0..8 {
                let x = 0.07 + i as f32 * 0.045;
                c.rect(x, 0.52, x + 0.03, 0.57, scale(base, 0.6));
            }
            c.poly(
                &[(0.47, 0.58), (0.53, 0.58), (0.85, 1.0), (0.15, 1.0)],
                [0.3, 0.32, 0.34],
            );
            for i in 0..7 {
                let t0 = i as f32 / 7.0;
                let t1 = t0 + 0.06;
                let y = |t: f32| 0.58 + 0.42 * t * t;
                c.line((0.5, y(t0)), (0.5, y(t1)), 0.004 + 0.01 * t0, WHITE);
            }
            if dusk {
                for i in 0..10 {
                    let t = i as f32 / 10.0;
                    let y = 0.58 + 0.42 * t;
                    let half = 0.03 + 0.32 * t;
                    c.circle(0.5 - half, y, 0.004 + 0.006 * t, GOLD);
                    c.circle(0.5 + half, y, 0.004 + 0.006 * t, GOLD);
                }
            }
            let (ax, ay) = (0.62, 0.3);
            let plane = mix(WHITE, base, 0.15);
            c.poly(
                &[
                    (ax - 0.16, ay + 0.06),
                    (ax + 0.14, ay - 0.05),
                    (ax + 0.16, ay - 0.035),
                    (ax - 0.14, ay + 0.08),
                ],
                plane,
            );
            c.poly(
                &[
                    (ax - 0.02, ay + 0.02),
                    (ax + 0.05, ay - 0.01),
                    (ax - 0.06, ay + 0.12),
                    (ax - 0.1, ay + 0.12),
                ],
                scale(plane, 0.85),
            );
            c.poly(
                &[
                    (ax + 0.1, ay - 0.035),
                    (ax + 0.16, ay - 0.05),
                    (ax + 0.17, ay - 0.13),
                    (ax + 0.14, ay - 0.12),
                ],
                scale(base, 0.8),
            );
        }
        "industrial-parks" => {
            c.ground(0.62, far, near);
            for row in 0..2 {
                let y = 0.62 + row as f32 * 0.12;
                let h = 0.12 - row as f32 * 0.02;
                let mut x = -0.02 + row as f32 * 0.05;
                while x < 1.0 {
                    let w = rng.range(0.14, 0.22);
                    let wall = mix(WHITE, base, rng.range(0.1, 0.4));
                    c.rect(x, y - h, x + w, y, wall);
                    let teeth = 4;
                    for k in 0..teeth {
                        let tx = x + w * k as f32 / teeth as f32;
                        let tw = w / teeth as f32;
                        c.poly(
                            &[(tx, y - h), (tx + tw, y - h), (tx + tw, y - h - 0.05)],
                            scale(base, 0.7),
                        );
                    }
                    c.rect(
                        x + 0.02,
                        y - h * 0.45,
                        x + w - 0.02,
                        y - h * 0.3,
                        scale(base, 0.5),
                    );
                    x += w + 0.03;
                }
            }
            c.rect(0.7, 0.28, 0.725, 0.5, [0.7, 0.7, 0.72]);
            c.rect(0.76, 0.33, 0.78, 0.5, [0.7, 0.7, 0.72]);
            for i in 0..9 {
                c.tree(0.05 + i as f32 * 0.115, 0.98, 0.14, scale(GREEN, 1.1));
            }
        }
        "phuoc-an-port" => {
            c.water(0.6, mix(WATER, low, 0.3), scale(WATER, 0.6), &mut rng);
            c.rect(0.0, 0.55, 1.0, 0.6, [0.55, 0.55, 0.55]);
            // A container ship at the quay under the gantry cranes.
            c.poly(
                &[(0.08, 0.6), (0.62, 0.6), (0.58, 0.7), (0.12, 0.7)],
                scale(base, 0.5),
            );
            let colours = [RED, [0.15, 0.45, 0.75], GOLD, [0.2, 0.6, 0.35], WHITE];
            for row in 0..3 {
                for col in 0..10 {
                    let x = 0.13 + col as f32 * 0.044;
                    let y = 0.58 - row as f32 * 0.035;
                    let k = (rng.next() * colours.len() as f32) as usize % colours.len();
                    c.rect(x, y - 0.032, x + 0.041, y, scale(colours[k], 0.85));
                }
            }
            for k in 0..3 {
                let x = 0.2 + k as f32 * 0.28;
                let crane = if k == 1 { RED } else { mix(base, WHITE, 0.3) };
                c.line((x, 0.6), (x, 0.18), 0.012, crane);
                c.line((x + 0.08, 0.6), (x + 0.08, 0.18), 0.012, crane);
                c.line((x - 0.12, 0.2), (x + 0.16, 0.2), 0.014, crane);
                c.line((x, 0.35), (x + 0.08, 0.35), 0.01, crane);
                c.rect(x + 0.02, 0.2, x + 0.06, 0.25, scale(crane, 0.7));
                c.line((x - 0.05, 0.2), (x - 0.05, 0.4), 0.003, [0.2, 0.2, 0.2]);
            }
        }
        "expressways-ring-road-3" => {
            c.ground(0.55, far, near);
            c.poly(
                &[
                    (0.45, 0.55),
                    (0.55, 0.55),
                    (1.0, 0.95),
                    (1.0, 1.0),
                    (0.0, 1.0),
                    (0.0, 0.95),
                ],
                [0.28, 0.29, 0.3],
            );
            for lane in [-0.5f32, 0.0, 0.5] {
                for i in 0..8 {
                    let t0 = i as f32 / 8.0;
                    let t1 = t0 + 0.05;
                    let p = |t: f32| (0.5 + lane * 0.9 * t, 0.55 + 0.45 * t);
                    c.line(p(t0), p(t1), 0.003 + 0.008 * t0, WHITE);
                }
            }
            // An overpass on its piers, and traffic.
            c.rect(0.0, 0.42, 1.0, 0.47, mix(WHITE, base, 0.3));
            c.rect(0.0, 0.405, 1.0, 0.42, scale(base, 0.6));
            for i in 0..6 {
                let x = 0.08 + i as f32 * 0.17;
                c.rect(x, 0.47, x + 0.025, 0.6, mix(WHITE, base, 0.45));
            }
            for (x, y, s, col) in [
                (0.42, 0.7, 0.05, RED),
                (0.6, 0.8, 0.07, WHITE),
                (0.3, 0.88, 0.09, GOLD),
                (0.52, 0.62, 0.03, [0.2, 0.4, 0.8]),
            ] {
                c.rect(x, y, x + s, y + s * 0.6, col);
                c.rect(
                    x + s * 0.15,
                    y - s * 0.25,
                    x + s * 0.85,
                    y,
                    scale(col, 0.75),
                );
            }
        }
        "economy-overview" => {
            c.water(0.78, mix(WATER, low, 0.3), scale(WATER, 0.6), &mut rng);
            let mut x = 0.0f32;
            while x < 1.0 {
                let w = rng.range(0.04, 0.09);
                let h = rng.range(0.2, 0.55) * (1.0 - (x - 0.5).abs());
                let tower = mix(base, WHITE, rng.range(0.2, 0.6));
                c.rect(x, 0.78 - h, x + w, 0.78, tower);
                let mut wy = 0.78 - h + 0.02;
                while wy < 0.76 {
                    c.rect(
                        x + w * 0.2,
                        wy,
                        x + w * 0.8,
                        wy + 0.008,
                        if dusk { GOLD } else { scale(tower, 0.8) },
                    );
                    wy += 0.03;
                }
                x += w + 0.008;
            }
        }
        "hoa-lu-border-gate" => {
            c.ground(0.6, far, near);
            c.poly(
                &[(0.45, 0.6), (0.55, 0.6), (0.8, 1.0), (0.2, 1.0)],
                [0.4, 0.38, 0.36],
            );
            // The gate: two towers and a roof across the road, the flag beside it.
            let wall = mix(WHITE, GOLD, 0.25);
            c.rect(0.3, 0.32, 0.4, 0.62, wall);
            c.rect(0.6, 0.32, 0.7, 0.62, wall);
            c.rect(0.3, 0.32, 0.7, 0.42, wall);
            c.temple_roof(0.5, 0.32, 0.22, 0.08, RED);
            c.line((0.82, 0.62), (0.82, 0.22), 0.008, [0.8, 0.8, 0.8]);
            c.rect(0.82, 0.22, 0.92, 0.29, RED);
            c.circle(0.87, 0.255, 0.02, GOLD);
        }
        "cat-tien" | "ma-da-war-zone-d" => {
            c.ground(0.5, far, near);
            if id == "cat-tien" {
                c.poly(
                    &[
                        (0.55, 1.0),
                        (0.62, 0.7),
                        (0.58, 0.5),
                        (0.62, 0.5),
                        (0.7, 0.72),
                        (0.75, 1.0),
                    ],
                    mix(WATER, low, 0.3),
                );
            } else {
                // The memorial in a clearing of the forest.
                c.poly(
                    &[(0.46, 0.72), (0.49, 0.22), (0.51, 0.22), (0.54, 0.72)],
                    mix(WHITE, base, 0.15),
                );
                c.rect(0.42, 0.72, 0.58, 0.76, [0.75, 0.75, 0.72]);
            }
            for layer in 0..4 {
                let y = 0.55 + layer as f32 * 0.12;
                let size = 0.2 + layer as f32 * 0.08;
                let leaf = scale(mix(GREEN, base, 0.2), 0.6 + layer as f32 * 0.15);
                let mut x = rng.range(-0.05, 0.05);
                while x < 1.05 {
                    if !(0.4..0.6).contains(&x) || layer == 3 {
                        c.tree(x, y + 0.1, size, leaf);
                    }
                    x += size * rng.range(0.35, 0.55);
                }
            }
        }
        "tri-an-lake" | "cu-lao-pho" => {
            c.water(0.55, mix(WATER, low, 0.4), scale(WATER, 0.55), &mut rng);
            for k in 0..4 {
                let x = rng.range(0.1, 0.9);
                let r = rng.range(0.04, 0.1);
                c.ellipse(x, 0.58, r * 1.5, r * 0.3, scale(land, 0.8));
                c.tree(x, 0.58, r * 1.2, scale(GREEN, 0.9));
                if k == 0 && id == "cu-lao-pho" {
                    c.rect(x - 0.04, 0.5, x + 0.04, 0.57, mix(WHITE, GOLD, 0.4));
                    c.temple_roof(x, 0.5, 0.05, 0.04, RED);
                }
            }
            if id == "cu-lao-pho" {
                // Wooden boats of the old river port.
                for (x, y, s) in [(0.25, 0.8, 0.12), (0.6, 0.72, 0.08), (0.75, 0.9, 0.15)] {
                    c.poly(
                        &[
                            (x - s, y),
                            (x + s, y),
                            (x + s * 0.7, y + s * 0.3),
                            (x - s * 0.7, y + s * 0.3),
                        ],
                        [0.45, 0.28, 0.15],
                    );
                    c.poly(
                        &[(x, y - s * 1.4), (x, y), (x + s * 0.7, y)],
                        mix(WHITE, GOLD, 0.3),
                    );
                }
            }
        }
        "buu-long" | "ba-ra-mountain" => {
            let rock = mix(base, [0.5, 0.5, 0.45], 0.5);
            if id == "ba-ra-mountain" {
                c.poly(
                    &[(0.05, 0.8), (0.48, 0.18), (0.56, 0.2), (0.98, 0.8)],
                    scale(mix(GREEN, base, 0.3), 0.8),
                );
                c.poly(
                    &[
                        (0.44, 0.24),
                        (0.48, 0.18),
                        (0.56, 0.2),
                        (0.6, 0.26),
                        (0.52, 0.3),
                    ],
                    mix(rock, WHITE, 0.2),
                );
                for k in 0..3 {
                    let y = 0.3 + k as f32 * 0.12;
                    c.ellipse(rng.range(0.2, 0.8), y, 0.18, 0.025, mix(WHITE, low, 0.3));
                }
            } else {
                for k in 0..5 {
                    let x = 0.1 + k as f32 * 0.2 + rng.range(-0.03, 0.03);
                    let h = rng.range(0.25, 0.4);
                    c.ellipse(x, 0.62, 0.07, h, rock);
                    c.ellipse(
                        x - 0.02,
                        0.62 - h * 0.6,
                        0.03,
                        h * 0.25,
                        mix(GREEN, rock, 0.5),
                    );
                }
            }
            c.water(0.62, mix(WATER, low, 0.3), scale(WATER, 0.6), &mut rng);
            // A pagoda tower of stacked tiers by the water.
            let (x, mut y) = (0.72, 0.62);
            for tier in 0..5 {
                let half = 0.05 - tier as f32 * 0.007;
                c.rect(
                    x - half * 0.7,
                    y - 0.045,
                    x + half * 0.7,
                    y,
                    mix(WHITE, GOLD, 0.35),
                );
                c.temple_roof(x, y - 0.04, half, 0.03, RED);
                y -= 0.06;
            }
            c.line((x, y + 0.02), (x, y - 0.03), 0.006, GOLD);
        }
        "soc-bom-bo" => {
            c.ground(0.62, scale(far, 0.6), scale(near, 0.5));
            // Gongs in a row and the fire of the festival.
            c.circle(0.5, 0.8, 0.12, [1.0, 0.55, 0.15]);
            c.circle(0.5, 0.82, 0.07, GOLD);
            for k in 0..6 {
                let x = 0.1 + k as f32 * 0.16;
                let y = 0.42 + (k as f32 * 1.3).sin() * 0.04;
                c.line((x, 0.2), (x, y - 0.09), 0.004, [0.4, 0.3, 0.2]);
                c.circle(x, y, 0.09, [0.72, 0.55, 0.2]);
                c.circle(x, y, 0.065, [0.85, 0.68, 0.3]);
                c.circle(x, y, 0.025, [0.6, 0.45, 0.15]);
            }
            for k in 0..5 {
                let x = 0.15 + k as f32 * 0.18;
                c.line((x, 0.98), (x + 0.04, 0.6), 0.012, [0.55, 0.65, 0.3]);
            }
        }
        "van-mieu-tran-bien" | "nguyen-huu-canh-tran-bien" | "chua-ong-festival" => {
            c.ground(0.62, mix(far, [0.8, 0.75, 0.65], 0.4), scale(near, 0.9));
            let wall = mix(WHITE, GOLD, 0.3);
            let roof = if id == "van-mieu-tran-bien" {
                mix(RED, [0.3, 0.2, 0.15], 0.4)
            } else {
                RED
            };
            let gates: &[(f32, f32)] = if id == "nguyen-huu-canh-tran-bien" {
                &[(0.3, 0.08), (0.5, 0.12), (0.7, 0.08)]
            } else {
                &[(0.5, 0.3)]
            };
            for &(x, half) in gates {
                c.rect(x - half, 0.42, x + half, 0.64, wall);
                c.rect(x - half * 0.3, 0.5, x + half * 0.3, 0.64, scale(roof, 0.6));
                c.temple_roof(x, 0.42, half * 1.1, 0.1, roof);
                if half > 0.2 {
                    c.rect(x - half * 0.6, 0.27, x + half * 0.6, 0.33, wall);
                    c.temple_roof(x, 0.27, half * 0.7, 0.08, roof);
                }
            }
            if id == "van-mieu-tran-bien" {
                c.ellipse(0.5, 0.85, 0.35, 0.08, mix(WATER, low, 0.3));
                for k in 0..7 {
                    c.circle(
                        0.2 + k as f32 * 0.1,
                        0.85 + (k as f32).sin() * 0.02,
                        0.025,
                        [0.95, 0.6, 0.7],
                    );
                }
            } else if id == "chua-ong-festival" {
                // Red lanterns on strings across the temple yard.
                for row in 0..2 {
                    let y = 0.15 + row as f32 * 0.1;
                    c.line((0.0, y), (1.0, y + 0.03), 0.003, [0.3, 0.2, 0.1]);
                    for k in 0..9 {
                        let x = 0.06 + k as f32 * 0.11 + row as f32 * 0.05;
                        c.ellipse(x, y + 0.05 + 0.03 * x, 0.022, 0.04, RED);
                        c.rect(
                            x - 0.01,
                            y + 0.005 + 0.03 * x,
                            x + 0.01,
                            y + 0.015 + 0.03 * x,
                            GOLD,
                        );
                    }
                }
            }
        }
        "bien-hoa-pottery" => {
            c.all(|_, y| mix(mix(base, WHITE, 0.5), scale(base, 0.7), y));
            c.rect(0.0, 0.75, 1.0, 1.0, scale(base, 0.45));
            // Glazed vases, each drawn from its profile.
            let glazes = [
                [0.2, 0.45, 0.5],
                [0.55, 0.3, 0.18],
                [0.85, 0.8, 0.65],
                [0.25, 0.35, 0.55],
            ];
            for (k, g) in glazes.iter().enumerate() {
                let x = 0.18 + k as f32 * 0.21;
                let h = rng.range(0.3, 0.5);
                let belly = rng.range(0.05, 0.08);
                let top = 0.77 - h;
                let g = *g;
                c.paint((x - 0.1, top, x + 0.1, 0.77), |px, py| {
                    let t = (py - top) / h;
                    let half = 0.025
                        + belly * (t * std::f32::consts::PI).sin().powf(0.8) * (1.0 - 0.3 * t);
                    let band = ((t * 10.0) as i32 % 4 == 1) as i32 as f32;
                    ((px - x).abs() < half).then_some((
                        mix(
                            scale(g, 0.8 + 0.3 * (1.0 - (px - x).abs() / half)),
                            WHITE,
                            band * 0.25,
                        ),
                        1.0,
                    ))
                });
            }
        }
        "cho-ro-sayangva" => {
            c.ground(0.55, mix(far, GOLD, 0.3), scale(near, 0.9));
            for k in 0..10 {
                let y = 0.6 + k as f32 * 0.04;
                c.line((0.0, y), (1.0, y + 0.02), 0.004, mix(GOLD, GREEN, 0.4));
            }
            // A stilt house with its steep roof, by the rice field.
            c.rect(0.3, 0.42, 0.6, 0.56, [0.55, 0.38, 0.22]);
            for k in 0..6 {
                let x = 0.31 + k as f32 * 0.055;
                c.rect(x, 0.56, x + 0.012, 0.7, [0.4, 0.27, 0.15]);
            }
            c.poly(
                &[(0.26, 0.43), (0.45, 0.2), (0.64, 0.43)],
                [0.75, 0.62, 0.35],
            );
            c.rect(0.42, 0.46, 0.48, 0.56, [0.3, 0.2, 0.1]);
            c.tree(0.82, 0.62, 0.3, GREEN);
        }
        "tan-trieu-pomelo"
        | "long-khanh-rambutan"
        | "durian"
        | "binh-phuoc-cashew"
        | "binh-phuoc-pepper"
        | "rubber"
        | "long-khanh-fruit-festival" => {
            c.ground(0.6, far, near);
            let fruit = |c: &mut Canvas, kind: &str, x: f32, y: f32, r: f32| match kind {
                "tan-trieu-pomelo" => {
                    c.circle(x, y, r, [0.6, 0.78, 0.3]);
                    c.circle(x - r * 0.12, y - r * 0.3, r * 0.3, [0.75, 0.88, 0.45]);
                    c.ellipse(x + r * 0.1, y - r * 1.05, r * 0.35, r * 0.18, GREEN);
                }
                "long-khanh-rambutan" => {
                    c.spiky(
                        (x, y),
                        r,
                        1.0,
                        |a| 1.0 + 0.18 * (a * 24.0).sin().abs(),
                        [0.85, 0.15, 0.15],
                    );
                    c.circle(x - r * 0.25, y - r * 0.25, r * 0.25, [0.95, 0.4, 0.35]);
                }
                "durian" => {
                    c.spiky(
                        (x, y),
                        r,
                        1.2,
                        |a| 1.0 + 0.12 * (a * 16.0).cos().max(0.0),
                        [0.5, 0.55, 0.2],
                    );
                    c.ellipse(
                        x + r * 0.1 / ASPECT,
                        y,
                        r * 0.35 / ASPECT,
                        r * 0.6,
                        [0.98, 0.85, 0.4],
                    );
                }
                "binh-phuoc-cashew" => {
                    c.ellipse(x, y, r * 0.7 / ASPECT, r, [0.95, 0.45, 0.15]);
                    c.circle(x, y - r * 0.5, r * 0.6, [0.98, 0.7, 0.2]);
                    c.ellipse(
                        x + r * 0.1 / ASPECT,
                        y - r * 1.2,
                        r * 0.35 / ASPECT,
                        r * 0.25,
                        [0.6, 0.55, 0.45],
                    );
                }
                _ => {
                    // Pepper: clusters of berries.
                    for k in 0..8 {
                        let dy = k as f32 * r * 0.25;
                        c.circle(
                            x + ((k % 2) as f32 - 0.5) * r * 0.12,
                            y + dy,
                            r * 0.14,
                            if k < 4 { RED } else { GREEN },
                        );
                    }
                }
            };
            match id {
                "binh-phuoc-pepper" => {
                    for k in 0..5 {
                        let x = 0.12 + k as f32 * 0.19;
                        c.rect(x - 0.012, 0.2, x + 0.012, 0.9, [0.45, 0.32, 0.2]);
                        c.ellipse(x, 0.5, 0.06, 0.3, scale(GREEN, 0.9));
                        for j in 0..3 {
                            fruit(
                                &mut c,
                                id,
                                x + 0.03 - j as f32 * 0.03,
                                0.35 + j as f32 * 0.15,
                                0.08,
                            );
                        }
                    }
                }
                "rubber" => {
                    // Rows of rubber trees, each with its latex cup.
                    for k in 0..9 {
                        let t = k as f32 / 8.0;
                        for side in [-1.0f32, 1.0] {
                            let x = 0.5 + side * (0.06 + 0.45 * t);
                            let y = 0.6 + 0.4 * t;
                            let w = 0.006 + 0.02 * t;
                            c.rect(
                                x - w,
                                0.05 + 0.3 * (1.0 - t) * 0.6,
                                x + w,
                                y,
                                [0.55, 0.5, 0.45],
                            );
                            c.ellipse(
                                x,
                                0.05 + 0.15 * (1.0 - t),
                                0.08 + 0.1 * t,
                                0.08,
                                scale(GREEN, 0.7 + 0.3 * t),
                            );
                            c.line((x - w, y - 0.2 * t), (x + w, y - 0.22 * t), 0.004, WHITE);
                            c.circle(x + side * w, y - 0.15 * t, 0.006 + 0.012 * t, WHITE);
                        }
                    }
                }
                "long-khanh-fruit-festival" => {
                    // A stall under bunting, its fruits in a pyramid.
                    for row in 0..2 {
                        let y = 0.12 + row as f32 * 0.08;
                        for k in 0..14 {
                            let x = k as f32 * 0.075 + row as f32 * 0.035;
                            let col = [RED, GOLD, GREEN, [0.2, 0.45, 0.8]][k % 4];
                            c.poly(&[(x, y), (x + 0.06, y), (x + 0.03, y + 0.07)], col);
                        }
                    }
                    c.rect(0.1, 0.78, 0.9, 0.9, [0.5, 0.32, 0.18]);
                    let kinds = [
                        "tan-trieu-pomelo",
                        "long-khanh-rambutan",
                        "durian",
                        "binh-phuoc-cashew",
                    ];
                    for row in 0..4 {
                        for k in 0..(7 - row) {
                            let x = 0.2 + (k as f32 + row as f32 * 0.5) * 0.1;
                            let y = 0.73 - row as f32 * 0.1;
                            fruit(&mut c, kinds[(k + row) % 4], x, y, 0.05);
                        }
                    }
                }
                _ => {
                    for _ in 0..9 {
                        let x = rng.range(0.1, 0.9);
                        let y = rng.range(0.45, 0.85);
                        c.ellipse(x + 0.03, y - 0.1, 0.05, 0.02, scale(GREEN, 1.1));
                        fruit(&mut c, id, x, y, rng.range(0.08, 0.13));
                    }
                }
            }
        }
        "spring-fair-2026" | "ite-hcmc-2025" => {
            if id == "ite-hcmc-2025" {
                // An exhibition hall: the roof's trusses, booths with their banners.
                c.all(|_, y| mix(mix(base, WHITE, 0.7), mix(base, [0.2, 0.2, 0.25], 0.5), y));
                for k in 0..12 {
                    let x = k as f32 / 11.0;
                    c.line(
                        (x, 0.0),
                        (0.5 + (x - 0.5) * 0.3, 0.3),
                        0.004,
                        scale(base, 0.6),
                    );
                }
                c.rect(0.0, 0.3, 1.0, 0.32, scale(base, 0.6));
                c.ground(0.7, [0.75, 0.75, 0.78], [0.45, 0.45, 0.5]);
                for k in 0..5 {
                    let x = 0.02 + k as f32 * 0.2;
                    let col = [RED, [0.15, 0.45, 0.75], GOLD, [0.2, 0.6, 0.35], base][k];
                    c.rect(x, 0.42, x + 0.17, 0.72, mix(WHITE, col, 0.15));
                    c.rect(x, 0.38, x + 0.17, 0.46, col);
                    c.rect(x + 0.02, 0.6, x + 0.15, 0.72, scale(col, 0.7));
                }
                for k in 0..7 {
                    let x = 0.08 + k as f32 * 0.14;
                    c.circle(x, 0.76, 0.025, [0.25, 0.22, 0.2]);
                    c.ellipse(x, 0.86, 0.018, 0.07, [0.3, 0.3, 0.38]);
                }
            } else {
                c.ground(0.62, far, near);
                // Apricot blossom trees and red lanterns of the spring fair.
                for k in 0..4 {
                    let x = 0.12 + k as f32 * 0.25;
                    c.line((x, 0.9), (x, 0.45), 0.012, [0.4, 0.25, 0.15]);
                    c.line((x, 0.6), (x - 0.06, 0.42), 0.006, [0.4, 0.25, 0.15]);
                    c.line((x, 0.55), (x + 0.07, 0.4), 0.006, [0.4, 0.25, 0.15]);
                    for _ in 0..40 {
                        let (bx, by) = (x + rng.range(-0.1, 0.1), rng.range(0.3, 0.6));
                        c.circle(bx, by, 0.01, GOLD);
                    }
                }
                c.line((0.0, 0.12), (1.0, 0.16), 0.003, [0.3, 0.2, 0.1]);
                for k in 0..8 {
                    let x = 0.06 + k as f32 * 0.125;
                    c.ellipse(x, 0.19 + 0.04 * x, 0.025, 0.045, RED);
                    c.rect(
                        x - 0.003,
                        0.235 + 0.04 * x,
                        x + 0.003,
                        0.27 + 0.04 * x,
                        GOLD,
                    );
                }
            }
        }
        _ => {
            // Any other item: hills in the pillar's colour.
            for i in 0..3 {
                let y = 0.5 + 0.14 * i as f32;
                let (amp, f, ph) = (
                    rng.range(0.03, 0.07),
                    rng.range(2.0, 6.0),
                    rng.range(0.0, 6.0),
                );
                c.paint((0.0, y - amp, 1.0, 1.0), |x, py| {
                    (py > y + amp * (x * f + ph).sin())
                        .then_some((scale(base, 0.85 - 0.2 * i as f32), 1.0))
                });
            }
        }
    }
    c.finish()
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
            save(rel, &|path| scene(&item.id, n as u32 % 2, base).save(path))?;
            written += 1;
        }
    }
    println!("{written} images written");
    Ok(())
}
