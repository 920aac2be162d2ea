//! The rate limit's arithmetic, and its copy in process memory.
//!
//! The limiter is GCRA, the token bucket written as one timestamp per client: the
//! "theoretical arrival time" (TAT) at which the client's bucket would be full again. A
//! request costs one emission interval (a minute / the limit) and is let in while the TAT
//! stays within a minute of now, so a client may burst the whole minute's allowance and then
//! goes at the steady rate. A client whose TAT has passed has a full bucket and needs no
//! entry, which is what keeps the map small: a sweep once a minute drops those.
//!
//! IPv6 clients are keyed by their /64, the block one subscriber usually gets, so a single
//! host cannot skip the limit by rotating addresses.
//!
//! [`LocalLimiter`] is what `RATE_LIMIT_STORE=memory` uses, and what a gateway falls back to
//! while PostgreSQL does not answer (see [`super::rate_limit`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The span an allowance covers: a client may send a minute's worth at once.
pub const WINDOW: Duration = Duration::from_secs(60);

/// GCRA in this process's memory.
#[derive(Debug)]
pub struct LocalLimiter {
    /// The cost of one request.
    interval: Duration,
    state: Mutex<Clients>,
}

#[derive(Debug)]
struct Clients {
    tat: HashMap<IpAddr, Instant>,
    last_sweep: Instant,
}

impl LocalLimiter {
    /// `None` when `per_minute` is 0: no limit.
    pub fn per_minute(per_minute: u32) -> Option<Self> {
        (per_minute > 0).then(|| LocalLimiter {
            interval: WINDOW / per_minute,
            state: Mutex::new(Clients {
                tat: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        })
    }

    /// Admits one request from `ip` at `now`, or says how long until one would be admitted.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = bucket_key(ip);
        // A poisoned lock only means another request panicked mid-update of a timestamp;
        // the map is still sound.
        let mut clients = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if now.saturating_duration_since(clients.last_sweep) >= WINDOW {
            clients.tat.retain(|_, tat| *tat > now);
            clients.last_sweep = now;
        }
        let tat = clients.tat.get(&key).copied().unwrap_or(now).max(now);
        let next = tat + self.interval;
        let ahead = next - now;
        if ahead > WINDOW {
            return Err(ahead - WINDOW);
        }
        clients.tat.insert(key, next);
        Ok(())
    }

    /// How many clients have a partly spent allowance (for tests and metrics).
    pub fn tracked_clients(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .tat
            .len()
    }
}

/// The key a client is counted under: its IPv4 address, or its IPv6 /64.
pub fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn zero_is_no_limit() {
        assert!(LocalLimiter::per_minute(0).is_none());
    }

    #[test]
    fn a_client_may_burst_its_minute_then_waits_one_interval() {
        let limiter = LocalLimiter::per_minute(3).unwrap();
        let t0 = Instant::now();
        let a = ip("192.0.2.1");
        for _ in 0..3 {
            limiter.check(a, t0).unwrap();
        }
        // 60 s / 3 = 20 s per request: the fourth waits until the first one's cost has run out.
        assert_eq!(limiter.check(a, t0), Err(Duration::from_secs(20)));
        assert_eq!(
            limiter.check(a, t0 + Duration::from_secs(5)),
            Err(Duration::from_secs(15))
        );
        limiter.check(a, t0 + Duration::from_secs(20)).unwrap();
        assert!(limiter.check(a, t0 + Duration::from_secs(20)).is_err());
        // Others are not affected.
        limiter.check(ip("192.0.2.2"), t0).unwrap();
    }

    #[test]
    fn refused_requests_do_not_cost() {
        let limiter = LocalLimiter::per_minute(60).unwrap();
        let t0 = Instant::now();
        let a = ip("192.0.2.1");
        for _ in 0..60 {
            limiter.check(a, t0).unwrap();
        }
        for _ in 0..100 {
            assert!(limiter.check(a, t0).is_err());
        }
        limiter.check(a, t0 + Duration::from_secs(1)).unwrap();
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let limiter = LocalLimiter::per_minute(1).unwrap();
        let t0 = Instant::now();
        limiter.check(ip("2001:db8:1:2::1"), t0).unwrap();
        assert!(limiter.check(ip("2001:db8:1:2:ffff::9"), t0).is_err());
        limiter.check(ip("2001:db8:1:3::1"), t0).unwrap();
        // An IPv4-mapped address is the IPv4 client.
        limiter.check(ip("192.0.2.7"), t0).unwrap();
        assert!(limiter.check(ip("::ffff:192.0.2.7"), t0).is_err());
    }

    #[test]
    fn idle_clients_are_forgotten() {
        let limiter = LocalLimiter::per_minute(10).unwrap();
        let t0 = Instant::now();
        for i in 0..50u8 {
            limiter.check(IpAddr::from([10, 0, 0, i]), t0).unwrap();
        }
        assert_eq!(limiter.tracked_clients(), 50);
        // A minute later every one of them is back to a full allowance; the next call sweeps.
        limiter
            .check(ip("10.1.0.1"), t0 + Duration::from_secs(61))
            .unwrap();
        assert_eq!(limiter.tracked_clients(), 1);
    }
}
