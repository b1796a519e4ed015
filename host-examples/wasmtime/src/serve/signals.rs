//! Graceful stop on SIGTERM and SIGINT.

/// SIGTERM and SIGINT stop the server gracefully: no new connection is
/// served, those in flight are answered, then `run` returns. A second signal
/// exits at once (nothing acknowledged is lost either way).
#[cfg(unix)]
#[allow(unsafe_code)]
pub mod stop_signals {
    use std::net::{SocketAddr, TcpStream};
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Blocks both signals in this thread (and the threads it starts), so
    /// that only [`watch`] receives them.
    pub fn block() -> Option<libc::sigset_t> {
        // SAFETY: plain libc calls on a sigset_t we own; the set is
        // initialised by sigemptyset before use.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigaddset(&mut set, libc::SIGINT);
            (libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) == 0).then_some(set)
        }
    }

    fn wait(set: &libc::sigset_t) -> i32 {
        let mut sig = 0;
        // SAFETY: `set` is initialised, `sig` is a valid out pointer.
        unsafe { libc::sigwait(set, &mut sig) };
        sig
    }

    /// Waits for a signal, sets `stop` and wakes the accept loop.
    pub fn watch(set: libc::sigset_t, stop: &AtomicBool, addr: SocketAddr) {
        let sig = wait(&set);
        let name = if sig == libc::SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        eprintln!("serve: {name}: stopping once the requests in flight are answered");
        stop.store(true, Ordering::SeqCst);
        let mut wake = addr;
        if wake.ip().is_unspecified() {
            wake.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let _ = TcpStream::connect(wake);
        wait(&set);
        eprintln!("serve: second signal: exiting now");
        std::process::exit(1);
    }
}

#[cfg(not(unix))]
pub mod stop_signals {
    use std::net::SocketAddr;
    use std::sync::atomic::AtomicBool;

    pub fn block() -> Option<()> {
        None
    }

    pub fn watch(_: (), _: &AtomicBool, _: SocketAddr) {}
}
