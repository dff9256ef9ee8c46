//! The scenario language of `kiosk --script FILE`: one command a line, `#` starts a comment.
//! Parsing is here, without Bevy, so that a bad script fails before a window opens.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Let app time pass.
    Wait(Duration),
    /// A touch at window pixel coordinates.
    Tap(f32, f32),
    /// A touch at the centre of the visible text that is this, or else contains it.
    TapText(String),
    /// A touch drag from one point to another.
    Swipe(f32, f32, f32, f32),
    /// A key press and release, by name (`PageDown`, `Left`, `Space`, `B`, ...).
    Key(String),
    /// Keyboard input as a badge scanner sends it; `\n` is Enter.
    Type(String),
    /// Saves the window's next frame as PNG.
    Screenshot(PathBuf),
    /// Fails unless the text is visible on screen within a few seconds.
    ExpectText(String),
    /// Fails unless the text is visible on screen within this long (something the kiosk waits
    /// for, e.g. settings from the server at its next sync).
    ExpectTextWithin(String, Duration),
    /// Fails unless the screen shows text but not this text (for half a second on end, within a
    /// few seconds).
    ExpectNoText(String),
    /// Fails unless the screen keeps the layout rules ([`crate::layout`]): every text fits its
    /// boxes, every control is large enough and, in portrait, within reach. Waits a few
    /// seconds for the screen to settle before failing with every broken rule.
    ExpectLayout,
    /// Test only: freezes the render loop this long, as a hung driver would (the watchdog's
    /// pings must stop).
    Stall(Duration),
    Quit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// 1-based line number in the file.
    pub number: usize,
    /// The command as written (without the comment).
    pub text: String,
    pub step: Step,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

/// Keys the runner knows how to press.
pub const KEYS: [&str; 14] = [
    "PageDown",
    "PageUp",
    "Left",
    "Right",
    "Up",
    "Down",
    "Space",
    "Home",
    "End",
    "Enter",
    "Escape",
    "Backspace",
    "Tab",
    "F1",
];

pub fn is_known_key(name: &str) -> bool {
    KEYS.contains(&name) || (name.len() == 1 && name.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Splits a line into words; `"..."` is one word with `\n`, `\t`, `\"`, `\\`, `\u{hex}` escapes; `#`
/// outside quotes ends the line.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            None | Some('#') => return Ok(out),
            Some('"') => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated string".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some('r') => s.push('\r'),
                            Some('"') => s.push('"'),
                            Some('\\') => s.push('\\'),
                            // \u{1b}: any character by its code point (control characters
                            // for badge-scanner tests).
                            Some('u') => {
                                if chars.next() != Some('{') {
                                    return Err("\\u needs {hex}".into());
                                }
                                let hex: String =
                                    chars.by_ref().take_while(|&c| c != '}').collect();
                                let c = u32::from_str_radix(&hex, 16)
                                    .ok()
                                    .and_then(char::from_u32)
                                    .ok_or_else(|| format!("bad code point \\u{{{hex}}}"))?;
                                s.push(c);
                            }
                            Some(c) => return Err(format!("unknown escape \\{c}")),
                            None => return Err("unterminated string".into()),
                        },
                        Some(c) => s.push(c),
                    }
                }
                out.push(s);
            }
            Some(_) => {
                let mut s = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    s.push(c);
                    chars.next();
                }
                out.push(s);
            }
        }
    }
}

fn duration(s: &str) -> Option<Duration> {
    let (num, unit) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.parse().ok()?;
    (v.is_finite() && (0.0..=3600.0).contains(&(v * unit)))
        .then(|| Duration::from_secs_f64(v * unit))
}

fn coord(s: &str) -> Result<f32, String> {
    s.parse::<f32>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("\"{s}\" is not a pixel coordinate"))
}

pub fn parse(src: &str) -> Result<Vec<Line>, ParseError> {
    let mut out = Vec::new();
    for (i, raw) in src.lines().enumerate() {
        let number = i + 1;
        let err = |message: String| ParseError {
            line: number,
            message,
        };
        let w = words(raw).map_err(err)?;
        let Some(cmd) = w.first() else { continue };
        let args = &w[1..];
        let want = |n: usize| -> Result<(), ParseError> {
            if args.len() == n {
                Ok(())
            } else {
                Err(ParseError {
                    line: number,
                    message: format!("`{cmd}` takes {n} argument(s), got {}", args.len()),
                })
            }
        };
        let step = match cmd.as_str() {
            "wait" => {
                want(1)?;
                Step::Wait(duration(&args[0]).ok_or_else(|| {
                    err(format!(
                        "\"{}\" is not a duration like 2s or 500ms",
                        args[0]
                    ))
                })?)
            }
            "stall" => {
                want(1)?;
                Step::Stall(duration(&args[0]).ok_or_else(|| {
                    err(format!(
                        "\"{}\" is not a duration like 2s or 500ms",
                        args[0]
                    ))
                })?)
            }
            "tap" => {
                want(2)?;
                Step::Tap(coord(&args[0]).map_err(err)?, coord(&args[1]).map_err(err)?)
            }
            "tap-text" => {
                want(1)?;
                Step::TapText(args[0].clone())
            }
            "swipe" => {
                want(4)?;
                let c: Vec<f32> = args
                    .iter()
                    .map(|a| coord(a))
                    .collect::<Result<_, _>>()
                    .map_err(err)?;
                Step::Swipe(c[0], c[1], c[2], c[3])
            }
            "key" => {
                want(1)?;
                if !is_known_key(&args[0]) {
                    return Err(err(format!(
                        "unknown key \"{}\": use one of {} or a letter",
                        args[0],
                        KEYS.join(", ")
                    )));
                }
                Step::Key(args[0].clone())
            }
            "type" => {
                want(1)?;
                Step::Type(args[0].clone())
            }
            "screenshot" => {
                want(1)?;
                Step::Screenshot(PathBuf::from(&args[0]))
            }
            "expect-text" => match args {
                [text] => Step::ExpectText(text.clone()),
                [text, within] => Step::ExpectTextWithin(
                    text.clone(),
                    duration(within)
                        .ok_or_else(|| err(format!("\"{within}\" is not a duration like 30s")))?,
                ),
                _ => {
                    return Err(err(format!(
                        "`expect-text` takes the text and, optionally, how long to wait; got {} argument(s)",
                        args.len()
                    )));
                }
            },
            "expect-no-text" => {
                want(1)?;
                Step::ExpectNoText(args[0].clone())
            }
            "expect-layout" => {
                want(0)?;
                Step::ExpectLayout
            }
            "quit" => {
                want(0)?;
                Step::Quit
            }
            other => return Err(err(format!("unknown command \"{other}\""))),
        };
        let text = raw.split(" #").next().unwrap_or(raw).trim().to_owned();
        out.push(Line { number, text, step });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let src = r#"
wait 2s                 # let app time pass
tap 960 540             # a touch
tap-text "English"
swipe 1500 540 300 540
key PageDown
type "MECARD:N:Kim,Minji;EMAIL:minji@example.kr;;\n"   # badge
screenshot out/a.png
expect-text "Đầu tư"    # "quoted # is not a comment"
wait 500ms
quit
expect-text "한국어" 90s
expect-no-text "Tiếng Việt"
expect-layout
stall 3s
"#;
        let lines = parse(src).unwrap();
        assert_eq!(lines.len(), 14);
        assert_eq!(lines[12].step, Step::ExpectLayout);
        assert_eq!(lines[13].step, Step::Stall(Duration::from_secs(3)));
        assert_eq!(
            lines[10].step,
            Step::ExpectTextWithin("한국어".into(), Duration::from_secs(90))
        );
        assert_eq!(lines[11].step, Step::ExpectNoText("Tiếng Việt".into()));
        assert_eq!(lines[0].number, 2);
        assert_eq!(lines[0].step, Step::Wait(Duration::from_secs(2)));
        assert_eq!(lines[2].step, Step::TapText("English".into()));
        assert_eq!(lines[3].step, Step::Swipe(1500.0, 540.0, 300.0, 540.0));
        assert_eq!(
            lines[5].step,
            Step::Type("MECARD:N:Kim,Minji;EMAIL:minji@example.kr;;\n".into())
        );
        assert_eq!(lines[7].step, Step::ExpectText("Đầu tư".into()));
        assert_eq!(lines[8].step, Step::Wait(Duration::from_millis(500)));
        assert_eq!(lines[9].step, Step::Quit);
        let esc = parse(r#"type "\u{1b}[31m\u{0}é""#).unwrap();
        assert_eq!(esc[0].step, Step::Type("\u{1b}[31m\u{0}é".into()));
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("wait forever", 1),
            ("\n\ntap 1", 3),
            ("fly 1 2", 1),
            ("key Hyper", 1),
            ("type \"open", 1),
            ("tap -5 3", 1),
            ("wait 99999s", 1),
            ("type \"\\u{110000}\"", 1),
            ("type \"\\u1b\"", 1),
            ("expect-text a b c", 1),
            ("expect-text a soon", 1),
            ("expect-no-text", 1),
            ("expect-layout now", 1),
        ];
        for (src, line) in cases {
            let e = parse(src).unwrap_err();
            assert_eq!(e.line, line, "{src}: {e}");
        }
    }
}
