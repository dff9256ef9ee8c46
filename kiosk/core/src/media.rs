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
