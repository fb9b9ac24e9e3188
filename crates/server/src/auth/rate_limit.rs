//! Login throttling, two ways: per client (GCRA on the `governor` crate, no background task; IPv6
//! clients by their /64, which one host holds whole) and per account (after a few failures, each further
//! attempt waits twice as long as the one before, up to a quarter of an hour), so neither one client
//! nor many clients together can guess a password at speed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Failed logins of one account before backoff starts.
const FREE_FAILURES: u32 = 5;
/// The longest an account waits between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Accounts remembered at most (failures of unknown emails count too); older entries go first.
const MAX_ACCOUNTS: usize = 100_000;

pub struct LoginLimiter {
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    accounts: Mutex<HashMap<String, Failures>>,
    clock: DefaultClock,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    until: Instant,
    last: Instant,
}

/// The key a client is counted under: IPv4 as is, IPv6 by its /64 (an IPv4-mapped one as IPv4).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

impl LoginLimiter {
    pub fn per_minute(n: u32) -> Self {
        let n = NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            per_client: RateLimiter::keyed(Quota::per_minute(n)),
            accounts: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(seconds to wait)` when this client has used up its attempts.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.per_client
            .check_key(&client_key(ip))
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.clock.now());
                wait.as_secs().max(1)
            })
    }

    /// `Err(seconds to wait)` while the account is backing off after failures.
    pub fn check_account(&self, email: &str) -> Result<(), u64> {
        let now = Instant::now();
        let accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        match accounts.get(email) {
            Some(f) if f.until > now => Err((f.until - now).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Counts a failed login of `email`: from the sixth on, the next attempt must wait 1, 2, 4 ... s.
    pub fn failed(&self, email: &str) {
        let now = Instant::now();
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        if accounts.len() >= MAX_ACCOUNTS && !accounts.contains_key(email) {
            // Forget the longest-quiet entries (an attacker spraying emails cannot grow this forever).
            let cutoff = now.checked_sub(MAX_BACKOFF).unwrap_or(now);
            accounts.retain(|_, f| f.last > cutoff);
            if accounts.len() >= MAX_ACCOUNTS {
                return;
            }
        }
        let f = accounts.entry(email.to_string()).or_insert(Failures {
            count: 0,
            until: now,
            last: now,
        });
        // A long quiet period forgives old failures.
        if now.duration_since(f.last) > MAX_BACKOFF * 4 {
            f.count = 0;
        }
        f.count += 1;
        f.last = now;
        if f.count >= FREE_FAILURES {
            let exp = (f.count - FREE_FAILURES).min(20);
            f.until = now + Duration::from_secs(1u64 << exp).min(MAX_BACKOFF);
        }
    }

    /// A successful login clears the account's failures.
    pub fn succeeded(&self, email: &str) {
        self.accounts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(email);
    }
}

/// The per-client limit of the sign-in routes (login, accepting an invitation): `429 rate_limited` once
/// the request's client (see `auth::client_ip`) used its attempts.
pub fn check_client(
    state: &crate::state::AppState,
    req: &actix_web::HttpRequest,
) -> Result<(), crate::error::AppError> {
    match super::client_ip(req, &state.config.server.trusted_proxies) {
        Some(ip) => state
            .login_limiter
            .check(ip)
            .map_err(crate::error::AppError::RateLimited),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_backs_off_after_a_few_failures_and_success_clears_it() {
        let l = LoginLimiter::per_minute(1000);
        for _ in 0..FREE_FAILURES - 1 {
            l.failed("a@x");
            assert!(l.check_account("a@x").is_ok());
        }
        l.failed("a@x");
        assert!(l.check_account("a@x").is_err());
        assert!(l.check_account("b@x").is_ok());
        l.succeeded("a@x");
        assert!(l.check_account("a@x").is_ok());
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        let l = LoginLimiter::per_minute(1);
        assert!(l.check(a).is_ok());
        assert!(l.check(b).is_err());
    }
}
