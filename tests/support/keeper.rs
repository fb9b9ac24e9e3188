//! Long-lived helper processes (storage emulators) for the whole test run. They are forked by one thread
//! that never exits and get SIGKILL when the test process ends (PR_SET_PDEATHSIG), so nothing outlives it.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::poll::eventually_blocking;

type Request = (Command, Sender<std::io::Result<u32>>);

fn keeper() -> &'static Mutex<Sender<Request>> {
    static KEEPER: OnceLock<Mutex<Sender<Request>>> = OnceLock::new();
    KEEPER.get_or_init(|| {
        let (tx, rx) = channel::<Request>();
        std::thread::Builder::new()
            .name("service-keeper".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    die_with_parent(&mut cmd, nix::sys::signal::Signal::SIGKILL);
                    let _ = reply.send(cmd.spawn().map(|child| {
                        let pid = child.id();
                        // Reaped by nobody on purpose: it lives as long as the test process.
                        std::mem::forget(child);
                        pid
                    }));
                }
                loop {
                    std::thread::park();
                }
            })
            .expect("spawn keeper thread");
        Mutex::new(tx)
    })
}

/// Has the process `cmd` starts get `signal` when the thread that starts it ends (PR_SET_PDEATHSIG): a
/// server started for the whole test run does not outlive it.
pub fn die_with_parent(cmd: &mut Command, signal: nix::sys::signal::Signal) {
    #[expect(
        unsafe_code,
        reason = "pre_exec runs between fork and exec; prctl is async-signal-safe"
    )]
    unsafe {
        cmd.pre_exec(move || nix::sys::prctl::set_pdeathsig(signal).map_err(std::io::Error::from));
    }
}

/// Starts `cmd` for the rest of the test run and returns its pid.
pub fn spawn(cmd: Command) -> u32 {
    let (tx, rx) = channel();
    keeper()
        .lock()
        .expect("keeper")
        .send((cmd, tx))
        .expect("keeper alive");
    rx.recv().expect("keeper reply").expect("spawn service")
}

/// Waits up to a minute for a service started with `spawn` to accept connections on `port`; `what` names
/// it in the failure.
pub fn wait_for_port(port: u16, what: &str) {
    eventually_blocking(
        Duration::from_secs(60),
        Duration::from_millis(50),
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        |_| format!("{what} did not start"),
    );
}
