//! Connections to PostgreSQL: the configuration, errors sorted into 503
//! (unreachable) and 500, and the pool the requests share.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use postgres::{Client, Config, NoTls};

use super::super::lock;
use super::super::storage::StoreError;

/// How long a request waits for a free connection before a 503.
const POOL_WAIT: Duration = Duration::from_secs(10);
/// How long connecting may take before the database counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The configuration of `url`, with the timeouts and keepalives `serve`
/// wants where the URL sets none.
pub fn config(url: &str) -> anyhow::Result<Config> {
    let mut config: Config = url
        .parse()
        .map_err(|e| anyhow::anyhow!("not a PostgreSQL connection string: {e}"))?;
    config.connect_timeout(CONNECT_TIMEOUT);
    // A database host that vanishes without a reset (a network split)
    // turns into errors, so 503s, within about a minute, not a hang.
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(Duration::from_secs(60));
    }
    // (Two hours is the default: the URL did not set it.)
    if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
        config
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30));
    }
    if config.get_application_name().is_none() {
        config.application_name("tracker-publish serve");
    }
    Ok(config)
}

/// Where the database is, without user or password (for messages).
pub fn describe(config: &Config) -> String {
    use postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("postgres://{host}:{port}/{db}")
}

/// Whether an error means the database cannot be reached now (503), rather
/// than a fault in what was asked (500).
pub fn unreachable(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        // No server answer at all: I/O, connecting, a timeout.
        None => true,
        Some(c) => {
            let class = &c.code()[..2];
            // Connection exception, insufficient resources, operator
            // intervention (shutdown, cannot connect now).
            matches!(class, "08" | "53" | "57")
        }
    }
}

pub fn store_error(e: &postgres::Error) -> StoreError {
    // The error's text and causes name neither user nor password.
    let mut m = format!("postgres: {e}");
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !m.ends_with(&c_text) {
            m.push_str(": ");
            m.push_str(&c_text);
        }
        cause = c.source();
    }
    if unreachable(e) {
        StoreError::Unavailable(m)
    } else {
        StoreError::Failed(m)
    }
}

pub fn connect(config: &Config) -> Result<Client, StoreError> {
    config.connect(NoTls).map_err(|e| store_error(&e))
}

/// A few connections shared by the requests; a broken one is dropped and
/// a new one made on demand, so the pool recovers when the database does.
pub struct Pool {
    config: Config,
    size: usize,
    /// Idle connections, and how many exist (idle or lent).
    state: Mutex<(Vec<Client>, usize)>,
    ready: Condvar,
}

/// A connection lent by the pool, and whether it was used before.
pub struct Lent {
    client: Client,
    reused: bool,
}

impl Pool {
    /// A pool of at most `size` connections (at least one), made on demand.
    pub fn new(config: Config, size: usize) -> Pool {
        Pool {
            config,
            size: size.max(1),
            state: Mutex::new((Vec::new(), 0)),
            ready: Condvar::new(),
        }
    }

    pub fn take(&self) -> Result<Lent, StoreError> {
        let mut state = lock(&self.state);
        loop {
            if let Some(client) = state.0.pop() {
                if client.is_closed() {
                    state.1 -= 1;
                    continue;
                }
                return Ok(Lent {
                    client,
                    reused: true,
                });
            }
            if state.1 < self.size {
                state.1 += 1;
                drop(state);
                return match connect(&self.config) {
                    Ok(client) => Ok(Lent {
                        client,
                        reused: false,
                    }),
                    Err(e) => {
                        lock(&self.state).1 -= 1;
                        self.ready.notify_one();
                        Err(e)
                    }
                };
            }
            let (s, timeout) = self
                .ready
                .wait_timeout(state, POOL_WAIT)
                .unwrap_or_else(|e| e.into_inner());
            state = s;
            if timeout.timed_out() && state.0.is_empty() && state.1 >= self.size {
                return Err(StoreError::Unavailable(format!(
                    "postgres: all {} connections busy for {} s",
                    self.size,
                    POOL_WAIT.as_secs()
                )));
            }
        }
    }

    /// Gives a connection back, or forgets it when it is broken.
    pub fn give(&self, client: Client, broken: bool) {
        let mut state = lock(&self.state);
        if broken || client.is_closed() {
            state.1 -= 1;
        } else {
            state.0.push(client);
        }
        drop(state);
        self.ready.notify_one();
    }

    /// Runs `f` on a pooled connection; a reused connection that turns out
    /// broken (the database restarted meanwhile) is replaced once, which
    /// is safe because `f` only reads or takes session locks.
    pub fn with<T>(
        &self,
        mut f: impl FnMut(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<(T, Client), StoreError> {
        loop {
            let mut lent = self.take()?;
            match f(&mut lent.client) {
                Ok(v) => return Ok((v, lent.client)),
                Err(e) => {
                    let broken = unreachable(&e);
                    self.give(lent.client, broken);
                    if !(broken && lent.reused) {
                        return Err(store_error(&e));
                    }
                }
            }
        }
    }

    /// [`Pool::with`], giving the connection back at once.
    pub fn run<T>(
        &self,
        f: impl FnMut(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let (v, client) = self.with(f)?;
        self.give(client, false);
        Ok(v)
    }
}
