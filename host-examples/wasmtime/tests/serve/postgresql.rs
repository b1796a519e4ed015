//! `serve --database postgres://...` on a real PostgreSQL (Debian's
//! packages), started here in a temporary directory on a free loopback port,
//! its Unix socket in that directory too. Several instances on one database
//! must answer as one.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use tracker_publish::PublishRequest;

use super::common;
use super::support::{PATH, PATIENCE, Reply, Server, edited, many, raw, sample, try_post};

/// A PostgreSQL cluster of its own, stopped and removed when dropped.
struct Pg {
    dir: common::TempDir,
    bin: PathBuf,
    port: u16,
}

/// The newest installed PostgreSQL's binaries.
fn pg_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A pause before retrying a 409 (not a timing assertion).
fn pause() {
    std::thread::sleep(std::time::Duration::from_millis(5));
}

impl Pg {
    /// Starts a cluster, or says loudly why it cannot and gives `None`.
    fn start() -> Option<Pg> {
        let Some(bin) = pg_bin() else {
            eprintln!(
                "SKIPPED: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); `make test` installs Debian's postgresql"
            );
            return None;
        };
        let dir = common::TempDir::new();
        if is_root() {
            // PostgreSQL refuses to run as root: its files belong to `postgres`.
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown the cluster directory to postgres");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Pg { dir, bin, port };
        std::fs::create_dir_all(pg.socket_dir()).unwrap();
        if is_root() {
            Command::new("chown")
                .args(["postgres:postgres"])
                .arg(pg.socket_dir())
                .status()
                .unwrap();
        }
        let data = pg.data_dir();
        let out = pg
            .run(
                "initdb",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-A".as_ref(),
                    "trust".as_ref(),
                    "-U".as_ref(),
                    "postgres".as_ref(),
                    "-E".as_ref(),
                    "UTF8".as_ref(),
                    "--locale=C".as_ref(),
                    "--no-sync".as_ref(),
                ],
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg.ctl_start();
        Some(pg)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    /// A PostgreSQL program, as the `postgres` user when we are root.
    fn run(&self, program: &str, args: &[&OsStr]) -> Command {
        let path = self.bin.join(program);
        let mut c = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        c.args(args).current_dir(self.dir.path());
        c
    }

    fn ctl_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.socket_dir().display()
        );
        let (data, log) = (self.data_dir(), self.dir.path().join("log"));
        let out = self
            .run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-l".as_ref(),
                    log.as_os_str(),
                    "-w".as_ref(),
                    "-o".as_ref(),
                    options.as_ref(),
                    "start".as_ref(),
                ],
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Stops the server (`fast`: sessions are ended, nothing committed is lost).
    fn ctl_stop(&self, mode: &str) {
        let data = self.data_dir();
        let _ = self
            .run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-m".as_ref(),
                    mode.as_ref(),
                    "-w".as_ref(),
                    "stop".as_ref(),
                ],
            )
            .output();
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// One value from `psql`, over the Unix socket.
    fn query(&self, sql: &str) -> String {
        let (sock, port) = (self.socket_dir(), self.port.to_string());
        let out = self
            .run(
                "psql",
                &[
                    "-h".as_ref(),
                    sock.as_os_str(),
                    "-p".as_ref(),
                    port.as_ref(),
                    "-U".as_ref(),
                    "postgres".as_ref(),
                    "-Atc".as_ref(),
                    sql.as_ref(),
                ],
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    fn serve(&self, args: &[&str]) -> Server {
        let url = self.url();
        Server::spawn(&["--database".as_ref(), url.as_ref()], args)
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        self.ctl_stop("immediate");
    }
}

#[test]
fn postgres_schema_is_created_once_and_its_version_recorded() {
    let Some(pg) = Pg::start() else { return };
    // Two instances starting at once: one creates the schema.
    let a = pg.serve(&[]);
    let b = pg.serve(&[]);
    for s in [&a, &b] {
        let line = s.wait_for("accepted snapshot(s) in");
        assert!(line.contains("schema version 1"), "{line}");
        assert!(
            line.contains(&format!("postgres://127.0.0.1:{}/postgres", pg.port)),
            "{line}"
        );
    }
    assert_eq!(
        pg.query("SELECT string_agg(version::text, ',') FROM serve_schema"),
        "1"
    );
    assert_eq!(a.post(&sample()).status, 200);
    drop((a, b));
    // A restart keeps the data and the version.
    let c = pg.serve(&[]);
    c.wait_for("1 accepted snapshot(s)");
    assert_eq!(pg.query("SELECT count(*) FROM serve_schema"), "1");
    // A newer schema is refused, naming it.
    pg.query("INSERT INTO serve_schema (version) VALUES (99)");
    let url = pg.url();
    let out = Command::new(super::BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--database") && err.contains("schema version 99"),
        "{err}"
    );
}

#[test]
fn postgres_an_unreachable_database_stops_the_start_without_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://u:s3cret-pw@127.0.0.1:{port}/db");
    for args in [
        vec!["--database", url.as_str()],
        vec!["--database", "postgres://u:s3cret-pw@[bad"],
    ] {
        let out = Command::new(super::BIN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--database"), "{err}");
        assert!(!err.contains("s3cret"), "the password leaked: {err}");
    }
}

#[test]
fn postgres_a_key_in_flight_in_one_instance_is_409_in_another() {
    let Some(pg) = Pg::start() else { return };
    let slow = pg.serve(&["--delay-ms", "3000"]);
    let other = pg.serve(&[]);
    let r = sample();
    std::thread::scope(|scope| {
        let held = scope.spawn(|| slow.post(&r));
        slow.wait_for("holding key=");
        let p = other.post(&r).problem(409);
        assert_eq!(p["idempotency_key"], r.idempotency_key.as_str());
        let first = held.join().unwrap();
        assert_eq!(first.status, 200, "{}", first.text());
        assert_eq!(first.json()["duplicate"], false);
    });
    // The other instance now replays it, and refuses another body under it.
    let again = other.post(&r);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["duplicate"], true);
    assert_eq!(again.json()["sequence"], 1);
    other.post(&edited(&r)).problem(422);
    assert_eq!(other.list(None)["accepted"], 1);
}

#[test]
fn postgres_two_instances_racing_on_the_same_keys_accept_each_once() {
    let Some(pg) = Pg::start() else { return };
    let servers = [pg.serve(&[]), pg.serve(&[])];
    let requests = many(60);
    let (fresh, dupes, conflicts) = (
        Mutex::new(Vec::new()),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    std::thread::scope(|scope| {
        for t in 0..8 {
            let (servers, requests, fresh, dupes, conflicts) =
                (&servers, &requests, &fresh, &dupes, &conflicts);
            scope.spawn(move || {
                // Every thread sends every key, alternating instances, each
                // thread from its own starting point.
                for i in 0..requests.len() {
                    let r = &requests[(i + t * 7) % requests.len()];
                    loop {
                        let reply = servers[(t + i) % 2].post(r);
                        match reply.status {
                            200 if reply.json()["duplicate"] == false => {
                                let seq = reply.json()["sequence"].as_u64().unwrap();
                                fresh.lock().unwrap().push((seq, r.idempotency_key.clone()));
                            }
                            200 => {
                                dupes.fetch_add(1, Ordering::SeqCst);
                            }
                            // In flight in one of the instances: retry.
                            409 => {
                                conflicts.fetch_add(1, Ordering::SeqCst);
                                pause();
                                continue;
                            }
                            s => panic!("{s}: {}", reply.text()),
                        }
                        break;
                    }
                }
            });
        }
    });
    let mut fresh = fresh.into_inner().unwrap();
    fresh.sort();
    let keys: HashSet<&String> = fresh.iter().map(|(_, k)| k).collect();
    assert_eq!(
        fresh.len(),
        requests.len(),
        "one accept per key (no double accept)"
    );
    assert_eq!(keys.len(), requests.len(), "every key accepted");
    let seqs: Vec<u64> = fresh.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=requests.len() as u64).collect::<Vec<_>>(),
        "sequences without gaps"
    );
    assert_eq!(dupes.load(Ordering::SeqCst), 7 * requests.len());
    eprintln!(
        "race: {} accepts, {} replays, {} answers 409 across two instances",
        fresh.len(),
        dupes.load(Ordering::SeqCst),
        conflicts.load(Ordering::SeqCst)
    );
    for s in &servers {
        assert_eq!(s.listed(), fresh, "both instances list the same");
        assert_eq!(s.list(None)["accepted"], requests.len());
    }
}

#[test]
fn postgres_a_kill_under_load_loses_nothing_and_leaves_no_claim_behind() {
    let Some(pg) = Pg::start() else { return };
    let requests = many(300);
    let survivor = pg.serve(&[]);
    let acked = Mutex::new(Vec::new());
    {
        let victim = pg.serve(&[]);
        let next = AtomicUsize::new(0);
        let killed = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            for t in 0..16 {
                let (next, killed, acked, requests) = (&next, &killed, &acked, &requests);
                let (victim, survivor) = (&victim, &survivor);
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(r) = requests.get(i) else { break };
                        let first = if t % 2 == 0 && !killed.load(Ordering::SeqCst) {
                            victim
                        } else {
                            survivor
                        };
                        // No answer from the killed one: the publisher
                        // retries on the other instance (409 while its claim
                        // was still being cleaned up, then an answer).
                        let mut reply = try_post(&first.addr, r);
                        loop {
                            match reply {
                                Some(ref x) if x.status == 200 => break,
                                Some(ref x) if x.status == 409 => pause(),
                                Some(ref x) => panic!("{}: {}", x.status, x.text()),
                                None => {}
                            }
                            reply = try_post(&survivor.addr, r);
                        }
                        acked.lock().unwrap().push(r.idempotency_key.clone());
                    }
                });
            }
            while acked.lock().unwrap().len() < 100 {
                std::thread::yield_now();
            }
            victim.signal("KILL");
            killed.store(true, Ordering::SeqCst);
        });
    }
    let acked = acked.into_inner().unwrap();
    assert_eq!(
        acked.len(),
        requests.len(),
        "every request answered 200 in the end"
    );
    let restarted = pg.serve(&[]);
    let stored: Vec<(u64, String)> = restarted.listed();
    let keys: HashSet<&String> = stored.iter().map(|(_, k)| k).collect();
    let lost: Vec<&String> = acked.iter().filter(|k| !keys.contains(k)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged but lost: {lost:?}",
        lost.len()
    );
    assert_eq!(stored.len(), requests.len(), "no key stored twice");
    let seqs: Vec<u64> = stored.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=requests.len() as u64).collect::<Vec<_>>());
    // No claim of the killed instance is left: every key replays at once.
    for r in &requests {
        let reply = restarted.post(r);
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json()["duplicate"], true);
    }
}

/// One POST answered 503 with a problem naming the database.
fn assert_storage_503(reply: &Reply) {
    let p = reply.problem(503);
    assert!(reply.header("retry-after").is_some());
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .starts_with("the database is not available"),
        "{p}"
    );
}

#[test]
fn postgres_stopped_gives_503_then_the_service_recovers() {
    let Some(pg) = Pg::start() else { return };
    let server = pg.serve(&[]);
    let requests: Vec<PublishRequest> = many(40);
    let (before, during) = requests.split_at(20);
    for r in before {
        assert_eq!(server.post(r).status, 200);
    }
    pg.ctl_stop("fast");
    // Under load while stopped: every answer is a clean 503 problem.
    std::thread::scope(|scope| {
        for chunk in during.chunks(5) {
            let server = &server;
            scope.spawn(move || {
                for r in chunk {
                    assert_storage_503(&server.post(r));
                }
            });
        }
    });
    assert_storage_503(&server.post(&before[0]));
    let ready = raw(&server, b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(
        ready.problem(503)["type"]
            .as_str()
            .map(|t| t.ends_with("not-ready")),
        Some(true)
    );
    let list = raw(
        &server,
        format!("GET {PATH} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    );
    list.problem(503);
    // The healthz probe does not depend on the database.
    assert_eq!(
        raw(&server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").status,
        200
    );

    pg.ctl_start();
    // Ready again, without a restart of serve (bounded by PATIENCE only).
    let since = std::time::Instant::now();
    while raw(&server, b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n").status != 200 {
        assert!(since.elapsed() < PATIENCE, "never ready again");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for r in during {
        let reply = server.post(r);
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(
            reply.json()["duplicate"],
            false,
            "nothing was stored while down"
        );
    }
    for r in before {
        assert_eq!(server.post(r).json()["duplicate"], true);
    }
    let stored = server.listed();
    assert_eq!(stored.len(), requests.len());
    let seqs: Vec<u64> = stored.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=requests.len() as u64).collect::<Vec<_>>());
}

#[test]
fn postgres_sigterm_answers_the_request_in_flight_and_gives_its_claim_back() {
    let Some(pg) = Pg::start() else { return };
    let mut server = pg.serve(&["--delay-ms", "1500"]);
    let other = pg.serve(&[]);
    let r = sample();
    let reply = server.post_through_sigterm(std::slice::from_ref(&r));
    assert_eq!(reply[0].json()["duplicate"], false);
    assert_eq!(server.child.wait().unwrap().code(), Some(0));
    server.wait_for("serve: stopped");
    let again = other.post(&r);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["duplicate"], true);
    assert_eq!(pg.query("SELECT n FROM counts"), "1");
}
