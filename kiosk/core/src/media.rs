//! Media decoding off the render thread: worker threads decode and scale images to the size
//! they are shown at, ahead of time; the app polls for finished images each frame.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

/// A decoded image ready for the GPU (RGBA8, sRGB).
pub struct Decoded {
    pub path: PathBuf,
    pub result: Result<image::RgbaImage, String>,
}

pub struct MediaLoader {
    tx: Sender<(PathBuf, u32, u32)>,
    rx: Mutex<Receiver<Decoded>>,
}

/// Largest image accepted, in pixels, checked from the header before decoding.
pub const MAX_PIXELS: u64 = 40_000_000;

/// A picture of the screen as the kiosk sends it to staff: scaled to at most
/// [`protocol::sync::SCREENSHOT_WIDTH`] pixels wide, JPEG, within
/// [`protocol::sync::MAX_SCREENSHOT_BYTES`] (the quality drops until it fits).
pub fn screenshot_jpeg(frame: &image::RgbaImage) -> Result<Vec<u8>, String> {
    let (w, h) = frame.dimensions();
    if w == 0 || h == 0 {
        return Err("the screen is empty".into());
    }
    let width = w.min(protocol::sync::SCREENSHOT_WIDTH);
    let height = ((u64::from(h) * u64::from(width)) / u64::from(w)).max(1) as u32;
    let small =
        image::imageops::resize(frame, width, height, image::imageops::FilterType::Triangle);
    let rgb = image::DynamicImage::ImageRgba8(small).to_rgb8();
    for quality in [75, 55, 35] {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
            .encode_image(&rgb)
            .map_err(|e| e.to_string())?;
        if out.len() <= protocol::sync::MAX_SCREENSHOT_BYTES {
            return Ok(out);
        }
    }
    Err("the screenshot does not fit the size the server takes".into())
}

/// Decodes `path` and scales it down to fit `max_w`×`max_h` (never up). Corrupt, truncated or
/// oversized files give an error, never a panic.
pub fn decode_fit(
    path: &std::path::Path,
    max_w: u32,
    max_h: u32,
) -> Result<image::RgbaImage, String> {
    let reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if w as u64 * h as u64 > MAX_PIXELS {
        return Err(format!(
            "{}: {w}×{h} pixels is over the limit",
            path.display()
        ));
    }
    let mut reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 + (1 << 20));
    reader.limits(limits);
    let img = reader
        .decode()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let img = if img.width() > max_w || img.height() > max_h {
        img.resize(max_w, max_h, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    Ok(img.to_rgba8())
}

impl MediaLoader {
    pub fn new(threads: usize) -> MediaLoader {
        let (tx, jobs) = mpsc::channel::<(PathBuf, u32, u32)>();
        let (done_tx, rx) = mpsc::channel();
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads.max(1) {
            let jobs = jobs.clone();
            let done_tx = done_tx.clone();
            std::thread::Builder::new()
                .name(format!("media-{n}"))
                .spawn(move || {
                    loop {
                        let job = jobs.lock().ok().and_then(|j| j.recv().ok());
                        let Some((path, w, h)) = job else { return };
                        let result = decode_fit(&path, w, h);
                        if done_tx.send(Decoded { path, result }).is_err() {
                            return;
                        }
                    }
                })
                .expect("spawn a media thread");
        }
        MediaLoader {
            tx,
            rx: Mutex::new(rx),
        }
    }

    pub fn request(&self, path: PathBuf, max_w: u32, max_h: u32) {
        let _ = self.tx.send((path, max_w, max_h));
    }

    /// Finished images, without blocking.
    pub fn poll(&self) -> Vec<Decoded> {
        self.rx
            .lock()
            .map(|rx| rx.try_iter().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_screenshot_is_a_small_jpeg_of_the_screen() {
        let frame = image::RgbaImage::from_fn(1920, 1080, |x, _| {
            if x < 960 {
                image::Rgba([200, 30, 30, 255])
            } else {
                image::Rgba([20, 40, 200, 255])
            }
        });
        let jpeg = screenshot_jpeg(&frame).unwrap();
        assert!(jpeg.len() < 100_000, "{} bytes", jpeg.len());
        let back = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .unwrap()
            .to_rgb8();
        assert_eq!(back.dimensions(), (960, 540));
        let left = back.get_pixel(100, 270);
        let right = back.get_pixel(860, 270);
        assert!(left[0] > 150 && left[2] < 80, "{left:?}");
        assert!(right[2] > 150 && right[0] < 80, "{right:?}");
        assert!(screenshot_jpeg(&image::RgbaImage::new(0, 0)).is_err());
    }

    #[test]
    fn scales_down_and_refuses_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.png");
        image::RgbImage::from_pixel(400, 200, image::Rgb([10, 20, 30]))
            .save(&ok)
            .unwrap();
        let img = decode_fit(&ok, 100, 100).unwrap();
        assert_eq!((img.width(), img.height()), (100, 50));
        let truncated = dir.path().join("t.png");
        let bytes = std::fs::read(&ok).unwrap();
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        assert!(decode_fit(&truncated, 100, 100).is_err());
        assert!(decode_fit(&dir.path().join("missing.png"), 100, 100).is_err());
        let loader = MediaLoader::new(1);
        loader.request(ok.clone(), 50, 50);
        let start = std::time::Instant::now();
        let mut got = Vec::new();
        while got.is_empty() && start.elapsed().as_secs() < 10 {
            got = loader.poll();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(got[0].path, ok);
        assert!(got[0].result.is_ok());
    }
}
