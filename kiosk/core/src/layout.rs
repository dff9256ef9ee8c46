//! The layout rules every visitor screen keeps, checked on the layout the app computed (the
//! scenario runner's `expect-layout` reads it from the running window and calls [`check`]).
//!
//! - **Reach**: on a portrait screen (a floor totem) every control sits between 25 % and 75 %
//!   of the screen's height, roughly 0.7–1.2 m above the floor on a 55″ totem: a seated visitor
//!   or a wheelchair user reaches it, and so does a standing one. A control that covers that
//!   whole band (the attract loop's "touch anywhere") keeps the rule by covering it.
//! - **Size**: every control is at least 64 px in each direction at 1080p, scaled with the
//!   window (the UI scale is the shorter side over 1080).
//! - **Text fits**: no text's glyphs overflow its own box, and no text box reaches outside any
//!   of its containers or the window (text cut off, or drawn over its neighbours). A glyph's
//!   ink may hang a little left of its box, as a "j" does in print: up to a tenth of its line.
//! - **Controls whole**: no control reaches outside its containers or the window (a button cut
//!   in half, or drawn over its neighbours).

use std::fmt;

/// Where the reach band starts and ends, as shares of a portrait screen's height.
pub const REACH_TOP: f32 = 0.25;
pub const REACH_BOTTOM: f32 = 0.75;
/// The smallest touch target, in pixels at 1080p.
pub const MIN_TARGET_PX: f32 = 64.0;
/// Rounding of the layout engine (pixels).
const TOLERANCE: f32 = 1.5;
/// How far left of its box a glyph's ink may hang, as a share of its line's height.
pub const HANG: f32 = 0.1;

/// An axis-aligned box in window pixels (y grows downwards).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
}

impl Rect {
    /// The box of this size around a centre.
    pub fn centred(centre: (f32, f32), size: (f32, f32)) -> Rect {
        Rect {
            left: centre.0 - size.0 / 2.0,
            top: centre.1 - size.1 / 2.0,
            right: centre.0 + size.0 / 2.0,
            bottom: centre.1 + size.1 / 2.0,
        }
    }

    pub fn width(&self) -> f32 {
        self.right - self.left
    }

    pub fn height(&self) -> f32 {
        self.bottom - self.top
    }

    fn inside(&self, outer: &Rect) -> bool {
        self.left >= outer.left - TOLERANCE
            && self.top >= outer.top - TOLERANCE
            && self.right <= outer.right + TOLERANCE
            && self.bottom <= outer.bottom + TOLERANCE
    }
}

impl fmt::Display for Rect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:.0}×{:.0} at ({:.0}, {:.0})",
            self.width(),
            self.height(),
            self.left,
            self.top
        )
    }
}

/// What a laid-out node is, for the rules.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A text, with how far right of its box's left edge its glyphs' ink reaches and how
    /// tall its lines are (`glyphs`), how far left of that edge the ink starts (negative when it
    /// hangs out), and the height of one line.
    Text {
        glyphs: (f32, f32),
        ink_left: f32,
        line: f32,
    },
    /// Something a visitor touches.
    Control,
}

/// One visible node as the layout engine placed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Laid {
    /// What a person would call it: its text, or its name.
    pub label: String,
    pub kind: Kind,
    pub rect: Rect,
    /// The boxes of the nodes it sits in, innermost first, that clip or hold it (a container
    /// that scrolls its content is left out by the caller).
    pub containers: Vec<(String, Rect)>,
}

/// A broken rule, said so that the person fixing it finds the node.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub label: String,
    pub rule: &'static str,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\": {} ({})", self.label, self.rule, self.detail)
    }
}

/// The screen the nodes were laid out on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Screen {
    pub width: f32,
    pub height: f32,
    /// The UI scale: the shorter side over 1080.
    pub scale: f32,
}

impl Screen {
    pub fn new(width: f32, height: f32) -> Screen {
        Screen {
            width,
            height,
            scale: width.min(height) / 1080.0,
        }
    }

    pub fn portrait(&self) -> bool {
        self.height > self.width
    }

    /// The band controls must sit in (pixels from the top), on a portrait screen.
    pub fn reach(&self) -> (f32, f32) {
        (self.height * REACH_TOP, self.height * REACH_BOTTOM)
    }

    fn rect(&self) -> Rect {
        Rect {
            left: 0.0,
            top: 0.0,
            right: self.width,
            bottom: self.height,
        }
    }
}

/// Every broken rule among these nodes; empty when the screen keeps them all.
pub fn check(screen: Screen, nodes: &[Laid]) -> Vec<Violation> {
    let mut out = Vec::new();
    let window = screen.rect();
    for n in nodes {
        let broke = |rule: &'static str, detail: String| Violation {
            label: n.label.chars().take(40).collect(),
            rule,
            detail,
        };
        if !n.rect.inside(&window) {
            out.push(broke("outside the window", format!("{}", n.rect)));
        }
        if let Some((name, outer)) = n.containers.iter().find(|(_, c)| !n.rect.inside(c)) {
            let rule = match n.kind {
                Kind::Text { .. } => "text outside its container",
                Kind::Control => "control outside its container",
            };
            out.push(broke(rule, format!("{} in \"{name}\" {outer}", n.rect)));
        }
        match n.kind {
            Kind::Text {
                glyphs,
                ink_left,
                line,
            } => {
                let hang = (HANG * line).max(TOLERANCE);
                if ink_left < -hang {
                    out.push(broke(
                        "text overflows its box on the left",
                        format!(
                            "ink starts {:.0} px left of a box {} (at most {:.0})",
                            -ink_left, n.rect, hang
                        ),
                    ));
                }
                if glyphs.0 > n.rect.width() + TOLERANCE || glyphs.1 > n.rect.height() + TOLERANCE {
                    out.push(broke(
                        "text overflows its box",
                        format!(
                            "glyphs {:.0}×{:.0} in a box {:.0}×{:.0}",
                            glyphs.0,
                            glyphs.1,
                            n.rect.width(),
                            n.rect.height()
                        ),
                    ));
                }
            }
            Kind::Control => {
                let min = MIN_TARGET_PX * screen.scale - TOLERANCE;
                if n.rect.width() < min || n.rect.height() < min {
                    out.push(broke(
                        "control smaller than 64 px at 1080p",
                        format!("{} (minimum {:.0})", n.rect, MIN_TARGET_PX * screen.scale),
                    ));
                }
                if screen.portrait() {
                    let (top, bottom) = screen.reach();
                    let within =
                        n.rect.top >= top - TOLERANCE && n.rect.bottom <= bottom + TOLERANCE;
                    let covers = n.rect.top <= top && n.rect.bottom >= bottom;
                    if !within && !covers {
                        out.push(broke(
                            "control out of reach",
                            format!(
                                "{} is not between {:.0} and {:.0} px (25–75 % of the height)",
                                n.rect, top, bottom
                            ),
                        ));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(left: f32, top: f32, w: f32, h: f32) -> Rect {
        Rect {
            left,
            top,
            right: left + w,
            bottom: top + h,
        }
    }

    fn control(label: &str, r: Rect) -> Laid {
        Laid {
            label: label.into(),
            kind: Kind::Control,
            rect: r,
            containers: vec![],
        }
    }

    fn text(label: &str, r: Rect, glyphs: (f32, f32), containers: Vec<Rect>) -> Laid {
        Laid {
            label: label.into(),
            kind: Kind::Text {
                glyphs,
                ink_left: 0.0,
                line: 40.0,
            },
            rect: r,
            containers: containers
                .into_iter()
                .enumerate()
                .map(|(i, c)| (format!("box {i}"), c))
                .collect(),
        }
    }

    #[test]
    fn a_portrait_control_must_sit_in_the_middle_half() {
        let totem = Screen::new(1080.0, 1920.0);
        assert_eq!(totem.reach(), (480.0, 1440.0));
        let ok = control("Back", rect(40.0, 1300.0, 200.0, 72.0));
        let high = control("Languages", rect(40.0, 100.0, 200.0, 72.0));
        let low = control("Home", rect(40.0, 1800.0, 200.0, 72.0));
        let straddling = control("Tile", rect(40.0, 1400.0, 300.0, 300.0));
        let anywhere = control("Touch anywhere", rect(0.0, 0.0, 1080.0, 1920.0));
        let v = check(totem, &[ok, high, low, straddling, anywhere]);
        let labels: Vec<_> = v.iter().map(|v| v.label.as_str()).collect();
        assert_eq!(labels, ["Languages", "Home", "Tile"]);
        assert!(v.iter().all(|v| v.rule == "control out of reach"), "{v:?}");
        assert!(
            v[0].to_string().contains("between 480 and 1440"),
            "{}",
            v[0]
        );
    }

    #[test]
    fn landscape_has_no_reach_band_but_the_size_rule_scales() {
        let wall = Screen::new(1920.0, 1080.0);
        let top = control("Back", rect(40.0, 10.0, 200.0, 72.0));
        assert!(check(wall, std::slice::from_ref(&top)).is_empty());
        let small = control("‹", rect(40.0, 500.0, 60.0, 72.0));
        assert_eq!(
            check(wall, &[small])[0].rule,
            "control smaller than 64 px at 1080p"
        );
        // At 4K the minimum is 128 px: a 72 px button is too small there.
        let uhd = Screen::new(3840.0, 2160.0);
        assert_eq!(uhd.scale, 2.0);
        assert_eq!(check(uhd, &[top]).len(), 1);
        assert_eq!(
            check(wall, &[control("ok", rect(0.0, 0.0, 64.0, 64.0))]),
            vec![]
        );
    }

    #[test]
    fn text_that_is_cut_or_spills_is_caught() {
        let wall = Screen::new(1920.0, 1080.0);
        let panel = rect(100.0, 100.0, 400.0, 200.0);
        let fits = text(
            "fits",
            rect(110.0, 110.0, 300.0, 40.0),
            (298.0, 40.0),
            vec![panel],
        );
        let cut = text(
            "cut",
            rect(110.0, 110.0, 300.0, 40.0),
            (420.0, 40.0),
            vec![panel],
        );
        let spills = text(
            "spills",
            rect(110.0, 280.0, 300.0, 40.0),
            (300.0, 40.0),
            vec![panel],
        );
        let off = text(
            "off",
            rect(1800.0, 10.0, 300.0, 40.0),
            (300.0, 40.0),
            vec![],
        );
        // A "j" hangs 3 px left of its box on a 40 px line, as in print; 6 px is cut off.
        let hanging = |label: &str, ink_left: f32| Laid {
            kind: Kind::Text {
                glyphs: (290.0, 40.0),
                ink_left,
                line: 40.0,
            },
            ..text(
                label,
                rect(110.0, 110.0, 300.0, 40.0),
                (0.0, 0.0),
                vec![panel],
            )
        };
        let v = check(
            wall,
            &[
                fits,
                cut,
                spills,
                off,
                hanging("jam", -3.0),
                hanging("cut left", -6.0),
            ],
        );
        let got: Vec<_> = v.iter().map(|v| (v.label.as_str(), v.rule)).collect();
        assert_eq!(
            got,
            [
                ("cut", "text overflows its box"),
                ("spills", "text outside its container"),
                ("off", "outside the window"),
                ("cut left", "text overflows its box on the left"),
            ]
        );
        assert!(v[3].to_string().contains("6 px left"), "{}", v[3]);
    }

    #[test]
    fn a_control_cut_by_its_container_is_caught() {
        let wall = Screen::new(1920.0, 1080.0);
        let row = ("Row".to_owned(), rect(100.0, 900.0, 600.0, 100.0));
        let whole = Laid {
            containers: vec![row.clone()],
            ..control("Back", rect(120.0, 910.0, 200.0, 72.0))
        };
        let cut = Laid {
            containers: vec![row],
            ..control("Home", rect(560.0, 910.0, 200.0, 72.0))
        };
        let v = check(wall, &[whole, cut]);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(
            (v[0].label.as_str(), v[0].rule),
            ("Home", "control outside its container")
        );
        assert!(v[0].to_string().contains("\"Row\""), "{}", v[0]);
    }
}
