//! The scenario runner of `kiosk --script FILE`: drives the real app in its real window with
//! touches, swipes, keys and typed text, takes screenshots and checks visible text. Exits 0
//! when the script completes, non-zero naming the failing line.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput, NativeKeyCode};
use bevy::input::touch::{TouchInput, TouchPhase};
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::text::TextLayoutInfo;
use bevy::ui::{ComputedNode, UiGlobalTransform};
use bevy::window::{PrimaryWindow, WindowEvent};
use kiosk_core::layout;
use kiosk_core::script::{Line, Step};

/// How long `expect-text` and `tap-text` look for their text before failing.
const FIND_TIMEOUT_S: f64 = 3.0;
const SCREENSHOT_TIMEOUT_S: f64 = 20.0;

pub struct ScriptPlugin {
    pub path: PathBuf,
    pub lines: Vec<Line>,
}

impl Plugin for ScriptPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(Runner {
            path: self.path.clone(),
            lines: self.lines.clone(),
            pc: 0,
            phase: Phase::Start,
            started_at: 0.0,
            frames: 0,
            touch_id: 1000,
            failed: false,
        })
        .add_systems(Update, run_script);
    }
}

enum Phase {
    Start,
    Waiting(f64),
    Gesture {
        points: Vec<Vec2>,
        step: usize,
    },
    Screenshot(Arc<AtomicBool>, Arc<std::sync::Mutex<Option<String>>>),
    Finding,
    /// `expect-no-text`: since when the text has been absent (with other text on screen).
    Absent(Option<f64>),
    /// `expect-layout`: waiting for a frame that keeps the layout rules.
    Layout,
}

/// How long `expect-no-text` needs the text gone, so a frame between two screens (with nothing
/// laid out yet) does not count.
const ABSENT_FOR_S: f64 = 0.5;

#[derive(Resource)]
struct Runner {
    path: PathBuf,
    lines: Vec<Line>,
    pc: usize,
    phase: Phase,
    started_at: f64,
    frames: u32,
    touch_id: u64,
    failed: bool,
}

fn now(world: &World) -> f64 {
    world.resource::<Time<Real>>().elapsed_secs_f64()
}

fn primary(world: &mut World) -> Option<Entity> {
    world
        .query_filtered::<Entity, With<PrimaryWindow>>()
        .single(world)
        .ok()
}

fn touch(world: &mut World, phase: TouchPhase, position: Vec2, id: u64) {
    let Some(window) = primary(world) else { return };
    let t = TouchInput {
        phase,
        position,
        window,
        force: None,
        id,
    };
    world.write_message(t);
    world.write_message(WindowEvent::from(t));
}

fn key(world: &mut World, key_code: KeyCode, logical_key: Key, text: Option<&str>) {
    let Some(window) = primary(world) else { return };
    for state in [ButtonState::Pressed, ButtonState::Released] {
        let k = KeyboardInput {
            key_code,
            logical_key: logical_key.clone(),
            state,
            text: text.map(Into::into),
            repeat: false,
            window,
        };
        world.write_message(k.clone());
        world.write_message(WindowEvent::from(k));
    }
}

fn named_key(name: &str) -> (KeyCode, Key) {
    match name {
        "PageDown" => (KeyCode::PageDown, Key::PageDown),
        "PageUp" => (KeyCode::PageUp, Key::PageUp),
        "Left" => (KeyCode::ArrowLeft, Key::ArrowLeft),
        "Right" => (KeyCode::ArrowRight, Key::ArrowRight),
        "Up" => (KeyCode::ArrowUp, Key::ArrowUp),
        "Down" => (KeyCode::ArrowDown, Key::ArrowDown),
        "Space" => (KeyCode::Space, Key::Space),
        "Home" => (KeyCode::Home, Key::Home),
        "End" => (KeyCode::End, Key::End),
        "Enter" => (KeyCode::Enter, Key::Enter),
        "Escape" => (KeyCode::Escape, Key::Escape),
        "Backspace" => (KeyCode::Backspace, Key::Backspace),
        "Tab" => (KeyCode::Tab, Key::Tab),
        "F1" => (KeyCode::F1, Key::F1),
        other => {
            let c = other.to_ascii_lowercase();
            let code = match c.as_str() {
                "a" => KeyCode::KeyA,
                "b" => KeyCode::KeyB,
                "c" => KeyCode::KeyC,
                "d" => KeyCode::KeyD,
                "e" => KeyCode::KeyE,
                "f" => KeyCode::KeyF,
                "g" => KeyCode::KeyG,
                "h" => KeyCode::KeyH,
                "i" => KeyCode::KeyI,
                "j" => KeyCode::KeyJ,
                "k" => KeyCode::KeyK,
                "l" => KeyCode::KeyL,
                "m" => KeyCode::KeyM,
                "n" => KeyCode::KeyN,
                "o" => KeyCode::KeyO,
                "p" => KeyCode::KeyP,
                "q" => KeyCode::KeyQ,
                "r" => KeyCode::KeyR,
                "s" => KeyCode::KeyS,
                "t" => KeyCode::KeyT,
                "u" => KeyCode::KeyU,
                "v" => KeyCode::KeyV,
                "w" => KeyCode::KeyW,
                "x" => KeyCode::KeyX,
                "y" => KeyCode::KeyY,
                "z" => KeyCode::KeyZ,
                "0" => KeyCode::Digit0,
                "1" => KeyCode::Digit1,
                "2" => KeyCode::Digit2,
                "3" => KeyCode::Digit3,
                "4" => KeyCode::Digit4,
                "5" => KeyCode::Digit5,
                "6" => KeyCode::Digit6,
                "7" => KeyCode::Digit7,
                "8" => KeyCode::Digit8,
                _ => KeyCode::Digit9,
            };
            (code, Key::Character(c.into()))
        }
    }
}

/// The centre (window pixels) of the first visible text containing `needle`.
fn find_text(world: &mut World, needle: &str) -> Option<Vec2> {
    let scale = world
        .query_filtered::<&Window, With<PrimaryWindow>>()
        .single(world)
        .ok()?
        .scale_factor();
    let mut q = world.query::<(
        &Text,
        &ComputedNode,
        &UiGlobalTransform,
        &InheritedVisibility,
    )>();
    // A text that is exactly the needle wins over one that only contains it (keyboard keys).
    let found: Vec<(bool, Vec2)> = q
        .iter(world)
        .filter(|(t, node, _, vis)| vis.get() && node.size.x > 0.0 && t.0.contains(needle))
        .map(|(t, _, gt, _)| (t.0 == needle, gt.translation / scale))
        .collect();
    found
        .iter()
        .find(|(exact, _)| *exact)
        .or(found.first())
        .map(|(_, at)| *at)
}

/// The visible nodes as the layout engine placed them, in window pixels, checked against
/// [`kiosk_core::layout`]'s rules; also how many texts are on screen.
fn layout_violations(world: &mut World) -> (Vec<layout::Violation>, usize) {
    let Some(window) = world
        .query_filtered::<&Window, With<PrimaryWindow>>()
        .single(world)
        .ok()
    else {
        return (vec![], 0);
    };
    let screen = layout::Screen::new(
        window.physical_width() as f32,
        window.physical_height() as f32,
    );
    let rect = |node: &ComputedNode, at: &UiGlobalTransform| {
        layout::Rect::centred(
            (at.translation.x, at.translation.y),
            (node.size.x, node.size.y),
        )
    };
    // Every node's box and parent, to walk a text's containers (a container that scrolls or
    // sizes to nothing holds no box).
    let mut tree = std::collections::HashMap::new();
    let mut entities = world.query::<(
        Entity,
        &ComputedNode,
        &UiGlobalTransform,
        Option<&Node>,
        Option<&Name>,
        Option<&ChildOf>,
    )>();
    for (e, node, at, style, name, parent) in entities.iter(world) {
        let scrolls = style.is_some_and(|s| {
            matches!(s.overflow.x, OverflowAxis::Scroll)
                || matches!(s.overflow.y, OverflowAxis::Scroll)
        });
        let held = (node.size.x > 0.0 && node.size.y > 0.0 && !scrolls).then(|| {
            (
                name.map(|n| n.as_str().to_owned())
                    .unwrap_or_else(|| "a box".to_owned()),
                rect(node, at),
            )
        });
        tree.insert(e, (held, parent.map(|p| p.parent())));
    }
    let mut nodes = Vec::new();
    let mut texts = 0;
    let mut q = world.query::<(
        Entity,
        &ComputedNode,
        &UiGlobalTransform,
        &InheritedVisibility,
        Option<&Text>,
        Option<&TextLayoutInfo>,
        Has<Button>,
        Option<&Name>,
    )>();
    for (e, node, at, vis, text, info, button, name) in q.iter(world) {
        if !vis.get() || node.size.x <= 0.0 || node.size.y <= 0.0 {
            continue;
        }
        let kind = match (text, info) {
            (Some(t), Some(info)) if !t.0.trim().is_empty() => {
                texts += 1;
                // How far right the glyphs' ink reaches (a line's advance would count the
                // space it breaks at), and how tall the lines are (diacritics may rise above
                // their line, as in print).
                let (ink_left, ink) = info.glyphs.iter().fold((0.0f32, 0.0f32), |(l, r), g| {
                    let half = g.atlas_info.rect.width() / 2.0;
                    (l.min(g.position.x - half), r.max(g.position.x + half))
                });
                let lines = info
                    .glyphs
                    .iter()
                    .map(|g| g.line_index + 1)
                    .max()
                    .unwrap_or(1);
                // Bevy keeps the glyphs in physical pixels but the layout's size in logical
                // ones (divided by the UI scale): both physical here, as the boxes are.
                let height = info.size.y * info.scale_factor;
                layout::Kind::Text {
                    glyphs: (ink, height),
                    ink_left,
                    line: height / lines as f32,
                }
            }
            _ if button => layout::Kind::Control,
            _ => continue,
        };
        let label = match (text, name) {
            (Some(t), _) => t.0.clone(),
            (None, Some(n)) => n.as_str().to_owned(),
            (None, None) => format!("{e}"),
        };
        let mut containers = Vec::new();
        let mut up = tree.get(&e).and_then(|(_, p)| *p);
        while let Some(p) = up {
            let Some((held, parent)) = tree.get(&p) else {
                break;
            };
            if let Some(b) = held {
                containers.push(b.clone());
            }
            up = *parent;
        }
        nodes.push(layout::Laid {
            label,
            kind,
            rect: rect(node, at),
            containers,
        });
    }
    (layout::check(screen, &nodes), texts)
}

fn visible_texts(world: &mut World) -> Vec<String> {
    let mut q = world.query::<(&Text, &ComputedNode, &InheritedVisibility)>();
    q.iter(world)
        .filter(|(t, node, vis)| vis.get() && node.size.x > 0.0 && !t.0.is_empty())
        .map(|(t, _, _)| t.0.chars().take(40).collect())
        .collect()
}

fn fail(world: &mut World, r: &mut Runner, line: &Line, reason: &str) {
    r.failed = true;
    let path = &r.path;
    eprintln!(
        "script {}:{}: `{}`: {reason}",
        path.display(),
        line.number,
        line.text
    );
    world.write_message(AppExit::from_code(1));
}

fn run_script(world: &mut World) {
    let t = now(world);
    let mut runner = world.remove_resource::<Runner>().expect("runner");
    runner.frames += 1;
    let done = step(world, &mut runner, t);
    if done {
        eprintln!("script {}: completed", runner.path.display());
        world.write_message(AppExit::Success);
    }
    world.insert_resource(runner);
}

/// Advances the script; true when it has finished.
fn step(world: &mut World, r: &mut Runner, t: f64) -> bool {
    // Let the first frames lay out before acting; after a failure, only wait for the exit.
    if r.frames < 3 || r.failed {
        return false;
    }
    loop {
        let Some(line) = r.lines.get(r.pc).cloned() else {
            return true;
        };
        match std::mem::replace(&mut r.phase, Phase::Start) {
            Phase::Start => {
                r.started_at = t;
                match &line.step {
                    Step::Wait(d) => {
                        r.phase = Phase::Waiting(t + d.as_secs_f64());
                        return false;
                    }
                    Step::Tap(x, y) => {
                        r.phase = Phase::Gesture {
                            points: vec![Vec2::new(*x, *y)],
                            step: 0,
                        };
                    }
                    Step::TapText(_) | Step::ExpectText(_) | Step::ExpectTextWithin(..) => {
                        r.phase = Phase::Finding
                    }
                    Step::ExpectNoText(_) => r.phase = Phase::Absent(None),
                    Step::ExpectLayout => r.phase = Phase::Layout,
                    Step::Swipe(x1, y1, x2, y2) => {
                        let (a, b) = (Vec2::new(*x1, *y1), Vec2::new(*x2, *y2));
                        let points = (0..=8).map(|i| a.lerp(b, i as f32 / 8.0)).collect();
                        r.phase = Phase::Gesture { points, step: 0 };
                    }
                    Step::Key(name) => {
                        let (code, k) = named_key(name);
                        let text = match &k {
                            Key::Character(c) => Some(c.to_string()),
                            Key::Space => Some(" ".to_owned()),
                            _ => None,
                        };
                        key(world, code, k, text.as_deref());
                        r.phase = Phase::Waiting(t + 0.1);
                        return false;
                    }
                    Step::Type(s) => {
                        for c in s.chars() {
                            if c == '\n' || c == '\r' {
                                key(world, KeyCode::Enter, Key::Enter, None);
                            } else {
                                let cs = c.to_string();
                                key(
                                    world,
                                    KeyCode::Unidentified(NativeKeyCode::Unidentified),
                                    Key::Character(cs.as_str().into()),
                                    Some(&cs),
                                );
                            }
                        }
                        r.phase = Phase::Waiting(t + 0.1);
                        return false;
                    }
                    Step::Screenshot(path) => {
                        if let Some(dir) = path.parent() {
                            let _ = std::fs::create_dir_all(dir);
                        }
                        let done = Arc::new(AtomicBool::new(false));
                        let error = Arc::new(std::sync::Mutex::new(None));
                        let (d, e, p) = (done.clone(), error.clone(), path.clone());
                        world.spawn(Screenshot::primary_window()).observe(
                            move |cap: On<ScreenshotCaptured>| {
                                let result = cap
                                    .image
                                    .clone()
                                    .try_into_dynamic()
                                    .map_err(|e| e.to_string())
                                    .and_then(|img| {
                                        img.to_rgb8().save(&p).map_err(|e| e.to_string())
                                    });
                                if let Err(msg) = result {
                                    *e.lock().unwrap() = Some(msg);
                                }
                                d.store(true, Ordering::Release);
                            },
                        );
                        r.phase = Phase::Screenshot(done, error);
                        return false;
                    }
                    Step::Stall(d) => {
                        // The render loop itself stops: no frame, no system, no ping.
                        std::thread::sleep(*d);
                        r.pc += 1;
                        return false;
                    }
                    Step::Quit => {
                        eprintln!("script {}: quit at line {}", r.path.display(), line.number);
                        world.write_message(AppExit::Success);
                        r.pc = r.lines.len();
                        return false;
                    }
                }
            }
            Phase::Waiting(until) => {
                if t < until {
                    r.phase = Phase::Waiting(until);
                    return false;
                }
                r.pc += 1;
                r.phase = Phase::Start;
                continue;
            }
            Phase::Finding => {
                let (needle, timeout) = match &line.step {
                    Step::TapText(s) | Step::ExpectText(s) => (s.clone(), FIND_TIMEOUT_S),
                    Step::ExpectTextWithin(s, d) => (s.clone(), d.as_secs_f64()),
                    _ => unreachable!("only text steps find"),
                };
                match find_text(world, &needle) {
                    Some(centre) => {
                        if matches!(line.step, Step::TapText(_)) {
                            r.phase = Phase::Gesture {
                                points: vec![centre],
                                step: 0,
                            };
                            continue;
                        }
                        r.pc += 1;
                        r.phase = Phase::Start;
                        continue;
                    }
                    None if t - r.started_at < timeout => {
                        r.phase = Phase::Finding;
                        return false;
                    }
                    None => {
                        let seen = visible_texts(world);
                        fail(
                            world,
                            r,
                            &line,
                            &format!("no visible text contains \"{needle}\"; visible: {seen:?}"),
                        );
                        r.pc = r.lines.len();
                        return false;
                    }
                }
            }
            Phase::Absent(since) => {
                let Step::ExpectNoText(needle) = &line.step else {
                    unreachable!("only expect-no-text waits for absence")
                };
                let absent = find_text(world, needle).is_none() && !visible_texts(world).is_empty();
                let since = if absent { since.or(Some(t)) } else { None };
                if since.is_some_and(|s| t - s >= ABSENT_FOR_S) {
                    r.pc += 1;
                    r.phase = Phase::Start;
                    continue;
                }
                if t - r.started_at >= FIND_TIMEOUT_S + ABSENT_FOR_S {
                    fail(world, r, &line, &format!("\"{needle}\" is still on screen"));
                    r.pc = r.lines.len();
                    return false;
                }
                r.phase = Phase::Absent(since);
                return false;
            }
            Phase::Layout => {
                let (violations, texts) = layout_violations(world);
                if violations.is_empty() && texts > 0 {
                    r.pc += 1;
                    r.phase = Phase::Start;
                    continue;
                }
                if t - r.started_at < FIND_TIMEOUT_S {
                    r.phase = Phase::Layout;
                    return false;
                }
                let list: Vec<String> = violations.iter().take(16).map(|v| v.to_string()).collect();
                let more = violations.len().saturating_sub(list.len());
                fail(
                    world,
                    r,
                    &line,
                    &format!(
                        "{} broken layout rule(s){}:\n  {}",
                        violations.len(),
                        if more > 0 {
                            format!(" ({more} not listed)")
                        } else {
                            String::new()
                        },
                        if texts == 0 {
                            "no text on screen".to_owned()
                        } else {
                            list.join("\n  ")
                        }
                    ),
                );
                r.pc = r.lines.len();
                return false;
            }
            Phase::Gesture { points, step } => {
                // Clear the mouse position: the UI prefers it over touches.
                if let Some(w) = primary(world)
                    && let Some(mut window) = world.get_mut::<Window>(w)
                {
                    window.set_physical_cursor_position(None);
                }
                let id = r.touch_id;
                let last = points.len() - 1;
                // Frames: 0 press, 1..=last moves, then hold 2 frames, release, settle 2 frames.
                if step == 0 {
                    touch(world, TouchPhase::Started, points[0], id);
                } else if step <= last {
                    touch(world, TouchPhase::Moved, points[step], id);
                } else if step == last + 2 {
                    touch(world, TouchPhase::Ended, points[last], id);
                } else if step >= last + 5 {
                    r.touch_id += 1;
                    r.pc += 1;
                    r.phase = Phase::Start;
                    return false;
                }
                r.phase = Phase::Gesture {
                    points,
                    step: step + 1,
                };
                return false;
            }
            Phase::Screenshot(done, error) => {
                if !done.load(Ordering::Acquire) {
                    if t - r.started_at > SCREENSHOT_TIMEOUT_S {
                        fail(world, r, &line, "the screenshot did not arrive");
                        r.pc = r.lines.len();
                        return false;
                    }
                    r.phase = Phase::Screenshot(done, error);
                    return false;
                }
                if let Some(msg) = error.lock().unwrap().take() {
                    fail(
                        world,
                        r,
                        &line,
                        &format!("could not save the screenshot: {msg}"),
                    );
                    r.pc = r.lines.len();
                    return false;
                }
                r.pc += 1;
                r.phase = Phase::Start;
                return false;
            }
        }
    }
}
