//! Images for the screens, decoded and scaled on worker threads ahead of time
//! ([`kiosk_core::media`]); this plugin only uploads finished images and keeps a bounded cache,
//! so memory does not grow with the pack's size.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use bevy::asset::RenderAssetUsages;
use bevy::prelude::*;
use kiosk_core::media::MediaLoader;

/// Images kept decoded at once.
const CACHE_SIZE: usize = 24;

#[derive(Resource)]
pub struct Media {
    loader: MediaLoader,
    ready: HashMap<PathBuf, Handle<Image>>,
    pending: HashSet<PathBuf>,
    failed: HashSet<PathBuf>,
    recent: VecDeque<PathBuf>,
}

pub(super) fn plugin(app: &mut App) {
    app.insert_resource(Media {
        loader: MediaLoader::new(2),
        ready: HashMap::new(),
        pending: HashSet::new(),
        failed: HashSet::new(),
        recent: VecDeque::new(),
    })
    .add_systems(PreUpdate, receive_media)
    .add_systems(Update, (fill_slots, crop_to_cover).chain());
}

impl Media {
    /// The image if it is ready; otherwise asks for it (once) and returns `None`.
    pub fn get(&mut self, path: &Path, max_w: u32, max_h: u32) -> Option<Handle<Image>> {
        if let Some(h) = self.ready.get(path) {
            let h = h.clone();
            self.touch(path);
            return Some(h);
        }
        if !self.pending.contains(path) && !self.failed.contains(path) {
            self.pending.insert(path.to_owned());
            self.loader.request(path.to_owned(), max_w, max_h);
        }
        None
    }

    /// Whether the image cannot be shown (corrupt, missing): callers show a colour instead.
    pub fn failed(&self, path: &Path) -> bool {
        self.failed.contains(path)
    }

    fn touch(&mut self, path: &Path) {
        if let Some(pos) = self.recent.iter().position(|p| p == path) {
            self.recent.remove(pos);
        }
        self.recent.push_back(path.to_owned());
    }
}

fn receive_media(mut media: ResMut<Media>, mut images: ResMut<Assets<Image>>) {
    for done in media.loader.poll() {
        media.pending.remove(&done.path);
        match done.result {
            Ok(rgba) => {
                let image = Image::from_dynamic(
                    image::DynamicImage::ImageRgba8(rgba),
                    true,
                    RenderAssetUsages::RENDER_WORLD,
                );
                let handle = images.add(image);
                media.ready.insert(done.path.clone(), handle);
                media.touch(&done.path);
                while media.recent.len() > CACHE_SIZE {
                    if let Some(old) = media.recent.pop_front() {
                        media.ready.remove(&old);
                    }
                }
            }
            Err(e) => {
                warn!("image not shown: {e}");
                media.failed.insert(done.path);
            }
        }
    }
}

/// An `ImageNode` that shows this file once it is decoded.
#[derive(Component)]
pub struct MediaSlot {
    pub path: PathBuf,
    pub max: (u32, u32),
}

/// Marks a picture that fills its box cut to the box's shape (a card's picture), where it would
/// otherwise fit inside it with bars either side.
#[derive(Component)]
pub struct Cover;

/// The middle of the picture with its box's proportions, in the picture's pixels.
pub fn cover_crop(picture: Vec2, node: Vec2) -> Rect {
    let want = node.x / node.y;
    if picture.x / picture.y > want {
        let w = picture.y * want;
        Rect::new((picture.x - w) / 2.0, 0.0, (picture.x + w) / 2.0, picture.y)
    } else {
        let h = picture.x / want;
        Rect::new(0.0, (picture.y - h) / 2.0, picture.x, (picture.y + h) / 2.0)
    }
}

fn crop_to_cover(
    images: Res<Assets<Image>>,
    mut pictures: Query<(&ComputedNode, &mut ImageNode), With<Cover>>,
) {
    for (node, mut image) in &mut pictures {
        if node.size.x <= 0.0 || node.size.y <= 0.0 {
            continue;
        }
        let Some(picture) = images.get(&image.image) else {
            continue;
        };
        let crop = cover_crop(picture.size_f32(), node.size);
        if image.rect != Some(crop) {
            image.rect = Some(crop);
        }
    }
}

pub fn fill_slots(
    mut commands: Commands,
    mut media: ResMut<Media>,
    mut slots: Query<(Entity, &MediaSlot, &mut ImageNode)>,
) {
    for (entity, slot, mut image) in &mut slots {
        if let Some(h) = media.get(&slot.path, slot.max.0, slot.max.1) {
            image.image = h;
            image.color = Color::WHITE;
            commands.entity(entity).remove::<MediaSlot>();
        } else if media.failed(&slot.path) {
            commands.entity(entity).remove::<MediaSlot>();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cover_crop_keeps_the_middle_in_the_box_shape() {
        // A 16:9 picture in a wide card loses its top and bottom, evenly.
        let r = cover_crop(Vec2::new(640.0, 360.0), Vec2::new(560.0, 150.0));
        assert_eq!(r.width(), 640.0);
        assert!((r.width() / r.height() - 560.0 / 150.0).abs() < 1e-3);
        assert!((r.min.y - (360.0 - r.max.y)).abs() < 1e-3);
        // In a tall box it loses its sides.
        let r = cover_crop(Vec2::new(640.0, 360.0), Vec2::new(100.0, 200.0));
        assert_eq!(r.height(), 360.0);
        assert!((r.width() - 180.0).abs() < 1e-3);
        assert!((r.min.x - 230.0).abs() < 1e-3);
        // The same shape: the whole picture.
        let r = cover_crop(Vec2::new(640.0, 360.0), Vec2::new(320.0, 180.0));
        assert_eq!(r, Rect::new(0.0, 0.0, 640.0, 360.0));
    }
}
