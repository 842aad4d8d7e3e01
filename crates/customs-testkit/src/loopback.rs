//! A small HTTP-ish server of the testkit's own (the token issuer, the
//! paging proxy): one thread accepting connections on a 127.0.0.1 port, a
//! thread per connection, stopped and joined when dropped.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// One connection's handler.
pub(crate) type Handler<S> = fn(TcpStream, &S) -> std::io::Result<()>;

pub(crate) struct LoopbackServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LoopbackServer {
    /// Bind a free port, build the shared state (which may need the port),
    /// and serve every connection with `handle`. `what` names the server in
    /// a failure to bind.
    pub(crate) fn start<S: Send + Sync + 'static>(
        what: &str,
        state: impl FnOnce(u16) -> S,
        handle: Handler<S>,
    ) -> (LoopbackServer, Arc<S>) {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("{what}: bind: {e}"));
        let port = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("{what}: {e}"))
            .port();
        let state = Arc::new(state(port));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || {
                    let _ = handle(conn, &st);
                });
            }
        });
        (
            LoopbackServer {
                port,
                stop,
                thread: Some(thread),
            },
            state,
        )
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(
            &SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)),
            Duration::from_secs(1),
        );
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
