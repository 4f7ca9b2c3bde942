//! The preview thread: answers the newest request from the case's kept previews, and while
//! the reviewer looks at an item, reads and decodes the next items' previews, so that `j`
//! with the pane open finds its picture ready. Never the UI thread; the thread has its own
//! connection to the case.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

use image::DynamicImage;

use super::{answer_of, Answer, Request};
use crate::store::Case;

/// Decoded pictures held: kept previews (at most 320 × 320 RGB, about 300 KB each) and
/// pictures decoded from originals (contact sheets: about 1.5 MB).
const HELD: usize = 8;

/// Decoded kept previews, newest last.
#[derive(Default)]
struct Held(VecDeque<(i64, DynamicImage)>);

impl Held {
    fn get(&self, id: i64) -> Option<DynamicImage> {
        self.0
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, img)| img.clone())
    }

    fn put(&mut self, id: i64, img: DynamicImage) {
        self.0.retain(|(i, _)| *i != id);
        if self.0.len() == HELD {
            self.0.pop_front();
        }
        self.0.push_back((id, img));
    }
}

/// An item's kept preview, decoded; `None` when the case keeps none (or it is unreadable:
/// the original is then decoded, as before previews were kept).
fn kept(case: Option<&Case>, id: i64) -> Option<DynamicImage> {
    let k = crate::store::kept_previews::get(case?, id).ok()??;
    crate::ingest::kept_preview::open(&k.jpeg).ok()
}

/// The request for another item as the console makes it: that item's original, cached
/// picture, kind and orientation, this request's terminal and budget.
fn request_for(case: &Case, req: &Request, id: i64) -> Option<Request> {
    let d = crate::store::items::detail(case, id).ok()??;
    Some(Request {
        visual: super::visual_of(&d.row.kind, d.metadata.video.as_ref())?,
        item_id: id,
        path: case.objects.path_of(&d.row.sha256),
        thumbnail: Some(super::cached_picture(&case.root, &d.row.sha256)),
        orientation: d
            .metadata
            .exif
            .as_ref()
            .and_then(|e| e.orientation)
            .unwrap_or(1),
        ahead: vec![],
        ..req.clone()
    })
}

/// Start the thread. `root` is the case whose kept previews are read (`None`: originals
/// only). Older queued requests are dropped: the reviewer moved on. The next items are
/// prepared on a second thread (with its own connection and parser worker), so that making
/// a contact sheet ahead (ffmpeg, up to a second) never delays the answer to the reviewer.
pub fn spawn_worker<T: Send + 'static>(
    requests: Receiver<Request>,
    reply: Sender<T>,
    wrap: fn(Answer) -> T,
    root: Option<&Path>,
) {
    let held = Arc::new(Mutex::new(Held::default()));
    let (ahead_tx, ahead_rx) = std::sync::mpsc::channel::<Request>();
    spawn_ahead(ahead_rx, Arc::clone(&held), root);
    let case = root.and_then(|r| Case::open(r).ok());
    std::thread::Builder::new()
        .name("preview".into())
        .spawn(move || loop {
            let Ok(mut req) = requests.recv() else {
                return;
            };
            while let Ok(newer) = requests.try_recv() {
                req = newer;
            }
            // Pictures decoded from originals (contact sheets, PDF pages, images the case
            // keeps no preview of) are held too: coming back to them costs nothing.
            let holding = lock(&held).get(req.item_id);
            let base = match holding.or_else(|| kept(case.as_ref(), req.item_id)) {
                Some(img) => Ok(img),
                None => super::decode::load_base(&req),
            };
            if let Ok(img) = &base {
                lock(&held).put(req.item_id, img.clone());
            }
            if reply.send(wrap(answer_of(&req, base))).is_err() {
                return;
            }
            if !req.ahead.is_empty() {
                let _ = ahead_tx.send(req);
            }
        })
        .ok();
}

/// The thread that prepares the items of the newest request's `ahead`, one at a time,
/// starting over when a newer request comes.
fn spawn_ahead(requests: Receiver<Request>, held: Arc<Mutex<Held>>, root: Option<&Path>) {
    let case = root.and_then(|r| Case::open(r).ok());
    std::thread::Builder::new()
        .name("preview-ahead".into())
        .spawn(move || {
            while let Ok(mut req) = requests.recv() {
                'newest: loop {
                    while let Ok(newer) = requests.try_recv() {
                        req = newer;
                    }
                    for &id in &req.ahead {
                        if let Ok(newer) = requests.try_recv() {
                            req = newer;
                            continue 'newest;
                        }
                        if lock(&held).get(id).is_some() {
                            continue;
                        }
                        let img = kept(case.as_ref(), id).or_else(|| {
                            let other = request_for(case.as_ref()?, &req, id)?;
                            super::decode::load_base(&other).ok()
                        });
                        if let Some(img) = img {
                            lock(&held).put(id, img);
                        }
                    }
                    break;
                }
            }
        })
        .ok();
}

/// The held pictures, even if a thread panicked while holding them (they are only a cache).
fn lock(held: &Mutex<Held>) -> std::sync::MutexGuard<'_, Held> {
    held.lock().unwrap_or_else(|e| e.into_inner())
}
