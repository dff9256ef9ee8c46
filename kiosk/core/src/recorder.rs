//! The recorder: the one writer of the kiosk's store, on its own thread, so that no Bevy system
//! touches the disk. The app sends records through a channel; a write the visitor is told about
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
                        } => {
                            let r = store
                                .append(stamp, event_id.as_deref(), body)
                                .map_err(|e| e.to_string());
                            if let Err(e) = &r {
                                tracing::error!(error = %e, "a record could not be stored");
                            }
                            if let Some(reply) = reply {
                                let _ = reply.send(r);
                            }
                            on_write();
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
        });
    }

    /// Records something the visitor will be told about; poll the answer.
    pub fn record_durable(&self, event_id: Option<&str>, body: RecordBody) -> Pending {
        let (reply, rx) = mpsc::channel();
        let _ = self.tx.send(Command::Append {
            stamp: self.clock.now(),
            event_id: event_id.map(str::to_owned),
            body,
            reply: Some(reply),
        });
        Pending(rx)
    }
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
}
