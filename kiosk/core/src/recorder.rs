//! The recorder: the one writer of the kiosk's records and of what the app keeps in the store
//! (checkpoints, the event chosen in the overlay), on its own thread, so that no Bevy system
//! touches the disk. The sync worker's heartbeats go through it too; the worker itself writes
//! only what the server answered (acknowledgements, erasures, settings). The app sends records through a channel; a write the visitor is told about
//! (a lead) comes with a reply that arrives only once the record is durable.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender};

use protocol::RecordBody;

use crate::clock::{Clock, Stamp};
use crate::store::{Store, Stored};

enum Command {
    Append {
        stamp: Stamp,
        event_id: Option<String>,
        body: RecordBody,
        reply: Option<Sender<Result<Stored, String>>>,
        /// A meta key deleted in the same transaction (the checkpoint this record replaces).
        clearing: Option<&'static str>,
    },
    /// Sets (or with `None` deletes) a meta value: a checkpoint of work in progress, or the
    /// event chosen (which wakes the sync worker: a new event may have its own content).
    Meta {
        key: &'static str,
        value: Option<String>,
        wake: bool,
    },
    Stop,
}

/// A pending durable write: poll it from a system each frame.
pub struct Pending(Receiver<Result<Stored, String>>);

impl Pending {
    /// `None` while the write is in flight; then the stored record or the error.
    pub fn poll(&self) -> Option<Result<Stored, String>> {
        match self.0.try_recv() {
            Ok(r) => Some(r),
            Err(mpsc::TryRecvError::Empty) => None,
            Err(mpsc::TryRecvError::Disconnected) => {
                Some(Err("the recorder stopped before the write".into()))
            }
        }
    }

    /// Blocks until the write is durable (tests and shutdown only).
    pub fn wait(self) -> Result<Stored, String> {
        self.0
            .recv()
            .unwrap_or_else(|_| Err("the recorder stopped before the write".into()))
    }
}

/// A write a screen waits for (a lead, a delegation's visit) with what to do once it is
/// durable. One at a time: a second is refused, and so not written, while the first is in
/// flight. Shareable between threads, as Bevy's resources must be.
pub struct Durable<T>(std::sync::Mutex<Option<(Pending, T)>>);

impl<T> Default for Durable<T> {
    fn default() -> Self {
        Durable(std::sync::Mutex::new(None))
    }
}

impl<T> Durable<T> {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<(Pending, T)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes the write and waits for it; false, with nothing written, while another is in
    /// flight.
    pub fn start(&self, write: impl FnOnce() -> Pending, then: T) -> bool {
        let mut slot = self.slot();
        if slot.is_some() {
            return false;
        }
        *slot = Some((write(), then));
        true
    }

    pub fn busy(&self) -> bool {
        self.slot().is_some()
    }

    /// Stops waiting (the screen is left): what was to follow, if a write was in flight. The
    /// recorder still makes the write.
    pub fn abandon(&self) -> Option<T> {
        self.slot().take().map(|(_, then)| then)
    }

    /// Once the store answered: `Ok(then)` if the write is durable, else why not. Either way
    /// the next write may start. `None` while the write is in flight.
    pub fn finish(&self) -> Option<Result<T, String>> {
        let mut slot = self.slot();
        let done = slot.as_ref()?.0.poll()?;
        let (_, then) = slot.take()?;
        Some(done.map(|_| then))
    }
}

#[derive(Clone)]
pub struct Recorder {
    tx: Sender<Command>,
    clock: Clock,
}

pub struct RecorderThread {
    tx: Sender<Command>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for RecorderThread {
    fn drop(&mut self) {
        let _ = self.tx.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Recorder {
    /// Opens the store and starts the writer thread. `on_write` runs after each durable write
    /// (the app uses it to wake the sync worker).
    pub fn start(
        store_path: PathBuf,
        clock: Clock,
        on_write: impl Fn() + Send + 'static,
    ) -> Result<(Recorder, RecorderThread), crate::store::StoreError> {
        let mut store = Store::open(&store_path)?;
        let (tx, rx) = mpsc::channel::<Command>();
        let thread = std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || {
                while let Ok(cmd) = rx.recv() {
                    match cmd {
                        Command::Append {
                            stamp,
                            event_id,
                            body,
                            reply,
                            clearing,
                        } => {
                            let r = match clearing {
                                Some(key) => {
                                    store.append_clearing(stamp, event_id.as_deref(), body, key)
                                }
                                None => store.append(stamp, event_id.as_deref(), body),
                            }
                            .map_err(|e| e.to_string());
                            if let Err(e) = &r {
                                tracing::error!(error = %e, "a record could not be stored");
                            }
                            if let Some(reply) = reply {
                                let _ = reply.send(r);
                            }
                            on_write();
                        }
                        Command::Meta { key, value, wake } => {
                            let r = match &value {
                                Some(v) => store.set_meta(key, v),
                                None => store.clear_meta(key),
                            };
                            if let Err(e) = r {
                                tracing::error!(error = %e, key, "a checkpoint could not be stored");
                            }
                            if wake {
                                on_write();
                            }
                        }
                        Command::Stop => break,
                    }
                }
            })
            .expect("spawn the recorder thread");
        Ok((
            Recorder {
                tx: tx.clone(),
                clock,
            },
            RecorderThread {
                tx,
                thread: Some(thread),
            },
        ))
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Records something that happened now; fire and forget.
    pub fn record(&self, event_id: Option<&str>, body: RecordBody) {
        let _ = self.tx.send(Command::Append {
            stamp: self.clock.now(),
            event_id: event_id.map(str::to_owned),
            body,
            reply: None,
            clearing: None,
        });
    }

    /// Keeps the event staff chose in the overlay for the next start, in order with the
    /// records (the server's settings, which may assign another, are kept by the sync worker
    /// with the rest of the settings).
    pub fn remember_event(&self, event_id: &str) {
        let _ = self.tx.send(Command::Meta {
            key: crate::store::EVENT_KEY,
            value: Some(event_id.to_owned()),
            wake: true,
        });
    }

    /// Keeps (or with `None` forgets) a checkpoint in the store, in order with the records.
    pub fn checkpoint(&self, key: &'static str, value: Option<String>) {
        let _ = self.tx.send(Command::Meta {
            key,
            value,
            wake: false,
        });
    }

    /// Records something that replaces a checkpoint: the record and the checkpoint's removal
    /// are one transaction. Poll the answer.
    pub fn record_clearing(
        &self,
        event_id: Option<&str>,
        body: RecordBody,
        key: &'static str,
    ) -> Pending {
        let (reply, rx) = mpsc::channel();
        let _ = self.tx.send(Command::Append {
            stamp: self.clock.now(),
            event_id: event_id.map(str::to_owned),
            body,
            reply: Some(reply),
            clearing: Some(key),
        });
        Pending(rx)
    }

    /// Records something the visitor will be told about; poll the answer.
    pub fn record_durable(&self, event_id: Option<&str>, body: RecordBody) -> Pending {
        let (reply, rx) = mpsc::channel();
        let _ = self.tx.send(Command::Append {
            stamp: self.clock.now(),
            event_id: event_id.map(str::to_owned),
            body,
            reply: Some(reply),
            clearing: None,
        });
        Pending(rx)
    }
}

/// Records a visit left in progress by a kiosk that stopped mid-visit (at the time of its last
/// checkpoint) and removes the checkpoint, in one transaction. Runs once at start, before the
/// recorder. Returns the visit recorded, if there was one.
pub fn recover_visit(store: &mut Store) -> Result<Option<protocol::VisitBody>, String> {
    use crate::presenter::{CHECKPOINT_KEY, Checkpoint};
    let Some(raw) = store.meta(CHECKPOINT_KEY).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let Some(cp) = Checkpoint::from_json(&raw) else {
        tracing::warn!("a presenter checkpoint could not be read; it is dropped");
        store
            .clear_meta(CHECKPOINT_KEY)
            .map_err(|e| e.to_string())?;
        return Ok(None);
    };
    let delegation = cp.visit.delegation.clone();
    store
        .append_clearing(
            cp.stamp(),
            Some(&delegation),
            RecordBody::Visit(Box::new(cp.visit.clone())),
            CHECKPOINT_KEY,
        )
        .map_err(|e| e.to_string())?;
    Ok(Some(cp.visit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_durable_write_is_in_the_store_when_the_reply_comes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.sqlite");
        let (rec, thread) = Recorder::start(path.clone(), Clock::system(), || {}).unwrap();
        rec.record(
            None,
            RecordBody::Interaction {
                target: "home".into(),
                item: None,
            },
        );
        let stored = rec
            .record_durable(
                Some("ev"),
                RecordBody::Interaction {
                    target: "x".into(),
                    item: None,
                },
            )
            .wait()
            .unwrap();
        assert_eq!(stored.seq, 2);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.all().unwrap().len(), 2);
        drop(thread);
    }

    #[test]
    fn a_durable_save_is_one_at_a_time_and_hands_back_what_follows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.sqlite");
        let (rec, thread) = Recorder::start(path.clone(), Clock::system(), || {}).unwrap();
        let body = |t: &str| RecordBody::Interaction {
            target: t.into(),
            item: None,
        };
        let saving = Durable::<&str>::default();
        assert!(!saving.busy());
        assert!(saving.finish().is_none(), "nothing to finish");
        assert!(saving.start(|| rec.record_durable(None, body("first")), "thanks Kim"));
        // A second tap while the first is in flight writes nothing.
        let mut wrote = false;
        assert!(!saving.start(
            || {
                wrote = true;
                rec.record_durable(None, body("second"))
            },
            "again"
        ));
        assert!(!wrote);
        let then = loop {
            if let Some(done) = saving.finish() {
                break done;
            }
            assert!(saving.busy());
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert_eq!(then, Ok("thanks Kim"));
        assert!(!saving.busy());
        assert!(saving.finish().is_none(), "finished once");
        drop(thread);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.all().unwrap().len(), 1);

        // The recorder gone: the save fails, says so, and the next may start.
        let saving = Durable::<()>::default();
        assert!(saving.start(|| rec.record_durable(None, body("late")), ()));
        let failed = loop {
            if let Some(done) = saving.finish() {
                break done;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert!(failed.unwrap_err().contains("recorder stopped"));
        assert!(!saving.busy());
    }

    #[test]
    fn the_event_chosen_is_kept_in_order_with_the_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.sqlite");
        let (rec, thread) = Recorder::start(path.clone(), Clock::system(), || {}).unwrap();
        rec.remember_event("fair-2027");
        rec.record_durable(
            Some("fair-2027"),
            RecordBody::Interaction {
                target: "home".into(),
                item: None,
            },
        )
        .wait()
        .unwrap();
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.meta(crate::store::EVENT_KEY).unwrap().as_deref(),
            Some("fair-2027")
        );
        drop(thread);
    }

    #[test]
    fn a_visit_cut_short_is_recorded_once_at_the_next_start() {
        use crate::presenter::{CHECKPOINT_KEY, Checkpoint, Move, Presentation};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.sqlite");
        let pack: protocol::content::Pack = toml::from_str(
            r#"
            id = "t"
            version = "1"
            default_language = "vi"
            languages = ["vi", "ja"]
            [[items]]
            id = "a"
            pillar = "invest"
            [items.text.vi]
            title = "A"
            [[decks]]
            id = "d"
            slides = [{ item = "a" }]
            [[delegations]]
            id = "jp"
            country = "JP"
            languages = ["ja"]
            date = "2026-11-26"
            org = "Department of Foreign Affairs"
            deck = "d"
            "#,
        )
        .unwrap();
        let clock = Clock::system();
        let (rec, thread) = Recorder::start(path.clone(), clock.clone(), || {}).unwrap();
        let mut p = Presentation::start(&pack, &pack.delegations[0], clock.mono_ms()).unwrap();
        p.apply(Move::Next, clock.mono_ms() + 5_000);
        rec.checkpoint(
            CHECKPOINT_KEY,
            Some(Checkpoint::new(&p, clock.now()).to_json()),
        );
        // The power goes: the recorder stops with the checkpoint written, no visit record.
        drop(thread);
        let mut store = Store::open(&path).unwrap();
        assert!(store.all().unwrap().is_empty());
        let visit = recover_visit(&mut store).unwrap().expect("the visit");
        assert_eq!(visit.ended, protocol::VisitEnd::Interrupted);
        assert_eq!(visit.delegation, "jp");
        let all = store.all().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].event_id.as_deref(), Some("jp"));
        assert_eq!(store.meta(CHECKPOINT_KEY).unwrap(), None);
        // A second start finds nothing to recover.
        assert_eq!(recover_visit(&mut store).unwrap(), None);
        assert_eq!(store.all().unwrap().len(), 1);
        // An ended visit replaces its checkpoint in one transaction.
        drop(store);
        let (rec, thread) = Recorder::start(path.clone(), clock.clone(), || {}).unwrap();
        rec.checkpoint(CHECKPOINT_KEY, Some("{}".into()));
        let (body, _) = p.finish(clock.mono_ms() + 9_000);
        rec.record_clearing(
            Some("jp"),
            RecordBody::Visit(Box::new(body)),
            CHECKPOINT_KEY,
        )
        .wait()
        .unwrap();
        drop(thread);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.meta(CHECKPOINT_KEY).unwrap(), None);
        assert_eq!(store.all().unwrap().len(), 2);
    }
}
