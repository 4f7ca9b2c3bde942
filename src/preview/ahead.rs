//! The preview thread: answers the newest request from the case's kept previews, and while
//! the reviewer looks at an item, reads and decodes the next items' previews, so that `j`
//! with the pane open finds its picture ready. Never the UI thread; the thread has its own
//! connection to the case.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};

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
/// only). Older queued requests are dropped: the reviewer moved on.
pub fn spawn_worker<T: Send + 'static>(
    requests: Receiver<Request>,
    reply: Sender<T>,
    wrap: fn(Answer) -> T,
    root: Option<&Path>,
) {
    let case = root.and_then(|r| Case::open(r).ok());
    std::thread::Builder::new()
        .name("preview".into())
        .spawn(move || {
            let mut held = Held::default();
            let mut next: Option<Request> = None;
            loop {
                let mut req = match next.take() {
                    Some(r) => r,
                    None => match requests.recv() {
                        Ok(r) => r,
                        Err(_) => return,
                    },
                };
                while let Ok(newer) = requests.try_recv() {
                    req = newer;
                }
                // Pictures decoded from originals (contact sheets, PDF pages, images the case
                // keeps no preview of) are held too: coming back to them costs nothing.
                let base = match held
                    .get(req.item_id)
                    .or_else(|| kept(case.as_ref(), req.item_id))
                {
                    Some(img) => Ok(img),
                    None => super::decode::load_base(&req),
                };
                if let Ok(img) = &base {
                    held.put(req.item_id, img.clone());
                }
                if reply.send(wrap(answer_of(&req, base))).is_err() {
                    return;
                }
                // Prepare ahead, one item at a time, giving way to any new request.
                for &id in &req.ahead {
                    match requests.try_recv() {
                        Ok(r) => {
                            next = Some(r);
                            break;
                        }
                        Err(TryRecvError::Disconnected) => return,
                        Err(TryRecvError::Empty) => {}
                    }
                    if held.get(id).is_none() {
                        let img = kept(case.as_ref(), id).or_else(|| {
                            let other = request_for(case.as_ref()?, &req, id)?;
                            super::decode::load_base(&other).ok()
                        });
                        if let Some(img) = img {
                            held.put(id, img);
                        }
                    }
                }
            }
        })
        .ok();
}
