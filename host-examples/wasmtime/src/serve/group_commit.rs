//! Group commit, the one writer of both storages: requests hand their
//! snapshot to a writer thread, which takes every one waiting (up to
//! [`MAX_BATCH`]), commits them in one transaction and then answers each.
//! So a request is answered only after the transaction holding its record
//! committed, and under load one fsync covers many requests.

use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use super::lock;
use super::storage::{Inserted, NewSnapshot, StoreError};

/// Most records in one group commit.
const MAX_BATCH: usize = 512;

/// One waiting insert and where its answer goes.
struct Job {
    snapshot: NewSnapshot,
    reply: Sender<Result<Inserted, StoreError>>,
}

/// The writer thread of a storage and the queue to it.
pub struct Writer {
    /// Names the database in messages (`sqlite`, `postgres`).
    name: &'static str,
    queue: Mutex<Option<Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the writer: `commit` stores a batch in one transaction,
    /// giving each snapshot its answer in order, or fails the whole batch.
    pub fn start<F>(name: &'static str, commit: F) -> std::io::Result<Writer>
    where
        F: FnMut(&mut [NewSnapshot]) -> Result<Vec<Inserted>, StoreError> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("serve-{name}-writer"))
            .spawn(move || run(rx, commit))?;
        Ok(Writer {
            name,
            queue: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues `snapshot` and waits until its batch committed (or failed).
    pub fn insert(&self, snapshot: NewSnapshot) -> Result<Inserted, StoreError> {
        let (reply, answer) = mpsc::channel();
        let sent = match lock(&self.queue).as_ref() {
            Some(q) => q.send(Job { snapshot, reply }).is_ok(),
            None => false,
        };
        if !sent {
            return Err(self.stopped());
        }
        answer.recv().unwrap_or_else(|_| {
            Err(StoreError::Failed(format!(
                "{}: the writer stopped",
                self.name
            )))
        })
    }

    /// `Err` once the writer has stopped (for `/readyz`).
    pub fn running(&self) -> Result<(), StoreError> {
        match lock(&self.queue).as_ref() {
            Some(_) => Ok(()),
            None => Err(self.stopped()),
        }
    }

    fn stopped(&self) -> StoreError {
        StoreError::Unavailable(format!("{}: the writer has stopped", self.name))
    }

    /// Closes the queue and waits for the writer to commit what is in it.
    pub fn stop(&self) {
        lock(&self.queue).take();
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The writer thread's loop, until the queue closes.
fn run<F>(jobs: Receiver<Job>, mut commit: F)
where
    F: FnMut(&mut [NewSnapshot]) -> Result<Vec<Inserted>, StoreError>,
{
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let (mut snapshots, replies): (Vec<_>, Vec<_>) =
            batch.into_iter().map(|j| (j.snapshot, j.reply)).unzip();
        match commit(&mut snapshots) {
            Ok(results) => {
                for (reply, r) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(r));
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}
