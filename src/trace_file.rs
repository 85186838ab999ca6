//! The trace file as `stsim run` writes it: the bytes go to the file from a thread of
//! their own, so that the simulation does not wait for the kernel to copy each block into
//! the page cache. An attach storm's trace is 12.6 MB; written from the simulating thread
//! through a `BufWriter`, its 200 `write` calls were time the run spent in the kernel.
//!
//! The simulation still produces every byte, in order, on its own thread: this only moves
//! the system calls, so the file is the same byte for byte. The buffers go back and forth
//! through two bounded channels (at most [`IN_FLIGHT`] blocks wait), and the first write
//! error stops the writing thread and is reported by the next `write` or `flush`.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Bytes gathered before a block is handed to the writing thread.
const BLOCK: usize = 1 << 18;
/// Blocks handed over and not yet written, at most.
const IN_FLIGHT: usize = 4;

/// What the simulating thread sends: bytes to write, or a request to flush and answer.
enum Message {
    Bytes(Vec<u8>),
    Flush,
}

/// A `Write` whose bytes are written to `inner` by a thread of its own (see the header).
pub struct BackgroundWriter {
    buf: Vec<u8>,
    to_writer: Option<SyncSender<Message>>,
    /// Written blocks coming back, to be filled again (and the answers to flushes).
    from_writer: Receiver<Reply>,
    thread: Option<JoinHandle<io::Result<()>>>,
    /// Blocks the writing thread has been given back to this side.
    spare: Vec<Vec<u8>>,
}

/// What the writing thread sends back.
enum Reply {
    /// A written block, to be reused.
    Written(Vec<u8>),
    /// Every block sent before the flush request is written and `inner` is flushed.
    Flushed,
}

impl BackgroundWriter {
    /// Starts the writing thread for `inner`.
    pub fn new<W: Write + Send + 'static>(mut inner: W) -> io::Result<Self> {
        let (to_writer, requests) = sync_channel::<Message>(IN_FLIGHT);
        let (replies, from_writer) = sync_channel::<Reply>(IN_FLIGHT + 2);
        let thread = std::thread::Builder::new()
            .name("trace-writer".into())
            .spawn(move || -> io::Result<()> {
                for message in requests {
                    match message {
                        Message::Bytes(mut block) => {
                            inner.write_all(&block)?;
                            block.clear();
                            // The other side may be gone or not want it: then it is dropped.
                            let _ = replies.try_send(Reply::Written(block));
                        }
                        Message::Flush => {
                            inner.flush()?;
                            if replies.send(Reply::Flushed).is_err() {
                                break;
                            }
                        }
                    }
                }
                inner.flush()
            })?;
        Ok(BackgroundWriter {
            buf: Vec::with_capacity(BLOCK),
            to_writer: Some(to_writer),
            from_writer,
            thread: Some(thread),
            spare: Vec::new(),
        })
    }

    /// The writing thread stopped (a write failed, or it panicked): its error.
    fn stopped(&mut self) -> io::Error {
        self.to_writer = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            Some(Err(_)) => io::Error::other("the trace writing thread panicked"),
            Some(Ok(Ok(()))) | None => io::Error::other("the trace file is closed"),
        }
    }

    /// Hands the gathered bytes to the writing thread.
    fn send_block(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        while let Ok(reply) = self.from_writer.try_recv() {
            if let Reply::Written(block) = reply {
                self.spare.push(block);
            }
        }
        let next = self
            .spare
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(BLOCK));
        let block = std::mem::replace(&mut self.buf, next);
        let sent = match &self.to_writer {
            Some(tx) => tx.send(Message::Bytes(block)).is_ok(),
            None => false,
        };
        if sent { Ok(()) } else { Err(self.stopped()) }
    }
}

impl Write for BackgroundWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= BLOCK {
            self.send_block()?;
        }
        Ok(data.len())
    }

    /// Returns once every byte written so far is in `inner` and `inner` is flushed.
    fn flush(&mut self) -> io::Result<()> {
        self.send_block()?;
        let Some(tx) = &self.to_writer else {
            return Err(self.stopped());
        };
        if tx.send(Message::Flush).is_err() {
            return Err(self.stopped());
        }
        loop {
            match self.from_writer.recv() {
                Ok(Reply::Flushed) => return Ok(()),
                Ok(Reply::Written(block)) => self.spare.push(block),
                Err(_) => return Err(self.stopped()),
            }
        }
    }
}

impl Drop for BackgroundWriter {
    /// Writes what is left and waits for the thread (errors are lost here: callers that
    /// care flush first, as the trace writer does at the end of a run).
    fn drop(&mut self) {
        let _ = self.send_block();
        self.to_writer = None;
        // Unblock a thread waiting to hand back a block.
        while self.from_writer.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BackgroundWriter;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// A sink that keeps what it is given, shared with the test.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Every byte arrives, in order, across many blocks; a flush waits for all of them.
    #[test]
    fn writes_every_byte_in_order() {
        let sink = Shared::default();
        let mut w = BackgroundWriter::new(sink.clone()).expect("thread starts");
        let mut want = Vec::new();
        for i in 0..200_000u32 {
            let line = format!("{{\"seq\":{i}}}\n");
            w.write_all(line.as_bytes()).expect("written");
            want.extend_from_slice(line.as_bytes());
        }
        w.flush().expect("flushed");
        assert_eq!(*sink.0.lock().expect("not poisoned"), want);
        w.write_all(b"more\n").expect("written after a flush");
        drop(w);
        want.extend_from_slice(b"more\n");
        assert_eq!(*sink.0.lock().expect("not poisoned"), want);
    }

    /// A sink that fails after a while.
    struct Failing(usize);

    impl Write for Failing {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            if self.0 < data.len() {
                return Err(std::io::Error::other("disk full"));
            }
            self.0 -= data.len();
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The sink's error comes back to the writing side, by a write or at the latest by
    /// the flush.
    #[test]
    fn reports_the_sinks_error() {
        let mut w = BackgroundWriter::new(Failing(1 << 20)).expect("thread starts");
        let line = [b'x'; 1000];
        let mut failed = None;
        for _ in 0..10_000 {
            if let Err(e) = w.write_all(&line) {
                failed = Some(e);
                break;
            }
        }
        let e = failed
            .or_else(|| w.flush().err())
            .expect("the error is reported");
        assert_eq!(e.to_string(), "disk full");
    }
}
